package expr

import "github.com/wringcap/wring/spec"

// Code generation: protochain, unrolled to a bounded depth.

// DefaultProtochainDepth is how many IPv6 extension headers (and IPsec AH
// headers) `protochain` follows before it gives up, unless
// Options.ProtochainDepth says otherwise; MaxProtochainDepth is the most
// it may be set to.
//
// libpcap compiles protochain to a loop with a backward jump, which the
// verifier (like Linux's classic checker) rejects because it cannot prove
// termination. wring unrolls the loop instead: the program follows up to
// that many headers and then compares the protocol of the header it
// stopped at. On packets with at most that many extension headers the
// verdict is libpcap's; with more, protochain does not match where
// libpcap's loop would have gone on looking. Each IPv6 step costs about
// 27 instructions (13 for IPv4), so the depth is a trade between program
// size and how pathological a header chain may be.
//
// ProtochainDeepest asks for the deepest walk that fits in the
// instruction limit (see Options.ProtochainDepth): with it, programs
// follow 128 IPv6 extension headers when protochain is used once on IPv6,
// and fewer when the expression needs more room (an unqualified
// protochain walks both IPv4 and IPv6).
const (
	DefaultProtochainDepth = 8
	MaxProtochainDepth     = 128
	ProtochainDeepest      = -1
)

// protochain matches packets whose chain of IPv4/IPv6 headers contains
// protocol v (libpcap's gen_protochain, loop unrolled).
func (g *gen) protochain(v uint32, proto int) pred {
	switch proto {
	case pIP, pIPv6:
		g.assertMax111("protocol number", v, 0xff)
	case qDefault:
		b0 := g.protochain(v, pIP)
		return or(b0, g.protochain(v, pIPv6))
	default:
		g.invalidQual(protoQualName(proto), "protochain")
	}
	if g.offLinkPL.variable {
		g.fail("'protochain' not supported with variable length headers")
	}
	g.noOptimize = true
	reg := g.allocReg()
	defer g.freeReg(reg)
	nl := g.offLinkPL.c + g.offNL
	var b0 pred
	var start []ins
	if proto == pIP {
		b0 = g.linktypeTest(etIP)
		start = append(g.loadA(orLinkPL, 9, spec.SizeB), g.loadxIPHdrLen()...)
	} else {
		b0 = g.linktypeTest(etIPv6)
		start = append(g.loadA(orLinkPL, 6, spec.SizeB), stmt(spec.ClassLDX|spec.ModeIMM, 40))
	}
	// The final test: is the protocol where the walk stopped v?
	end := test(nil, spec.JumpJEQ|spec.SrcK, v)
	jeq := func(k uint32, jt, jf *block) *block {
		return &block{cond: true, op: spec.ClassJMP | spec.JumpJEQ | spec.SrcK, k: k, jt: jt, jf: jf}
	}
	next := end.head
	depth := g.opts.ProtochainDepth
	if depth <= 0 {
		depth = DefaultProtochainDepth
	}
	if depth > MaxProtochainDepth {
		g.fail("protochain depth %d greater than maximum %d", depth, MaxProtochainDepth)
	}
	for i := 0; i < depth; i++ {
		// One step of the walk, entered with A = next header type and
		// X = offset of that header from the network header.
		ah := &block{jt: next, stmts: []ins{
			stmt(spec.ClassLD|spec.ModeIND|spec.SizeB, nl),
			stmt(spec.ClassST, uint32(reg)),
			stmt(spec.ClassMISC|spec.MiscTXA, 0),
			stmt(spec.ClassALU|spec.ALUAdd|spec.SrcK, 1),
			stmt(spec.ClassMISC|spec.MiscTAX, 0),
			stmt(spec.ClassLD|spec.ModeIND|spec.SizeB, nl),
			stmt(spec.ClassALU|spec.ALUAdd|spec.SrcK, 2),
			stmt(spec.ClassALU|spec.ALUMul|spec.SrcK, 4),
			stmt(spec.ClassMISC|spec.MiscTAX, 0),
			stmt(spec.ClassLD|spec.ModeMEM, uint32(reg)),
		}}
		ahcheck := jeq(ipprotoAH, ah, end.head)
		var afterNone *block = ahcheck
		if proto == pIPv6 {
			adv := &block{jt: next, stmts: []ins{
				stmt(spec.ClassLD|spec.ModeIND|spec.SizeB, nl),
				stmt(spec.ClassST, uint32(reg)),
				stmt(spec.ClassLD|spec.ModeIND|spec.SizeB, nl+1),
				stmt(spec.ClassALU|spec.ALUAdd|spec.SrcK, 1),
				stmt(spec.ClassALU|spec.ALUMul|spec.SrcK, 8),
				stmt(spec.ClassALU|spec.ALUAdd|spec.SrcX, 0),
				stmt(spec.ClassMISC|spec.MiscTAX, 0),
				stmt(spec.ClassLD|spec.ModeMEM, uint32(reg)),
			}}
			frag := jeq(ipprotoFragment, adv, ahcheck)
			routing := jeq(ipprotoRouting, adv, frag)
			dst := jeq(ipprotoDstOpts, adv, routing)
			afterNone = jeq(ipprotoHopOpts, adv, dst)
		}
		none := jeq(ipprotoNone, end.head, afterNone)
		next = jeq(v, end.head, none)
	}
	first := &block{stmts: start, jt: next}
	return and(b0, pred{head: first, t: end.t, f: end.f})
}
