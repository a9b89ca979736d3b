package expr

import "github.com/wringcap/wring/spec"

// Code generation: the keyword primitives (libpcap's "other" rule),
// dispatched to the file of their protocol family.

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
	case "ifname", "ruleset", "rnr", "srnr", "reason", "action":
		return g.pflog(n)
	case "wlantype", "wlandir":
		return g.wlanField(n)
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
