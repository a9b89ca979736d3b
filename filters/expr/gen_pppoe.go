package expr

import "github.com/wringcap/wring/spec"

// Code generation: PPPoE sessions, which move later offsets.

func (g *gen) pppoes(num uint32, has bool) pred {
	b0 := g.linktypeTest(etPPPoES)
	if has {
		g.assertMax("PPPoE session number", num, 0xffff)
		b1 := g.cmp(orLinkPL, 2, spec.SizeH, num)
		b0 = and(b0, b1)
	}
	g.pushLinkHdr(ltPPP, g.offLinkPL.variable, g.offLinkPL.c+g.offNL+6, g.offLinkPL.reg)
	g.offLinkType = g.offLinkHdr
	g.offLinkPL.c = g.offLinkHdr.c + 2
	g.offNL = 0
	g.offNLNoSnap = 0
	return b0
}
