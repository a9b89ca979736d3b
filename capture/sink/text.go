package sink

import (
	"bufio"
	"io"
	"net/netip"
	"strconv"
	"sync"
	"time"

	"github.com/wringcap/wring/capture/packet"
	"github.com/wringcap/wring/spec"
)

// Text writes packets as tcpdump -n prints them: one line per packet (more
// with -v, -x and the like), decoded from the packet bytes for the
// protocols the printer knows, with tcpdump's fallback elsewhere.
type Text struct {
	mu sync.Mutex
	w  *bufio.Writer
	c  io.Closer
	pr printer
}

// NewText returns a text sink writing to w in the given time zone (nil:
// local time, as tcpdump prints).
func NewText(w io.Writer, loc *time.Location) *Text {
	return NewTextWith(w, TextOptions{Loc: loc})
}

// NewTextWith returns a text sink writing to w with the given options.
func NewTextWith(w io.Writer, o TextOptions) *Text {
	t := &Text{w: bufio.NewWriterSize(w, 1<<16)}
	t.pr.o = o
	t.pr.loc = o.Loc
	if t.pr.loc == nil {
		t.pr.loc = time.Local
	}
	if c, ok := w.(io.Closer); ok {
		t.c = c
	}
	return t
}

// Handle writes the text of each packet of the batch.
func (t *Text) Handle(b *packet.Batch) error {
	t.mu.Lock()
	defer t.mu.Unlock()
	for i := range b.Packets {
		pk := &b.Packets[i]
		t.pr.b = t.pr.b[:0]
		t.pr.packet(&pk.Info, pk.Data)
		if _, err := t.w.Write(t.pr.b); err != nil {
			return err
		}
	}
	return nil
}

// Flush flushes buffered lines.
func (t *Text) Flush() error {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.w.Flush()
}

// Close flushes (it does not close standard output).
func (t *Text) Close() error { return t.Flush() }

// tcpFlagNames are tcpdump's flag letters in its order (FIN..CWR, ACK as
// '.').
var tcpFlagNames = [8]struct {
	bit  uint8
	name byte
}{{0x01, 'F'}, {0x02, 'S'}, {0x04, 'R'}, {0x08, 'P'}, {0x10, '.'}, {0x20, 'U'}, {0x40, 'E'}, {0x80, 'W'}}

// AppendTCPFlags appends tcpdump's rendering of TCP flags ("S.", "P.",
// "none").
func AppendTCPFlags(b []byte, f uint8) []byte {
	if f == 0 {
		return append(b, "none"...)
	}
	for _, n := range tcpFlagNames {
		if f&n.bit != 0 {
			b = append(b, n.name)
		}
	}
	return b
}

// AppendSummary appends the one-line summary of a packet (no newline).
func AppendSummary(b []byte, p *packet.Packet, loc *time.Location) []byte {
	r := &p.Record
	ts := time.Unix(0, r.Timestamp()).In(loc)
	b = ts.AppendFormat(b, "15:04:05.000000")
	b = append(b, ' ')
	if n := r.VLANCount(); n > 0 {
		b = append(b, "vlan "...)
		b = strconv.AppendUint(b, uint64(r.VLANOuter()&0x0fff), 10)
		if n > 1 {
			b = append(b, '/')
			b = strconv.AppendUint(b, uint64(r.VLANInner()&0x0fff), 10)
		}
		b = append(b, ", "...)
	}
	if n := r.MPLSCount(); n > 0 {
		b = append(b, "MPLS (label "...)
		b = strconv.AppendUint(b, uint64(r.MPLSTop()>>12), 10)
		b = append(b, "), "...)
	}
	switch r.IPVersion() {
	case 4:
		b = append(b, "IP "...)
	case 6:
		b = append(b, "IP6 "...)
	default:
		switch et := r.EtherType(); {
		case et == 0x0806:
			b = append(b, "ARP"...)
		case et != 0:
			b = append(b, "ethertype 0x"...)
			b = appendHex16(b, et)
		default:
			b = append(b, spec.LinkType(r.LinkType()).String()...)
		}
		b = append(b, ", length "...)
		return strconv.AppendUint(b, uint64(r.WireLen()), 10)
	}
	proto := r.IPProto()
	hasPorts := r.L4Off() != spec.NoOffset && (proto == packet.ProtoTCP || proto == packet.ProtoUDP || proto == packet.ProtoSCTP)
	b = appendEndpoint(b, r.SrcAddr(), r.SrcPort(), hasPorts)
	b = append(b, " > "...)
	b = appendEndpoint(b, r.DstAddr(), r.DstPort(), hasPorts)
	b = append(b, ": "...)
	if r.Flags()&spec.RecFlagLaterFragment != 0 {
		b = append(b, "ip-proto-"...)
		b = strconv.AppendUint(b, uint64(proto), 10)
		b = append(b, " fragment"...)
	} else {
		switch proto {
		case packet.ProtoTCP:
			b = append(b, "Flags ["...)
			b = AppendTCPFlags(b, r.TCPFlags())
			b = append(b, "]"...)
		case packet.ProtoUDP:
			b = append(b, "UDP"...)
		case packet.ProtoSCTP:
			b = append(b, "sctp"...)
		case packet.ProtoICMP, packet.ProtoICMPv6:
			if proto == packet.ProtoICMP {
				b = append(b, "ICMP"...)
			} else {
				b = append(b, "ICMP6"...)
			}
			if r.L4Off() != spec.NoOffset {
				b = append(b, " type "...)
				b = strconv.AppendUint(b, uint64(r.SrcPort()>>8), 10)
				b = append(b, " code "...)
				b = strconv.AppendUint(b, uint64(r.SrcPort()&0xff), 10)
			}
		default:
			b = append(b, "ip-proto-"...)
			b = strconv.AppendUint(b, uint64(proto), 10)
		}
	}
	b = append(b, ", length "...)
	if r.PayloadOff() != spec.NoOffset {
		// The payload on the wire: what was captured plus what the snap
		// length cut off.
		b = strconv.AppendUint(b, uint64(r.PayloadLen())+uint64(r.WireLen()-min(r.WireLen(), r.CapLen())), 10)
	} else {
		b = strconv.AppendUint(b, uint64(r.WireLen()), 10)
	}
	if f := r.Flags(); f&(spec.RecFlagTruncated|spec.RecFlagMalformed) != 0 {
		if f&spec.RecFlagMalformed != 0 {
			b = append(b, " [malformed]"...)
		}
		if f&spec.RecFlagTruncated != 0 && r.CapLen() < r.WireLen() {
			b = append(b, " [|caplen "...)
			b = strconv.AppendUint(b, uint64(r.CapLen()), 10)
			b = append(b, ']')
		}
	}
	return b
}

func appendEndpoint(b []byte, a netip.Addr, port uint16, withPort bool) []byte {
	b = a.AppendTo(b)
	if withPort {
		b = append(b, '.')
		b = strconv.AppendUint(b, uint64(port), 10)
	}
	return b
}

func appendHex16(b []byte, v uint16) []byte {
	const hex = "0123456789abcdef"
	return append(b, hex[v>>12], hex[v>>8&0xf], hex[v>>4&0xf], hex[v&0xf])
}
