package pcapfile

import (
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/wringcap/wring/capture/packet"
)

// ErrFileLimit is returned by a Rotator with an interval and a count once
// the count of files is written (tcpdump -G with -W exits there).
var ErrFileLimit = errors.New("maximum file limit reached")

// RotateOptions configure output rotation as tcpdump's -C, -G and -W do.
type RotateOptions struct {
	// Name is the output file name; with Interval it is a strftime
	// pattern expanded at the time of each file's first packet.
	Name string
	// Size starts a new file before a packet when the current one is
	// larger than this many bytes (tcpdump -C N means N×1,000,000); 0
	// disables it.
	Size int64
	// Interval starts a new file when a packet's time is at least this
	// far from the current file's start (tcpdump -G); 0 disables it.
	// wring uses packet timestamps, so a file read rotates as the capture
	// did.
	Interval time.Duration
	// Count limits the files: with Size alone, names cycle through Count
	// numbered files; with Interval, ErrFileLimit ends the output after
	// Count files (tcpdump -W).
	Count int
	// Location is the time zone of the strftime expansion (nil: local).
	Location *time.Location
	// Open creates the writer of one file.
	Open func(name string) (PacketWriter, error)
}

// Rotator is a PacketWriter that spreads packets over files.
type Rotator struct {
	o       RotateOptions
	w       PacketWriter
	digits  int
	sizeN   int   // tcpdump's Cflag_count
	timeN   int   // tcpdump's Gflag_count
	start   int64 // current file's interval start, ns
	started bool
	names   []string
}

// sized is a writer that knows how many bytes it wrote.
type sized interface{ Written() int64 }

// NewRotator returns a rotator; the first file is created with the first
// packet.
func NewRotator(o RotateOptions) (*Rotator, error) {
	if o.Open == nil || o.Name == "" {
		return nil, errors.New("pcapfile: rotation needs a name and an Open function")
	}
	if o.Location == nil {
		o.Location = time.Local
	}
	r := &Rotator{o: o}
	if o.Count > 0 {
		for n := o.Count - 1; n > 0; n /= 10 {
			r.digits++
		}
	}
	return r, nil
}

// Names returns the files created so far, in order.
func (r *Rotator) Names() []string { return r.names }

// fileName is tcpdump's MakeFilename.
func (r *Rotator) fileName(at int64, n, digits int) string {
	base := r.o.Name
	if r.o.Interval > 0 {
		base = Strftime(base, time.Unix(0, at).In(r.o.Location))
	}
	if n == 0 && digits == 0 {
		return base
	}
	s := strconv.Itoa(n)
	for len(s) < digits {
		s = "0" + s
	}
	return base + s
}

func (r *Rotator) open(name string) error {
	w, err := r.o.Open(name)
	if err != nil {
		return err
	}
	r.w = w
	r.names = append(r.names, name)
	return nil
}

// WritePacket writes a packet, first starting a new file when the rules
// say so.
func (r *Rotator) WritePacket(info *packet.Info, data []byte) error {
	ts := info.Timestamp
	if !r.started {
		r.started = true
		r.start = ts
		digits := 0
		if r.o.Size > 0 {
			digits = r.digits
		}
		if err := r.open(r.fileName(ts, 0, digits)); err != nil {
			return err
		}
	}
	if r.o.Interval > 0 && ts-r.start >= int64(r.o.Interval) {
		r.start = ts
		r.timeN++
		if r.o.Count > 0 && r.timeN >= r.o.Count {
			return fmt.Errorf("%w: %d", ErrFileLimit, r.o.Count)
		}
		if err := r.w.Close(); err != nil {
			return err
		}
		r.sizeN = 0
		if err := r.open(r.fileName(ts, 0, 0)); err != nil {
			return err
		}
	}
	if r.o.Size > 0 {
		if s, ok := r.w.(sized); ok && s.Written() > r.o.Size {
			if err := r.w.Close(); err != nil {
				return err
			}
			r.sizeN++
			if r.o.Interval == 0 && r.o.Count > 0 && r.sizeN >= r.o.Count {
				r.sizeN = 0
			}
			if err := r.open(r.fileName(ts, r.sizeN, r.digits)); err != nil {
				return err
			}
		}
	}
	return r.w.WritePacket(info, data)
}

// Flush flushes the current file.
func (r *Rotator) Flush() error {
	if r.w == nil {
		return nil
	}
	return r.w.Flush()
}

// Close closes the current file.
func (r *Rotator) Close() error {
	if r.w == nil {
		return nil
	}
	return r.w.Close()
}

// Strftime expands the strftime conversions tcpdump's -G names use: %Y %y
// %m %d %H %M %S %j %s %e %b %a %F %T %%. Others are kept as they are.
func Strftime(pattern string, t time.Time) string {
	var b []byte
	for i := 0; i < len(pattern); i++ {
		c := pattern[i]
		if c != '%' || i+1 == len(pattern) {
			b = append(b, c)
			continue
		}
		i++
		switch pattern[i] {
		case 'Y':
			b = t.AppendFormat(b, "2006")
		case 'y':
			b = t.AppendFormat(b, "06")
		case 'm':
			b = t.AppendFormat(b, "01")
		case 'd':
			b = t.AppendFormat(b, "02")
		case 'e':
			b = t.AppendFormat(b, "_2")
		case 'H':
			b = t.AppendFormat(b, "15")
		case 'M':
			b = t.AppendFormat(b, "04")
		case 'S':
			b = t.AppendFormat(b, "05")
		case 'j':
			b = t.AppendFormat(b, "002")
		case 'b':
			b = t.AppendFormat(b, "Jan")
		case 'a':
			b = t.AppendFormat(b, "Mon")
		case 'F':
			b = t.AppendFormat(b, "2006-01-02")
		case 'T':
			b = t.AppendFormat(b, "15:04:05")
		case 's':
			b = strconv.AppendInt(b, t.Unix(), 10)
		case '%':
			b = append(b, '%')
		default:
			b = append(b, '%', pattern[i])
		}
	}
	return string(b)
}
