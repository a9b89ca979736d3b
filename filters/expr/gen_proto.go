package expr

import "github.com/wringcap/wring/spec"

// Code generation: port, port range and protocol primitives.

func (g *gen) portProto(p int, kw string) int {
	switch p {
	case pUDP:
		return ipprotoUDP
	case pTCP:
		return ipprotoTCP
	case pSCTP:
		return ipprotoSCTP
	case qDefault:
		return protoUndef
	}
	g.invalidQual(protoQualName(p), kw)
	return 0
}

var ipprotoName = map[int]string{ipprotoTCP: "tcp", ipprotoUDP: "udp", ipprotoSCTP: "sctp"}

func (g *gen) checkPortProto(pq, real int, what string) int {
	want := map[int]int{pUDP: ipprotoUDP, pTCP: ipprotoTCP, pSCTP: ipprotoSCTP}[pq]
	if want == 0 {
		return real
	}
	if real != protoUndef && real != want {
		g.fail("%s is %s", what, ipprotoName[real])
	}
	return want
}

// portOf parses a port number or service name.
func (g *gen) portOf(s string) (uint32, int, bool) {
	if v, msg := parseNum(s); msg == "" && s != "" && isDigit(s[0]) {
		return v, protoUndef, true
	}
	if pe, ok := serviceTable[s]; ok {
		return uint32(pe.port), pe.proto, true
	}
	return 0, 0, false
}

// portrangeOf splits "a-b" (each a number or service name) at the dash
// that makes both halves valid.
func (g *gen) portrangeOf(s string) (uint16, uint16, int) {
	for i := 0; i < len(s); i++ {
		if s[i] != '-' {
			continue
		}
		a, pa, ok1 := g.portOf(s[:i])
		b, pb, ok2 := g.portOf(s[i+1:])
		if !ok1 || !ok2 {
			continue
		}
		g.assertMax("port number", a, 0xffff)
		g.assertMax("port number", b, 0xffff)
		rp := protoUndef
		if pa == pb {
			rp = pa
		} else if pa == protoUndef {
			rp = pb
		} else if pb == protoUndef {
			rp = pa
		}
		return uint16(a), uint16(b), rp
	}
	if a, pa, ok := g.portOf(s); ok {
		g.assertMax("port number", a, 0xffff)
		return uint16(a), uint16(a), pa
	}
	g.fail("unknown port in range '%s'", s)
	return 0, 0, 0
}

func (g *gen) lookupProto(name string, q qual) uint32 {
	var v uint32
	ok := false
	switch q.proto {
	case qDefault, pIP, pIPv6:
		v, ok = ipProtocols[name]
	case pLink:
		if v, ok = etherProtos[name]; !ok {
			v, ok = llcProtos[name]
		}
	case pISO:
		v, ok = map[string]uint32{"esis": isoESIS, "isis": isoISIS, "clnp": isoCLNP}[name]
	}
	if ok {
		return v
	}
	if q.proto == qDefault {
		g.fail("unknown '%s' value '%s'", addrQualName(q.addr), name)
	}
	g.fail("unknown '%s %s' value '%s'", protoQualName(q.proto), addrQualName(q.addr), name)
	return 0
}

func (g *gen) ipProto(p uint32) pred { return g.cmp(orLinkPL, 9, spec.SizeB, p) }

func (g *gen) ip6Proto(p uint32) pred { return g.cmp(orLinkPL, 6, spec.SizeB, p) }

func (g *gen) ipfrag() pred {
	return not(g.jsetTest(orLinkPL, 6, spec.SizeH, 0x1fff))
}

func (g *gen) portAtom(off uint32, v uint16) pred {
	return g.cmp(orTranIPv4, off, spec.SizeH, uint32(v))
}

func (g *gen) portAtom6(off uint32, v uint16) pred {
	return g.cmp(orTranIPv6, off, spec.SizeH, uint32(v))
}

func (g *gen) dirCombine(dir int, addr int, atom func(off uint32) pred) pred {
	switch dir {
	case dSrc:
		return atom(0)
	case dDst:
		return atom(2)
	case dAnd:
		t := atom(0)
		return and(t, atom(2))
	case qDefault, dOr:
		t := atom(0)
		return or(t, atom(2))
	}
	g.invalidQual(dirQualName(dir), addrQualName(addr))
	return pred{}
}

func (g *gen) port(port uint16, proto, dir, addr int) pred {
	b1 := g.dirCombine(dir, addr, func(off uint32) pred { return g.portAtom(off, port) })
	return g.portCommon(proto, b1)
}

func (g *gen) portCommon(proto int, b1 pred) pred {
	var tmp pred
	switch proto {
	case ipprotoUDP, ipprotoTCP, ipprotoSCTP:
		tmp = g.ipProto(uint32(proto))
	default:
		tmp = g.ipProto(ipprotoSCTP)
		tmp = or(g.ipProto(ipprotoUDP), tmp)
		tmp = or(g.ipProto(ipprotoTCP), tmp)
	}
	b0 := g.ipfrag()
	b0 = and(tmp, b0)
	b1 = and(b0, b1)
	return and(g.linktypeTest(etIP), b1)
}

func (g *gen) port6(port uint16, proto, dir, addr int) pred {
	b1 := g.dirCombine(dir, addr, func(off uint32) pred { return g.portAtom6(off, port) })
	return g.port6Common(proto, b1)
}

func (g *gen) port6Common(proto int, b1 pred) pred {
	var tmp pred
	switch proto {
	case ipprotoUDP, ipprotoTCP, ipprotoSCTP:
		tmp = g.ip6Proto(uint32(proto))
	default:
		tmp = g.ip6Proto(ipprotoSCTP)
		tmp = or(g.ip6Proto(ipprotoUDP), tmp)
		tmp = or(g.ip6Proto(ipprotoTCP), tmp)
	}
	b1 = and(tmp, b1)
	return and(g.linktypeTest(etIPv6), b1)
}

func (g *gen) portrangeAtom(rel offrel, off uint32, v1, v2 uint16) pred {
	if v1 == v2 {
		return g.cmp(rel, off, spec.SizeH, uint32(v1))
	}
	lo, hi := min(v1, v2), max(v1, v2)
	b1 := g.cmpGE(rel, off, spec.SizeH, uint32(lo))
	b2 := g.cmpLE(rel, off, spec.SizeH, uint32(hi))
	return and(b1, b2)
}

func (g *gen) portrange(p1, p2 uint16, proto, dir int) pred {
	b1 := g.dirCombine(dir, aPortrange, func(off uint32) pred { return g.portrangeAtom(orTranIPv4, off, p1, p2) })
	return g.portCommon(proto, b1)
}

func (g *gen) portrange6(p1, p2 uint16, proto, dir int) pred {
	b1 := g.dirCombine(dir, aPortrange, func(off uint32) pred { return g.portrangeAtom(orTranIPv6, off, p1, p2) })
	return g.port6Common(proto, b1)
}

func (g *gen) proto(v uint32, proto int) pred {
	switch proto {
	case qDefault:
		b0 := g.proto(v, pIP)
		return or(b0, g.proto(v, pIPv6))
	case pLink:
		return g.linktypeTest(v)
	case pIP:
		g.assertMax111("protocol number", v, 0xff)
		b0 := g.linktypeTest(etIP)
		return and(b0, g.ipProto(v))
	case pIPv6:
		g.assertMax111("protocol number", v, 0xff)
		b0 := g.linktypeTest(etIPv6)
		b2 := g.ip6Proto(ipprotoFragment)
		b1 := g.cmp(orLinkPL, 40, spec.SizeB, v)
		b1 = and(b2, b1)
		b2 = g.ip6Proto(v)
		b1 = or(b2, b1)
		return and(b0, b1)
	case pISO:
		g.assertMax111("ISO protocol", v, 0xff)
		switch g.linktype {
		case ltFrelay:
			return g.frelayNLPID(v)
		case ltCHDLC, ltHDLC:
			b0 := g.linktypeTest(llcsapISONS<<8 | llcsapISONS)
			return and(b0, g.cmp(orLinkPLNoSnap, 1, spec.SizeB, v))
		}
		b0 := g.linktypeTest(llcsapISONS)
		return and(b0, g.cmp(orLinkPLNoSnap, 0, spec.SizeB, v))
	case pISIS:
		g.assertMax111("IS-IS PDU type", v, 0x1f)
		b0 := g.proto(isoISIS, pISO)
		if g.opts.Libpcap110 {
			// libpcap 1.10 reads the PDU type at offset 4 on every link
			// type (on Cisco HDLC that is the ID length field, one byte
			// early) and compares it unmasked.
			return and(b0, g.cmp(orLinkPLNoSnap, 4, spec.SizeB, v))
		}
		off := uint32(4)
		if g.linktype == ltCHDLC || g.linktype == ltHDLC {
			off = 5
		}
		return and(b0, g.cmpMasked(orLinkPLNoSnap, off, spec.SizeB, v, 0x1f))
	}
	g.invalidQual(protoQualName(proto), "proto")
	return pred{}
}

var pqToIPProto = map[int]uint32{pAH: ipprotoAH, pCARP: ipprotoVRRP, pESP: ipprotoESP, pICMP: ipprotoICMP,
	pICMPv6: ipprotoICMPv6, pIGMP: ipprotoIGMP, pIGRP: ipprotoIGRP, pPIM: ipprotoPIM, pSCTP: ipprotoSCTP,
	pTCP: ipprotoTCP, pUDP: ipprotoUDP, pVRRP: ipprotoVRRP}

var pqToEthertype = map[int]uint32{pIP: etIP, pARP: etARP, pRARP: etREVARP, pATALK: etATALK, pAARP: etAARP,
	pDECNET: etDN, pSCA: etSCA, pLAT: etLAT, pMOPDL: etMOPDL, pMOPRC: etMOPRC, pIPv6: etIPv6}

var pqToLLCSAP = map[int]uint32{pISO: llcsapISONS, pSTP: llcsap8021D, pIPX: llcsapIPX, pNETBEUI: llcsapNetBEUI}

var pqToNLPID = map[int]uint32{pESIS: isoESIS, pISIS: isoISIS, pCLNP: isoCLNP}

// abbrev generates a protocol name used alone ("tcp", "ip6", "l1").
func (g *gen) abbrev(proto int) pred {
	isis := func(ts ...uint32) pred {
		b := g.proto(ts[0], pISIS)
		for _, t := range ts[1:] {
			b = or(g.proto(t, pISIS), b)
		}
		return b
	}
	switch proto {
	case pSCTP, pTCP, pUDP, pAH, pESP, pPIM:
		return g.proto(pqToIPProto[proto], qDefault)
	case pICMP, pIGMP, pIGRP, pVRRP, pCARP:
		return g.proto(pqToIPProto[proto], pIP)
	case pICMPv6:
		return g.proto(pqToIPProto[proto], pIPv6)
	case pIP, pARP, pRARP, pATALK, pAARP, pDECNET, pSCA, pLAT, pMOPDL, pMOPRC, pIPv6:
		return g.linktypeTest(pqToEthertype[proto])
	case pISO, pSTP, pIPX, pNETBEUI:
		return g.linktypeTest(pqToLLCSAP[proto])
	case pESIS, pISIS, pCLNP:
		return g.proto(pqToNLPID[proto], pISO)
	case pISISL1:
		b0 := g.proto(15, pISIS)
		b1 := g.proto(17, pISIS)
		b1 = or(b0, b1)
		b0 = g.proto(18, pISIS)
		b1 = or(b0, b1)
		b0 = g.proto(24, pISIS)
		b1 = or(b0, b1)
		b0 = g.proto(26, pISIS)
		return or(b0, b1)
	case pISISL2:
		b0 := g.proto(16, pISIS)
		b1 := g.proto(17, pISIS)
		b1 = or(b0, b1)
		b0 = g.proto(20, pISIS)
		b1 = or(b0, b1)
		b0 = g.proto(25, pISIS)
		b1 = or(b0, b1)
		b0 = g.proto(27, pISIS)
		return or(b0, b1)
	case pISISIIH:
		b0 := g.proto(15, pISIS)
		b1 := g.proto(16, pISIS)
		b1 = or(b0, b1)
		b0 = g.proto(17, pISIS)
		return or(b0, b1)
	case pISISLSP:
		b0 := g.proto(18, pISIS)
		return or(b0, g.proto(20, pISIS))
	case pISISSNP:
		b0 := g.proto(24, pISIS)
		b1 := g.proto(25, pISIS)
		b1 = or(b0, b1)
		b0 = g.proto(26, pISIS)
		b1 = or(b0, b1)
		b0 = g.proto(27, pISIS)
		return or(b0, b1)
	case pISISCSNP:
		b0 := g.proto(24, pISIS)
		return or(b0, g.proto(25, pISIS))
	case pISISPSNP:
		b0 := g.proto(26, pISIS)
		return or(b0, g.proto(27, pISIS))
	}
	_ = isis
	g.fail("'%s' cannot be used as an abbreviation", protoQualName(proto))
	return pred{}
}
