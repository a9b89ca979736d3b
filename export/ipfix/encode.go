package ipfix

import (
	"errors"
	"fmt"
)

// Message size limits: the IPFIX length field has 16 bits, and a message
// must hold its header, a set header and the largest record.
const (
	DefaultMTU = 1400
	MinMTU     = 256
	MaxMTU     = 65535
)

// maxStringCap bounds an analyzer string even when the MTU would allow a
// longer one: DNS names have at most 253 bytes, and server names and Host
// headers longer than 1 KiB are not worth a collector's storage.
const maxStringCap = 1024

// ErrMessageFull is Encoder.Add's answer when the record does not fit in
// the message being built: finish it and begin another.
var ErrMessageFull = errors.New("ipfix: message full")

// ErrInvalidRecord is wrapped by the errors Encoder.Add returns for a record
// it cannot encode (address families that differ or are missing, times
// before 1970 or out of order).
var ErrInvalidRecord = errors.New("invalid flow record")

// Encoder builds IPFIX messages for one observation domain into a buffer it
// owns. It is not safe for concurrent use. Add allocates nothing.
type Encoder struct {
	domain    uint32
	seq       uint32 // data records sent before the message being built (mod 2^32)
	mtu       int
	maxString int

	buf     []byte
	set     int    // offset of the open data set's header, -1 when none
	setID   uint16 // its template id
	records int    // data records in the message being built
	started bool

	// Truncated counts analyzer strings cut to fit the message size.
	Truncated uint64
}

// NewEncoder returns an encoder for observation domain domain whose
// messages are at most mtu bytes (MinMTU to MaxMTU; 0 means DefaultMTU).
func NewEncoder(domain uint32, mtu int) (*Encoder, error) {
	if mtu == 0 {
		mtu = DefaultMTU
	}
	if mtu < MinMTU || mtu > MaxMTU {
		return nil, fmt.Errorf("ipfix: message size %d: want %d to %d bytes", mtu, MinMTU, MaxMTU)
	}
	return &Encoder{domain: domain, mtu: mtu, maxString: maxString(mtu), buf: make([]byte, 0, mtu), set: -1}, nil
}

// maxString is the longest analyzer string that keeps the largest record
// (IPv6, three strings of that length) within one message of mtu bytes.
func maxString(mtu int) int {
	n := (mtu-headerLen-setHeaderLen-fixedLen6)/3 - 3
	if n > maxStringCap {
		n = maxStringCap
	}
	return n
}

// MaxString returns the longest analyzer string the encoder keeps whole.
func (e *Encoder) MaxString() int { return e.maxString }

// MTU returns the largest message the encoder builds.
func (e *Encoder) MTU() int { return e.mtu }

// Sequence returns the sequence number the next message will carry: the
// number of data records in the messages finished so far, modulo 2^32.
func (e *Encoder) Sequence() uint32 { return e.seq }

// Records returns the number of data records in the message being built.
func (e *Encoder) Records() int { return e.records }

// Started reports whether a message is being built.
func (e *Encoder) Started() bool { return e.started }

// Begin starts a message, with the template set first when templates is
// true. A message begun and not finished is discarded.
func (e *Encoder) Begin(templates bool) {
	e.buf = append(e.buf[:0], make([]byte, headerLen)...)
	e.set, e.records, e.started = -1, 0, true
	if templates {
		e.buf = append(e.buf, templateSet...)
	}
}

// Add appends r to the message being built. It returns ErrMessageFull when
// r does not fit (the message is unchanged), or an error wrapping
// ErrInvalidRecord. Analyzer strings longer than MaxString are cut (at a
// UTF-8 character boundary) and counted in Truncated.
func (e *Encoder) Add(r *Record) error {
	if !e.started {
		e.Begin(false)
	}
	v6, err := check(r)
	if err != nil {
		return err
	}
	tid := uint16(TemplateIPv4)
	need := fixedLen4
	if v6 {
		tid, need = TemplateIPv6, fixedLen6
	}
	host, qname, sni := e.cut(r.Host), e.cut(r.QName), e.cut(r.SNI)
	need += strLen(host) + strLen(qname) + strLen(sni)
	newSet := e.set < 0 || e.setID != tid
	if newSet {
		need += setHeaderLen
	}
	if len(e.buf)+need > e.mtu {
		return ErrMessageFull
	}
	if n := len(host) + len(qname) + len(sni); n < len(r.Host)+len(r.QName)+len(r.SNI) {
		e.Truncated += uint64(btoi(len(host) < len(r.Host)) + btoi(len(qname) < len(r.QName)) + btoi(len(sni) < len(r.SNI)))
	}
	if newSet {
		e.closeSet()
		e.set, e.setID = len(e.buf), tid
		e.buf = append(e.buf, byte(tid>>8), byte(tid), 0, 0)
	}
	b := e.buf
	if v6 {
		s, d := r.Src.As16(), r.Dst.As16()
		b = append(b, s[:]...)
		b = append(b, d[:]...)
	} else {
		s, d := r.Src.As4(), r.Dst.As4()
		b = append(b, s[:]...)
		b = append(b, d[:]...)
	}
	b = be16(b, r.SrcPort)
	b = be16(b, r.DstPort)
	b = append(b, r.Proto)
	b = be16(b, uint16(r.TCPFlags))
	b = be16(b, r.VLAN)
	b = be32(b, r.IfIndex)
	b = be64(b, uint64(r.First/1e6))
	b = be64(b, uint64(r.Last/1e6))
	b = be64(b, r.Packets)
	b = be64(b, r.Bytes)
	b = append(b, byte(r.EndReason))
	b = appendString(b, host)
	b = appendString(b, qname)
	b = appendString(b, sni)
	e.buf = b
	e.records++
	return nil
}

// Finish closes the message and returns it (valid until the next Begin or
// Add): it fills in the header with exportTime (seconds since the Unix
// epoch), the sequence number and the observation domain, and advances the
// sequence number by the message's data records.
func (e *Encoder) Finish(exportTime uint32) []byte {
	if !e.started {
		e.Begin(false)
	}
	e.closeSet()
	b := e.buf
	n := len(b)
	b[0], b[1] = 0, version
	b[2], b[3] = byte(n>>8), byte(n)
	put32(b[4:], exportTime)
	put32(b[8:], e.seq)
	put32(b[12:], e.domain)
	e.seq += uint32(e.records)
	e.started = false
	return b
}

// closeSet writes the open data set's length.
func (e *Encoder) closeSet() {
	if e.set < 0 {
		return
	}
	n := len(e.buf) - e.set
	e.buf[e.set+2], e.buf[e.set+3] = byte(n>>8), byte(n)
	e.set = -1
}

// check validates r and says whether it is an IPv6 record.
func check(r *Record) (bool, error) {
	switch {
	case !r.Src.IsValid() || !r.Dst.IsValid():
		return false, fmt.Errorf("%w: missing address (src %v, dst %v)", ErrInvalidRecord, r.Src, r.Dst)
	case r.Src.Is4() != r.Dst.Is4():
		return false, fmt.Errorf("%w: src %v and dst %v are of different address families", ErrInvalidRecord, r.Src, r.Dst)
	case r.First < 0 || r.Last < r.First:
		return false, fmt.Errorf("%w: first %d, last %d: want 0 <= first <= last (ns since the epoch)", ErrInvalidRecord, r.First, r.Last)
	}
	return !r.Src.Is4(), nil
}

// cut shortens s to at most maxString bytes without splitting a UTF-8
// sequence.
func (e *Encoder) cut(s string) string {
	if len(s) <= e.maxString {
		return s
	}
	n := e.maxString
	for n > 0 && s[n]&0xc0 == 0x80 {
		n--
	}
	return s[:n]
}

// strLen is the encoded size of a variable-length string (RFC 7011 7).
func strLen(s string) int {
	if len(s) < 255 {
		return 1 + len(s)
	}
	return 3 + len(s)
}

func appendString(b []byte, s string) []byte {
	if len(s) < 255 {
		b = append(b, byte(len(s)))
	} else {
		b = append(b, 255, byte(len(s)>>8), byte(len(s)))
	}
	return append(b, s...)
}

func put32(b []byte, v uint32) {
	b[0], b[1], b[2], b[3] = byte(v>>24), byte(v>>16), byte(v>>8), byte(v)
}

func btoi(b bool) int {
	if b {
		return 1
	}
	return 0
}
