package expr

import (
	"strconv"
	"strings"

	"github.com/wringcap/wring/spec"
)

// Code generation: link-layer (MAC-48 and 8-bit ARCnet) host primitives.

func (g *gen) mac48Linktype(lt spec.LinkType) bool {
	switch lt {
	case ltEN10MB, ltFDDI, ltIEEE802, ltIEEE80211, ltRadiotap, ltAVS, ltIPOverFC, ltNetAnalyzer,
		ltNetAnalyzerTr, ltPPI, ltPrism:
		return true
	}
	return g.dsa(lt)
}

func (g *gen) mac48host(e [6]byte, dir int, kw string) pred {
	var b1 *pred
	var src, dst uint32
	switch lt := g.linktype; {
	case g.ethernetLike(lt):
		b1 = g.prevLinkHdrCheck()
		src, dst = 6, 0
	case lt == ltFDDI:
		src, dst = 7, 1
	case lt == ltIEEE802:
		src, dst = 8, 2
	case is80211(lt):
		return g.wlanHostTest(e, dir)
	case lt == ltIPOverFC:
		src, dst = 10, 2
	default:
		g.failKwOnDLT(kw)
	}
	g.assertNonWLANDir(dir)
	var b0 pred
	switch dir {
	case dSrc:
		b0 = g.cmpBytes(orLinkHdr, src, e[:])
	case dDst:
		b0 = g.cmpBytes(orLinkHdr, dst, e[:])
	case dAnd:
		t := g.cmpBytes(orLinkHdr, src, e[:])
		b0 = and(t, g.cmpBytes(orLinkHdr, dst, e[:]))
	default:
		t := g.cmpBytes(orLinkHdr, src, e[:])
		b0 = or(t, g.cmpBytes(orLinkHdr, dst, e[:]))
	}
	if b1 != nil {
		return and(*b1, b0)
	}
	return b0
}

func (g *gen) mac8host(v uint32, dir int, ctx string) pred {
	var src, dst uint32
	switch g.linktype {
	case ltArcnet, ltArcnetLinux:
		src, dst = 0, 1
	case ltBACnet:
		if g.opts.Libpcap110 {
			// libpcap 1.10 has 8-bit addresses on ARCnet only.
			g.failUnsupported("aid supported only on ARCnet")
		}
		src, dst = 4, 3
	default:
		g.failKwOnDLT(ctx)
	}
	switch dir {
	case dSrc:
		return g.cmp(orLinkHdr, src, spec.SizeB, v)
	case dDst:
		return g.cmp(orLinkHdr, dst, spec.SizeB, v)
	case dAnd:
		s := g.cmp(orLinkHdr, src, spec.SizeB, v)
		return and(s, g.cmp(orLinkHdr, dst, spec.SizeB, v))
	}
	s := g.cmp(orLinkHdr, src, spec.SizeB, v)
	return or(s, g.cmp(orLinkHdr, dst, spec.SizeB, v))
}

// parseMAC parses the Ethernet address forms the scanner accepts.
func parseMAC(s string) ([6]byte, bool) {
	var e [6]byte
	var groups []string
	switch {
	case strings.Count(s, ":") == 5:
		groups = strings.Split(s, ":")
	case strings.Count(s, "-") == 5:
		groups = strings.Split(s, "-")
	case strings.Count(s, ".") == 5:
		groups = strings.Split(s, ".")
	case strings.Count(s, ".") == 2 && len(s) == 14:
		t := strings.ReplaceAll(s, ".", "")
		for i := 0; i < 6; i++ {
			groups = append(groups, t[2*i:2*i+2])
		}
	case len(s) == 12:
		for i := 0; i < 6; i++ {
			groups = append(groups, s[2*i:2*i+2])
		}
	default:
		return e, false
	}
	for i, gs := range groups {
		v, err := strconv.ParseUint(gs, 16, 8)
		if err != nil || gs == "" || len(gs) > 2 {
			return e, false
		}
		e[i] = byte(v)
	}
	return e, true
}

// macID generates a MAC-48 address with its qualifiers (libpcap's
// gen_ecode).
func (g *gen) macID(s string, q qual) pred {
	const ctx = "link host XX:XX:XX:XX:XX:XX"
	if !((q.addr == aHost || q.addr == qDefault) && q.proto == pLink) {
		g.fail("Ethernet address used in non-ether expression")
	}
	if !g.mac48Linktype(g.linktype) {
		g.failKwOnDLT(ctx)
	}
	e, ok := parseMAC(s)
	if !ok {
		g.fail("invalid MAC-48 address '%s'", s)
	}
	return g.mac48host(e, q.dir, ctx)
}

// arcnetID generates an 8-bit ARCnet address with its qualifiers
// (libpcap's gen_acode).
func (g *gen) arcnetID(s string, q qual) pred {
	g.assertNonWLANDir(q.dir)
	if q.addr != aHost && q.addr != qDefault {
		g.invalidQual(addrQualName(q.addr), "$XX")
	}
	if q.proto != pLink {
		g.fail("'link' is the only valid proto qualifier for 'host $XX'")
	}
	v, ok := parseMAC8(s)
	if !ok {
		g.fail("invalid MAC-8 address '%s'", s)
	}
	return g.mac8host(uint32(v), q.dir, "link host $XX")
}

func (g *gen) mac48ByName(name string, dir int, ctx string) pred {
	if !g.mac48Linktype(g.linktype) {
		g.failKwOnDLT(ctx)
	}
	var e [6]byte
	ok := false
	if g.opts.Resolver != nil {
		e, ok = g.opts.Resolver.LookupEther(name)
	} else {
		x := g.valueAt().errf("cannot resolve Ethernet host name '%s': name resolution is off", name)
		x.Err = ErrNoResolver
		panic(genError{x})
	}
	if !ok {
		g.fail("unknown Ethernet-like host '%s'", name)
	}
	return g.mac48host(e, dir, ctx)
}

// parseMAC8 parses an ARCnet (MAC-8) address "$xx" of one or two hex
// digits.
func parseMAC8(s string) (uint8, bool) {
	if len(s) < 2 || len(s) > 3 || s[0] != '$' {
		return 0, false
	}
	v, err := strconv.ParseUint(s[1:], 16, 8)
	return uint8(v), err == nil
}
