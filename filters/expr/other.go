package expr

import (
	"github.com/wringcap/wring/spec"
)

// pfloghdr field offsets (OpenBSD pf's log header).
const (
	pflogAction    = 2
	pflogReason    = 3
	pflogIfname    = 4
	pflogRuleset   = 20
	pflogRulenr    = 36
	pflogSubrulenr = 40
	pflogDir       = 60
	pflogNameLen   = 16
)

// other generates the keyword primitives.
func (g *gen) other(n *nOther) pred {
	switch n.what {
	case "less":
		return not(test([]ins{stmt(spec.ClassLD|spec.ModeLEN|spec.SizeW, 0)}, spec.JumpJGT|spec.SrcK, n.num))
	case "greater":
		return test([]ins{stmt(spec.ClassLD|spec.ModeLEN|spec.SizeW, 0)}, spec.JumpJGE|spec.SrcK, n.num)
	case "byte":
		g.assertMax111("byte argument", n.num2, 0xff)
		switch n.s {
		case "=":
			return g.cmp(orLinkHdr, n.num, spec.SizeB, n.num2)
		case "<":
			return g.cmpLT(orLinkHdr, n.num, spec.SizeB, n.num2)
		case ">":
			return g.cmpGT(orLinkHdr, n.num, spec.SizeB, n.num2)
		}
		op := uint16(spec.ALUOr)
		if n.s == "&" {
			op = spec.ALUAnd
		}
		s := g.loadA(orLinkHdr, n.num, spec.SizeB)
		s = append(s, stmt(spec.ClassALU|op|spec.SrcK, n.num2))
		return not(test(s, spec.JumpJEQ|spec.SrcK, 0))
	case "broadcast":
		return g.broadcast(n.proto)
	case "multicast":
		return g.multicast(n.proto)
	case "inbound", "outbound":
		return g.inOut(n.what == "outbound")
	case "ifindex":
		if g.linktype == ltSLL2 {
			return g.cmp(orLinkHdr, 4, spec.SizeW, n.num)
		}
		if !g.opts.LinuxExt {
			g.failUnsupported("not a live capture, 'ifindex' not supported on %s", dltName(g.linktype))
		}
		return g.cmp(orPacket, spec.AncillaryBase+spec.AncIfindex, spec.SizeW, n.num)
	case "vlan":
		return g.vlan(n.num, n.hasNum)
	case "mpls":
		return g.mpls(n.num, n.hasNum)
	case "pppoed":
		return g.linktypeTest(etPPPoED)
	case "pppoes":
		return g.pppoes(n.num, n.hasNum)
	case "geneve":
		return g.encap(n.num, n.hasNum, true)
	case "vxlan":
		return g.encap(n.num, n.hasNum, false)
	case "ifname", "ruleset":
		g.assertPflog(n.what)
		if len(n.s) >= pflogNameLen {
			if n.what == "ifname" {
				g.fail("ifname interface names can only be %d characters", pflogNameLen-1)
			}
			g.fail("ruleset names can only be %d characters", pflogNameLen-1)
		}
		off := uint32(pflogIfname)
		if n.what == "ruleset" {
			off = pflogRuleset
		}
		return g.bcmp(orLinkHdr, off, []byte(n.s))
	case "rnr":
		g.assertPflog("rnr")
		return g.cmp(orLinkHdr, pflogRulenr, spec.SizeW, n.num)
	case "srnr":
		g.assertPflog("srnr")
		return g.cmp(orLinkHdr, pflogSubrulenr, spec.SizeW, n.num)
	case "reason":
		v := n.num
		if !n.hasNum {
			found := false
			for i, r := range pfReasons {
				if r == n.s {
					v, found = uint32(i), true
				}
			}
			if !found {
				g.fail("unknown PF reason \"%s\"", n.s)
			}
		}
		g.assertPflog("reason")
		return g.cmp(orLinkHdr, pflogReason, spec.SizeB, v)
	case "action":
		v, ok := pfActions[n.s]
		if !ok {
			g.fail("unknown PF action \"%s\"", n.s)
		}
		g.assertPflog("action")
		return g.cmp(orLinkHdr, pflogAction, spec.SizeB, v)
	case "wlantype":
		if !is80211(g.linktype) {
			g.failKwOnDLT("type/subtype")
		}
		if g.linktype == ltPPI && g.opts.Libpcap110 {
			// libpcap 1.10 (later accepts them on PPI).
			g.failUnsupported("802.11 link-layer types supported only on 802.11")
		}
		return g.mcmp(orLinkHdr, 0, spec.SizeB, n.num, n.num2)
	case "wlandir":
		if !is80211(g.linktype) {
			g.failKwOnDLT("dir")
		}
		if g.linktype == ltPPI && g.opts.Libpcap110 {
			// libpcap 1.10 (later accepts it on PPI).
			g.failUnsupported("frame direction supported only with 802.11 headers")
		}
		return g.mcmp(orLinkHdr, 1, spec.SizeB, n.num, 0x03)
	case "llc":
		return g.llc(n.s)
	case "lane", "metac", "bcc", "oamf4ec", "oamf4sc", "sc", "ilmic":
		return g.atmType(n.what)
	case "oam", "oamf4", "connectmsg", "metaconnect":
		return g.atmMulti(n.what)
	case "vpi", "vci":
		return g.fieldList(n, g.atmField)
	case "fisu", "lssu", "msu", "hfisu", "hlssu", "hmsu":
		return g.mtp2Type(n.what)
	case "sio", "opc", "dpc", "sls", "hsio", "hopc", "hdpc", "hsls":
		return g.fieldList(n, g.mtp3Field)
	}
	g.internal("unknown primitive %q", n.what)
	return pred{}
}

func (g *gen) assertPflog(kw string) {
	if g.linktype != ltPFLog {
		g.failUnsupported("'%s' supported only on PFLOG linktype", kw)
	}
}

func (g *gen) fieldList(n *nOther, f func(what string, v uint32, op uint16, neg bool) pred) pred {
	if n.list == nil {
		return f(n.what, n.num, n.op, n.negate)
	}
	b := f(n.what, n.list[0], spec.JumpJEQ, false)
	for _, v := range n.list[1:] {
		b = or(b, f(n.what, v, spec.JumpJEQ, false))
	}
	return b
}

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
		b1 := g.mcmp(orLinkPL, 16, spec.SizeW, 0, hm)
		b2 := g.mcmp(orLinkPL, 16, spec.SizeW, hm, hm)
		return and(b0, or(b1, b2))
	}
	g.invalidQual(pqkw(proto), "broadcast")
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
		return and(b0, g.mcmp(orLinkPL, 16, spec.SizeB, 0xe0, 0xf0))
	case pIPv6:
		b0 := g.linktypeTest(etIPv6)
		return and(b0, g.cmp(orLinkPL, 24, spec.SizeB, 255))
	}
	g.invalidQual(pqkw(proto), "multicast")
	return pred{}
}

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
		return g.mcmp(orLinkHdr, 3, spec.SizeB, pick(0, 1), 0x01)
	case lt == ltDSABRCM && g.dsa(lt):
		return g.mcmp(orLinkHdr, 12, spec.SizeB, pick(0x20, 0), 0xe0)
	case lt == ltDSADSA && g.dsa(lt):
		return g.mcmp(orLinkHdr, 12, spec.SizeB, pick(0x40, 0), pick(0xc0, 0x40))
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

func (g *gen) vlanTPIDTest() pred {
	b0 := g.linktypeTest(et8021Q)
	b1 := g.linktypeTest(et8021AD)
	b0 = or(b0, b1)
	b1 = g.linktypeTest(et8021QinQ)
	return or(b0, b1)
}

func (g *gen) vlan(num uint32, has bool) pred {
	if g.labelDepth > 0 {
		g.fail("no VLAN match after MPLS")
	}
	switch lt := g.linktype; {
	case g.ethernetLike(lt), lt == ltIEEE80211, lt == ltPrism, lt == ltAVS, lt == ltRadiotap:
	default:
		g.failKwOnDLT("vlan")
	}
	if g.opts.LinuxExt && g.linktype == ltEN10MB && g.vlanDepth == 0 && !g.offLinkHdr.variable &&
		g.offLinkHdr.c == g.offOutermostLinkHdr.c {
		b0 := g.vlanLinuxExt(num, has)
		g.vlanDepth++
		return b0
	}
	b0 := g.vlanTPIDTest()
	if has {
		g.assertMax("VLAN tag", num, 0x0fff)
		b1 := g.mcmp(orLinkPL, 0, spec.SizeH, num, 0x0fff)
		b0 = and(b0, b1)
	}
	g.offLinkPL.c += 4
	g.offLinkType.c += 4
	g.vlanDepth++
	return b0
}

// vlanLinuxExt is "vlan" for live Linux captures, where the kernel may
// have taken the outer tag out of the packet into metadata: the tag is
// either in SKF_AD_VLAN_TAG (present when SKF_AD_VLAN_TAG_PRESENT is 1) or
// in the packet, and in the second case later offsets move by 4 at run
// time (libpcap's gen_vlan_bpf_extensions).
func (g *gen) vlanLinuxExt(num uint32, has bool) pred {
	present := test([]ins{stmt(spec.ClassLD|spec.ModeABS|spec.SizeB, spec.AncillaryBase+spec.AncVLANTagPresent)},
		spec.JumpJEQ|spec.SrcK, 1)
	tpid := g.vlanTPIDTest()
	var vid pred
	if has {
		g.assertMax("VLAN tag", num, 0x0fff)
		vid = g.mcmp(orLinkPL, 0, spec.SizeH, num, 0x0fff)
	}
	// The packet carries the tag: add 4 to the payload and type offsets.
	g.isVLANVLOffset = true
	var adj []ins
	for _, o := range []*absOff{&g.offLinkPL, &g.offLinkType} {
		o.variable = true
		if o.reg < 0 {
			o.reg = g.allocOffsetReg()
		}
		adj = append(adj, stmt(spec.ClassLD|spec.ModeMEM, uint32(o.reg)),
			stmt(spec.ClassALU|spec.ALUAdd|spec.SrcK, 4), stmt(spec.ClassST, uint32(o.reg)))
	}
	tpid.head.stmts = append(adj, tpid.head.stmts...)
	tpid.meaning = isUncertain
	b0 := or(present, tpid)
	if !has {
		return b0
	}
	// Take the VLAN ID from the metadata when the tag is there.
	h := vid.head
	n := len(h.stmts)
	fromPkt := &block{stmts: append([]ins(nil), h.stmts[:n-1]...), jt: h}
	fromMeta := &block{stmts: []ins{stmt(spec.ClassLD|spec.ModeABS|spec.SizeH, spec.AncillaryBase+spec.AncVLANTag)}, jt: h}
	h.stmts = h.stmts[n-1:]
	sel := &block{stmts: []ins{stmt(spec.ClassLD|spec.ModeABS|spec.SizeB, spec.AncillaryBase+spec.AncVLANTagPresent)},
		cond: true, op: spec.ClassJMP | spec.JumpJEQ | spec.SrcK, k: 1, jt: fromMeta, jf: fromPkt}
	return and(b0, pred{head: sel, t: vid.t, f: vid.f})
}

func (g *gen) justAfterMPLSStack() pred {
	return g.jsetTest(orPrevMPLSHdr, 2, spec.SizeB, 0x01)
}

func (g *gen) mplsLinktype(p uint32) pred {
	switch p {
	case etIP:
		b0 := g.justAfterMPLSStack()
		return and(b0, g.ipVersion(orLinkPL, 4))
	case etIPv6:
		b0 := g.justAfterMPLSStack()
		return and(b0, g.ipVersion(orLinkPL, 6))
	}
	g.fail("unsupported protocol over mpls")
	return pred{}
}

func (g *gen) mpls(num uint32, has bool) pred {
	var b0 pred
	if g.labelDepth > 0 {
		b0 = not(g.justAfterMPLSStack())
	} else {
		switch lt := g.linktype; {
		case lt == ltCHDLC, lt == ltHDLC, g.ethernetLike(lt):
			b0 = g.linktypeTest(etMPLS)
		case lt == ltPPP:
			b0 = g.linktypeTest(0x0281)
		default:
			g.failKwOnDLT("mpls")
		}
	}
	if has {
		g.assertMax("MPLS label", num, 0xfffff)
		b1 := g.mcmp(orLinkPL, 0, spec.SizeW, num<<12, 0xfffff<<12)
		b0 = and(b0, b1)
	}
	g.offNLNoSnap += 4
	g.offNL += 4
	g.labelDepth++
	return b0
}

func (g *gen) pushLinkHdr(lt spec.LinkType, variable bool, c uint32, reg int) {
	g.prevlinktype = g.linktype
	g.offPrevLinkHdr = g.offLinkHdr
	g.linktype = lt
	g.offLinkHdr = absOff{c: c, variable: variable, reg: reg}
	g.isEncap = false
}

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

// encap generates geneve (UDP 6081) or vxlan (UDP 4789): the tunnel test
// over IPv4 or IPv6, then code that computes the inner frame's offsets
// into scratch registers, which later primitives use.
func (g *gen) encap(vni uint32, has, geneve bool) pred {
	port := uint16(4789)
	if geneve {
		port = 6081
	}
	check := func(ip6 bool) pred {
		rel := orTranIPv4
		var b0 pred
		if ip6 {
			rel = orTranIPv6
			b0 = g.port6(port, ipprotoUDP, dDst, aPort)
		} else {
			b0 = g.port(port, ipprotoUDP, dDst, aPort)
		}
		var b1 pred
		if geneve {
			b1 = g.mcmp(rel, 8, spec.SizeB, 0, 0xc0)
		} else {
			b1 = g.cmp(rel, 8, spec.SizeB, 0x08)
		}
		b0 = and(b0, b1)
		if has {
			name := "VXLAN VNI"
			if geneve {
				name = "Geneve VNI"
			}
			g.assertMax(name, vni, 0xffffff)
			b1 = g.mcmp(rel, 12, spec.SizeW, vni<<8, 0xffffff00)
			b0 = and(b0, b1)
		}
		return b0
	}
	// Leave the transport header's offset in A (and X) for the offsets.
	b0 := check(false)
	s := append(g.loadxIPHdrLen(), stmt(spec.ClassMISC|spec.MiscTXA, 0))
	b0 = and(b0, test(s, spec.JumpJEQ|spec.SrcX, 0))
	b1 := check(true)
	var s6 []ins
	if vp := g.varpart(&g.offLinkPL); vp != nil {
		s6 = append(vp, stmt(spec.ClassLD|spec.ModeIMM, 40), stmt(spec.ClassALU|spec.ALUAdd|spec.SrcX, 0))
	} else {
		s6 = []ins{stmt(spec.ClassLD|spec.ModeIMM, 40)}
	}
	s6 = append(s6, stmt(spec.ClassMISC|spec.MiscTAX, 0))
	b1 = and(b1, test(s6, spec.JumpJEQ|spec.SrcX, 0))
	var offsets pred
	if geneve {
		offsets = g.geneveOffsets()
	} else {
		offsets = g.vxlanOffsets()
	}
	g.isEncap = true
	return and(or(b0, b1), offsets)
}

func (g *gen) vxlanOffsets() pred {
	s := []ins{
		stmt(spec.ClassALU|spec.ALUAdd|spec.SrcK, g.offLinkPL.c+g.offNL+8),
		stmt(spec.ClassALU|spec.ALUAdd|spec.SrcK, 8),
	}
	g.pushLinkHdr(ltEN10MB, true, 0, g.allocOffsetReg())
	s = append(s, stmt(spec.ClassST, uint32(g.offLinkHdr.reg)), stmt(spec.ClassALU|spec.ALUAdd|spec.SrcK, 12))
	g.offLinkType = absOff{c: 0, variable: true, reg: g.allocOffsetReg()}
	s = append(s, stmt(spec.ClassST, uint32(g.offLinkType.reg)),
		stmt(spec.ClassALU|spec.ALUAdd|spec.SrcK, 2), stmt(spec.ClassMISC|spec.MiscTAX, 0))
	g.offLinkPL = absOff{c: 0, variable: true, reg: g.allocOffsetReg()}
	s = append(s, stmt(spec.ClassSTX, uint32(g.offLinkPL.reg)))
	g.offNL = 0
	t := g.gtrue()
	t.meaning = isUncertain
	return prepend(s, t)
}

func (g *gen) geneveOffsets() pred {
	g.noOptimize = true
	s := []ins{
		stmt(spec.ClassALU|spec.ALUAdd|spec.SrcK, g.offLinkPL.c+g.offNL+8),
		stmt(spec.ClassMISC|spec.MiscTAX, 0),
		stmt(spec.ClassALU|spec.ALUAdd|spec.SrcK, 2),
	}
	g.offLinkType = absOff{c: 0, variable: true, reg: g.allocOffsetReg()}
	s = append(s, stmt(spec.ClassST, uint32(g.offLinkType.reg)),
		stmt(spec.ClassLD|spec.ModeIND|spec.SizeB, 0),
		stmt(spec.ClassALU|spec.ALUAnd|spec.SrcK, 0x3f),
		stmt(spec.ClassALU|spec.ALUMul|spec.SrcK, 4),
		stmt(spec.ClassALU|spec.ALUAdd|spec.SrcK, 8),
		stmt(spec.ClassALU|spec.ALUAdd|spec.SrcX, 0))
	g.pushLinkHdr(ltEN10MB, true, 0, g.allocOffsetReg())
	s = append(s, stmt(spec.ClassST, uint32(g.offLinkHdr.reg)),
		stmt(spec.ClassLD|spec.ModeIND|spec.SizeH, 2),
		stmt(spec.ClassLDX|spec.ModeMEM, uint32(g.offLinkHdr.reg)))
	// if the protocol is Transparent Ethernet Bridging, the inner frame
	// starts with an Ethernet header.
	teb := []ins{
		stmt(spec.ClassMISC|spec.MiscTXA, 0),
		stmt(spec.ClassALU|spec.ALUAdd|spec.SrcK, 12),
		stmt(spec.ClassST, uint32(g.offLinkType.reg)),
		stmt(spec.ClassALU|spec.ALUAdd|spec.SrcK, 2),
		stmt(spec.ClassMISC|spec.MiscTAX, 0),
	}
	g.offLinkPL = absOff{c: 0, variable: true, reg: g.allocOffsetReg()}
	tail := []ins{stmt(spec.ClassSTX, uint32(g.offLinkPL.reg))}
	g.offNL = 0
	t := g.gtrue()
	t.meaning = isUncertain
	tailP := prepend(tail, t)
	tebBlock := &block{stmts: teb, jt: tailP.head}
	head := &block{stmts: s, cond: true, op: spec.ClassJMP | spec.JumpJEQ | spec.SrcK, k: etTEB, jt: tebBlock, jf: tailP.head}
	return pred{head: head, t: tailP.t, f: tailP.f}
}

func (g *gen) encapLLCheck() pred {
	s := []ins{
		stmt(spec.ClassLD|spec.ModeMEM, uint32(g.offLinkHdr.reg)),
		stmt(spec.ClassLDX|spec.ModeMEM, uint32(g.offLinkPL.reg)),
	}
	return not(test(s, spec.JumpJEQ|spec.SrcX, 0))
}

func (g *gen) llcInternal() pred {
	switch lt := g.linktype; {
	case lt == ltEN10MB, g.dsa(lt):
		b0 := g.cmpLE(orLinkType, 0, spec.SizeH, etherMTU)
		b1 := g.cmpNE(orLLC, 0, spec.SizeH, 0xffff)
		return and(b0, b1)
	case lt == ltSunATM:
		b0 := g.atmPrototype(ptLLC)
		g.linktype = g.prevlinktype
		return b0
	case lt == ltIEEE802, lt == ltFDDI, lt == ltATMRFC1483:
		return g.gtrue()
	case is80211(lt):
		return g.mcmp(orLinkHdr, 0, spec.SizeB, 0x08, 0x0c)
	}
	g.failKwOnDLT("llc")
	return pred{}
}

func (g *gen) llc(kind string) pred {
	if kind == "" {
		return g.llcInternal()
	}
	switch lower(kind) {
	case "i":
		b0 := g.llcInternal()
		return and(b0, not(g.jsetTest(orLLC, 2, spec.SizeB, 0x01)))
	case "s":
		b0 := g.llcInternal()
		return and(b0, g.mcmp(orLLC, 2, spec.SizeB, 0x01, 0x03))
	case "u":
		b0 := g.llcInternal()
		return and(b0, g.mcmp(orLLC, 2, spec.SizeB, 0x03, 0x03))
	}
	if v, ok := llcSSubtypes[kind]; ok {
		b0 := g.llcInternal()
		return and(b0, g.mcmp(orLLC, 2, spec.SizeB, v, 0x0f))
	}
	if v, ok := llcUSubtypes[kind]; ok {
		b0 := g.llcInternal()
		return and(b0, g.mcmp(orLLC, 2, spec.SizeB, v, 0xef))
	}
	g.fail("unknown LLC type name \"%s\"", kind)
	return pred{}
}

func (g *gen) assertATM(kw string) {
	if !g.isATM {
		g.failUnsupported("'%s' supported only on SUNATM", kw)
	}
}

func (g *gen) atmPrototype(v uint32) pred {
	return g.mcmp(orLinkHdr, g.offProto, spec.SizeB, v, 0x0f)
}

func (g *gen) atmField(what string, v uint32, op uint16, neg bool) pred {
	g.assertATM(what)
	if what == "vpi" {
		g.assertMax111("VPI", v, 0xff)
		return g.ncmp(orLinkHdr, g.offVPI, spec.SizeB, 0xffffffff, op, neg, v)
	}
	g.assertMax111("VCI", v, 0xffff)
	return g.ncmp(orLinkHdr, g.offVCI, spec.SizeH, 0xffffffff, op, neg, v)
}

func (g *gen) atmVPIVCI(vpi, vci uint32) pred {
	b0 := g.atmField("vpi", vpi, spec.JumpJEQ, false)
	return and(b0, g.atmField("vci", vci, spec.JumpJEQ, false))
}

func (g *gen) atmType(what string) pred {
	g.assertATM(what)
	switch what {
	case "metac":
		return g.atmVPIVCI(0, 1)
	case "bcc":
		return g.atmVPIVCI(0, 2)
	case "oamf4sc":
		return g.atmVPIVCI(0, 3)
	case "oamf4ec":
		return g.atmVPIVCI(0, 4)
	case "sc":
		return g.atmVPIVCI(0, 5)
	case "ilmic":
		return g.atmVPIVCI(0, 16)
	}
	// lane
	b1 := g.atmPrototype(ptLANE)
	g.pushLinkHdr(ltEN10MB, false, g.offPay+2, -1)
	g.offLinkType.c = g.offLinkHdr.c + 12
	g.offLinkPL.c = g.offLinkHdr.c + 14
	g.offNL = 0
	g.offNLNoSnap = 3
	return b1
}

func (g *gen) msgAbbrev(t uint32) pred {
	return g.cmp(orLinkHdr, g.offPay+5, spec.SizeB, t)
}

func (g *gen) atmMulti(what string) pred {
	g.assertATM(what)
	switch what {
	case "oam", "oamf4":
		b0 := g.atmField("vci", 3, spec.JumpJEQ, false)
		b1 := g.atmField("vci", 4, spec.JumpJEQ, false)
		b1 = or(b0, b1)
		b0 = g.atmField("vpi", 0, spec.JumpJEQ, false)
		return and(b0, b1)
	}
	msgs := []uint32{0x05, 0x02, 0x07, 0x0f, 0x4d, 0x5a} // SETUP CALL_PROCEED CONNECT CONNECT_ACK RELEASE RELEASE_DONE
	base := "sc"
	if what == "metaconnect" {
		msgs = []uint32{0x05, 0x02, 0x07, 0x4d, 0x5a}
		base = "metac"
	}
	b1 := g.msgAbbrev(msgs[0])
	b1 = or(b1, g.msgAbbrev(msgs[1]))
	for _, m := range msgs[2:] {
		b1 = or(g.msgAbbrev(m), b1)
	}
	b0 := g.atmType(base)
	return and(b0, b1)
}

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
		return g.ncmp(orPacket, li, spec.SizeB, 0x3f, spec.JumpJEQ, false, 0)
	case "lssu":
		b0 := g.ncmp(orPacket, li, spec.SizeB, 0x3f, spec.JumpJGT, true, 2)
		b1 := g.ncmp(orPacket, li, spec.SizeB, 0x3f, spec.JumpJGT, false, 0)
		return and(b1, b0)
	case "msu":
		return g.ncmp(orPacket, li, spec.SizeB, 0x3f, spec.JumpJGT, false, 2)
	case "hfisu":
		return g.ncmp(orPacket, lih, spec.SizeH, 0xff80, spec.JumpJEQ, false, 0)
	case "hlssu":
		b0 := g.ncmp(orPacket, lih, spec.SizeH, 0xff80, spec.JumpJGT, true, 0x0100)
		b1 := g.ncmp(orPacket, lih, spec.SizeH, 0xff80, spec.JumpJGT, false, 0)
		return and(b1, b0)
	}
	return g.ncmp(orPacket, lih, spec.SizeH, 0xff80, spec.JumpJGT, false, 0x0100)
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
		return g.ncmp(orPacket, g.offSIO+extra, spec.SizeB, 0xffffffff, op, neg, v)
	case "opc":
		g.assertMax(name, v, 0x3fff)
		return g.ncmp(orPacket, g.offOPC+extra, spec.SizeW, swap32(0x3fff<<14), op, neg, swap32(v<<14))
	case "dpc":
		g.assertMax(name, v, 0x3fff)
		return g.ncmp(orPacket, g.offDPC+extra, spec.SizeH, swap16(0x3fff), op, neg, swap16(v))
	}
	g.assertMax(name, v, 0xf)
	return g.ncmp(orPacket, g.offSLS+extra, spec.SizeB, 0xf<<4, op, neg, v<<4)
}
