package main

import (
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"sync"
	"time"

	"github.com/wringcap/wring/capture"
	"github.com/wringcap/wring/capture/packet"
	"github.com/wringcap/wring/capture/pcapfile"
	"github.com/wringcap/wring/capture/sink"
	"github.com/wringcap/wring/spec"
)

// output is what read and capture write: a capture file (rotated or not)
// with -w, JSON lines with --json, nothing but the count with --count, text
// lines otherwise.
type output struct {
	Write      string // -w: file name, "-" for standard output
	JSON       bool
	CountOnly  bool   // --count
	FileSize   uint64 // -C, million bytes
	Rotate     uint64 // -G, seconds
	FileCount  int    // -W
	PostRotate string // -z: command run on each finished file
	Nano       bool
	PcapNG     bool
	NgSource   pcapfile.NgSource // with PcapNG: the input whose descriptions the file keeps, or nil
	LinkField  uint32            // the pcap header's link-type field (type and extension bits)
	Snaplen    uint32
	Text       sink.TextOptions
	Number     bool // -#
	Flush      bool // -l or -U: flush after each batch (text and JSON on a terminal always are)
	// Stop is called at the first write error, to end the run.
	Stop func()
	// Err receives -z's warnings.
	Err io.Writer
}

// outputSink is the built output: the sink and the destination it writes
// to, which knows what was written and the first write error.
type outputSink struct {
	capture.Sink
	dest *dest // nil with --count and no -w
}

// UsesRecord asks the sink it wraps: an embedded interface does not pass
// its value's other methods on, and without this every packet written
// with -w would be parsed for nobody.
func (o *outputSink) UsesRecord() bool { return capture.UsesRecord(o.Sink) }

// dest watches an output stream: the bytes it took and its first write
// error. The first error calls stop, so a full disk or a closed pipe ends
// the run instead of being retried for every packet.
type dest struct {
	what string // how the user named it: "-w out.pcap", "standard output"
	stop func()

	mu    sync.Mutex
	bytes int64
	err   error
}

// add records a write's outcome.
func (d *dest) add(n int, err error) {
	d.mu.Lock()
	d.bytes += int64(n)
	first := err != nil && d.err == nil
	if first {
		d.err = err
	}
	d.mu.Unlock()
	if first && d.stop != nil {
		d.stop()
	}
}

// failure returns nil, or the first write error with what was written
// before it.
func (d *dest) failure() error {
	if d == nil {
		return nil
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.err == nil {
		return nil
	}
	return fmt.Errorf("%s: %d bytes written, then %w", d.what, d.bytes, d.err)
}

// destWriter is a writer that reports to its dest. Close closes the
// underlying writer only when it was opened for the output (not standard
// output).
type destWriter struct {
	d *dest
	w io.Writer
	c io.Closer
}

func (w *destWriter) Write(p []byte) (int, error) {
	n, err := w.w.Write(p)
	if err == nil && n < len(p) {
		err = io.ErrShortWrite
	}
	w.d.add(n, err)
	return n, err
}

func (w *destWriter) Close() error {
	if w.c == nil {
		return nil
	}
	return w.c.Close()
}

// createOutput opens an output file write-only (never read-write: opening a
// FIFO such as /dev/stdout read-write makes wring a reader of its own output,
// and a write into a pipe whose reader left then blocks forever instead of
// failing).
func createOutput(name string) (*os.File, error) {
	return os.OpenFile(name, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o666)
}

// sink builds the output's sink.
func (o output) sink(s *streams) (*outputSink, error) {
	if o.Write == "" {
		if o.FileSize != 0 || o.Rotate != 0 || o.FileCount != 0 {
			return nil, errors.New("-C, -G and -W need -w")
		}
		if o.PostRotate != "" {
			return nil, errors.New("-z needs -w with -C or -G")
		}
		if o.CountOnly {
			return &outputSink{Sink: discard{}}, nil
		}
		d := &dest{what: "standard output", stop: o.Stop}
		w := &destWriter{d: d, w: s.Out}
		var sk capture.Sink
		switch {
		case o.JSON:
			sk = sink.NewJSON(w)
		case o.Number:
			sk = newNumbered(w, o.Text)
		default:
			sk = newTextSink(w, o.Text)
		}
		// On a terminal, lines go out as they are made (stdio's line
		// buffering, which tcpdump inherits): a batch is flushed when it
		// is printed, so one packet on an idle link shows at once.
		if o.Flush || isTerminal(s.Out) {
			sk = flushEach{sk}
		}
		return &outputSink{Sink: sk, dest: d}, nil
	}
	if o.JSON {
		return nil, errors.New("--json prints packets, -w writes them to a file: give one of them")
	}
	what := "-w " + o.Write
	if o.Write == "-" {
		what = "-w - (standard output)"
	}
	d := &dest{what: what, stop: o.Stop}
	open := func(name string) (pcapfile.PacketWriter, error) {
		w := &destWriter{d: d, w: s.Out}
		if name != "-" {
			f, err := createOutput(name)
			if err != nil {
				return nil, err
			}
			w.w, w.c = f, f
		}
		var pw pcapfile.PacketWriter
		var err error
		if o.PcapNG {
			pw, err = pcapfile.NewNgWriterFrom(w, spec.LinkType(o.LinkField&0xffff), o.Snaplen, o.NgSource)
		} else {
			pw, err = pcapfile.NewWriter(w, pcapfile.Header{LinkType: o.LinkField, Snaplen: o.Snaplen, Nano: o.Nano || o.Text.Nano})
		}
		if err != nil {
			w.Close()
			return nil, err
		}
		if o.PostRotate != "" {
			pw = &postRotate{PacketWriter: pw, name: name, cmd: o.PostRotate, errw: o.Err}
		}
		return pw, nil
	}
	var sk capture.Sink
	if o.FileSize == 0 && o.Rotate == 0 {
		if o.FileCount != 0 {
			return nil, errors.New("-W needs -C or -G")
		}
		if o.PostRotate != "" {
			return nil, errors.New("-z needs -C or -G")
		}
		w, err := open(o.Write)
		if err != nil {
			return nil, err
		}
		sk = sink.NewFile(w)
	} else {
		if o.Write == "-" {
			return nil, errors.New("-C and -G cannot write to standard output")
		}
		rot, err := pcapfile.NewRotator(pcapfile.RotateOptions{
			Name:     o.Write,
			Size:     int64(o.FileSize) * 1_000_000,
			Interval: time.Duration(o.Rotate) * time.Second,
			Count:    o.FileCount,
			Open:     open,
		})
		if err != nil {
			return nil, err
		}
		sk = sink.NewFile(rot)
	}
	if o.Flush {
		sk = flushEach{sk}
	}
	return &outputSink{Sink: sk, dest: d}, nil
}

// flushEach flushes its sink after every batch (tcpdump -l and -U).
type flushEach struct{ capture.Sink }

func (f flushEach) Handle(b *packet.Batch) error {
	if err := f.Sink.Handle(b); err != nil {
		return err
	}
	return f.Sink.Flush()
}

// UsesRecord asks the wrapped sink.
func (f flushEach) UsesRecord() bool { return capture.UsesRecord(f.Sink) }

// discard is --count's sink: the pipeline counts what it delivers.
type discard struct{}

func (discard) Handle(*packet.Batch) error { return nil }
func (discard) Flush() error               { return nil }
func (discard) Close() error               { return nil }
func (discard) UsesRecord() bool           { return false }

// postRotate runs tcpdump -z's command on each capture file once it is
// closed, as tcpdump does: the command with the file name as its only
// argument, not waited for.
type postRotate struct {
	pcapfile.PacketWriter
	name string
	cmd  string
	errw io.Writer
}

// Written passes on the writer's byte count, which -C's rotation reads.
func (p *postRotate) Written() int64 {
	if s, ok := p.PacketWriter.(interface{ Written() int64 }); ok {
		return s.Written()
	}
	return 0
}

func (p *postRotate) Close() error {
	err := p.PacketWriter.Close()
	cmd := exec.Command(p.cmd, p.name)
	cmd.Stdout, cmd.Stderr = os.Stdout, os.Stderr
	if serr := cmd.Start(); serr != nil {
		if p.errw != nil {
			fmt.Fprintf(p.errw, "wring: -z %s %s: %v\n", p.cmd, p.name, serr)
		}
	} else {
		go cmd.Wait()
	}
	return err
}

// outputFlags are the flags read and capture share: what to keep and where
// the packets go, tcpdump's names for both.
type outputFlags struct {
	Write         string `short:"w" name:"write" placeholder:"OUT" help:"Write the packets to OUT (- for standard output) instead of printing a summary line per packet."`
	Count         uint64 `short:"c" name:"max-packets" placeholder:"N" help:"Stop after N packets have passed the filter (and the analyzers)."`
	NoResolve     int    `short:"n" type:"counter" help:"Do not resolve addresses or ports (wring never does; accepted as tcpdump's -n and -nn)."`
	JSON          bool   `name:"json" help:"Print one JSON object per packet instead of a text line, and a final stats object (spec/JSON.md)."`
	FileSize      uint64 `short:"C" name:"file-size" placeholder:"MB" help:"With -w, start a new file when the current one exceeds MB million bytes (tcpdump -C)."`
	RotateSeconds uint64 `short:"G" name:"rotate-seconds" placeholder:"SECS" help:"With -w, start a new file every SECS seconds of packet time; OUT is a strftime pattern (tcpdump -G)."`
	FileCount     int    `short:"W" name:"file-count" placeholder:"N" help:"With -C, cycle through N files; with -G, stop after N files (tcpdump -W)."`
	PostRotate    string `short:"z" name:"postrotate-command" placeholder:"CMD" help:"With -C or -G, run CMD FILE on each capture file once it is closed (tcpdump -z)."`
	FilterFile    string `short:"F" name:"filter-file" placeholder:"FILE" help:"Read the filter expression from FILE ('#' starts a comment); expression arguments are then ignored, as tcpdump does, with a warning."`
	User          string `short:"Z" name:"relinquish-privileges" placeholder:"USER" help:"When run as root, switch to USER once the input and output files are open (tcpdump -Z)."`
	Nano          bool   `name:"nano" help:"Nanosecond time stamps, printed and with -w written (tcpdump --nano, the same as --time-stamp-precision=nano)."`
	PcapNG        bool   `name:"pcapng" help:"Write pcapng instead of pcap with -w."`
	Interpreter   bool   `name:"vm" help:"Run a userspace filter in the reference interpreter instead of the JIT."`
}
