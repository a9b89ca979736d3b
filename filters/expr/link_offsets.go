package expr

import "github.com/wringcap/wring/spec"

// Link-layer families: header offsets per link type.

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

func (g *gen) pushLinkHdr(lt spec.LinkType, variable bool, c uint32, reg int) {
	g.prevlinktype = g.linktype
	g.offPrevLinkHdr = g.offLinkHdr
	g.linktype = lt
	g.offLinkHdr = absOff{c: c, variable: variable, reg: reg}
	g.isEncap = false
}
