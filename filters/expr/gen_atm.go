package expr

import "github.com/wringcap/wring/spec"

// Code generation: SunATM fields and message types.

func (g *gen) assertATM(kw string) {
	if !g.isATM {
		g.failUnsupported("'%s' supported only on SUNATM", kw)
	}
}

func (g *gen) atmPrototype(v uint32) pred {
	return g.cmpMasked(orLinkHdr, g.offProto, spec.SizeB, v, 0x0f)
}

func (g *gen) atmField(what string, v uint32, op uint16, neg bool) pred {
	g.assertATM(what)
	if what == "vpi" {
		g.assertMax111("VPI", v, 0xff)
		return g.cmpOp(orLinkHdr, g.offVPI, spec.SizeB, 0xffffffff, op, neg, v)
	}
	g.assertMax111("VCI", v, 0xffff)
	return g.cmpOp(orLinkHdr, g.offVCI, spec.SizeH, 0xffffffff, op, neg, v)
}

func (g *gen) atmVPIVCI(vpi, vci uint32) pred {
	b0 := g.atmField("vpi", vpi, spec.JumpJEQ, false)
	return and(b0, g.atmField("vci", vci, spec.JumpJEQ, false))
}

func (g *gen) atmType(what string) pred {
	g.assertATM(what)
	switch what {
	case "metac":
		return g.atmVPIVCI(0, 1)
	case "bcc":
		return g.atmVPIVCI(0, 2)
	case "oamf4sc":
		return g.atmVPIVCI(0, 3)
	case "oamf4ec":
		return g.atmVPIVCI(0, 4)
	case "sc":
		return g.atmVPIVCI(0, 5)
	case "ilmic":
		return g.atmVPIVCI(0, 16)
	}
	// lane
	b1 := g.atmPrototype(ptLANE)
	g.pushLinkHdr(ltEN10MB, false, g.offPay+2, -1)
	g.offLinkType.c = g.offLinkHdr.c + 12
	g.offLinkPL.c = g.offLinkHdr.c + 14
	g.offNL = 0
	g.offNLNoSnap = 3
	return b1
}

func (g *gen) msgAbbrev(t uint32) pred {
	return g.cmp(orLinkHdr, g.offPay+5, spec.SizeB, t)
}

func (g *gen) atmMulti(what string) pred {
	g.assertATM(what)
	switch what {
	case "oam", "oamf4":
		b0 := g.atmField("vci", 3, spec.JumpJEQ, false)
		b1 := g.atmField("vci", 4, spec.JumpJEQ, false)
		b1 = or(b0, b1)
		b0 = g.atmField("vpi", 0, spec.JumpJEQ, false)
		return and(b0, b1)
	}
	msgs := []uint32{0x05, 0x02, 0x07, 0x0f, 0x4d, 0x5a} // SETUP CALL_PROCEED CONNECT CONNECT_ACK RELEASE RELEASE_DONE
	base := "sc"
	if what == "metaconnect" {
		msgs = []uint32{0x05, 0x02, 0x07, 0x4d, 0x5a}
		base = "metac"
	}
	b1 := g.msgAbbrev(msgs[0])
	b1 = or(b1, g.msgAbbrev(msgs[1]))
	for _, m := range msgs[2:] {
		b1 = or(g.msgAbbrev(m), b1)
	}
	b0 := g.atmType(base)
	return and(b0, b1)
}
