package expr

import "github.com/wringcap/wring/spec"

// Code generation: broadcast and multicast per protocol.

func (g *gen) broadcast(proto int) pred {
	switch proto {
	case qDefault, pLink:
		switch g.linktype {
		case ltArcnet, ltArcnetLinux:
			return g.mac8host(0, dDst, "broadcast")
		case ltBACnet:
			if g.opts.Libpcap110 {
				g.failUnsupported("not a broadcast link")
			}
			return g.mac8host(0xff, dDst, "broadcast")
		}
		return g.mac48host([6]byte{0xff, 0xff, 0xff, 0xff, 0xff, 0xff}, dDst, "broadcast")
	case pIP:
		if !g.opts.HasNetmask || g.opts.Netmask == 0xffffffff { // PCAP_NETMASK_UNKNOWN
			g.fail("netmask not known, so 'ip broadcast' not supported")
		}
		b0 := g.linktypeTest(etIP)
		hm := ^g.opts.Netmask
		b1 := g.cmpMasked(orLinkPL, 16, spec.SizeW, 0, hm)
		b2 := g.cmpMasked(orLinkPL, 16, spec.SizeW, hm, hm)
		return and(b0, or(b1, b2))
	}
	g.invalidQual(protoQualName(proto), "broadcast")
	return pred{}
}

func (g *gen) macMulticast(off uint32) pred { return g.jsetTest(orLinkHdr, off, spec.SizeB, 1) }

func (g *gen) multicast(proto int) pred {
	switch proto {
	case qDefault, pLink:
		switch lt := g.linktype; {
		case lt == ltArcnet || lt == ltArcnetLinux:
			return g.mac8host(0, dDst, "multicast")
		case g.ethernetLike(lt):
			b1 := g.prevLinkHdrCheck()
			b0 := g.macMulticast(0)
			if b1 != nil {
				return and(*b1, b0)
			}
			return b0
		case lt == ltFDDI:
			return g.macMulticast(1)
		case lt == ltIEEE802, lt == ltIPOverFC:
			return g.macMulticast(2)
		case is80211(lt):
			b1 := g.wlanSet(1, 0x01)
			b0 := and(b1, g.macMulticast(16))
			b2 := not(g.wlanSet(1, 0x01))
			b1 = and(b2, g.macMulticast(4))
			b0 = or(b1, b0)
			b1 = g.wlanSet(0, 0x08)
			b0 = and(b1, b0)
			b2 = not(g.wlanSet(0, 0x08))
			b1 = and(b2, g.macMulticast(4))
			b0 = or(b1, b0)
			b1 = not(g.wlanSet(0, 0x04))
			return and(b1, b0)
		}
		g.failKwOnDLT("multicast")
	case pIP:
		b0 := g.linktypeTest(etIP)
		if g.opts.Libpcap110 {
			// libpcap 1.10: the first byte of the destination is at
			// least 224 (so 240.0.0.0/4 and 255.255.255.255 match).
			return and(b0, g.cmpGE(orLinkPL, 16, spec.SizeB, 0xe0))
		}
		return and(b0, g.cmpMasked(orLinkPL, 16, spec.SizeB, 0xe0, 0xf0))
	case pIPv6:
		b0 := g.linktypeTest(etIPv6)
		return and(b0, g.cmp(orLinkPL, 24, spec.SizeB, 255))
	}
	g.invalidQual(protoQualName(proto), "multicast")
	return pred{}
}
