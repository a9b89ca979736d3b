package expr

import "github.com/wringcap/wring/spec"

// Link-layer families: variable-length link-layer headers (radiotap,
// PPI, AVS, Prism) whose length is computed at the start of the program.

// vloffsetPrologue returns a function that puts, in front of the program,
// the code computing the variable link-layer offsets the program uses
// (radiotap, PPI, Prism and AVS header lengths, the 802.11 header length,
// the pflog header length), or nil when there are none (libpcap's
// insert_compute_vloffsets).
func (g *gen) vloffsetPrologue() func(pred) pred {
	if g.offLinkPL.reg != -1 && g.offLinkHdr.variable && g.offLinkHdr.reg == -1 {
		g.offLinkHdr.reg = g.allocOffsetReg()
	}
	// libpcap 1.10 generates these with jumps inside statement lists,
	// which its optimizer cannot take: it turns the optimizer off.
	switch g.outermost {
	case ltPrism:
		g.noOptimize = true
	case ltIEEE80211, ltAVS, ltRadiotap, ltPPI:
		if g.offLinkPL.reg != -1 {
			g.noOptimize = true
		}
	}
	ld := func(size uint16, k uint32) ins { return stmt(spec.ClassLD|spec.ModeABS|size, k) }
	jset := func(k uint32, jt, jf *block) *block {
		return &block{cond: true, op: spec.ClassJMP | spec.JumpJSET | spec.SrcK, k: k, jt: jt, jf: jf}
	}
	return func(p pred) pred {
		next := p.head
		var head *block             // first block of the prefix, if any
		var tail *block             // last block of the prefix, falls through to what follows
		link := func(h, t *block) { // append a straight chain h..t
			if head == nil {
				head = h
			} else {
				tail.jt = h
			}
			tail = t
		}
		hdrReg := uint32(g.offLinkHdr.reg)
		plReg := uint32(g.offLinkPL.reg)
		switch g.outermost {
		case ltPrism:
			if g.offLinkHdr.reg != -1 {
				p3 := &block{stmts: []ins{stmt(spec.ClassST, hdrReg), stmt(spec.ClassMISC|spec.MiscTAX, 0)}}
				p1 := &block{stmts: []ins{ld(spec.SizeW, 4)}, jt: p3}
				p2 := &block{stmts: []ins{stmt(spec.ClassLD|spec.ModeIMM, 144)}, jt: p3}
				p0 := &block{stmts: []ins{ld(spec.SizeW, 0), stmt(spec.ClassALU|spec.ALUAnd|spec.SrcK, 0xfffff000)},
					cond: true, op: spec.ClassJMP | spec.JumpJEQ | spec.SrcK, k: 0x80211000, jt: p1, jf: p2}
				head, tail = p0, p3
			}
		case ltAVS:
			if g.offLinkHdr.reg != -1 {
				b := &block{stmts: []ins{ld(spec.SizeW, 4), stmt(spec.ClassST, hdrReg), stmt(spec.ClassMISC|spec.MiscTAX, 0)}}
				link(b, b)
			}
		case ltRadiotap, ltPPI:
			if g.offLinkHdr.reg != -1 {
				b := &block{stmts: []ins{ld(spec.SizeB, 3), stmt(spec.ClassALU|spec.ALULsh|spec.SrcK, 8),
					stmt(spec.ClassMISC|spec.MiscTAX, 0), ld(spec.SizeB, 2), stmt(spec.ClassALU|spec.ALUOr|spec.SrcX, 0),
					stmt(spec.ClassST, hdrReg), stmt(spec.ClassMISC|spec.MiscTAX, 0)}}
				link(b, b)
			}
		}
		switch g.outermost {
		case ltIEEE80211, ltPrism, ltAVS, ltRadiotap, ltPPI:
			if g.offLinkPL.reg == -1 {
				break
			}
			var s []ins
			if head == nil {
				s = append(s, stmt(spec.ClassLDX|spec.ModeIMM, g.offOutermostLinkHdr.c))
			}
			s = append(s, stmt(spec.ClassMISC|spec.MiscTXA, 0), stmt(spec.ClassALU|spec.ALUAdd|spec.SrcK, 24),
				stmt(spec.ClassST, plReg), stmt(spec.ClassLD|spec.ModeIND|spec.SizeB, 0))
			var afterQoS *block = next
			if g.linktype == ltRadiotap {
				ru := &block{stmts: []ins{stmt(spec.ClassLD|spec.ModeMEM, plReg), stmt(spec.ClassALU|spec.ALUAdd|spec.SrcK, 3),
					stmt(spec.ClassALU|spec.ALUAnd|spec.SrcK, ^uint32(3)), stmt(spec.ClassST, plReg)}, jt: next}
				r4 := jset(0x20, ru, next)
				r4.stmts = []ins{ld(spec.SizeB, 16)}
				r5 := jset(0x20, ru, next)
				r5.stmts = []ins{ld(spec.SizeB, 8)}
				r3 := jset(0x01000000, r4, r5)
				r2 := jset(0x00000080, next, r3)
				r1 := jset(0x02000000, r2, next)
				r1.stmts = []ins{ld(spec.SizeW, 4)}
				afterQoS = r1
			}
			q := &block{stmts: []ins{stmt(spec.ClassLD|spec.ModeMEM, plReg), stmt(spec.ClassALU|spec.ALUAdd|spec.SrcK, 2),
				stmt(spec.ClassST, plReg)}, jt: afterQoS}
			h2 := jset(0x80, q, afterQoS)
			h1 := jset(0x04, next, h2)
			h0 := jset(0x08, h1, next)
			h0.stmts = s
			if head == nil {
				head = h0
			} else {
				tail.jt = h0
			}
			tail = nil
		case ltPFLog:
			if g.offLinkPL.reg != -1 {
				b := &block{stmts: []ins{ld(spec.SizeB, 0), stmt(spec.ClassALU|spec.ALUAdd|spec.SrcK, 3),
					stmt(spec.ClassALU|spec.ALUAnd|spec.SrcK, 0xfffffffc), stmt(spec.ClassST, plReg),
					stmt(spec.ClassMISC|spec.MiscTAX, 0)}}
				link(b, b)
			}
		}
		if head == nil && g.isVLANVLOffset {
			b := &block{stmts: []ins{stmt(spec.ClassLD|spec.ModeIMM, 0),
				stmt(spec.ClassST, plReg), stmt(spec.ClassST, uint32(g.offLinkType.reg))}}
			head, tail = b, b
		}
		if head == nil {
			return p
		}
		if tail != nil {
			tail.jt = next
		}
		return pred{head: head, t: p.t, f: p.f}
	}
}
