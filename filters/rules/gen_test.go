package rules

import (
	"encoding/binary"
	"math/rand/v2"
	"net/netip"

	"github.com/wringcap/wring/capture/packet"
	"github.com/wringcap/wring/spec"
)

// shape is the field layout of a family of generated rules: real rule
// sets reuse a few shapes, which is what keeps the tuple count low.
type shape struct {
	fields         Field
	ver            uint8 // 0: no address, proto may still be set
	srcLen, dstLen int
	sportW, dportW int // 0: exact port; else range width class
	either         bool
	proto          uint8
}

type gen struct {
	r      *rand.Rand
	shapes []shape
	nextID uint32
}

var genProtos = []uint8{ProtoTCP, ProtoUDP, ProtoSCTP, ProtoICMP, ProtoICMPv6, 47}

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
	pick := func(p float64, f Field) bool {
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
		max := 32
		lens := []int{8, 16, 24, 32}
		if s.ver == 6 {
			max, lens = 128, []int{32, 48, 64, 128}
		}
		_ = max
		if pick(0.7, FieldSrc) {
			s.srcLen = lens[r.IntN(len(lens))]
		}
		if pick(0.7, FieldDst) {
			s.dstLen = lens[r.IntN(len(lens))]
		}
		if s.fields&(FieldSrc|FieldDst) == 0 {
			s.fields |= FieldIPVersion
		}
	}
	if pick(0.7, FieldProto) {
		s.proto = genProtos[r.IntN(len(genProtos))]
		if hasPorts(s.proto) {
			if pick(0.4, FieldSrcPort) && r.IntN(4) == 0 {
				s.sportW = 1 + r.IntN(3)
			}
			if pick(0.7, FieldDstPort) && r.IntN(2) == 0 {
				s.dportW = 1 + r.IntN(3)
			}
			if s.sportW != 0 && s.dportW != 0 {
				s.sportW = 0
			}
		}
		if s.proto == ProtoTCP {
			pick(0.2, FieldTCPFlags)
		}
	}
	pick(0.1, FieldQueue)
	pick(0.15, FieldVLAN)
	pick(0.05, FieldEtherType)
	s.either = r.IntN(4) == 0
	return s
}

func (g *gen) addr(ver uint8) netip.Addr {
	if ver == 4 {
		// A small address space, so that generated packets hit rules.
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

func (g *gen) portRange(w int) PortRange {
	if w == 0 {
		p := g.port()
		return PortRange{p, p}
	}
	widths := []int{0, 10, 1000, 30000}
	lo := int(g.port())
	hi := min(lo+g.r.IntN(widths[w]+1), 65535)
	return PortRange{uint16(lo), uint16(hi)}
}

// rule returns a random rule of a random shape.
func (g *gen) rule() Rule {
	s := g.shapes[g.r.IntN(len(g.shapes))]
	r := Rule{ID: g.nextID, Priority: uint32(g.r.IntN(64))}
	g.nextID++
	m := &r.Match
	m.Fields = s.fields
	m.Either = s.either
	if s.fields&FieldIPVersion != 0 {
		m.IPVersion = s.ver
	}
	if s.fields&FieldSrc != 0 {
		m.Src = netip.PrefixFrom(g.addr(s.ver), s.srcLen).Masked()
	}
	if s.fields&FieldDst != 0 {
		m.Dst = netip.PrefixFrom(g.addr(s.ver), s.dstLen).Masked()
	}
	m.Proto = s.proto
	if s.fields&FieldSrcPort != 0 {
		m.SrcPort = g.portRange(s.sportW)
	}
	if s.fields&FieldDstPort != 0 {
		m.DstPort = g.portRange(s.dportW)
	}
	if s.fields&FieldTCPFlags != 0 {
		// Flag masks come from a few (each mask is its own tuple).
		m.FlagMask = []uint8{0x12, 0x02, 0x17}[g.r.IntN(3)]
		m.Flags = uint8(g.r.IntN(256)) & m.FlagMask
	}
	if s.fields&FieldQueue != 0 {
		m.Queue = uint16(g.r.IntN(4))
	}
	if s.fields&FieldVLAN != 0 {
		m.VLAN = uint16(g.r.IntN(4))
	}
	if s.fields&FieldEtherType != 0 {
		m.EtherType = []uint16{0x0800, 0x86dd, 0x0806}[g.r.IntN(3)]
	}
	r.Action = g.action()
	return r
}

func (g *gen) action() Action {
	switch g.r.IntN(7) {
	case 0:
		return Action{Verb: VerbCapture}
	case 1:
		return Action{Verb: VerbDrop}
	case 2:
		return Action{Verb: VerbPass}
	case 3:
		return Action{Verb: VerbSample, N: 1 + uint32(g.r.IntN(100)), PerFlow: g.r.IntN(2) == 0}
	case 4:
		return Action{Verb: VerbBypass, N: uint32(g.r.IntN(20))}
	case 5:
		return Action{Verb: VerbTag, Tag: g.r.Uint32()}
	}
	return Action{Verb: VerbForward, Sink: []string{"pcap", "alerts", "x.y-z_1"}[g.r.IntN(3)]}
}

// flow returns a random exact flow rule.
func (g *gen) flow() Flow {
	ver := uint8(4 + 2*g.r.IntN(2))
	fl := Flow{ID: g.nextID, Proto: genProtos[g.r.IntN(len(genProtos))], Both: g.r.IntN(2) == 0, Action: g.action()}
	g.nextID++
	var sp, dp uint16
	if hasPorts(fl.Proto) {
		sp, dp = g.port(), g.port()
	}
	fl.Src, fl.Dst = netip.AddrPortFrom(g.addr(ver), sp), netip.AddrPortFrom(g.addr(ver), dp)
	if g.r.IntN(5) == 0 {
		fl.VLAN, fl.Tagged = uint16(g.r.IntN(4)), true
	}
	if g.r.IntN(3) == 0 {
		fl.Idle = 30e9
	}
	return fl
}

// record builds a parse record; near is a rule to aim at (or nil).
type pktFields struct {
	ver, proto, flags  uint8
	src, dst           netip.Addr
	sport, dport       uint16
	l4                 bool
	tagged             bool
	vlan, ether, queue uint16
}

func (g *gen) packet(f *File) pktFields {
	r := g.r
	var p pktFields
	p.ver = []uint8{0, 4, 4, 6, 6}[r.IntN(5)]
	p.queue = uint16(r.IntN(4))
	if r.IntN(4) == 0 {
		p.tagged, p.vlan = true, uint16(r.IntN(5))
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
		p.l4 = r.IntN(10) != 0
		if p.l4 {
			p.sport, p.dport = g.port(), g.port()
		}
		if p.proto == ProtoTCP {
			p.flags = uint8(r.IntN(256))
		}
	}
	// Aim at a rule most of the time.
	if len(f.Rules) > 0 && r.IntN(4) != 0 {
		m := &f.Rules[r.IntN(len(f.Rules))].Match
		if m.Fields&FieldQueue != 0 {
			p.queue = m.Queue
		}
		if m.Fields&FieldVLAN != 0 {
			p.tagged, p.vlan = true, m.VLAN
		}
		ver := m.versions()[r.IntN(len(m.versions()))]
		if ver != 0 {
			p.ver = ver
			p.ether = map[uint8]uint16{4: 0x0800, 6: 0x86dd}[ver]
			if !p.src.IsValid() || ipVersion(p.src) != ver {
				p.src, p.dst = g.addr(ver), g.addr(ver)
			}
			if m.Fields&FieldSrc != 0 {
				p.src = g.inside(m.Src)
			}
			if m.Fields&FieldDst != 0 {
				p.dst = g.inside(m.Dst)
			}
		}
		if m.Fields&FieldProto != 0 {
			p.proto = m.Proto
			p.l4 = r.IntN(10) != 0
		}
		if m.Fields&FieldSrcPort != 0 {
			p.sport = m.SrcPort.Lo + uint16(r.IntN(int(m.SrcPort.Hi-m.SrcPort.Lo)+1))
		}
		if m.Fields&FieldDstPort != 0 {
			p.dport = m.DstPort.Lo + uint16(r.IntN(int(m.DstPort.Hi-m.DstPort.Lo)+1))
		}
		if m.Fields&FieldTCPFlags != 0 {
			p.flags = m.Flags | uint8(r.IntN(256))&^m.FlagMask
		}
		if m.Either && r.IntN(2) == 0 {
			p.src, p.dst, p.sport, p.dport = p.dst, p.src, p.dport, p.sport
		}
		if m.Fields&FieldEtherType != 0 {
			p.ether = m.EtherType
		}
	} else if len(f.Flows) > 0 && r.IntN(2) == 0 {
		fl := &f.Flows[r.IntN(len(f.Flows))]
		p.ver, p.proto, p.l4 = ipVersion(fl.Src.Addr()), fl.Proto, true
		p.ether = map[uint8]uint16{4: 0x0800, 6: 0x86dd}[p.ver]
		p.src, p.dst, p.sport, p.dport = fl.Src.Addr(), fl.Dst.Addr(), fl.Src.Port(), fl.Dst.Port()
		p.tagged, p.vlan = fl.Tagged, fl.VLAN
		if r.IntN(2) == 0 {
			p.src, p.dst, p.sport, p.dport = p.dst, p.src, p.dport, p.sport
		}
	}
	if p.ver == 0 {
		p.proto, p.flags, p.l4, p.sport, p.dport = 0, 0, false, 0, 0
	}
	return p
}

// inside returns a random address within the prefix.
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

// record encodes the fields as a parse record.
func (p *pktFields) record(ts int64, wirelen uint32) packet.Record {
	var rec packet.Record
	le := binary.LittleEndian
	le.PutUint64(rec[spec.RecTimestamp:], uint64(ts))
	le.PutUint32(rec[spec.RecWireLen:], wirelen)
	le.PutUint16(rec[spec.RecQueue:], p.queue)
	le.PutUint16(rec[spec.RecEtherType:], p.ether)
	le.PutUint16(rec[spec.RecL3Off:], spec.NoOffset)
	le.PutUint16(rec[spec.RecL4Off:], spec.NoOffset)
	if p.tagged {
		rec[spec.RecVLANCount] = 1
		le.PutUint16(rec[spec.RecVLANOuter:], p.vlan|0x2000) // a PCP bit, which rules ignore
	}
	if p.ver != 0 {
		le.PutUint16(rec[spec.RecL3Off:], 14)
		rec[spec.RecIPVersion] = p.ver
		rec[spec.RecIPProto] = p.proto
		copy(rec[spec.RecSrcAddr:], p.src.AsSlice())
		copy(rec[spec.RecDstAddr:], p.dst.AsSlice())
		if p.l4 {
			le.PutUint16(rec[spec.RecL4Off:], 34)
			le.PutUint16(rec[spec.RecSrcPort:], p.sport)
			le.PutUint16(rec[spec.RecDstPort:], p.dport)
			rec[spec.RecTCPFlags] = p.flags
		}
		s, d := [16]byte(p.src.As16()), [16]byte(p.dst.As16())
		if p.ver == 4 {
			s, d = [16]byte{}, [16]byte{}
			copy(s[:], p.src.AsSlice())
			copy(d[:], p.dst.AsSlice())
		}
		le.PutUint32(rec[spec.RecFlowHash:], packet.FlowHash(p.ver, p.proto, &s, &d, p.sport, p.dport))
	}
	return rec
}

// view is the reference's own reading of a record, through the capture
// packet accessors rather than the classifier's Key.
type view struct {
	queue, ether uint16
	tagged       bool
	vlan         uint16
	ver, proto   uint8
	flags        uint8
	src, dst     netip.Addr
	ports        bool
	sport, dport uint16
}

func viewOf(rec *packet.Record) view {
	v := view{queue: rec.Queue(), ether: rec.EtherType(), tagged: rec.VLANCount() > 0, vlan: rec.VLANOuter() & 0xfff}
	if ver := rec.IPVersion(); ver == 4 || ver == 6 {
		v.ver, v.proto, v.src, v.dst = ver, rec.IPProto(), rec.SrcAddr(), rec.DstAddr()
		if v.proto == ProtoTCP {
			v.flags = rec.TCPFlags()
		}
		if rec.L4Off() != spec.NoOffset && (v.proto == 6 || v.proto == 17 || v.proto == 132) {
			v.ports, v.sport, v.dport = true, rec.SrcPort(), rec.DstPort()
		}
	}
	return v
}

// refMatch is the naive reference: each field compared as spec/RULES.md
// says, with no masks and no expansion.
func refMatch(m *Match, v view) bool {
	if refMatchDir(m, v) {
		return true
	}
	if m.Either {
		v.src, v.dst, v.sport, v.dport = v.dst, v.src, v.dport, v.sport
		return refMatchDir(m, v)
	}
	return false
}

func refMatchDir(m *Match, v view) bool {
	f := m.Fields
	switch {
	case f&FieldQueue != 0 && v.queue != m.Queue,
		f&FieldVLAN != 0 && (!v.tagged || v.vlan != m.VLAN),
		f&FieldEtherType != 0 && v.ether != m.EtherType,
		f&FieldIPVersion != 0 && v.ver != m.IPVersion,
		f&FieldProto != 0 && (v.ver == 0 || v.proto != m.Proto),
		f&FieldSrc != 0 && (v.ver == 0 || !m.Src.Contains(v.src)),
		f&FieldDst != 0 && (v.ver == 0 || !m.Dst.Contains(v.dst)),
		f&FieldSrcPort != 0 && (v.sport < m.SrcPort.Lo || v.sport > m.SrcPort.Hi),
		f&FieldDstPort != 0 && (v.dport < m.DstPort.Lo || v.dport > m.DstPort.Hi),
		f&FieldTCPFlags != 0 && v.flags&m.FlagMask != m.Flags:
		return false
	}
	return true
}

func refFlow(fl *Flow, v view) bool {
	if v.ver == 0 || v.ver != ipVersion(fl.Src.Addr()) || v.proto != fl.Proto || v.tagged != fl.Tagged || (fl.Tagged && v.vlan != fl.VLAN) {
		return false
	}
	sp, dp := uint16(0), uint16(0)
	if v.ports {
		sp, dp = v.sport, v.dport
	}
	if v.src == fl.Src.Addr() && v.dst == fl.Dst.Addr() && sp == fl.Src.Port() && dp == fl.Dst.Port() {
		return true
	}
	return fl.Both && v.dst == fl.Src.Addr() && v.src == fl.Dst.Addr() && dp == fl.Src.Port() && sp == fl.Dst.Port()
}

// refClassify is the linear reference: flows first, then the matching
// wildcard rule with the lowest (priority, id).
func refClassify(f *File, rec *packet.Record) (id uint32, act Action, ok bool) {
	v := viewOf(rec)
	for i := range f.Flows {
		if refFlow(&f.Flows[i], v) {
			return f.Flows[i].ID, f.Flows[i].Action, true
		}
	}
	var best *Rule
	for i := range f.Rules {
		r := &f.Rules[i]
		if refMatch(&r.Match, v) && (best == nil || r.Priority < best.Priority || r.Priority == best.Priority && r.ID < best.ID) {
			best = r
		}
	}
	if best == nil {
		return 0, Action{}, false
	}
	return best.ID, best.Action, true
}
