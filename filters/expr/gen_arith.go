package expr

import "github.com/wringcap/wring/spec"

// Code generation: relations and arithmetic expressions.

// aval is a generated arithmetic value: statements that leave it in A,
// and the protocol checks its packet accesses need (libpcap's struct arth).
type aval struct {
	s     []ins
	check *pred
	isK   bool // a literal constant
	k     uint32
}

// relation generates "l op r" (negated for <=, < and !=). The protocol
// checks of the right operand run first, then those of the left, then the
// computation, as in libpcap.
func (g *gen) relation(n *nRel) pred {
	l := g.arith(n.l)
	var b pred
	var r aval
	if k, ok := n.r.(*aNum); ok {
		r = aval{isK: true, k: k.v}
		b = test(l.s, n.op|spec.SrcK, k.v)
	} else {
		// The left value waits in t while the right one is computed, so
		// t is taken before the right operand's own temporaries.
		t := g.allocReg()
		r = g.arith(n.r)
		s := append(l.s, stmt(spec.ClassST, uint32(t)))
		s = append(s, r.s...)
		s = append(s, stmt(spec.ClassMISC|spec.MiscTAX, 0), stmt(spec.ClassLD|spec.ModeMEM, uint32(t)))
		g.freeReg(t)
		b = test(s, n.op|spec.SrcX, 0)
	}
	b.head.rel = true
	if n.negate {
		b = not(b)
	}
	if l.check != nil {
		b = and(*l.check, b)
	}
	if r.check != nil {
		b = and(*r.check, b)
	}
	return b
}

func (g *gen) arith(a arith) aval {
	save := g.at
	g.at = a.at()
	defer func() { g.at = save }()
	switch a := a.(type) {
	case *aNum:
		return aval{s: []ins{stmt(spec.ClassLD|spec.ModeIMM, a.v)}, isK: true, k: a.v}
	case *aLen:
		return aval{s: []ins{stmt(spec.ClassLD|spec.ModeLEN|spec.SizeW, 0)}}
	case *aNeg:
		x := g.arith(a.x)
		x.s = append(x.s, stmt(spec.ClassALU|spec.ALUNeg, 0))
		x.isK = false
		return x
	case *aBin:
		l := g.arith(a.l)
		if k, ok := a.r.(*aNum); ok {
			g.at = k.span
			switch a.op {
			case spec.ALUDiv:
				if k.v == 0 {
					g.fail("division by zero")
				}
			case spec.ALUMod:
				if k.v == 0 {
					g.fail("modulus by zero")
				}
			case spec.ALULsh, spec.ALURsh:
				if k.v > 31 {
					g.fail("shift by more than 31 bits")
				}
			}
			// libpcap keeps only the left operand's protocol checks.
			return aval{s: append(l.s, stmt(spec.ClassALU|a.op|spec.SrcK, k.v)), check: l.check}
		}
		// As in relation: hold the left value in t while the right one
		// is computed.
		t := g.allocReg()
		r := g.arith(a.r)
		s := append(l.s, stmt(spec.ClassST, uint32(t)))
		s = append(s, r.s...)
		s = append(s, stmt(spec.ClassMISC|spec.MiscTAX, 0), stmt(spec.ClassLD|spec.ModeMEM, uint32(t)),
			stmt(spec.ClassALU|a.op|spec.SrcX, 0))
		g.freeReg(t)
		return aval{s: s, check: l.check}
	case *aLoad:
		return g.load(a)
	}
	g.internal("unknown arithmetic node")
	return aval{}
}

// load generates proto[idx:size]: the protocol checks for proto and the
// load at the index relative to proto's header.
func (g *gen) load(a *aLoad) aval {
	idx := g.arith(a.idx)
	size := map[uint32]uint16{1: spec.SizeB, 2: spec.SizeH, 4: spec.SizeW}[a.size]
	var b *pred
	var vp []ins
	var cp uint32
	switch a.proto {
	case pRADIO:
		if g.linktype != ltAVS && g.linktype != ltRadiotap && g.linktype != ltPrism {
			g.failUnsupported("radio information not present in capture")
		}
	case pLink:
		vp = g.varpart(&g.offLinkHdr)
		cp = g.offLinkHdr.c
	case pIP, pARP, pRARP, pATALK, pDECNET, pSCA, pLAT, pMOPRC, pMOPDL, pIPv6:
		vp = g.varpart(&g.offLinkPL)
		cp = g.offLinkPL.c + g.offNL
		p := g.abbrev(a.proto)
		b = &p
	case pSCTP, pTCP, pUDP, pICMP, pIGMP, pIGRP, pPIM, pVRRP, pCARP:
		vp = g.loadxIPHdrLen()
		cp = g.offLinkPL.c + g.offNL
		p := g.abbrev(pIP)
		p = and(p, g.ipProto(pqToIPProto[a.proto]))
		p = and(p, g.ipfrag())
		b = &p
	case pICMPv6:
		p := g.abbrev(pIPv6)
		p = and(p, g.ip6Proto(ipprotoICMPv6))
		b = &p
		vp = g.varpart(&g.offLinkPL)
		cp = g.offLinkPL.c + g.offNL + 40
	default:
		g.fail("'%s' does not support the index operation", protoQualName(a.proto))
	}
	if b != nil {
		if idx.check != nil {
			p := and(*idx.check, *b)
			b = &p
		}
	} else {
		b = idx.check
	}
	var s []ins
	switch {
	case idx.isK && vp == nil:
		s = loadRel(nil, cp+idx.k, size)
	case vp == nil:
		s = append(idx.s, stmt(spec.ClassMISC|spec.MiscTAX, 0), stmt(spec.ClassLD|spec.ModeIND|size, cp))
	case idx.isK:
		s = append(vp, stmt(spec.ClassLD|spec.ModeIND|size, cp+idx.k))
	default:
		// The index may use X, so compute it first and add the variable
		// part afterwards.
		t := g.allocReg()
		s = append(idx.s, stmt(spec.ClassST, uint32(t)))
		s = append(s, vp...)
		s = append(s, stmt(spec.ClassLD|spec.ModeMEM, uint32(t)), stmt(spec.ClassALU|spec.ALUAdd|spec.SrcX, 0),
			stmt(spec.ClassMISC|spec.MiscTAX, 0), stmt(spec.ClassLD|spec.ModeIND|size, cp))
		g.freeReg(t)
	}
	return aval{s: s, check: b}
}
