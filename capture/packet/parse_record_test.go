package packet_test

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"math/rand/v2"
	"testing"

	"github.com/gopacket/gopacket"
	"github.com/gopacket/gopacket/layers"

	"github.com/wringcap/wring/capture/packet"
	"github.com/wringcap/wring/capture/pcapfile"
	"github.com/wringcap/wring/internal/corpus"
	"github.com/wringcap/wring/internal/trafficgen"
	"github.com/wringcap/wring/spec"
)

// linkTypes are the link types the parser decodes, and one it does not.
var linkTypes = []spec.LinkType{spec.LinkEthernet, spec.LinkRaw, spec.LinkIPv4, spec.LinkIPv6,
	spec.LinkLinuxSLL, spec.LinkLinuxSLL2, spec.LinkNull, spec.LinkLoop, spec.LinkType(147)}

// parserLinks reports whether the parser walks link type lt.
func parserLinks(lt spec.LinkType) bool {
	return lt != spec.LinkType(147) && compareLinks[lt]
}

// walkedLinks reports whether the parser walks link type lt to its network
// layer: the types gopacket's record is compared on, and those only the
// parser decodes (parse_link.go), checked against tcpdump instead
// (TestDeepLinkTypesAgainstTcpdump).
func walkedLinks(lt spec.LinkType) bool {
	if parserLinks(lt) {
		return true
	}
	switch lt {
	case spec.LinkPPP, spec.LinkPPPHDLC, spec.LinkPPPPPPD, spec.LinkPPPEther, spec.LinkCHDLC, spec.LinkSLIP,
		spec.LinkFrelay, spec.LinkNFLog, spec.LinkPKTAP, spec.LinkPPI, spec.LinkIEEE802_11,
		spec.LinkIEEE802_11Radio, spec.LinkArcnetBSD, spec.LinkArcnetLinux, spec.LinkIPoIB:
		return true
	}
	return false
}

// compareLinks are the link types TestParseAgainstGopacket's compare
// knows.
var compareLinks = map[spec.LinkType]bool{spec.LinkEthernet: true, spec.LinkRaw: true, spec.LinkIPv4: true,
	spec.LinkIPv6: true, spec.LinkLinuxSLL: true, spec.LinkLinuxSLL2: true, spec.LinkNull: true, spec.LinkLoop: true}

// gopacketRecord builds, from gopacket's decoding of data, the whole Record
// the parser must fill, byte for byte, when gopacket can say every byte of
// it: the packet's link path is one the parser walks (supportedPath), the
// network layer is IPv4 or IPv6 without extension headers, every header up
// to the transport header's end is in the capture, and the IP lengths are
// consistent. ok is false, and the record meaningless, otherwise.
func gopacketRecord(info packet.Info, data []byte) (rec packet.Record, ok bool) {
	if !parserLinks(info.LinkType) {
		return rec, false
	}
	pkt := gopacket.NewPacket(data, layers.LinkType(info.LinkType), gopacket.DecodeOptions{NoCopy: true})
	if pkt.ErrorLayer() != nil {
		return rec, false
	}
	var (
		ipLayer gopacket.Layer
		vlans   []*layers.Dot1Q
		mpls    []*layers.MPLS
		idx     = -1
	)
	for i, l := range pkt.Layers() {
		t := l.LayerType()
		if t == layers.LayerTypeIPv4 || t == layers.LayerTypeIPv6 {
			ipLayer, idx = l, i
			break
		}
		if !supportedPath[t] {
			return rec, false
		}
		switch v := l.(type) {
		case *layers.Dot1Q:
			vlans = append(vlans, v)
		case *layers.MPLS:
			mpls = append(mpls, v)
		case *layers.LLC, *layers.SNAP:
			return rec, false // 802.3 framing: compare covers it
		}
	}
	if lo, _ := pkt.Layer(layers.LayerTypeLoopback).(*layers.Loopback); lo != nil &&
		info.LinkType == spec.LinkLoop && binary.BigEndian.Uint32(data) != uint32(lo.Family) {
		return rec, false // LOOP is big-endian; gopacket reads either order
	}
	if ipLayer == nil || len(vlans) > 2 || len(mpls) > packet.MaxMPLSLabels {
		return rec, false
	}
	le := binary.LittleEndian
	put16 := func(off int, v uint16) { le.PutUint16(rec[off:], v) }
	put32 := func(off int, v uint32) { le.PutUint32(rec[off:], v) }
	le.PutUint64(rec[spec.RecTimestamp:], uint64(info.Timestamp))
	put32(spec.RecCapLen, uint32(len(data)))
	put32(spec.RecWireLen, info.WireLen)
	put32(spec.RecIfindex, info.Ifindex)
	put16(spec.RecQueue, info.Queue)
	put16(spec.RecLinkType, uint16(info.LinkType))
	var flags uint32
	if info.WireLen > uint32(len(data)) {
		flags |= spec.RecFlagTruncated
	}
	rec[spec.RecVLANCount] = uint8(len(vlans))
	for i, v := range vlans {
		tci := uint16(v.Priority)<<13 | boolBit(v.DropEligible)<<12 | v.VLANIdentifier
		put16([]int{spec.RecVLANOuter, spec.RecVLANInner}[i], tci)
		flags |= spec.RecFlagVLAN
	}
	if len(mpls) > 0 {
		if !mpls[len(mpls)-1].StackBottom {
			return rec, false
		}
		m := mpls[0]
		put32(spec.RecMPLSTop, m.Label<<12|uint32(m.TrafficClass)<<9|uint32(boolBit(m.StackBottom))<<8|uint32(m.TTL))
		rec[spec.RecMPLSCount] = uint8(len(mpls))
		flags |= spec.RecFlagMPLS
	}
	l3 := offsetOf(pkt, idx)
	put16(spec.RecL3Off, uint16(l3))
	if l3 >= len(data) {
		return rec, false
	}
	// gopacket does not check the version nibble against the EtherType;
	// the parser does (and flags the packet).
	if v := data[l3] >> 4; (v == 4) != (ipLayer.LayerType() == layers.LayerTypeIPv4) || (v == 6) != (ipLayer.LayerType() == layers.LayerTypeIPv6) {
		return rec, false
	}
	var (
		version, proto uint8
		l4, end        int // the transport header and the datagram's end in the capture
		laterFragment  bool
		fragment       bool
	)
	switch ip := ipLayer.(type) {
	case *layers.IPv4:
		hl := int(ip.IHL) * 4
		if ip.IHL < 5 || l3+hl > len(data) {
			return rec, false
		}
		// The length as on the wire: gopacket replaces a zero (left by
		// segmentation offload), the parser reads it as the rest.
		total := int(binary.BigEndian.Uint16(data[l3+2:]))
		if total == 0 || total < hl {
			return rec, false
		}
		version, proto = 4, uint8(ip.Protocol)
		rec[spec.RecTTL] = ip.TTL
		copy(rec[spec.RecSrcAddr:], ip.SrcIP.To4())
		copy(rec[spec.RecDstAddr:], ip.DstIP.To4())
		put16(spec.RecEtherType, packet.EtherTypeIPv4)
		if ip.IHL > 5 {
			flags |= spec.RecFlagIPOptions
		}
		fragment = ip.Flags&layers.IPv4MoreFragments != 0 || ip.FragOffset != 0
		laterFragment = ip.FragOffset != 0
		l4, end = l3+hl, l3+total
	case *layers.IPv6:
		if isExtHeader(uint8(ip.NextHeader)) || ip.Length == 0 || l3+40 > len(data) {
			return rec, false
		}
		version, proto = 6, uint8(ip.NextHeader)
		rec[spec.RecTTL] = ip.HopLimit
		copy(rec[spec.RecSrcAddr:], ip.SrcIP.To16())
		copy(rec[spec.RecDstAddr:], ip.DstIP.To16())
		put16(spec.RecEtherType, packet.EtherTypeIPv6)
		l4, end = l3+40, l3+40+int(ip.Length)
	}
	if end > len(data) {
		if info.WireLen <= uint32(len(data)) {
			return rec, false // a length past a complete frame: malformed, compare covers it
		}
		end = len(data) // cut by the snap length
	}
	rec[spec.RecIPVersion], rec[spec.RecIPProto] = version, proto
	if fragment {
		flags |= spec.RecFlagFragment
	}
	l4off, payOff := l4, -1
	var sport, dport uint16
	if laterFragment {
		flags |= spec.RecFlagLaterFragment
		l4off = -1
	} else {
		// The transport header gopacket decoded must be whole in the
		// datagram as captured.
		need := map[uint8]int{packet.ProtoTCP: 20, packet.ProtoUDP: 8, packet.ProtoSCTP: 12, packet.ProtoICMP: 8, packet.ProtoICMPv6: 4}[proto]
		if l4+need > end {
			return rec, false
		}
		switch proto {
		case packet.ProtoTCP:
			tcp, _ := pkt.Layer(layers.LayerTypeTCP).(*layers.TCP)
			if tcp == nil || tcp.DataOffset < 5 || l4+int(tcp.DataOffset)*4 > end {
				return rec, false
			}
			sport, dport = uint16(tcp.SrcPort), uint16(tcp.DstPort)
			rec[spec.RecTCPFlags] = tcpFlags(tcp)
			payOff = l4 + int(tcp.DataOffset)*4
		case packet.ProtoUDP:
			udp, _ := pkt.Layer(layers.LayerTypeUDP).(*layers.UDP)
			if udp == nil || udp.Length < 8 {
				return rec, false
			}
			sport, dport = uint16(udp.SrcPort), uint16(udp.DstPort)
			payOff = l4 + 8
		case packet.ProtoSCTP:
			sctp, _ := pkt.Layer(layers.LayerTypeSCTP).(*layers.SCTP)
			if sctp == nil {
				return rec, false
			}
			sport, dport = uint16(sctp.SrcPort), uint16(sctp.DstPort)
			payOff = l4 + 12
		case packet.ProtoICMP:
			ic, _ := pkt.Layer(layers.LayerTypeICMPv4).(*layers.ICMPv4)
			if ic == nil || version != 4 {
				return rec, false
			}
			sport = uint16(ic.TypeCode)
			payOff = l4 + 8
		case packet.ProtoICMPv6:
			ic, _ := pkt.Layer(layers.LayerTypeICMPv6).(*layers.ICMPv6)
			if ic == nil || version != 6 {
				return rec, false
			}
			sport = uint16(ic.TypeCode)
			payOff = l4 + 4
		}
	}
	offset := func(o int) uint16 {
		if o < 0 {
			return spec.NoOffset
		}
		return uint16(o)
	}
	put16(spec.RecL4Off, offset(l4off))
	put16(spec.RecPayloadOff, offset(payOff))
	if payOff >= 0 {
		put32(spec.RecPayloadLen, uint32(end-payOff))
	}
	put16(spec.RecSrcPort, sport)
	put16(spec.RecDstPort, dport)
	put32(spec.RecFlags, flags)
	var src, dst [16]byte
	copy(src[:], rec[spec.RecSrcAddr:spec.RecSrcAddr+16])
	copy(dst[:], rec[spec.RecDstAddr:spec.RecDstAddr+16])
	hs, hd := sport, dport
	if fragment || (proto != packet.ProtoTCP && proto != packet.ProtoUDP && proto != packet.ProtoSCTP) {
		hs, hd = 0, 0
	}
	put32(spec.RecFlowHash, packet.FlowHash(version, proto, &src, &dst, hs, hd))
	return rec, true
}

// parseTwice parses data into records that start with different garbage
// and reports a difference: Parse must write every byte of the record.
func parseTwice(info packet.Info, data []byte) (packet.Record, string) {
	var a, b packet.Record
	for i := range a {
		a[i], b[i] = 0xa5, 0x5a
	}
	packet.Parse(info, data, &a)
	packet.Parse(info, data, &b)
	if a != b {
		return a, fmt.Sprintf("link %v, %d bytes %x: Parse leaves bytes unwritten:\n %x\n %x", info.LinkType, len(data), data, a[:], b[:])
	}
	return a, ""
}

// recordInvariants checks what RECORD.md guarantees of any record: the
// metadata copied from info, offsets inside the capture and in order, the
// payload inside the capture, the truncated flag when caplen < wirelen,
// nothing parsed on a link type the parser does not walk, and the flow
// hash recomputed from the record's own fields.
func recordInvariants(info packet.Info, data []byte, rec *packet.Record) string {
	n := len(data)
	switch {
	case rec.Timestamp() != info.Timestamp || rec.CapLen() != uint32(n) || rec.WireLen() != info.WireLen ||
		rec.Ifindex() != info.Ifindex || rec.Queue() != info.Queue || rec.LinkType() != info.LinkType:
		return "metadata not copied from Info"
	case info.WireLen > uint32(n) && rec.Flags()&spec.RecFlagTruncated == 0:
		return fmt.Sprintf("caplen %d < wirelen %d without the truncated flag", n, info.WireLen)
	case !walkedLinks(info.LinkType) && (rec.L3Off() != spec.NoOffset || rec.IPVersion() != 0):
		return "a layer parsed on a link type the parser does not walk"
	}
	l3, l4, po := rec.L3Off(), rec.L4Off(), rec.PayloadOff()
	for _, o := range []uint16{l3, l4, po} {
		if o != spec.NoOffset && int(o) > n {
			return fmt.Sprintf("offset %d past the capture of %d bytes", o, n)
		}
	}
	if l4 != spec.NoOffset && (l3 == spec.NoOffset || l4 < l3) {
		return fmt.Sprintf("l4 %d without or before l3 %d", l4, l3)
	}
	if po != spec.NoOffset && (l4 == spec.NoOffset || po < l4 || int(po)+int(rec.PayloadLen()) > n) {
		return fmt.Sprintf("payload %d+%d inconsistent (l4 %d, caplen %d)", po, rec.PayloadLen(), l4, n)
	}
	if po == spec.NoOffset && rec.PayloadLen() != 0 {
		return "payload length without a payload"
	}
	if rec.IPVersion() == 0 {
		if rec.FlowHash() != 0 {
			return "flow hash without IP"
		}
		return ""
	}
	var s, d [16]byte
	copy(s[:], rec[spec.RecSrcAddr:spec.RecSrcAddr+16])
	copy(d[:], rec[spec.RecDstAddr:spec.RecDstAddr+16])
	var sp, dp uint16
	if rec.Flags()&spec.RecFlagFragment == 0 {
		switch rec.IPProto() {
		case packet.ProtoTCP, packet.ProtoUDP, packet.ProtoSCTP:
			sp, dp = rec.SrcPort(), rec.DstPort()
		}
	}
	if h := packet.FlowHash(rec.IPVersion(), rec.IPProto(), &s, &d, sp, dp); h != rec.FlowHash() {
		return fmt.Sprintf("flow hash %#x, recomputed %#x", rec.FlowHash(), h)
	}
	return ""
}

// cutConsistent checks a record of data cut to c bytes against the record
// of the whole packet (same wire length): a layer the cut record still
// has starts where it starts in the whole packet, and an IP header the cut
// still holds has the same version, addresses and TTL.
func cutConsistent(full, cut *packet.Record) string {
	if cut.Flags()&spec.RecFlagTruncated == 0 {
		return "a cut packet without the truncated flag"
	}
	for _, f := range []struct {
		name      string
		full, cut uint16
	}{{"l3", full.L3Off(), cut.L3Off()}, {"l4", full.L4Off(), cut.L4Off()}, {"payload", full.PayloadOff(), cut.PayloadOff()}} {
		if f.cut != spec.NoOffset && f.cut != f.full {
			return fmt.Sprintf("%s offset %d in the cut packet, %d in the whole", f.name, f.cut, f.full)
		}
	}
	if cut.IPVersion() != 0 {
		if cut.IPVersion() != full.IPVersion() || cut.SrcAddr() != full.SrcAddr() || cut.DstAddr() != full.DstAddr() || cut.TTL() != full.TTL() {
			return fmt.Sprintf("IP header differs: cut v%d %v>%v, whole v%d %v>%v", cut.IPVersion(), cut.SrcAddr(), cut.DstAddr(), full.IPVersion(), full.SrcAddr(), full.DstAddr())
		}
	}
	if cut.VLANCount() > full.VLANCount() || cut.MPLSCount() > full.MPLSCount() {
		return "more tags or labels in the cut packet than in the whole"
	}
	return ""
}

type corpusPkt struct {
	lt   spec.LinkType
	wire uint32
	data []byte
}

// corpusPackets returns the packets of the corpus files and of a generated
// capture (VLAN, QinQ, MPLS, IPv6 extension headers, fragments).
func corpusPackets(t *testing.T) []corpusPkt {
	var out []corpusPkt
	var gen bytes.Buffer
	if err := trafficgen.Generate(&gen, trafficgen.Config{Seed: 11, Count: 5000}); err != nil {
		t.Fatal(err)
	}
	add := func(r *pcapfile.Reader) {
		var info packet.Info
		for {
			d, err := r.ReadPacket(&info)
			if err != nil {
				return
			}
			out = append(out, corpusPkt{info.LinkType, info.WireLen, append([]byte(nil), d...)})
		}
	}
	r, err := pcapfile.NewReaderBytes(gen.Bytes(), "gen")
	if err != nil {
		t.Fatal(err)
	}
	add(r)
	for _, sub := range []string{"tcpdump", "libpcap/filter"} {
		for _, f := range corpus.Files(t, sub) {
			r, err := pcapfile.Open(f)
			if err != nil {
				continue
			}
			add(r)
			r.Close()
		}
	}
	return out
}

// recordChecker runs every check on one packet and counts.
type recordChecker struct {
	t                              *testing.T
	records, whole, fields, failed int
}

// check parses data and returns its record after the checks: every byte
// written, the invariants, the whole record against gopacket's where
// gopacket can say it.
func (c *recordChecker) check(info packet.Info, data []byte) packet.Record {
	return c.checkAs(info, data, false)
}

// checkAs is check; asCaptured says that data and info are a corpus
// packet as captured, which gets compare's field checks where gopacket
// cannot say the whole record (compare's list of deliberate differences
// is written for such packets, not for bytes under another link type or
// with bytes changed).
func (c *recordChecker) checkAs(info packet.Info, data []byte, asCaptured bool) packet.Record {
	c.records++
	rec, msg := parseTwice(info, data)
	if msg == "" {
		msg = recordInvariants(info, data, &rec)
	}
	if msg == "" {
		if want, ok := gopacketRecord(info, data); ok {
			c.whole++
			if rec != want {
				msg = fmt.Sprintf("record differs from gopacket's:\n got  %x\n want %x", rec[:], want[:])
			}
		} else if asCaptured {
			var ip, tcp, udp int
			if m := compare(info.LinkType, data, &rec, &ip, &tcp, &udp); m != "" && !bothBad(info.LinkType, data, &rec) {
				msg = m
			}
			c.fields++
		}
	}
	c.fail(info, data, msg)
	return rec
}

func (c *recordChecker) fail(info packet.Info, data []byte, msg string) {
	if msg == "" {
		return
	}
	c.failed++
	if c.failed <= 10 {
		c.t.Errorf("link %v, %d bytes (wire %d) %x: %s", info.LinkType, len(data), info.WireLen, data, msg)
	}
}

// TestParseRecord checks the parser on every corpus and generated packet:
// as captured, under every link type the parser knows (a sample), cut by a
// snap length at every offset up to 128 bytes, and with random bytes
// changed; and on random bytes under every link type. Every record must be
// written whole, keep RECORD.md's invariants, and equal gopacket's
// decoding byte for byte wherever gopacket can say every byte (the rest of
// the corpus packets get TestParseAgainstGopacket's field comparison); a
// cut packet's record must agree with the whole packet's on what the cut
// keeps.
func TestParseRecord(t *testing.T) {
	pkts := corpusPackets(t)
	rng := rand.New(rand.NewPCG(1, 2))
	c := &recordChecker{t: t}
	mut := make([]byte, 0, 1<<16)
	cuts := 0
	for i, p := range pkts {
		info := packet.Info{Timestamp: int64(i) * 1e9, CapLen: uint32(len(p.data)), WireLen: p.wire, LinkType: p.lt,
			Ifindex: uint32(i), Queue: uint16(i * 7)}
		full := c.checkAs(info, p.data, true)
		if i%4 == 0 {
			for _, lt := range linkTypes {
				info.LinkType = lt
				c.check(info, p.data)
			}
			info.LinkType = p.lt
		}
		// Snap-length cuts: the capture ends at every offset, the wire
		// length stays.
		info.WireLen = max(p.wire, uint32(len(p.data)))
		for cut := 0; cut < len(p.data) && cut <= 128; cut++ {
			rec := c.check(info, p.data[:cut])
			c.fail(info, p.data[:cut], cutConsistent(&full, &rec))
			cuts++
		}
		info.WireLen = p.wire
		for k := 0; k < 4; k++ {
			mut = append(mut[:0], p.data...)
			for j := 0; j < 1+k && len(mut) > 0; j++ {
				mut[rng.IntN(min(len(mut), 96))] = byte(rng.Uint32())
			}
			c.check(info, mut)
		}
	}
	for i := 0; i < 20000; i++ {
		b := make([]byte, rng.IntN(120))
		for j := range b {
			b[j] = byte(rng.Uint32())
		}
		c.check(packet.Info{CapLen: uint32(len(b)), WireLen: uint32(len(b) + rng.IntN(2)), LinkType: linkTypes[i%len(linkTypes)]}, b)
	}
	t.Logf("%d packets, %d records (%d cuts): %d equal gopacket's whole, %d field-compared, %d failed",
		len(pkts), c.records, cuts, c.whole, c.fields, c.failed)
	if len(pkts) < 10000 || c.whole < 20000 {
		t.Errorf("too little compared: %d packets, %d whole records", len(pkts), c.whole)
	}
}

// FuzzParseRecord runs TestParseRecord's checks on fuzzed packets: the
// record written whole, RECORD.md's invariants, gopacket's whole record
// where it can say it, and agreement with the record of a cut at cut%len.
func FuzzParseRecord(f *testing.F) {
	f.Add(uint16(spec.LinkEthernet), uint32(0), uint16(40), []byte("\x02\x00\x00\x00\x00\x02\x02\x00\x00\x00\x00\x01\x81\x00\x00\x64\x88\x47\x00\x3e\x81\x09E\x00\x00\x1c\x00\x00\x00\x00@\x11\x00\x00\xc0\x00\x02\x01\xc0\x00\x02\x02\x00\x01\x00\x02\x00\x08\x00\x00"))
	f.Add(uint16(spec.LinkRaw), uint32(1), uint16(7), []byte("`\x00\x00\x00\x00\x08\x00@ \x01\r\xb8\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x01 \x01\r\xb8\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x02,\x00\x00\x01\x00\x00\x00\x01"))
	f.Add(uint16(spec.LinkEthernet), uint32(0), uint16(50), []byte("\x02\x00\x00\x00\x00\x02\x02\x00\x00\x00\x00\x01\x08\x00E\x00\x00\x28\x00\x01\x00\x00@\x06\x00\x00\xc0\x00\x02\x07\x0a\x00\x00\x01\x00\x50\x1f\x90\x00\x00\x00\x01\x00\x00\x00\x00\x50\x02\xff\xff\x00\x00\x00\x00"))
	f.Add(uint16(spec.LinkLinuxSLL2), uint32(2), uint16(3), []byte("\x86\xdd\x00\x00\x00\x00\x00\x02\x00\x01\x06\x00\x00\x00\x00\x00\x00\x00\x00\x00`\x00\x00\x00\x00\x08\x11@ \x01\r\xb8\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x01 \x01\r\xb8\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x02\x00\x35\x00\x35\x00\x08\x00\x00"))
	f.Fuzz(func(t *testing.T, lt uint16, extra uint32, cut uint16, data []byte) {
		c := &recordChecker{t: t}
		info := packet.Info{Timestamp: int64(extra) << 20, CapLen: uint32(len(data)), WireLen: uint32(len(data)) + extra%3,
			LinkType: spec.LinkType(lt), Ifindex: extra, Queue: uint16(extra >> 3)}
		full := c.check(info, data)
		if len(data) > 0 {
			n := int(cut) % len(data)
			rec := c.check(info, data[:n])
			c.fail(info, data[:n], cutConsistent(&full, &rec))
		}
	})
}
