package expr

import "github.com/wringcap/wring/spec"

// Link-layer families: the test for a link-layer protocol (libpcap's
// gen_linktype) per family.

// linktype is true when the link layer carries protocol llProto, an
// EtherType or (<= 1500) an LLC SAP (libpcap's gen_linktype).
func (g *gen) linktypeTest(llProto uint32) pred {
	if g.labelDepth > 0 {
		return g.mplsLinktype(llProto)
	}
	switch lt := g.linktype; {
	case g.ethernetLike(lt):
		var b0 *pred
		if !g.isEncap {
			b0 = g.prevLinkHdrCheck()
		}
		b1 := g.etherLinktype(llProto)
		if b0 != nil {
			return and(*b0, b1)
		}
		return b1
	case lt == ltCHDLC || lt == ltHDLC:
		g.assertMax111("HDLC protocol", llProto, 0xffff)
		if llProto == llcsapISONS {
			llProto = llProto<<8 | llcsapISONS
		}
		return g.cmp(orLinkType, 0, spec.SizeH, llProto)
	case is80211(lt):
		b0 := g.cmpMasked(orLinkHdr, 0, spec.SizeB, 0x08, 0x0c)
		return and(b0, g.llcLinktype(llProto))
	case lt == ltFDDI, lt == ltIEEE802, lt == ltATMRFC1483, lt == ltATMCLIP, lt == ltIPOverFC:
		return g.llcLinktype(llProto)
	case lt == ltSunATM:
		return and(g.atmPrototype(ptLLC), g.llcLinktype(llProto))
	case lt == ltSLL:
		return g.sllLinktype(llProto)
	case lt == ltSLIP, lt == ltSLIPBSDOS, lt == ltRaw:
		switch llProto {
		case etIP:
			return g.ipVersion(orLinkHdr, 4)
		case etIPv6:
			return g.ipVersion(orLinkHdr, 6)
		}
		return g.gfalse()
	case lt == ltIPv4:
		if llProto == etIP {
			return g.gtrue()
		}
		return g.gfalse()
	case lt == ltIPv6:
		if llProto == etIPv6 {
			return g.gtrue()
		}
		return g.gfalse()
	case lt == ltPPP, lt == ltPPPPPPD, lt == ltPPPSerial, lt == ltPPPEther:
		return g.cmp(orLinkType, 0, spec.SizeH, g.etherToPPP(llProto))
	case lt == ltPPPBSDOS:
		if llProto == etIP {
			b0 := g.cmp(orLinkType, 0, spec.SizeH, 0x0021)
			b1 := g.cmp(orLinkType, 0, spec.SizeH, 0x002d)
			b1 = or(b0, b1)
			b0 = g.cmp(orLinkType, 0, spec.SizeH, 0x002f)
			return or(b1, b0)
		}
		return g.cmp(orLinkType, 0, spec.SizeH, g.etherToPPP(llProto))
	case lt == ltNull, lt == ltLoop, lt == ltEnc:
		return g.loopbackLinktype(llProto)
	case lt == ltPFLog:
		if g.opts.OfflineAF {
			return g.bsdAFOffline(1, spec.SizeB, llProto, false, orLinkHdr)
		}
		af, ok := afLive(llProto)
		if !ok {
			return g.gfalse()
		}
		return g.cmp(orLinkHdr, 1, spec.SizeB, af)
	case lt == ltArcnet, lt == ltArcnetLinux:
		// libpcap 1.10 takes the RFC 1051 types for IP and ARP too
		// (later only the RFC 1201 ones): Options.Libpcap110.
		switch {
		case !g.opts.Libpcap110:
		case llProto == etIP:
			return or(g.cmp(orLinkType, 0, spec.SizeB, arcTypeIP), g.cmp(orLinkType, 0, spec.SizeB, arcTypeIPOld))
		case llProto == etARP:
			return or(g.cmp(orLinkType, 0, spec.SizeB, arcTypeARP), g.cmp(orLinkType, 0, spec.SizeB, arcTypeARPOld))
		}
		m := map[uint32]uint32{etIPv6: arcTypeINET6, etIP: arcTypeIP, etARP: arcTypeARP,
			etREVARP: arcTypeREVARP, etATALK: arcTypeATALK}
		if v, ok := m[llProto]; ok {
			return g.cmp(orLinkType, 0, spec.SizeB, v)
		}
		return g.gfalse()
	case lt == ltLTalk:
		if llProto == etATALK {
			return g.gtrue()
		}
		return g.gfalse()
	case lt == ltFrelay:
		switch llProto {
		case etIP:
			return g.frelayNLPID(iso9577IPv4)
		case etIPv6:
			return g.frelayNLPID(iso9577IPv6)
		case llcsapISONS:
			b0 := g.frelayNLPID(isoCLNP)
			b1 := g.frelayNLPID(isoESIS)
			b2 := g.frelayNLPID(isoISIS)
			b2 = or(b1, b2)
			return or(b0, b2)
		}
		return g.gfalse()
	case lt == ltMFR:
	case isJuniper(lt):
		return g.cmpMasked(orLinkHdr, 0, spec.SizeW, 0x4d474300, 0xffffff00)
	case lt == ltBACnet && g.opts.Libpcap110:
		// libpcap 1.10 tests the MS/TP preamble whatever the protocol
		// (later refuses): Options.Libpcap110.
		return g.cmpMasked(orLinkHdr, 0, spec.SizeW, 0x55ff0000, 0xffff0000)
	case lt == ltIPNet:
		switch llProto {
		case etIP:
			return g.cmp(orLinkType, 0, spec.SizeB, iphAFInet)
		case etIPv6:
			return g.cmp(orLinkType, 0, spec.SizeB, iphAFInet6)
		}
		return g.gfalse()
	default:
		if g.offLinkType.c != notSet {
			g.assertMax111("EtherType", llProto, 0xffff)
			return g.cmp(orLinkType, 0, spec.SizeH, llProto)
		}
	}
	g.failUnsupported("link-layer type filtering not implemented for %s", dltName(g.linktype))
	return pred{}
}

func (g *gen) ipVersion(rel offrel, ver uint32) pred {
	return g.cmpMasked(rel, 0, spec.SizeB, ver<<4, 0xf0)
}

func (g *gen) frelayNLPID(n uint32) pred {
	return g.cmp(orLinkHdr, 2, spec.SizeH, 0x03<<8|n)
}

func (g *gen) etherToPPP(p uint32) uint32 {
	switch p {
	case etIP:
		return 0x0021
	case etIPv6:
		return 0x0057
	case etDN:
		return 0x0027
	case etATALK:
		return 0x0029
	case etNS:
		return 0x0025
	case llcsapISONS:
		return 0x0023
	case llcsap8021D:
		return 0x0031
	case llcsapIPX:
		return 0x002b
	}
	g.assertMax111("PPP protocol", p, 0xffff)
	return p
}

func (g *gen) prevLinkHdrCheck() *pred {
	if g.isEncap {
		p := g.encapLLCheck()
		return &p
	}
	if g.prevlinktype == ltSunATM {
		p := g.cmpNE(orPrevLinkHdr, sunATMPktBegin, spec.SizeH, 0xff00)
		return &p
	}
	return nil
}

func (g *gen) snap(orgcode, ptype uint32) pred {
	b := []byte{llcsapSNAP, llcsapSNAP, 0x03, byte(orgcode >> 16), byte(orgcode >> 8), byte(orgcode),
		byte(ptype >> 8), byte(ptype)}
	return g.cmpBytes(orLLC, 0, b)
}
