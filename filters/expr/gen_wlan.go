package expr

import "github.com/wringcap/wring/spec"

// Code generation: 802.11 address tests.

func (g *gen) wlanSet(off uint32, bits uint32) pred {
	return g.jsetTest(orLinkHdr, off, spec.SizeB, bits)
}

// wlanHostTest tests an 802.11 address in the given direction (libpcap's
// gen_wlanhostop).
func (g *gen) wlanHostTest(e [6]byte, dir int) pred {
	bc := func(off uint32) pred { return g.cmpBytes(orLinkHdr, off, e[:]) }
	switch dir {
	case dSrc, dDst:
		a1, a2, a3 := uint32(24), uint32(16), uint32(10) // src: DS-to-DS addr4, ToDS addr3, else addr2
		if dir == dDst {
			a1, a2, a3 = 16, 4, 4
		}
		b1 := g.wlanSet(1, 0x01)
		b0 := and(b1, bc(a1))
		b2 := not(g.wlanSet(1, 0x01))
		b1 = and(b2, bc(a2))
		b0 = or(b1, b0)
		if dir == dSrc {
			b1 = g.wlanSet(1, 0x02)
			b0 = and(b1, b0)
			b2 = not(g.wlanSet(1, 0x02))
			b1 = and(b2, bc(a3))
			b0 = or(b1, b0)
		}
		b1 = g.wlanSet(0, 0x08)
		b0 = and(b1, b0)
		b2 = not(g.wlanSet(0, 0x08))
		b1 = and(b2, bc(a3))
		b0 = or(b1, b0)
		b1 = not(g.wlanSet(0, 0x04))
		return and(b1, b0)
	case dAnd:
		return and(g.wlanHostTest(e, dSrc), g.wlanHostTest(e, dDst))
	case qDefault, dOr:
		return or(g.wlanHostTest(e, dSrc), g.wlanHostTest(e, dDst))
	case dAddr1:
		return bc(4)
	case dAddr2, dTA:
		b0 := not(g.cmpMasked(orLinkHdr, 0, spec.SizeB, 0x04, 0x0c))
		b1 := not(g.cmpMasked(orLinkHdr, 0, spec.SizeB, 0xc0, 0xf0))
		b2 := not(g.cmpMasked(orLinkHdr, 0, spec.SizeB, 0xd0, 0xf0))
		b2 = and(b1, b2)
		b2 = or(b0, b2)
		if dir == dTA {
			b1 = g.wlanSet(0, 0x08)
			b2 = and(b1, b2)
		}
		return and(b2, bc(10))
	case dAddr3:
		b0 := not(g.cmpMasked(orLinkHdr, 0, spec.SizeB, 0x04, 0x0c))
		return and(b0, bc(16))
	case dAddr4:
		b0 := g.cmpMasked(orLinkHdr, 1, spec.SizeB, 0x03, 0x03)
		return and(b0, bc(24))
	case dRA:
		b1 := g.wlanSet(0, 0x08)
		return and(b1, bc(4))
	}
	g.internal("wlanHostTest dir %d", dir)
	return pred{}
}

// wlanField generates the 802.11 frame type/subtype and direction
// primitives.
func (g *gen) wlanField(n *nOther) pred {
	switch n.what {
	case "wlantype":
		if !is80211(g.linktype) {
			g.failKwOnDLT("type/subtype")
		}
		if g.linktype == ltPPI && g.opts.Libpcap110 {
			// libpcap 1.10 (later accepts them on PPI).
			g.failUnsupported("802.11 link-layer types supported only on 802.11")
		}
		return g.cmpMasked(orLinkHdr, 0, spec.SizeB, n.num, n.num2)
	case "wlandir":
		if !is80211(g.linktype) {
			g.failKwOnDLT("dir")
		}
		if g.linktype == ltPPI && g.opts.Libpcap110 {
			// libpcap 1.10 (later accepts it on PPI).
			g.failUnsupported("frame direction supported only with 802.11 headers")
		}
		return g.cmpMasked(orLinkHdr, 1, spec.SizeB, n.num, 0x03)
	}
	g.internal("unknown 802.11 primitive %q", n.what)
	return pred{}
}
