package expr

import "github.com/wringcap/wring/spec"

// Code generation: 802.1Q VLAN tags, which move later offsets.

func (g *gen) vlanTPIDTest() pred {
	b0 := g.linktypeTest(et8021Q)
	b1 := g.linktypeTest(et8021AD)
	b0 = or(b0, b1)
	b1 = g.linktypeTest(et8021QinQ)
	return or(b0, b1)
}

func (g *gen) vlan(num uint32, has bool) pred {
	if g.labelDepth > 0 {
		g.fail("no VLAN match after MPLS")
	}
	switch lt := g.linktype; {
	case g.ethernetLike(lt), lt == ltIEEE80211, lt == ltPrism, lt == ltAVS, lt == ltRadiotap:
	default:
		g.failKwOnDLT("vlan")
	}
	if g.opts.LinuxExt && g.linktype == ltEN10MB && g.vlanDepth == 0 && !g.offLinkHdr.variable &&
		g.offLinkHdr.c == g.offOutermostLinkHdr.c {
		b0 := g.vlanLinuxExt(num, has)
		g.vlanDepth++
		return b0
	}
	b0 := g.vlanTPIDTest()
	if has {
		g.assertMax("VLAN tag", num, 0x0fff)
		b1 := g.cmpMasked(orLinkPL, 0, spec.SizeH, num, 0x0fff)
		b0 = and(b0, b1)
	}
	g.offLinkPL.c += 4
	g.offLinkType.c += 4
	g.vlanDepth++
	return b0
}

// vlanLinuxExt is "vlan" for live Linux captures, where the kernel may
// have taken the outer tag out of the packet into metadata: the tag is
// either in SKF_AD_VLAN_TAG (present when SKF_AD_VLAN_TAG_PRESENT is 1) or
// in the packet, and in the second case later offsets move by 4 at run
// time (libpcap's gen_vlan_bpf_extensions).
func (g *gen) vlanLinuxExt(num uint32, has bool) pred {
	present := test([]ins{stmt(spec.ClassLD|spec.ModeABS|spec.SizeB, spec.AncillaryBase+spec.AncVLANTagPresent)},
		spec.JumpJEQ|spec.SrcK, 1)
	tpid := g.vlanTPIDTest()
	var vid pred
	if has {
		g.assertMax("VLAN tag", num, 0x0fff)
		vid = g.cmpMasked(orLinkPL, 0, spec.SizeH, num, 0x0fff)
	}
	// The packet carries the tag: add 4 to the payload and type offsets.
	g.isVLANVLOffset = true
	var adj []ins
	for _, o := range []*absOff{&g.offLinkPL, &g.offLinkType} {
		o.variable = true
		if o.reg < 0 {
			o.reg = g.allocOffsetReg()
		}
		adj = append(adj, stmt(spec.ClassLD|spec.ModeMEM, uint32(o.reg)),
			stmt(spec.ClassALU|spec.ALUAdd|spec.SrcK, 4), stmt(spec.ClassST, uint32(o.reg)))
	}
	tpid.head.stmts = append(adj, tpid.head.stmts...)
	tpid.meaning = isUncertain
	b0 := or(present, tpid)
	if !has {
		return b0
	}
	// Take the VLAN ID from the metadata when the tag is there.
	h := vid.head
	n := len(h.stmts)
	fromPkt := &block{stmts: append([]ins(nil), h.stmts[:n-1]...), jt: h}
	fromMeta := &block{stmts: []ins{stmt(spec.ClassLD|spec.ModeABS|spec.SizeH, spec.AncillaryBase+spec.AncVLANTag)}, jt: h}
	h.stmts = h.stmts[n-1:]
	sel := &block{stmts: []ins{stmt(spec.ClassLD|spec.ModeABS|spec.SizeB, spec.AncillaryBase+spec.AncVLANTagPresent)},
		cond: true, op: spec.ClassJMP | spec.JumpJEQ | spec.SrcK, k: 1, jt: fromMeta, jf: fromPkt}
	return and(b0, pred{head: sel, t: vid.t, f: vid.f})
}
