package expr

import "github.com/wringcap/wring/spec"

// Code generation: OpenBSD pf log header fields.

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

func (g *gen) assertPflog(kw string) {
	if g.linktype != ltPFLog {
		g.failUnsupported("'%s' supported only on PFLOG linktype", kw)
	}
}

// pflog generates the pf log header primitives: ifname, ruleset, rnr,
// srnr, reason and action.
func (g *gen) pflog(n *nOther) pred {
	switch n.what {
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
		return g.cmpBytes(orLinkHdr, off, []byte(n.s))
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
	}
	g.internal("unknown pflog primitive %q", n.what)
	return pred{}
}
