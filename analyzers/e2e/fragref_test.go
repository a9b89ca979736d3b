package e2e_test

import (
	"net/netip"

	"github.com/gopacket/gopacket"
	"github.com/gopacket/gopacket/layers"
	"github.com/wringcap/wring/capture/packet"
	"github.com/wringcap/wring/spec"
)

// fragRef is the tests' model of the flow analyzer's flow key: ports for
// TCP, UDP and SCTP only, and a fragment takes its datagram's first
// fragment's ports when that was seen within 30 s, else none. It reads the
// IP identification with gopacket, independently of the analyzer.
type fragRef struct {
	first map[fragDatagram]fragSeen
}

type fragDatagram struct {
	ver, proto uint8
	src, dst   netip.Addr
	id         uint32
}

type fragSeen struct {
	sp, dp uint16
	at     int64
}

// ports returns the ports the flow analyzer keys pk's flow with, and
// whether they are carried from a first fragment.
func (f *fragRef) ports(pk *packet.Packet) (sp, dp uint16, carried bool) {
	r := &pk.Record
	proto := r.IPProto()
	if proto != 6 && proto != 17 && proto != 132 {
		return 0, 0, false
	}
	if r.Flags()&spec.RecFlagFragment == 0 {
		return r.SrcPort(), r.DstPort(), false
	}
	id, ok := ipID(pk)
	if !ok {
		return 0, 0, false
	}
	if f.first == nil {
		f.first = map[fragDatagram]fragSeen{}
	}
	d := fragDatagram{r.IPVersion(), proto, r.SrcAddr(), r.DstAddr(), id}
	now := pk.Info.Timestamp
	if r.Flags()&spec.RecFlagLaterFragment == 0 {
		f.first[d] = fragSeen{r.SrcPort(), r.DstPort(), now}
		return r.SrcPort(), r.DstPort(), true
	}
	s, ok := f.first[d]
	if !ok || now-s.at > 30e9 {
		return 0, 0, false
	}
	return s.sp, s.dp, true
}

// ipID decodes the IPv4 identification or the IPv6 fragment header's.
func ipID(pk *packet.Packet) (uint32, bool) {
	l3 := int(pk.Record.L3Off())
	if l3 == spec.NoOffset || l3 > len(pk.Data) {
		return 0, false
	}
	first := layers.LayerTypeIPv4
	if pk.Record.IPVersion() == 6 {
		first = layers.LayerTypeIPv6
	}
	p := gopacket.NewPacket(pk.Data[l3:], first, gopacket.DecodeOptions{Lazy: true, NoCopy: true})
	if ip, ok := p.Layer(layers.LayerTypeIPv4).(*layers.IPv4); ok {
		return uint32(ip.Id), true
	}
	if fr, ok := p.Layer(layers.LayerTypeIPv6Fragment).(*layers.IPv6Fragment); ok {
		return fr.Identification, true
	}
	return 0, false
}
