package expr

import "github.com/wringcap/wring/spec"

// Code generation: Geneve and VXLAN encapsulation, which restart the
// link layer inside the tunnel.

// encap generates geneve (UDP 6081) or vxlan (UDP 4789): the tunnel test
// over IPv4 or IPv6, then code that computes the inner frame's offsets
// into scratch registers, which later primitives use.
func (g *gen) encap(vni uint32, has, geneve bool) pred {
	port := uint16(4789)
	if geneve {
		port = 6081
	}
	check := func(ip6 bool) pred {
		rel := orTranIPv4
		var b0 pred
		if ip6 {
			rel = orTranIPv6
			b0 = g.port6(port, ipprotoUDP, dDst, aPort)
		} else {
			b0 = g.port(port, ipprotoUDP, dDst, aPort)
		}
		var b1 pred
		if geneve {
			b1 = g.cmpMasked(rel, 8, spec.SizeB, 0, 0xc0)
		} else {
			b1 = g.cmp(rel, 8, spec.SizeB, 0x08)
		}
		b0 = and(b0, b1)
		if has {
			name := "VXLAN VNI"
			if geneve {
				name = "Geneve VNI"
			}
			g.assertMax(name, vni, 0xffffff)
			b1 = g.cmpMasked(rel, 12, spec.SizeW, vni<<8, 0xffffff00)
			b0 = and(b0, b1)
		}
		return b0
	}
	// Leave the transport header's offset in A (and X) for the offsets.
	b0 := check(false)
	s := append(g.loadxIPHdrLen(), stmt(spec.ClassMISC|spec.MiscTXA, 0))
	b0 = and(b0, test(s, spec.JumpJEQ|spec.SrcX, 0))
	b1 := check(true)
	var s6 []ins
	if vp := g.varpart(&g.offLinkPL); vp != nil {
		s6 = append(vp, stmt(spec.ClassLD|spec.ModeIMM, 40), stmt(spec.ClassALU|spec.ALUAdd|spec.SrcX, 0))
	} else {
		s6 = []ins{stmt(spec.ClassLD|spec.ModeIMM, 40)}
	}
	s6 = append(s6, stmt(spec.ClassMISC|spec.MiscTAX, 0))
	b1 = and(b1, test(s6, spec.JumpJEQ|spec.SrcX, 0))
	var offsets pred
	if geneve {
		offsets = g.geneveOffsets()
	} else {
		offsets = g.vxlanOffsets()
	}
	g.isEncap = true
	return and(or(b0, b1), offsets)
}

func (g *gen) vxlanOffsets() pred {
	s := []ins{
		stmt(spec.ClassALU|spec.ALUAdd|spec.SrcK, g.offLinkPL.c+g.offNL+8),
		stmt(spec.ClassALU|spec.ALUAdd|spec.SrcK, 8),
	}
	g.pushLinkHdr(ltEN10MB, true, 0, g.allocOffsetReg())
	s = append(s, stmt(spec.ClassST, uint32(g.offLinkHdr.reg)), stmt(spec.ClassALU|spec.ALUAdd|spec.SrcK, 12))
	g.offLinkType = absOff{c: 0, variable: true, reg: g.allocOffsetReg()}
	s = append(s, stmt(spec.ClassST, uint32(g.offLinkType.reg)),
		stmt(spec.ClassALU|spec.ALUAdd|spec.SrcK, 2), stmt(spec.ClassMISC|spec.MiscTAX, 0))
	g.offLinkPL = absOff{c: 0, variable: true, reg: g.allocOffsetReg()}
	s = append(s, stmt(spec.ClassSTX, uint32(g.offLinkPL.reg)))
	g.offNL = 0
	t := g.gtrue()
	t.meaning = isUncertain
	return prepend(s, t)
}

func (g *gen) geneveOffsets() pred {
	g.noOptimize = true
	s := []ins{
		stmt(spec.ClassALU|spec.ALUAdd|spec.SrcK, g.offLinkPL.c+g.offNL+8),
		stmt(spec.ClassMISC|spec.MiscTAX, 0),
		stmt(spec.ClassALU|spec.ALUAdd|spec.SrcK, 2),
	}
	g.offLinkType = absOff{c: 0, variable: true, reg: g.allocOffsetReg()}
	s = append(s, stmt(spec.ClassST, uint32(g.offLinkType.reg)),
		stmt(spec.ClassLD|spec.ModeIND|spec.SizeB, 0),
		stmt(spec.ClassALU|spec.ALUAnd|spec.SrcK, 0x3f),
		stmt(spec.ClassALU|spec.ALUMul|spec.SrcK, 4),
		stmt(spec.ClassALU|spec.ALUAdd|spec.SrcK, 8),
		stmt(spec.ClassALU|spec.ALUAdd|spec.SrcX, 0))
	g.pushLinkHdr(ltEN10MB, true, 0, g.allocOffsetReg())
	s = append(s, stmt(spec.ClassST, uint32(g.offLinkHdr.reg)),
		stmt(spec.ClassLD|spec.ModeIND|spec.SizeH, 2),
		stmt(spec.ClassLDX|spec.ModeMEM, uint32(g.offLinkHdr.reg)))
	// if the protocol is Transparent Ethernet Bridging, the inner frame
	// starts with an Ethernet header.
	teb := []ins{
		stmt(spec.ClassMISC|spec.MiscTXA, 0),
		stmt(spec.ClassALU|spec.ALUAdd|spec.SrcK, 12),
		stmt(spec.ClassST, uint32(g.offLinkType.reg)),
		stmt(spec.ClassALU|spec.ALUAdd|spec.SrcK, 2),
		stmt(spec.ClassMISC|spec.MiscTAX, 0),
	}
	g.offLinkPL = absOff{c: 0, variable: true, reg: g.allocOffsetReg()}
	tail := []ins{stmt(spec.ClassSTX, uint32(g.offLinkPL.reg))}
	g.offNL = 0
	t := g.gtrue()
	t.meaning = isUncertain
	tailP := prepend(tail, t)
	tebBlock := &block{stmts: teb, jt: tailP.head}
	head := &block{stmts: s, cond: true, op: spec.ClassJMP | spec.JumpJEQ | spec.SrcK, k: etTEB, jt: tebBlock, jf: tailP.head}
	return pred{head: head, t: tailP.t, f: tailP.f}
}

func (g *gen) encapLLCheck() pred {
	s := []ins{
		stmt(spec.ClassLD|spec.ModeMEM, uint32(g.offLinkHdr.reg)),
		stmt(spec.ClassLDX|spec.ModeMEM, uint32(g.offLinkPL.reg)),
	}
	return not(test(s, spec.JumpJEQ|spec.SrcX, 0))
}
