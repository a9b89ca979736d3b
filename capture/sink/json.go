package sink

import (
	"bufio"
	"io"
	"strconv"
	"sync"

	"github.com/wringcap/wring/capture/packet"
	"github.com/wringcap/wring/spec"
)

// JSON writes one JSON object per packet (JSON lines) with the fields of
// its parse record, in the schema spec/JSON.md describes.
type JSON struct {
	mu  sync.Mutex
	w   *bufio.Writer
	buf []byte
}

// NewJSON returns a JSON-lines sink writing to w.
func NewJSON(w io.Writer) *JSON { return &JSON{w: bufio.NewWriterSize(w, 1<<16)} }

// Handle writes one line per packet.
func (j *JSON) Handle(b *packet.Batch) error {
	j.mu.Lock()
	defer j.mu.Unlock()
	for i := range b.Packets {
		j.buf = AppendJSON(j.buf[:0], &b.Packets[i])
		j.buf = append(j.buf, '\n')
		if _, err := j.w.Write(j.buf); err != nil {
			return err
		}
	}
	return nil
}

// Flush flushes buffered lines.
func (j *JSON) Flush() error {
	j.mu.Lock()
	defer j.mu.Unlock()
	return j.w.Flush()
}

// Close flushes.
func (j *JSON) Close() error { return j.Flush() }

var flagNames = []struct {
	bit  uint32
	name string
}{
	{spec.RecFlagFragment, "fragment"}, {spec.RecFlagLaterFragment, "later_fragment"},
	{spec.RecFlagTruncated, "truncated"}, {spec.RecFlagMalformed, "malformed"},
	{spec.RecFlagIPOptions, "ip_options"}, {spec.RecFlagIPv6Ext, "ipv6_ext"},
	{spec.RecFlagVLAN, "vlan"}, {spec.RecFlagMPLS, "mpls"},
}

// protoNames are the names of the IP protocols the record parses, as
// tcpdump's expressions spell them.
var protoNames = map[uint8]string{
	packet.ProtoICMP: "icmp", packet.ProtoTCP: "tcp", packet.ProtoUDP: "udp", packet.ProtoICMPv6: "icmp6", packet.ProtoSCTP: "sctp",
	2: "igmp", 4: "ipip", 41: "ip6", 47: "gre", 50: "esp", 51: "ah", 103: "pim", 112: "vrrp",
}

// AppendJSON appends the JSON object of one packet (no newline): the
// "packet" line of spec/JSON.md. Absent layers leave their fields out.
func AppendJSON(b []byte, p *packet.Packet) []byte {
	r := &p.Record
	b = append(b, `{"type":"packet","ts":`...)
	b = strconv.AppendInt(b, r.Timestamp(), 10)
	b = append(b, `,"caplen":`...)
	b = strconv.AppendUint(b, uint64(r.CapLen()), 10)
	b = append(b, `,"len":`...)
	b = strconv.AppendUint(b, uint64(r.WireLen()), 10)
	b = append(b, `,"queue":`...)
	b = strconv.AppendUint(b, uint64(r.Queue()), 10)
	if r.Ifindex() != 0 {
		b = append(b, `,"ifindex":`...)
		b = strconv.AppendUint(b, uint64(r.Ifindex()), 10)
	}
	b = append(b, `,"linktype":`...)
	b = strconv.AppendUint(b, uint64(r.LinkType()), 10)
	if name, ok := linkTypeName(r.LinkType()); ok {
		b = append(b, `,"linktype_name":"`...)
		b = append(b, name...)
		b = append(b, '"')
	}
	if et := r.EtherType(); et != 0 {
		b = append(b, `,"ethertype":`...)
		b = strconv.AppendUint(b, uint64(et), 10)
	}
	if n := r.VLANCount(); n > 0 {
		b = append(b, `,"vlans":`...)
		b = strconv.AppendUint(b, uint64(n), 10)
		b = append(b, `,"vlan_tci":[`...)
		b = strconv.AppendUint(b, uint64(r.VLANOuter()), 10)
		if n > 1 {
			b = append(b, ',')
			b = strconv.AppendUint(b, uint64(r.VLANInner()), 10)
		}
		b = append(b, ']')
	}
	if n := r.MPLSCount(); n > 0 {
		b = append(b, `,"mpls_labels":`...)
		b = strconv.AppendUint(b, uint64(n), 10)
		b = append(b, `,"mpls_top":`...)
		b = strconv.AppendUint(b, uint64(r.MPLSTop()>>12), 10)
	}
	if v := r.IPVersion(); v != 0 {
		b = append(b, `,"ip":`...)
		b = strconv.AppendUint(b, uint64(v), 10)
		b = append(b, `,"src":"`...)
		b = r.SrcAddr().AppendTo(b)
		b = append(b, `","dst":"`...)
		b = r.DstAddr().AppendTo(b)
		b = append(b, `","proto":`...)
		b = strconv.AppendUint(b, uint64(r.IPProto()), 10)
		if name, ok := protoNames[r.IPProto()]; ok {
			b = append(b, `,"proto_name":"`...)
			b = append(b, name...)
			b = append(b, '"')
		}
		b = append(b, `,"ttl":`...)
		b = strconv.AppendUint(b, uint64(r.TTL()), 10)
		if r.L4Off() != spec.NoOffset {
			switch r.IPProto() {
			case packet.ProtoTCP, packet.ProtoUDP, packet.ProtoSCTP:
				b = append(b, `,"sport":`...)
				b = strconv.AppendUint(b, uint64(r.SrcPort()), 10)
				b = append(b, `,"dport":`...)
				b = strconv.AppendUint(b, uint64(r.DstPort()), 10)
				if r.IPProto() == packet.ProtoTCP {
					b = append(b, `,"tcp_flags":"`...)
					b = AppendTCPFlags(b, r.TCPFlags())
					b = append(b, '"')
				}
			case packet.ProtoICMP, packet.ProtoICMPv6:
				b = append(b, `,"icmp_type":`...)
				b = strconv.AppendUint(b, uint64(r.SrcPort()>>8), 10)
				b = append(b, `,"icmp_code":`...)
				b = strconv.AppendUint(b, uint64(r.SrcPort()&0xff), 10)
			}
		}
		b = append(b, `,"flow_hash":`...)
		b = strconv.AppendUint(b, uint64(r.FlowHash()), 10)
	}
	if r.PayloadOff() != spec.NoOffset {
		b = append(b, `,"payload_len":`...)
		b = strconv.AppendUint(b, uint64(r.PayloadLen()), 10)
	}
	if f := r.Flags(); f != 0 {
		b = append(b, `,"flags":[`...)
		first := true
		for _, n := range flagNames {
			if f&n.bit != 0 {
				if !first {
					b = append(b, ',')
				}
				first = false
				b = append(b, '"')
				b = append(b, n.name...)
				b = append(b, '"')
			}
		}
		b = append(b, ']')
	}
	return append(b, '}')
}

// linkTypeName returns the canonical name of a link type, when it has one.
func linkTypeName(t spec.LinkType) (string, bool) {
	s := t.String()
	if s == "" || s[0] >= '0' && s[0] <= '9' {
		return "", false
	}
	return s, true
}
