package expr

import "github.com/wringcap/wring/spec"

// Link-layer families: inbound and outbound, per link type.

func (g *gen) inOut(out bool) pred {
	pick := func(o, i uint32) uint32 {
		if out {
			return o
		}
		return i
	}
	switch lt := g.linktype; {
	case lt == ltSLIP && !g.opts.Libpcap110:
		return g.cmp(orLinkHdr, 0, spec.SizeB, pick(1, 0))
	case lt == ltSLIP:
		// libpcap 1.10: inbound is direction byte 0, outbound any other
		// value (later: outbound is 1).
		b0 := g.cmp(orLinkHdr, 0, spec.SizeB, 0)
		if out {
			return not(b0)
		}
		return b0
	case lt == ltIPNet:
		return g.cmp(orLinkHdr, 2, spec.SizeH, pick(1, 2)) // IPNET_OUTBOUND 1, IPNET_INBOUND 2
	case lt == ltSLL:
		b0 := g.cmp(orLinkHdr, 0, spec.SizeH, 4)
		if out {
			return b0
		}
		return not(b0)
	case lt == ltSLL2:
		b0 := g.cmp(orLinkHdr, 10, spec.SizeB, 4)
		if out {
			return b0
		}
		return not(b0)
	case lt == ltPFLog:
		return g.cmp(orLinkHdr, pflogDir, spec.SizeB, pick(2, 1))
	case lt == ltPPPPPPD:
		return g.cmp(orLinkHdr, 0, spec.SizeB, pick(1, 0))
	case isJuniper(lt):
		return g.cmpMasked(orLinkHdr, 3, spec.SizeB, pick(0, 1), 0x01)
	case lt == ltDSABRCM && g.dsa(lt):
		return g.cmpMasked(orLinkHdr, 12, spec.SizeB, pick(0x20, 0), 0xe0)
	case lt == ltDSADSA && g.dsa(lt):
		return g.cmpMasked(orLinkHdr, 12, spec.SizeB, pick(0x40, 0), pick(0xc0, 0x40))
	}
	kw := "inbound"
	if out {
		kw = "outbound"
	}
	if !g.opts.LinuxExt {
		g.failUnsupported("not a live capture, '%s' not supported on %s", kw, dltName(g.linktype))
	}
	b0 := g.cmp(orPacket, spec.AncillaryBase+spec.AncPktType, spec.SizeH, 4)
	if out {
		return b0
	}
	return not(b0)
}
