//go:build linux

package rulemaps

import (
	"encoding/binary"
	"math/rand/v2"
	"net/netip"

	"github.com/wringcap/wring/filters/rules"
)

// The rule generator follows filters/rules' own (gen_test.go there): a few
// rule shapes reused many times, as real rule sets do, a small address
// space so that packets hit rules, and every action.

type shape struct {
	fields         rules.Field
	ver            uint8
	srcLen, dstLen int
	sportW, dportW int
	either         bool
	proto          uint8
}

type gen struct {
	r      *rand.Rand
	shapes []shape
	nextID uint32
}

var genProtos = []uint8{rules.ProtoTCP, rules.ProtoUDP, rules.ProtoSCTP, rules.ProtoICMP, rules.ProtoICMPv6, 47}

func hasPorts(p uint8) bool {
	return p == rules.ProtoTCP || p == rules.ProtoUDP || p == rules.ProtoSCTP
}

func newGen(seed uint64, nshapes int) *gen {
	g := &gen{r: rand.New(rand.NewPCG(seed, seed^0x5eed)), nextID: 1}
	for range nshapes {
		g.shapes = append(g.shapes, g.shape())
	}
	return g
}

func (g *gen) shape() shape {
	r := g.r
	var s shape
	pick := func(p float64, f rules.Field) bool {
		if r.Float64() < p {
			s.fields |= f
			return true
		}
		return false
	}
	switch r.IntN(3) {
	case 0:
		s.ver = 4
	case 1:
		s.ver = 6
	}
	if s.ver != 0 {
		lens := []int{8, 16, 24, 32}
		if s.ver == 6 {
			lens = []int{32, 48, 64, 128}
		}
		if pick(0.7, rules.FieldSrc) {
			s.srcLen = lens[r.IntN(len(lens))]
		}
		if pick(0.7, rules.FieldDst) {
			s.dstLen = lens[r.IntN(len(lens))]
		}
		if s.fields&(rules.FieldSrc|rules.FieldDst) == 0 {
			s.fields |= rules.FieldIPVersion
		}
	}
	if pick(0.7, rules.FieldProto) {
		s.proto = genProtos[r.IntN(len(genProtos))]
		if hasPorts(s.proto) {
			if pick(0.4, rules.FieldSrcPort) && r.IntN(4) == 0 {
				s.sportW = 1 + r.IntN(3)
			}
			if pick(0.7, rules.FieldDstPort) && r.IntN(2) == 0 {
				s.dportW = 1 + r.IntN(3)
			}
			if s.sportW != 0 && s.dportW != 0 {
				s.sportW = 0
			}
		}
		if s.proto == rules.ProtoTCP {
			pick(0.2, rules.FieldTCPFlags)
		}
	}
	pick(0.05, rules.FieldQueue)
	pick(0.15, rules.FieldVLAN)
	pick(0.05, rules.FieldEtherType)
	s.either = r.IntN(4) == 0
	return s
}

func (g *gen) addr(ver uint8) netip.Addr {
	if ver == 4 {
		return netip.AddrFrom4([4]byte{10, byte(g.r.IntN(4)), byte(g.r.IntN(4)), byte(g.r.IntN(8))})
	}
	var b [16]byte
	b[0], b[1], b[5], b[7], b[15] = 0x20, 0x01, byte(g.r.IntN(4)), byte(g.r.IntN(4)), byte(g.r.IntN(8))
	return netip.AddrFrom16(b)
}

func (g *gen) port() uint16 {
	ports := []uint16{53, 80, 443, 5060, 8080, 0, 65535}
	if g.r.IntN(3) == 0 {
		return uint16(g.r.IntN(65536))
	}
	return ports[g.r.IntN(len(ports))]
}

func (g *gen) portRange(w int) rules.PortRange {
	if w == 0 {
		p := g.port()
		return rules.PortRange{Lo: p, Hi: p}
	}
	widths := []int{0, 10, 1000, 30000}
	lo := int(g.port())
	hi := min(lo+g.r.IntN(widths[w]+1), 65535)
	return rules.PortRange{Lo: uint16(lo), Hi: uint16(hi)}
}

func (g *gen) rule() rules.Rule {
	s := g.shapes[g.r.IntN(len(g.shapes))]
	r := rules.Rule{ID: g.nextID, Priority: uint32(g.r.IntN(64))}
	g.nextID++
	m := &r.Match
	m.Fields = s.fields
	m.Either = s.either
	if s.fields&rules.FieldIPVersion != 0 {
		m.IPVersion = s.ver
	}
	if s.fields&rules.FieldSrc != 0 {
		m.Src = netip.PrefixFrom(g.addr(s.ver), s.srcLen).Masked()
	}
	if s.fields&rules.FieldDst != 0 {
		m.Dst = netip.PrefixFrom(g.addr(s.ver), s.dstLen).Masked()
	}
	m.Proto = s.proto
	if s.fields&rules.FieldSrcPort != 0 {
		m.SrcPort = g.portRange(s.sportW)
	}
	if s.fields&rules.FieldDstPort != 0 {
		m.DstPort = g.portRange(s.dportW)
	}
	if s.fields&rules.FieldTCPFlags != 0 {
		m.FlagMask = []uint8{0x12, 0x02, 0x17}[g.r.IntN(3)]
		m.Flags = uint8(g.r.IntN(256)) & m.FlagMask
	}
	if s.fields&rules.FieldQueue != 0 {
		m.Queue = 0 // test runs see queue 0; other queues never match there
		if g.r.IntN(2) == 0 {
			m.Queue = uint16(1 + g.r.IntN(3))
		}
	}
	if s.fields&rules.FieldVLAN != 0 {
		m.VLAN = uint16(g.r.IntN(4))
	}
	if s.fields&rules.FieldEtherType != 0 {
		m.EtherType = []uint16{0x0800, 0x86dd, 0x0806}[g.r.IntN(3)]
	}
	r.Action = g.action()
	return r
}

func (g *gen) action() rules.Action {
	switch g.r.IntN(7) {
	case 0:
		return rules.Action{Verb: rules.VerbCapture}
	case 1:
		return rules.Action{Verb: rules.VerbDrop}
	case 2:
		return rules.Action{Verb: rules.VerbPass}
	case 3:
		return rules.Action{Verb: rules.VerbSample, N: 1 + uint32(g.r.IntN(20)), PerFlow: g.r.IntN(2) == 0}
	case 4:
		return rules.Action{Verb: rules.VerbBypass, N: uint32(g.r.IntN(6))}
	case 5:
		return rules.Action{Verb: rules.VerbTag, Tag: g.r.Uint32()}
	}
	return rules.Action{Verb: rules.VerbForward, Sink: "pcap"}
}

func (g *gen) flow() rules.Flow {
	ver := uint8(4 + 2*g.r.IntN(2))
	fl := rules.Flow{ID: g.nextID, Proto: genProtos[g.r.IntN(len(genProtos))], Both: g.r.IntN(2) == 0, Action: g.action()}
	g.nextID++
	var sp, dp uint16
	if hasPorts(fl.Proto) {
		sp, dp = g.port(), g.port()
	}
	fl.Src, fl.Dst = netip.AddrPortFrom(g.addr(ver), sp), netip.AddrPortFrom(g.addr(ver), dp)
	if g.r.IntN(5) == 0 {
		fl.VLAN, fl.Tagged = uint16(g.r.IntN(4)), true
	}
	return fl
}

// file returns nrules rules and nflows flows with distinct flow keys.
func (g *gen) file(nrules, nflows int) *rules.File {
	f := &rules.File{}
	for range nrules {
		f.Rules = append(f.Rules, g.rule())
	}
	seen := map[rules.Key]bool{}
	for len(f.Flows) < nflows {
		fl := g.flow()
		clash := false
		for _, k := range fl.Keys() {
			clash = clash || seen[k]
		}
		if clash {
			continue
		}
		for _, k := range fl.Keys() {
			seen[k] = true
		}
		f.Flows = append(f.Flows, fl)
	}
	return f
}

// pkt is what a generated frame carries.
type pkt struct {
	ver, proto, flags uint8
	src, dst          netip.Addr
	sport, dport      uint16
	vlans             []uint16 // TCIs, outer first
	ether             uint16
}

// packet draws a packet, aimed at a rule or flow of f most of the time.
func (g *gen) packet(f *rules.File) pkt {
	r := g.r
	var p pkt
	p.ver = []uint8{0, 4, 4, 6, 6}[r.IntN(5)]
	if r.IntN(4) == 0 {
		p.vlans = []uint16{uint16(r.IntN(5)) | uint16(r.IntN(8))<<13}
	}
	switch p.ver {
	case 4:
		p.ether = 0x0800
	case 6:
		p.ether = 0x86dd
	default:
		p.ether = []uint16{0x0806, 0x88cc, 0x0800}[r.IntN(3)]
	}
	if p.ver != 0 {
		p.src, p.dst = g.addr(p.ver), g.addr(p.ver)
		p.proto = genProtos[r.IntN(len(genProtos))]
		p.sport, p.dport = g.port(), g.port()
		p.flags = uint8(r.IntN(256))
	}
	if len(f.Rules) > 0 && r.IntN(4) != 0 {
		m := &f.Rules[r.IntN(len(f.Rules))].Match
		if m.Fields&rules.FieldVLAN != 0 {
			p.vlans = []uint16{m.VLAN | 0x2000}
		}
		ver := uint8(0)
		switch {
		case m.Fields&rules.FieldIPVersion != 0:
			ver = m.IPVersion
		case m.Fields&rules.FieldSrc != 0:
			ver = verOf(m.Src.Addr())
		case m.Fields&rules.FieldDst != 0:
			ver = verOf(m.Dst.Addr())
		case m.Fields&rules.FieldProto != 0:
			ver = uint8(4 + 2*r.IntN(2))
		}
		if ver != 0 {
			p.ver = ver
			p.ether = map[uint8]uint16{4: 0x0800, 6: 0x86dd}[ver]
			if !p.src.IsValid() || verOf(p.src) != ver {
				p.src, p.dst = g.addr(ver), g.addr(ver)
			}
			if m.Fields&rules.FieldSrc != 0 {
				p.src = g.inside(m.Src)
			}
			if m.Fields&rules.FieldDst != 0 {
				p.dst = g.inside(m.Dst)
			}
		}
		if m.Fields&rules.FieldProto != 0 {
			p.proto = m.Proto
		}
		if m.Fields&rules.FieldSrcPort != 0 {
			p.sport = m.SrcPort.Lo + uint16(r.IntN(int(m.SrcPort.Hi-m.SrcPort.Lo)+1))
		}
		if m.Fields&rules.FieldDstPort != 0 {
			p.dport = m.DstPort.Lo + uint16(r.IntN(int(m.DstPort.Hi-m.DstPort.Lo)+1))
		}
		if m.Fields&rules.FieldTCPFlags != 0 {
			p.flags = m.Flags | uint8(r.IntN(256))&^m.FlagMask
		}
		if m.Either && r.IntN(2) == 0 {
			p.src, p.dst, p.sport, p.dport = p.dst, p.src, p.dport, p.sport
		}
		if m.Fields&rules.FieldEtherType != 0 && (p.ver == 0 || r.IntN(2) == 0) {
			p.ether = m.EtherType
		}
	} else if len(f.Flows) > 0 && r.IntN(2) == 0 {
		fl := &f.Flows[r.IntN(len(f.Flows))]
		p.ver, p.proto = verOf(fl.Src.Addr()), fl.Proto
		p.ether = map[uint8]uint16{4: 0x0800, 6: 0x86dd}[p.ver]
		p.src, p.dst, p.sport, p.dport = fl.Src.Addr(), fl.Dst.Addr(), fl.Src.Port(), fl.Dst.Port()
		p.vlans = nil
		if fl.Tagged {
			p.vlans = []uint16{fl.VLAN}
		}
		if r.IntN(2) == 0 {
			p.src, p.dst, p.sport, p.dport = p.dst, p.src, p.dport, p.sport
		}
	}
	if r.IntN(10) == 0 {
		p.vlans = append(p.vlans, uint16(r.IntN(4096)))
	}
	return p
}

func verOf(a netip.Addr) uint8 {
	if a.Is4() {
		return 4
	}
	return 6
}

func (g *gen) inside(pf netip.Prefix) netip.Addr {
	b := pf.Addr().AsSlice()
	for i := pf.Bits(); i < len(b)*8; i++ {
		if g.r.IntN(2) == 0 {
			b[i/8] |= 0x80 >> (i % 8)
		}
	}
	a, _ := netip.AddrFromSlice(b)
	return a
}

var be = binary.BigEndian

// frame encodes p as an Ethernet frame, with variations the kernel's parser
// must walk as capture/packet.Parse does: QinQ tags, LLC/SNAP, PPPoE,
// MPLS, IPv4 options and fragments, IPv6 extension headers and fragments,
// wrong lengths, and a cut anywhere.
func (g *gen) frame(p pkt) []byte {
	r := g.r
	b := []byte{2, 0, 0, 0, 0, 1, 2, 0, 0, 0, 0, 2}
	et := p.ether
	tpids := []uint16{0x8100, 0x88a8, 0x9100}
	snap := len(p.vlans) == 0 && r.IntN(30) == 0
	if snap {
		b = be.AppendUint16(b, 0x0040)
		b = append(b, 0xaa, 0xaa, 0x03, 0, 0, 0)
	}
	for i, tci := range p.vlans {
		b = be.AppendUint16(b, tpids[(i+r.IntN(3))%3]&^uint16(r.IntN(1)))
		b = be.AppendUint16(b, tci)
		_ = i
	}
	switch x := r.IntN(40); {
	case x == 0 && p.ver != 0: // PPPoE session
		b = be.AppendUint16(b, 0x8864)
		b = append(b, 0x11, 0, 0, 1, 0, 0)
		b = be.AppendUint16(b, map[uint8]uint16{4: 0x0021, 6: 0x0057}[p.ver])
		et = 0
	case x == 1 && p.ver != 0: // MPLS
		b = be.AppendUint16(b, 0x8847)
		n := 1 + r.IntN(3)
		for i := range n {
			e := uint32(r.IntN(1<<20))<<12 | 64
			if i == n-1 {
				e |= 0x100
			}
			b = be.AppendUint32(b, e)
		}
		et = 0
	}
	if et != 0 {
		b = be.AppendUint16(b, et)
	}
	l3 := len(b)
	var l4 int
	switch p.ver {
	case 4:
		opts := 0
		if r.IntN(10) == 0 {
			opts = 4 * (1 + r.IntN(3))
		}
		b = append(b, byte(0x45+opts/4), 0, 0, 0, 0, 0, 0, 0, 64, p.proto, 0, 0)
		b = append(b, p.src.AsSlice()...)
		b = append(b, p.dst.AsSlice()...)
		b = append(b, make([]byte, opts)...)
		switch r.IntN(12) {
		case 0:
			be.PutUint16(b[l3+6:], 0x2000) // first fragment
		case 1:
			be.PutUint16(b[l3+6:], uint16(1+r.IntN(100))) // a later one
		}
		l4 = len(b)
	case 6:
		b = append(b, 0x60, 0, 0, 0, 0, 0, 0, 64)
		b = append(b, p.src.AsSlice()...)
		b = append(b, p.dst.AsSlice()...)
		next := l3 + 6
		if r.IntN(4) == 0 {
			for range r.IntN(11) {
				t := []byte{0, 43, 60, 135, 51, 44, 253}[r.IntN(7)]
				b[next] = t
				next = len(b)
				switch t {
				case 44:
					fo := []uint16{0, 1, 8, 9}[r.IntN(4)]
					b = append(b, 0, 0, byte(fo>>8), byte(fo), 0, 0, 0, 1)
				case 51:
					n := r.IntN(2)
					b = append(b, 0, byte(n))
					b = append(b, make([]byte, (n+2)*4-2)...)
				default:
					n := r.IntN(2)
					b = append(b, 0, byte(n))
					b = append(b, make([]byte, (n+1)*8-2)...)
				}
			}
		}
		b[next] = p.proto
		l4 = len(b)
	}
	if p.ver != 0 {
		switch p.proto {
		case rules.ProtoTCP:
			b = be.AppendUint16(b, p.sport)
			b = be.AppendUint16(b, p.dport)
			b = append(b, 0, 0, 0, 1, 0, 0, 0, 0, 0x50, p.flags, 0xff, 0xff, 0, 0, 0, 0)
		case rules.ProtoUDP:
			b = be.AppendUint16(b, p.sport)
			b = be.AppendUint16(b, p.dport)
			b = append(b, 0, 8, 0, 0)
		case rules.ProtoSCTP:
			b = be.AppendUint16(b, p.sport)
			b = be.AppendUint16(b, p.dport)
			b = append(b, 0, 0, 0, 0, 0, 0, 0, 0)
		default:
			b = append(b, 8, 0, 0, 0, 0, 0, 0, 0)
		}
		for range r.IntN(40) {
			b = append(b, byte(r.IntN(256)))
		}
		// The IP length: right most of the time.
		total := len(b) - l3
		switch r.IntN(15) {
		case 0:
			total = 0
		case 1:
			total = r.IntN(total + 1)
		case 2:
			total += 1 + r.IntN(100)
		}
		if p.ver == 4 {
			be.PutUint16(b[l3+2:], uint16(total))
		} else {
			be.PutUint16(b[l3+4:], uint16(max(total-40, 0)))
		}
		_ = l4
	} else {
		for range 20 + r.IntN(40) {
			b = append(b, byte(r.IntN(256)))
		}
	}
	if r.IntN(10) == 0 && len(b) > 14 {
		b = b[:14+r.IntN(len(b)-14)]
	}
	return b
}
