package expr

import "github.com/wringcap/wring/spec"

// Link types by LINKTYPE_* number (the pcap file format's values).
const (
	ltNull          spec.LinkType = 0
	ltEN10MB        spec.LinkType = 1
	ltEN3MB         spec.LinkType = 2
	ltAX25          spec.LinkType = 3
	ltPronet        spec.LinkType = 4
	ltChaos         spec.LinkType = 5
	ltIEEE802       spec.LinkType = 6
	ltArcnet        spec.LinkType = 7
	ltSLIP          spec.LinkType = 8
	ltPPP           spec.LinkType = 9
	ltFDDI          spec.LinkType = 10
	ltRedback       spec.LinkType = 32 // DLT_REDBACK_SMARTEDGE (no LINKTYPE_ value)
	ltPPPSerial     spec.LinkType = 50
	ltPPPEther      spec.LinkType = 51
	ltSymantecFW    spec.LinkType = 99
	ltATMRFC1483    spec.LinkType = 100
	ltRaw           spec.LinkType = 101
	ltSLIPBSDOS     spec.LinkType = 102
	ltPPPBSDOS      spec.LinkType = 103
	ltCHDLC         spec.LinkType = 104
	ltIEEE80211     spec.LinkType = 105
	ltATMCLIP       spec.LinkType = 106
	ltFrelay        spec.LinkType = 107
	ltLoop          spec.LinkType = 108
	ltEnc           spec.LinkType = 109
	ltHIPPI         spec.LinkType = 111
	ltHDLC          spec.LinkType = 112
	ltSLL           spec.LinkType = 113
	ltLTalk         spec.LinkType = 114
	ltPFLog         spec.LinkType = 117
	ltPrism         spec.LinkType = 119
	ltHHDLC         spec.LinkType = 121
	ltIPOverFC      spec.LinkType = 122
	ltSunATM        spec.LinkType = 123
	ltRadiotap      spec.LinkType = 127
	ltArcnetLinux   spec.LinkType = 129
	ltJMLPPP        spec.LinkType = 130
	ltJMLFR         spec.LinkType = 131
	ltJES           spec.LinkType = 132
	ltJGGSN         spec.LinkType = 133
	ltJMFR          spec.LinkType = 134
	ltJATM2         spec.LinkType = 135
	ltJServices     spec.LinkType = 136
	ltJATM1         spec.LinkType = 137
	ltAppleIP1394   spec.LinkType = 138
	ltMTP2PHDR      spec.LinkType = 139
	ltMTP2          spec.LinkType = 140
	ltAVS           spec.LinkType = 163
	ltJMonitor      spec.LinkType = 164
	ltBACnet        spec.LinkType = 165
	ltPPPPPPD       spec.LinkType = 166
	ltJPPPoE        spec.LinkType = 167
	ltJPPPoEATM     spec.LinkType = 168
	ltJEther        spec.LinkType = 178
	ltJPPP          spec.LinkType = 179
	ltJFrelay       spec.LinkType = 180
	ltJCHDLC        spec.LinkType = 181
	ltMFR           spec.LinkType = 182
	ltJVP           spec.LinkType = 183
	ltPPI           spec.LinkType = 192
	ltJISM          spec.LinkType = 194
	ltERF           spec.LinkType = 197
	ltJST           spec.LinkType = 200
	ltAX25KISS      spec.LinkType = 202
	ltIPNet         spec.LinkType = 226
	ltIPv4          spec.LinkType = 228
	ltIPv6          spec.LinkType = 229
	ltJVS           spec.LinkType = 232
	ltJSRXE2E       spec.LinkType = 233
	ltJFibre        spec.LinkType = 234
	ltJATMCEMIC     spec.LinkType = 238
	ltNetAnalyzer   spec.LinkType = 240
	ltNetAnalyzerTr spec.LinkType = 241
	ltPFSync        spec.LinkType = 246
	ltSLL2          spec.LinkType = 276
	ltDSABRCM       spec.LinkType = 281
	ltDSADSA        spec.LinkType = 284
)

func isJuniper(t spec.LinkType) bool {
	switch t {
	case ltJMLPPP, ltJMLFR, ltJES, ltJGGSN, ltJMFR, ltJATM2, ltJServices, ltJATM1, ltJMonitor,
		ltJPPPoE, ltJPPPoEATM, ltJEther, ltJPPP, ltJFrelay, ltJCHDLC, ltJVP, ltJISM, ltJST, ltJVS,
		ltJSRXE2E, ltJFibre, ltJATMCEMIC:
		return true
	}
	return false
}

func is80211(t spec.LinkType) bool {
	switch t {
	case ltIEEE80211, ltPrism, ltAVS, ltRadiotap, ltPPI:
		return true
	}
	return false
}

// ethernetLike reports whether lt carries an Ethernet header (after a
// fixed prefix).
func (g *gen) ethernetLike(lt spec.LinkType) bool {
	switch lt {
	case ltEN10MB, ltNetAnalyzer, ltNetAnalyzerTr:
		return true
	}
	return g.dsa(lt)
}

// dsa reports whether lt is a DSA switch-tag link type libpcap filters as
// Ethernet after the tag. libpcap 1.10 filters nothing on them beyond raw
// loads and lengths (Options.Libpcap110).
func (g *gen) dsa(lt spec.LinkType) bool {
	return (lt == ltDSABRCM || lt == ltDSADSA) && !g.opts.Libpcap110
}

// Protocol numbers used by link-type tests.
const (
	etherMTU        = 1500
	etIP            = 0x0800
	etARP           = 0x0806
	etNS            = 0x0600
	etMOPDL         = 0x6001
	etMOPRC         = 0x6002
	etDN            = 0x6003
	etLAT           = 0x6004
	etSCA           = 0x6007
	etTEB           = 0x6558
	etREVARP        = 0x8035
	etATALK         = 0x809b
	etAARP          = 0x80f3
	et8021Q         = 0x8100
	etIPX           = 0x8137
	etIPv6          = 0x86dd
	etMPLS          = 0x8847
	etPPPoED        = 0x8863
	etPPPoES        = 0x8864
	et8021AD        = 0x88a8
	et8021QinQ      = 0x9100
	llcsapIP        = 0x06
	llcsapISONS     = 0xfe
	llcsap8021D     = 0x42
	llcsapSNAP      = 0xaa
	llcsapIPX       = 0xe0
	llcsapNetBEUI   = 0xf0
	sllP8023        = 0x0001
	sllP8022        = 0x0004
	arcTypeIP       = 0xd4
	arcTypeARP      = 0xd5
	arcTypeREVARP   = 0xd6
	arcTypeATALK    = 0xdd
	arcTypeINET6    = 0xc4
	arcTypeIPOld    = 0xf0 // RFC 1051
	arcTypeARPOld   = 0xf1 // RFC 1051
	isoCLNP         = 0x81
	isoESIS         = 0x82
	isoISIS         = 0x83
	iso9577IPv4     = 0xcc
	iso9577IPv6     = 0x8e
	iphAFInet       = 2
	iphAFInet6      = 26
	sunATMPktBegin  = 4
	ptLANE          = 0x01
	ptLLC           = 0x02
	ipprotoHopOpts  = 0
	ipprotoICMP     = 1
	ipprotoIGMP     = 2
	ipprotoIPIP     = 4
	ipprotoTCP      = 6
	ipprotoIGRP     = 9
	ipprotoUDP      = 17
	ipprotoRouting  = 43
	ipprotoFragment = 44
	ipprotoESP      = 50
	ipprotoAH       = 51
	ipprotoICMPv6   = 58
	ipprotoNone     = 59
	ipprotoDstOpts  = 60
	ipprotoPIM      = 103
	ipprotoVRRP     = 112
	ipprotoSCTP     = 132
	protoUndef      = -1
)

// initLinktype sets the header offsets of the link type (libpcap's
// init_linktype); it reports false for a link type it does not know.
func (g *gen) initLinktype(lt spec.LinkType) bool {
	g.outermost, g.prevlinktype, g.linktype = lt, lt, lt
	reset := absOff{reg: -1}
	g.offOutermostLinkHdr, g.offPrevLinkHdr, g.offLinkHdr = reset, reset, reset
	g.offLinkPL, g.offLinkType = reset, reset
	g.offVPI, g.offVCI, g.offProto, g.offPay = notSet, notSet, notSet, notSet
	g.offLI, g.offLIHSL, g.offSIO, g.offOPC, g.offDPC, g.offSLS = notSet, notSet, notSet, notSet, notSet, notSet
	set := func(ltype, pl, nl, nlnosnap uint32) {
		g.offLinkType.c, g.offLinkPL.c, g.offNL, g.offNLNoSnap = ltype, pl, nl, nlnosnap
	}
	switch lt {
	case ltArcnet:
		set(2, 6, 0, 0)
	case ltArcnetLinux:
		set(4, 8, 0, 0)
	case ltEN10MB:
		set(12, 14, 0, 3)
	case ltSLIP:
		set(notSet, 16, 0, 0)
	case ltSLIPBSDOS:
		set(notSet, 24, 0, 0)
	case ltNull, ltLoop:
		set(0, 4, 0, 0)
	case ltEnc:
		set(0, 12, 0, 0)
	case ltPPP, ltPPPPPPD, ltCHDLC, ltHDLC, ltPPPSerial:
		set(2, 4, 0, 0)
	case ltPPPEther:
		set(6, 8, 0, 0)
	case ltPPPBSDOS:
		set(5, 24, 0, 0)
	case ltFDDI:
		set(13, 13, 8, 3)
	case ltIEEE802:
		set(14, 14, 8, 3)
	case ltPrism, ltAVS, ltRadiotap, ltPPI:
		g.offLinkHdr.variable = true
		fallthrough
	case ltIEEE80211:
		set(24, 0, 8, 3)
		g.offLinkPL.variable = true
	case ltATMRFC1483, ltATMCLIP:
		set(0, 0, 8, 3)
	case ltSunATM:
		g.isATM = true
		g.offVPI, g.offVCI, g.offProto, g.offPay = 1, 2, 0, sunATMPktBegin
		set(sunATMPktBegin, sunATMPktBegin, 8, 3)
	case ltRaw, ltIPv4, ltIPv6:
		set(notSet, 0, 0, 0)
	case ltSLL:
		set(14, 16, 0, 0)
	case ltSLL2:
		set(0, 20, 0, 0)
	case ltLTalk:
		set(notSet, 0, 0, 0)
	case ltIPOverFC:
		set(16, 16, 8, 3)
	case ltFrelay:
		set(notSet, 0, 0, 0)
	case ltMFR:
		set(notSet, 0, 4, 0)
	case ltAppleIP1394:
		set(16, 18, 0, 0)
	case ltSymantecFW:
		set(6, 44, 0, 0)
	case ltPFLog:
		set(0, 0, 0, 0)
		g.offLinkPL.variable = true
	case ltJMFR, ltJMLFR, ltJMLPPP, ltJPPP, ltJCHDLC, ltJFrelay:
		set(4, 4, 0, notSet)
	case ltJATM1:
		set(4, 4, 0, 10)
	case ltJATM2:
		set(8, 8, 0, 10)
	case ltJPPPoE, ltJEther:
		set(16, 14, 18, 21)
	case ltJPPPoEATM:
		set(4, 6, 0, notSet)
	case ltJGGSN:
		set(6, 12, 0, notSet)
	case ltJES:
		set(6, notSet, notSet, notSet)
	case ltJMonitor:
		set(12, 12, 0, notSet)
	case ltJServices:
		set(12, notSet, notSet, notSet)
	case ltJVP, ltJST:
		set(18, notSet, notSet, notSet)
	case ltJISM, ltJVS, ltJSRXE2E, ltJFibre, ltJATMCEMIC:
		set(8, notSet, notSet, notSet)
	case ltMTP2:
		g.offLI, g.offLIHSL, g.offSIO, g.offOPC, g.offDPC, g.offSLS = 2, 4, 3, 4, 4, 7
		set(notSet, notSet, notSet, notSet)
	case ltMTP2PHDR:
		g.offLI, g.offLIHSL, g.offSIO, g.offOPC, g.offDPC, g.offSLS = 6, 8, 7, 8, 8, 11
		set(notSet, notSet, notSet, notSet)
	case ltERF:
		g.offLI, g.offLIHSL, g.offSIO, g.offOPC, g.offDPC, g.offSLS = 22, 24, 23, 24, 24, 27
		set(notSet, notSet, notSet, notSet)
	case ltPFSync:
		set(notSet, 4, 0, 0)
	case ltIPNet:
		set(1, 24, 0, notSet)
	case ltNetAnalyzer:
		g.offLinkHdr.c = 4
		set(4+12, 4+14, 0, 3)
	case ltNetAnalyzerTr:
		g.offLinkHdr.c = 12
		set(12+12, 12+14, 0, 3)
	case ltDSABRCM, ltDSADSA:
		if g.opts.Libpcap110 {
			set(notSet, notSet, notSet, notSet)
		} else {
			set(16, 18, 0, 3)
		}
	case ltEN3MB, ltAX25, ltPronet, ltChaos, ltHIPPI, ltHHDLC, ltAX25KISS, ltBACnet, ltRedback:
		set(notSet, notSet, notSet, notSet)
	default:
		if lt >= 104 && lt <= 304 {
			set(notSet, notSet, notSet, notSet)
		} else {
			return false
		}
	}
	g.offOutermostLinkHdr, g.offPrevLinkHdr = g.offLinkHdr, g.offLinkHdr
	return true
}

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
		b0 := g.mcmp(orLinkHdr, 0, spec.SizeB, 0x08, 0x0c)
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
		return g.mcmp(orLinkHdr, 0, spec.SizeW, 0x4d474300, 0xffffff00)
	case lt == ltBACnet && g.opts.Libpcap110:
		// libpcap 1.10 tests the MS/TP preamble whatever the protocol
		// (later refuses): Options.Libpcap110.
		return g.mcmp(orLinkHdr, 0, spec.SizeW, 0x55ff0000, 0xffff0000)
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

func (g *gen) assertMax(what string, v, max uint32) {
	if v > max {
		g.fail("%s %d greater than maximum %d", what, v, max)
	}
}

// assertMax111 is assertMax for a limit libpcap 1.11 added: libpcap 1.10
// compiles the comparison with the value as given, and so does
// Options.Libpcap110.
func (g *gen) assertMax111(what string, v, max uint32) {
	if !g.opts.Libpcap110 {
		g.assertMax(what, v, max)
	}
}

func (g *gen) ipVersion(rel offrel, ver uint32) pred {
	return g.mcmp(rel, 0, spec.SizeB, ver<<4, 0xf0)
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
	return g.bcmp(orLLC, 0, b)
}

func (g *gen) etherLinktype(p uint32) pred {
	switch p {
	case llcsapISONS, llcsapIP, llcsapNetBEUI:
		b0 := g.cmpLE(orLinkType, 0, spec.SizeH, etherMTU)
		b1 := g.cmp(orLLC, 0, spec.SizeH, p<<8|p)
		return and(b0, b1)
	case llcsapIPX:
		b0 := g.cmp(orLLC, 0, spec.SizeB, llcsapIPX)
		b1 := g.cmp(orLLC, 0, spec.SizeH, 0xffff)
		b1 = or(b0, b1)
		b0 = g.snap(0, etIPX)
		b1 = or(b0, b1)
		b0 = g.cmpLE(orLinkType, 0, spec.SizeH, etherMTU)
		b1 = and(b0, b1)
		b0 = g.cmp(orLinkType, 0, spec.SizeH, etIPX)
		return or(b0, b1)
	case etATALK, etAARP:
		b0 := g.cmpLE(orLinkType, 0, spec.SizeH, etherMTU)
		var b1 pred
		if p == etATALK {
			b1 = g.snap(0x080007, etATALK)
		} else {
			b1 = g.snap(0, etAARP)
		}
		b1 = and(b0, b1)
		b0 = g.cmp(orLinkType, 0, spec.SizeH, p)
		return or(b0, b1)
	}
	if p <= etherMTU {
		g.assertMax111("LLC DSAP", p, 0xff)
		b0 := g.cmpLE(orLinkType, 0, spec.SizeH, etherMTU)
		b1 := g.cmp(orLinkType, 2, spec.SizeB, p)
		return and(b0, b1)
	}
	g.assertMax111("EtherType", p, 0xffff)
	return g.cmp(orLinkType, 0, spec.SizeH, p)
}

func (g *gen) sllLinktype(p uint32) pred {
	switch p {
	case llcsapISONS, llcsapIP, llcsapNetBEUI:
		b0 := g.cmp(orLinkType, 0, spec.SizeH, sllP8022)
		b1 := g.cmp(orLLC, 0, spec.SizeH, p<<8|p)
		return and(b0, b1)
	case llcsapIPX:
		b0 := g.cmp(orLLC, 0, spec.SizeB, llcsapIPX)
		b1 := g.snap(0, etIPX)
		b1 = or(b0, b1)
		b0 = g.cmp(orLinkType, 0, spec.SizeH, sllP8022)
		b1 = and(b0, b1)
		b0 = g.cmp(orLinkType, 0, spec.SizeH, sllP8023)
		b1 = or(b0, b1)
		b0 = g.cmp(orLinkType, 0, spec.SizeH, etIPX)
		return or(b0, b1)
	case etATALK, etAARP:
		b0 := g.cmp(orLinkType, 0, spec.SizeH, sllP8022)
		var b1 pred
		if p == etATALK {
			b1 = g.snap(0x080007, etATALK)
		} else {
			b1 = g.snap(0, etAARP)
		}
		b1 = and(b0, b1)
		b0 = g.cmp(orLinkType, 0, spec.SizeH, p)
		return or(b0, b1)
	}
	if p <= etherMTU {
		g.assertMax111("LLC DSAP", p, 0xff)
		b0 := g.cmp(orLinkType, 0, spec.SizeH, sllP8022)
		b1 := g.cmp(orLinkHdr, g.offLinkPL.c, spec.SizeB, p)
		return and(b0, b1)
	}
	g.assertMax111("EtherType", p, 0xffff)
	return g.cmp(orLinkType, 0, spec.SizeH, p)
}

func (g *gen) llcLinktype(p uint32) pred {
	switch p {
	case llcsapIP, llcsapISONS, llcsapNetBEUI:
		return g.cmp(orLLC, 0, spec.SizeH, p<<8|p)
	case llcsapIPX:
		return g.cmp(orLLC, 0, spec.SizeB, llcsapIPX)
	case etATALK:
		return g.snap(0x080007, etATALK)
	}
	if p <= etherMTU {
		g.assertMax111("LLC DSAP", p, 0xff)
		return g.cmp(orLLC, 0, spec.SizeB, p)
	}
	g.assertMax111("EtherType", p, 0xffff)
	return g.cmp(orLLC, 6, spec.SizeH, p)
}

func swap32(v uint32) uint32 { return v>>24 | v>>8&0xff00 | v<<8&0xff0000 | v<<24 }

// bsdAFOffline matches the BSD address-family values that savefiles carry
// for IPv4 and IPv6 (libpcap's offline AF handling).
func (g *gen) bsdAFOffline(off uint32, size uint16, p uint32, swapped bool, rel offrel) pred {
	c := func(v uint32) pred {
		if swapped {
			v = swap32(v)
		}
		return g.cmp(rel, off, size, v)
	}
	switch p {
	case etIP:
		return c(2)
	case etIPv6:
		b0 := c(24)
		b1 := c(28)
		b1 = or(b0, b1)
		b0 = c(30)
		return or(b0, b1)
	}
	return g.gfalse()
}

// afLive is the Linux AF_ value for an EtherType, as libpcap uses for
// loopback headers of live captures (AF_INET 2, AF_INET6 10).
func afLive(p uint32) (uint32, bool) {
	switch p {
	case etIP:
		return 2, true
	case etIPv6:
		return 10, true
	}
	return 0, false
}

func (g *gen) loopbackLinktype(p uint32) pred {
	if !g.opts.OfflineAF {
		af, ok := afLive(p)
		if !ok {
			return g.gfalse()
		}
		if g.linktype == ltLoop {
			return g.cmp(orLinkHdr, 0, spec.SizeW, af)
		}
		// NULL and ENC headers hold the AF in the capturing host's byte
		// order; like libpcap on a little-endian host, compare htonl(af).
		return g.cmp(orLinkHdr, 0, spec.SizeW, swap32(af))
	}
	if g.linktype == ltLoop {
		return g.bsdAFOffline(0, spec.SizeW, p, false, orLinkHdr)
	}
	if g.opts.Libpcap110 {
		// libpcap 1.10 reads the AF in the savefile's byte order only (a
		// word load of a little-endian file's value sees it swapped).
		return g.bsdAFOffline(0, spec.SizeW, p, !g.opts.SavefileBigEndian, orLinkHdr)
	}
	b0 := g.bsdAFOffline(0, spec.SizeW, p, false, orLinkHdr)
	b1 := g.bsdAFOffline(0, spec.SizeW, p, true, orLinkHdr)
	return or(b0, b1)
}
