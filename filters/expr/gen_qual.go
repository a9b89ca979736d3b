package expr

import (
	"strconv"

	"github.com/wringcap/wring/spec"
)

// Code generation: qualifier names and the checks of qualifier use.

// protoQualName names a protocol qualifier for a message (libpcap's pqkw).
func protoQualName(p int) string {
	if p == qDefault {
		return "default"
	}
	if s, ok := protoQualWords[p]; ok {
		return s
	}
	return "?"
}

// dirQualName names a direction qualifier for a message (libpcap's dqkw).
func dirQualName(d int) string { return dirQualWords[d] }

// addrQualName names an address-type qualifier for a message (libpcap's
// tqkw).
func addrQualName(a int) string {
	if a == qDefault {
		return "default"
	}
	return addrQualWords[a]
}

func (g *gen) invalidQual(a, b string) { g.fail("'%s' is not a valid qualifier for '%s'", a, b) }

func (g *gen) assertNonWLANDir(d int) {
	switch d {
	case dSrc, dDst, dAnd, qDefault, dOr:
		return
	}
	g.fail("'%s' is valid for 802.11 syntax only", dirQualName(d))
}

func (g *gen) failKwOnDLT(kw string) {
	g.failUnsupported("'%s' not supported on %s", kw, dltName(g.linktype))
}

// dltName is how libpcap names a link type in messages (DLT_EN10MB).
func dltName(t spec.LinkType) string {
	n := linkName(t)
	if _, err := strconv.Atoi(n); err == nil {
		return "DLT " + n
	}
	return "DLT_" + n
}
