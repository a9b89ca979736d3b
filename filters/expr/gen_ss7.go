package expr

import "github.com/wringcap/wring/spec"

// Code generation: SS7 MTP2 and MTP3 fields.

func (g *gen) assertSS7(kw string) {
	switch g.linktype {
	case ltMTP2, ltMTP2PHDR, ltERF:
		return
	}
	g.failUnsupported("'%s' supported only on SS7", kw)
}

func (g *gen) mtp2Type(what string) pred {
	g.assertSS7(what)
	li, lih := g.offLI, g.offLIHSL
	switch what {
	case "fisu":
		return g.cmpOp(orPacket, li, spec.SizeB, 0x3f, spec.JumpJEQ, false, 0)
	case "lssu":
		b0 := g.cmpOp(orPacket, li, spec.SizeB, 0x3f, spec.JumpJGT, true, 2)
		b1 := g.cmpOp(orPacket, li, spec.SizeB, 0x3f, spec.JumpJGT, false, 0)
		return and(b1, b0)
	case "msu":
		return g.cmpOp(orPacket, li, spec.SizeB, 0x3f, spec.JumpJGT, false, 2)
	case "hfisu":
		return g.cmpOp(orPacket, lih, spec.SizeH, 0xff80, spec.JumpJEQ, false, 0)
	case "hlssu":
		b0 := g.cmpOp(orPacket, lih, spec.SizeH, 0xff80, spec.JumpJGT, true, 0x0100)
		b1 := g.cmpOp(orPacket, lih, spec.SizeH, 0xff80, spec.JumpJGT, false, 0)
		return and(b1, b0)
	}
	return g.cmpOp(orPacket, lih, spec.SizeH, 0xff80, spec.JumpJGT, false, 0x0100)
}

func (g *gen) mtp3Field(what string, v uint32, op uint16, neg bool) pred {
	g.assertSS7(what)
	extra := uint32(0)
	if what[0] == 'h' {
		extra = 3
		what = what[1:]
	}
	name := what
	if extra != 0 {
		name = "h" + what
	}
	switch what {
	case "sio":
		g.assertMax(name, v, 0xff)
		return g.cmpOp(orPacket, g.offSIO+extra, spec.SizeB, 0xffffffff, op, neg, v)
	case "opc":
		g.assertMax(name, v, 0x3fff)
		return g.cmpOp(orPacket, g.offOPC+extra, spec.SizeW, swap32(0x3fff<<14), op, neg, swap32(v<<14))
	case "dpc":
		g.assertMax(name, v, 0x3fff)
		return g.cmpOp(orPacket, g.offDPC+extra, spec.SizeH, swap16(0x3fff), op, neg, swap16(v))
	}
	g.assertMax(name, v, 0xf)
	return g.cmpOp(orPacket, g.offSLS+extra, spec.SizeB, 0xf<<4, op, neg, v<<4)
}
