package expr

import (
	"fmt"
	"strings"

	"github.com/wringcap/wring/spec"
)

// Code generation (gen_* files for protocols, link_* files for link-layer
// families): the generator's state, packet loads relative to the link-layer
// and network headers, and the compare helpers every primitive uses.

type ins = spec.Instruction

const notSet = ^uint32(0) // libpcap's OFFSET_NOT_SET

// absOff is an offset from the start of the packet: a constant part plus,
// when variable, the value kept in a scratch register.
type absOff struct {
	c        uint32
	variable bool
	reg      int
}

// offset relative to what a load is made.
type offrel int

const (
	orPacket offrel = iota
	orLinkHdr
	orPrevLinkHdr
	orLLC
	orPrevMPLSHdr
	orLinkPL
	orLinkPLNoSnap
	orLinkType
	orTranIPv4
	orTranIPv6
)

// genError carries a compile error out of deep code generation to
// Compile, which recovers it (libpcap longjmps the same way).
type genError struct{ err *Error }

// gen is the state of one compilation.
type gen struct {
	opts Options
	at   span // the node being generated, for errors
	atID span // the identifier of the primitive being generated, for errors about its value

	linktype, outermost, prevlinktype spec.LinkType

	offOutermostLinkHdr, offPrevLinkHdr, offLinkHdr, offLinkPL, offLinkType absOff

	offNL, offNLNoSnap uint32

	isATM                            bool
	offVPI, offVCI, offProto, offPay uint32

	isEncap, isVLANVLOffset bool

	offLI, offLIHSL, offSIO, offOPC, offDPC, offSLS uint32

	labelDepth, vlanDepth int

	regused [spec.MemWords]bool

	// noOptimize is set where libpcap 1.10 turns its optimizer off (and
	// with it "expression rejects all packets"): protochain, geneve, the
	// Prism header, and the 802.11 header length when the program needs
	// the link-layer payload's offset.
	noOptimize bool
}

func (g *gen) fail(format string, args ...any) {
	at := g.at
	if g.atID.end > g.atID.pos && isValueError(format) {
		at = g.atID
	}
	panic(genError{at.errf(format, args...)})
}

// valueAt is where errors about the current primitive's value point.
func (g *gen) valueAt() span {
	if g.atID.end > g.atID.pos {
		return g.atID
	}
	return g.at
}

// isValueError tells messages about an address, number or name (shown
// under the identifier) from messages about qualifiers (shown under the
// whole primitive).
func isValueError(format string) bool {
	for _, p := range []string{"invalid", "non-network", "unknown", "illegal", "mask length", "netmask length",
		"port number", "protocol number", "port '", "port in range", "%s %d greater"} {
		if strings.HasPrefix(format, p) {
			return true
		}
	}
	return false
}

func (g *gen) failUnsupported(format string, args ...any) {
	e := g.at.errf(format, args...)
	e.Err = ErrUnsupported
	panic(genError{e})
}

// allocReg takes a scratch slot for a temporary, the lowest free one.
// Temporaries are freed after use and taken again by later ones.
func (g *gen) allocReg() int {
	for r := 0; r < spec.MemWords; r++ {
		if !g.regused[r] {
			g.regused[r] = true
			return r
		}
	}
	g.fail("too many registers needed to evaluate expression")
	return 0
}

// allocOffsetReg takes a scratch slot for a variable header offset, the
// highest free one. Offsets are computed at the start of the program (or
// where an encapsulation is recognised) and read anywhere after, so their
// slots are never freed, and taking them from the other end keeps them
// apart from temporaries freed earlier in the expression. (libpcap takes
// both from one pool, so a temporary of an earlier part of the expression
// can overwrite an offset the prologue computed: a bug wring does not
// reproduce.)
func (g *gen) allocOffsetReg() int {
	for r := spec.MemWords - 1; r >= 0; r-- {
		if !g.regused[r] {
			g.regused[r] = true
			return r
		}
	}
	g.fail("too many registers needed to evaluate expression")
	return 0
}

func (g *gen) freeReg(r int) { g.regused[r] = false }

func stmt(code uint16, k uint32) ins { return spec.Stmt(code, k) }

func (g *gen) varpart(o *absOff) []ins {
	if !o.variable {
		return nil
	}
	if o.reg < 0 {
		o.reg = g.allocOffsetReg()
	}
	return []ins{stmt(spec.ClassLDX|spec.ModeMEM, uint32(o.reg))}
}

// loadRel loads size bytes at offset relative to a variable part already
// in X (vp non-nil) or from the packet start.
func loadRel(vp []ins, off uint32, size uint16) []ins {
	if vp != nil {
		return append(vp, stmt(spec.ClassLD|spec.ModeIND|size, off))
	}
	if off >= 1<<31 {
		// An offset built from a header offset the link type does not
		// have (libpcap's OFFSET_NOT_SET): the load can only fail, which
		// ends the run with 0. Such a load at a huge offset would read
		// Linux ancillary data instead, so mark it; assemble turns it
		// into the return of 0.
		return []ins{{Op: abortOp, Jt: uint8(spec.ClassLD | spec.ModeABS | size), K: off}}
	}
	return []ins{stmt(spec.ClassLD|spec.ModeABS|size, off)}
}

// abortOp marks a load that always fails (an invalid opcode, replaced by
// a jump to "ret #0" when the program is laid out); Jt keeps the load's
// opcode and K its offset.
const abortOp = 0xffff

// loadA loads size bytes at offset relative to rel into A.
func (g *gen) loadA(rel offrel, off uint32, size uint16) []ins {
	var vp []ins
	switch rel {
	case orPacket:
		// Absolute offsets, including Linux ancillary loads.
		return []ins{stmt(spec.ClassLD|spec.ModeABS|size, off)}
	case orLinkHdr:
		vp = g.varpart(&g.offLinkHdr)
		off += g.offLinkHdr.c
	case orPrevLinkHdr:
		vp = g.varpart(&g.offPrevLinkHdr)
		off += g.offPrevLinkHdr.c
	case orLLC:
		vp = g.varpart(&g.offLinkPL)
		off += g.offLinkPL.c
	case orPrevMPLSHdr:
		vp = g.varpart(&g.offLinkPL)
		off += g.offLinkPL.c + g.offNL - 4
	case orLinkPL:
		vp = g.varpart(&g.offLinkPL)
		off += g.offLinkPL.c + g.offNL
	case orLinkPLNoSnap:
		vp = g.varpart(&g.offLinkPL)
		off += g.offLinkPL.c + g.offNLNoSnap
	case orLinkType:
		vp = g.varpart(&g.offLinkType)
		off += g.offLinkType.c
	case orTranIPv4:
		vp = g.loadxIPHdrLen()
		off += g.offLinkPL.c + g.offNL
	case orTranIPv6:
		vp = g.varpart(&g.offLinkPL)
		off += g.offLinkPL.c + g.offNL + 40
	}
	return loadRel(vp, off, size)
}

// loadxIPHdrLen puts the offset of the IPv4 transport header, relative to
// the link payload's constant part, in X.
func (g *gen) loadxIPHdrLen() []ins {
	vp := g.varpart(&g.offLinkPL)
	if vp != nil {
		return append(vp,
			stmt(spec.ClassLD|spec.ModeIND|spec.SizeB, g.offLinkPL.c+g.offNL),
			stmt(spec.ClassALU|spec.ALUAnd|spec.SrcK, 0xf),
			stmt(spec.ClassALU|spec.ALULsh|spec.SrcK, 2),
			stmt(spec.ClassALU|spec.ALUAdd|spec.SrcX, 0),
			stmt(spec.ClassMISC|spec.MiscTAX, 0))
	}
	return []ins{stmt(spec.ClassLDX|spec.ModeMSH|spec.SizeB, g.offLinkPL.c+g.offNL)}
}

// cmpOp compares the masked value at rel+off with v using the jump jop,
// reversing the outcome when reverse is set (libpcap's gen_ncmp).
func (g *gen) cmpOp(rel offrel, off uint32, size uint16, mask uint32, jop uint16, reverse bool, v uint32) pred {
	s := g.loadA(rel, off, size)
	if mask != 0xffffffff {
		s = append(s, stmt(spec.ClassALU|spec.ALUAnd|spec.SrcK, mask))
	}
	p := test(s, jop|spec.SrcK, v)
	if reverse {
		p = not(p)
	}
	return p
}

func (g *gen) cmp(rel offrel, off uint32, size uint16, v uint32) pred {
	return g.cmpOp(rel, off, size, 0xffffffff, spec.JumpJEQ, false, v)
}

func (g *gen) cmpNE(rel offrel, off uint32, size uint16, v uint32) pred {
	return not(g.cmp(rel, off, size, v))
}

func (g *gen) cmpGT(rel offrel, off uint32, size uint16, v uint32) pred {
	return g.cmpOp(rel, off, size, 0xffffffff, spec.JumpJGT, false, v)
}

func (g *gen) cmpGE(rel offrel, off uint32, size uint16, v uint32) pred {
	return g.cmpOp(rel, off, size, 0xffffffff, spec.JumpJGE, false, v)
}

func (g *gen) cmpLT(rel offrel, off uint32, size uint16, v uint32) pred {
	return g.cmpOp(rel, off, size, 0xffffffff, spec.JumpJGE, true, v)
}

func (g *gen) cmpLE(rel offrel, off uint32, size uint16, v uint32) pred {
	return g.cmpOp(rel, off, size, 0xffffffff, spec.JumpJGT, true, v)
}

// cmpMasked compares the value at rel+off, under mask, with v (libpcap's
// gen_mcmp).
func (g *gen) cmpMasked(rel offrel, off uint32, size uint16, v, mask uint32) pred {
	if mask == 0 && !g.opts.noFold {
		return g.uncond(v == 0)
	}
	return g.cmpOp(rel, off, size, mask, spec.JumpJEQ, false, v)
}

// jsetTest is true when the value at rel+off has any bit of mask set.
func (g *gen) jsetTest(rel offrel, off uint32, size uint16, mask uint32) pred {
	return test(g.loadA(rel, off, size), spec.JumpJSET|spec.SrcK, mask)
}

// cmpBytes compares a byte string at rel+off, a word or half word at a time
// from the end, as libpcap does (gen_bcmp).
func (g *gen) cmpBytes(rel offrel, off uint32, b []byte) pred {
	var res pred
	have := false
	size := uint32(len(b))
	add := func(p pred) {
		if have {
			res = and(res, p)
		} else {
			res, have = p, true
		}
	}
	for size >= 4 {
		p := b[size-4:]
		w := uint32(p[0])<<24 | uint32(p[1])<<16 | uint32(p[2])<<8 | uint32(p[3])
		add(g.cmp(rel, off+size-4, spec.SizeW, w))
		size -= 4
	}
	for size >= 2 {
		p := b[size-2:]
		add(g.cmp(rel, off+size-2, spec.SizeH, uint32(p[0])<<8|uint32(p[1])))
		size -= 2
	}
	if size > 0 {
		add(g.cmp(rel, off, spec.SizeB, uint32(b[0])))
	}
	return res
}

// Constant predicates (libpcap's gen_true/gen_false: ld #x; jeq #0).
func (g *gen) uncond(v bool) pred {
	k := uint32(1)
	if v {
		k = 0
	}
	p := test([]ins{stmt(spec.ClassLD|spec.ModeIMM, k)}, spec.JumpJEQ|spec.SrcK, 0)
	if g.opts.noFold {
		return p
	}
	if v {
		p.meaning = isTrue
	} else {
		p.meaning = isFalse
	}
	return p
}

func (g *gen) gtrue() pred { return g.uncond(true) }

func (g *gen) gfalse() pred { return g.uncond(false) }

func (g *gen) internal(format string, args ...any) {
	panic(genError{g.at.errf("internal error: %s", fmt.Sprintf(format, args...))})
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
