package packet_test

import (
	"fmt"
	"net/netip"
	"path/filepath"
	"slices"
	"testing"

	"github.com/gopacket/gopacket"
	"github.com/gopacket/gopacket/layers"
	"github.com/wringcap/wring/capture/packet"
	"github.com/wringcap/wring/capture/pcapfile"
	"github.com/wringcap/wring/internal/corpus"
	"github.com/wringcap/wring/spec"
)

// supportedPath lists the gopacket layers the parser walks on its way to
// the network layer. When gopacket reaches an IP layer only through these,
// the parser must reach the same IP layer.
var supportedPath = map[gopacket.LayerType]bool{
	layers.LayerTypeEthernet:  true,
	layers.LayerTypeDot1Q:     true,
	layers.LayerTypeMPLS:      true,
	layers.LayerTypeLLC:       true,
	layers.LayerTypeSNAP:      true,
	layers.LayerTypeLinuxSLL:  true,
	layers.LayerTypeLinuxSLL2: true,
	layers.LayerTypeLoopback:  true,
}

// TestParseAgainstGopacket parses every packet of the tcpdump and libpcap
// filter corpora and compares the record with gopacket's layer decoders.
//
// Intentional differences, which the comparison skips:
//   - gopacket decodes encapsulations the parser does not (PPPoE, GRE, ...):
//     only IP layers reached through supportedPath are compared.
//   - gopacket rejects IPv4 headers whose options are malformed and IPv6
//     extension headers it cannot decode; the parser skips options by IHL
//     and ext headers by their length byte, so it goes further.
//   - gopacket's later fragments carry no transport layer, as in the parser;
//     gopacket also decodes the transport layer of a first fragment, the
//     parser too.
//   - gopacket stops at any IPv6 fragment header, even an atomic one; the
//     parser follows the chain for MaxIPv6ExtHeaders headers and, past that
//     bound, reports the next extension header as the protocol.
//   - ports and payload offsets are compared only when gopacket decoded the
//     transport layer without error.
func TestParseAgainstGopacket(t *testing.T) {
	var files []string
	files = append(files, corpus.Files(t, "tcpdump")...)
	files = append(files, corpus.Files(t, "libpcap/filter")...)
	var stats struct{ packets, ip, tcp, udp, mismatches int }
	for _, f := range files {
		r, err := pcapfile.Open(f)
		if err != nil {
			continue // unreadable (as libpcap finds it too): the file tests cover it
		}
		var info packet.Info
		for i := 0; ; i++ {
			data, err := r.ReadPacket(&info)
			if err != nil {
				break
			}
			stats.packets++
			var rec packet.Record
			packet.Parse(info, data, &rec)
			lt := info.LinkType
			if msg := compare(lt, data, &rec, &stats.ip, &stats.tcp, &stats.udp); msg != "" && !bothBad(lt, data, &rec) {
				stats.mismatches++
				if stats.mismatches <= 30 {
					t.Errorf("%s packet %d (link %v): %s", filepath.Base(f), i+1, lt, msg)
				}
			}
		}
		r.Close()
	}
	t.Logf("%d packets: %d IP, %d TCP, %d UDP layers compared; %d mismatches", stats.packets, stats.ip, stats.tcp, stats.udp, stats.mismatches)
	if stats.ip < 1000 || stats.tcp < 300 || stats.udp < 300 {
		t.Errorf("too few layers compared: %+v", stats)
	}
}

func compare(lt spec.LinkType, data []byte, rec *packet.Record, nip, ntcp, nudp *int) string {
	switch lt {
	case spec.LinkEthernet, spec.LinkRaw, spec.LinkIPv4, spec.LinkIPv6, spec.LinkLinuxSLL, spec.LinkLinuxSLL2, spec.LinkNull, spec.LinkLoop:
	default:
		if deepLinks[lt] {
			return "" // checked against tcpdump: TestDeepLinkTypesAgainstTcpdump
		}
		if rec.L3Off() != spec.NoOffset || rec.IPVersion() != 0 {
			return "network layer found on an unsupported link type"
		}
		return ""
	}
	pkt := gopacket.NewPacket(data, layers.LinkType(lt), gopacket.DecodeOptions{Lazy: false, NoCopy: true})
	var ipLayer gopacket.Layer
	var vlans []*layers.Dot1Q
	var mpls []*layers.MPLS
	supported := true
	idx := -1
	for i, l := range pkt.Layers() {
		t := l.LayerType()
		if t == layers.LayerTypeIPv4 || t == layers.LayerTypeIPv6 {
			ipLayer, idx = l, i
			break
		}
		if !supportedPath[t] {
			supported = false
			break
		}
		switch v := l.(type) {
		case *layers.Dot1Q:
			vlans = append(vlans, v)
		case *layers.MPLS:
			mpls = append(mpls, v)
		}
	}
	if !supported {
		return ""
	}
	if ipLayer == nil {
		// gopacket found no IP header. The parser may still have one when
		// gopacket gave up on it (an error layer after the supported path).
		if rec.IPVersion() != 0 && pkt.ErrorLayer() == nil {
			return fmt.Sprintf("parser found IPv%d, gopacket none (layers %v)", rec.IPVersion(), layerNames(pkt))
		}
		return ""
	}
	*nip++
	if got, want := int(rec.VLANCount()), len(vlans); got != want && want < 255 {
		return fmt.Sprintf("VLAN count %d, gopacket %d", got, want)
	}
	if len(vlans) > 0 {
		tci := uint16(vlans[0].Priority)<<13 | boolBit(vlans[0].DropEligible)<<12 | vlans[0].VLANIdentifier
		if rec.VLANOuter() != tci {
			return fmt.Sprintf("outer TCI %#x, gopacket %#x", rec.VLANOuter(), tci)
		}
	}
	if len(vlans) > 1 {
		tci := uint16(vlans[1].Priority)<<13 | boolBit(vlans[1].DropEligible)<<12 | vlans[1].VLANIdentifier
		if rec.VLANInner() != tci {
			return fmt.Sprintf("inner TCI %#x, gopacket %#x", rec.VLANInner(), tci)
		}
	}
	if got, want := int(rec.MPLSCount()), len(mpls); got != want {
		return fmt.Sprintf("MPLS count %d, gopacket %d", got, want)
	}
	if len(mpls) > 0 && rec.MPLSTop()>>12 != mpls[0].Label {
		return fmt.Sprintf("MPLS top label %d, gopacket %d", rec.MPLSTop()>>12, mpls[0].Label)
	}
	l3 := int(rec.L3Off())
	if want := offsetOf(pkt, idx); l3 != want {
		return fmt.Sprintf("L3 offset %d, gopacket %d", l3, want)
	}
	var l4proto uint8
	switch ip := ipLayer.(type) {
	case *layers.IPv4:
		if rec.IPVersion() != 4 || rec.SrcAddr() != addr(ip.SrcIP) || rec.DstAddr() != addr(ip.DstIP) || rec.TTL() != ip.TTL {
			return fmt.Sprintf("IPv4 %v>%v ttl %d, gopacket %v>%v ttl %d", rec.SrcAddr(), rec.DstAddr(), rec.TTL(), ip.SrcIP, ip.DstIP, ip.TTL)
		}
		if rec.IPProto() != uint8(ip.Protocol) {
			return fmt.Sprintf("protocol %d, gopacket %d", rec.IPProto(), ip.Protocol)
		}
		frag := ip.Flags&layers.IPv4MoreFragments != 0 || ip.FragOffset != 0
		if (rec.Flags()&spec.RecFlagFragment != 0) != frag {
			return fmt.Sprintf("fragment flag %v, gopacket %v", !frag, frag)
		}
		if (rec.Flags()&spec.RecFlagIPOptions != 0) != (ip.IHL > 5) {
			return "IP options flag differs"
		}
		l4proto = uint8(ip.Protocol)
	case *layers.IPv6:
		if rec.IPVersion() != 6 || rec.SrcAddr() != addr(ip.SrcIP) || rec.DstAddr() != addr(ip.DstIP) || rec.TTL() != ip.HopLimit {
			return fmt.Sprintf("IPv6 %v>%v hl %d, gopacket %v>%v hl %d", rec.SrcAddr(), rec.DstAddr(), rec.TTL(), ip.SrcIP, ip.DstIP, ip.HopLimit)
		}
		// The final protocol: follow gopacket's extension layers.
		l4proto = uint8(ip.NextHeader)
		for _, l := range pkt.Layers()[idx+1:] {
			switch e := l.(type) {
			case *layers.IPv6HopByHop:
				l4proto = uint8(e.NextHeader)
			case *layers.IPv6Destination:
				l4proto = uint8(e.NextHeader)
			case *layers.IPv6Routing:
				l4proto = uint8(e.NextHeader)
			case *layers.IPv6Fragment:
				l4proto = uint8(e.NextHeader)
			case *layers.IPSecAH:
				l4proto = uint8(e.NextHeader)
			default:
				continue
			}
		}
		if rec.IPProto() != l4proto && !isExtHeader(rec.IPProto()) && pkt.ErrorLayer() == nil && rec.Flags()&(spec.RecFlagTruncated|spec.RecFlagMalformed) == 0 {
			return fmt.Sprintf("IPv6 final protocol %d, gopacket %d (layers %v)", rec.IPProto(), l4proto, layerNames(pkt))
		}
	}
	if tl := pkt.TransportLayer(); tl != nil && rec.Flags()&spec.RecFlagLaterFragment == 0 {
		switch tr := tl.(type) {
		case *layers.TCP:
			if l4proto != packet.ProtoTCP {
				return "" // TCP inside a tunnel
			}
			*ntcp++
			if rec.SrcPort() != uint16(tr.SrcPort) || rec.DstPort() != uint16(tr.DstPort) {
				return fmt.Sprintf("TCP ports %d>%d, gopacket %d>%d", rec.SrcPort(), rec.DstPort(), tr.SrcPort, tr.DstPort)
			}
			if rec.TCPFlags() != tcpFlags(tr) {
				return fmt.Sprintf("TCP flags %#x, gopacket %#x", rec.TCPFlags(), tcpFlags(tr))
			}
			if want := offsetOf(pkt, layerIndex(pkt, tl)) + len(tr.LayerContents()); int(rec.PayloadOff()) != want {
				return fmt.Sprintf("TCP payload offset %d, gopacket %d", rec.PayloadOff(), want)
			}
		case *layers.UDP:
			if l4proto != packet.ProtoUDP {
				return ""
			}
			*nudp++
			if rec.SrcPort() != uint16(tr.SrcPort) || rec.DstPort() != uint16(tr.DstPort) {
				return fmt.Sprintf("UDP ports %d>%d, gopacket %d>%d", rec.SrcPort(), rec.DstPort(), tr.SrcPort, tr.DstPort)
			}
			if want := int(rec.L4Off()) + 8; int(rec.PayloadOff()) != want {
				return fmt.Sprintf("UDP payload offset %d, want %d", rec.PayloadOff(), want)
			}
		case *layers.SCTP:
			if l4proto != packet.ProtoSCTP {
				return ""
			}
			if rec.SrcPort() != uint16(tr.SrcPort) || rec.DstPort() != uint16(tr.DstPort) {
				return fmt.Sprintf("SCTP ports %d>%d, gopacket %d>%d", rec.SrcPort(), rec.DstPort(), tr.SrcPort, tr.DstPort)
			}
		}
	}
	if l := pkt.Layer(layers.LayerTypeICMPv4); l != nil && l4proto == packet.ProtoICMP && rec.Flags()&spec.RecFlagLaterFragment == 0 {
		ic := l.(*layers.ICMPv4)
		if rec.SrcPort() != uint16(ic.TypeCode) {
			return fmt.Sprintf("ICMP type/code %#x, gopacket %#x", rec.SrcPort(), uint16(ic.TypeCode))
		}
	}
	if l := pkt.Layer(layers.LayerTypeICMPv6); l != nil && l4proto == packet.ProtoICMPv6 && rec.Flags()&spec.RecFlagLaterFragment == 0 {
		ic := l.(*layers.ICMPv6)
		if rec.SrcPort() != uint16(ic.TypeCode) {
			return fmt.Sprintf("ICMPv6 type/code %#x, gopacket %#x", rec.SrcPort(), uint16(ic.TypeCode))
		}
	}
	return ""
}

// bothBad reports a packet on which a difference is expected: the parser
// flagged it malformed or truncated and gopacket failed to decode it too, or
// the version nibble of the IP header contradicts the EtherType (gopacket
// does not check it; the parser stops there and flags the packet).
func bothBad(lt spec.LinkType, data []byte, rec *packet.Record) bool {
	pkt := gopacket.NewPacket(data, layers.LinkType(lt), gopacket.DecodeOptions{NoCopy: true})
	bad := rec.Flags()&(spec.RecFlagTruncated|spec.RecFlagMalformed) != 0
	if bad && (pkt.ErrorLayer() != nil || pkt.Metadata().Truncated) {
		return true
	}
	if l3 := int(rec.L3Off()); l3 < len(data) && rec.IPVersion() == 0 && bad {
		v := data[l3] >> 4
		return (rec.EtherType() == packet.EtherTypeIPv4 && v != 4) || (rec.EtherType() == packet.EtherTypeIPv6 && v != 6)
	}
	return false
}

// offsetOf returns the offset of layer i: the sum of the header lengths of
// the layers before it.
func offsetOf(p gopacket.Packet, i int) int {
	n := 0
	for _, l := range p.Layers()[:i] {
		n += len(l.LayerContents())
	}
	return n
}

func layerIndex(p gopacket.Packet, l gopacket.Layer) int {
	return slices.Index(p.Layers(), l)
}

func tcpFlags(t *layers.TCP) uint8 {
	var f uint8
	for i, b := range []bool{t.FIN, t.SYN, t.RST, t.PSH, t.ACK, t.URG, t.ECE, t.CWR} {
		if b {
			f |= 1 << i
		}
	}
	return f
}

func isExtHeader(p uint8) bool {
	switch p {
	case 0, 43, 44, 51, 60, 135, 139, 140, 253, 254:
		return true
	}
	return false
}

func boolBit(b bool) uint16 {
	if b {
		return 1
	}
	return 0
}

func addr(ip []byte) netip.Addr {
	a, _ := netip.AddrFromSlice(ip)
	return a
}

func layerNames(p gopacket.Packet) []string {
	var s []string
	for _, l := range p.Layers() {
		s = append(s, l.LayerType().String())
	}
	return s
}
