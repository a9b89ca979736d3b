package optimize

import (
	"math/rand/v2"
	"testing"

	"github.com/wringcap/wring/spec"
)

// prog builds a program from {op, jt, jf, k} rows (tcpdump -dd's layout).
func prog(rows ...[4]uint32) spec.Program {
	p := make(spec.Program, len(rows))
	for i, r := range rows {
		p[i] = spec.Instruction{Op: uint16(r[0]), Jt: uint8(r[1]), Jf: uint8(r[2]), K: r[3]}
	}
	return p
}

// portPrograms are the shapes hoist and share work on. tcpPort80 is
// `tcp port 80` on Ethernet as share left it before hoist existed: the
// IPv6 branch sets X = 40 and jumps into the IPv4 port tests. tcpDstPort25
// is `tcp dst port 25`, whose IPv6 branch still loads its port at an
// absolute offset. fddiDst is `dst 10.0.0.2` on FDDI: the IPv4 and ARP
// address tests differ only by their offsets.
var (
	tcpPort80 = prog(
		[4]uint32{0x28, 0, 0, 12}, [4]uint32{0x15, 0, 4, 0x86dd}, [4]uint32{0x30, 0, 0, 20},
		[4]uint32{0x15, 0, 13, 6}, [4]uint32{0x01, 0, 0, 40}, [4]uint32{0x05, 0, 0, 6},
		[4]uint32{0x15, 0, 10, 0x800}, [4]uint32{0x30, 0, 0, 23}, [4]uint32{0x15, 0, 8, 6},
		[4]uint32{0x28, 0, 0, 20}, [4]uint32{0x45, 6, 0, 0x1fff}, [4]uint32{0xb1, 0, 0, 14},
		[4]uint32{0x48, 0, 0, 14}, [4]uint32{0x15, 2, 0, 80}, [4]uint32{0x48, 0, 0, 16},
		[4]uint32{0x15, 0, 1, 80}, [4]uint32{0x06, 0, 0, 0x40000}, [4]uint32{0x06, 0, 0, 0})
	tcpDstPort25 = prog(
		[4]uint32{0x28, 0, 0, 12}, [4]uint32{0x15, 0, 4, 0x86dd}, [4]uint32{0x30, 0, 0, 20},
		[4]uint32{0x15, 0, 11, 6}, [4]uint32{0x28, 0, 0, 56}, [4]uint32{0x15, 8, 9, 25},
		[4]uint32{0x15, 0, 8, 0x800}, [4]uint32{0x30, 0, 0, 23}, [4]uint32{0x15, 0, 6, 6},
		[4]uint32{0x28, 0, 0, 20}, [4]uint32{0x45, 4, 0, 0x1fff}, [4]uint32{0xb1, 0, 0, 14},
		[4]uint32{0x48, 0, 0, 16}, [4]uint32{0x15, 0, 1, 25}, [4]uint32{0x06, 0, 0, 0x40000},
		[4]uint32{0x06, 0, 0, 0})
	fddiDst = prog(
		[4]uint32{0x28, 0, 0, 19}, [4]uint32{0x15, 0, 2, 0x800}, [4]uint32{0x20, 0, 0, 37},
		[4]uint32{0x15, 4, 5, 0x0a000002}, [4]uint32{0x15, 1, 0, 0x806}, [4]uint32{0x15, 0, 3, 0x8035},
		[4]uint32{0x20, 0, 0, 45}, [4]uint32{0x15, 0, 1, 0x0a000002}, [4]uint32{0x06, 0, 0, 0x40000},
		[4]uint32{0x06, 0, 0, 0})
)

// aimed returns n packets of random lengths up to max whose bytes at the
// program's absolute loads often equal what the next jump compares with,
// with X-relative loads aimed at for X = 20 and 40.
func aimed(r *rand.Rand, p spec.Program, n, maxLen int) ([][]byte, []uint32) {
	pkts := make([][]byte, n)
	wires := make([]uint32, n)
	for i := range pkts {
		pkt := make([]byte, maxLen)
		for j := range pkt {
			pkt[j] = byte(r.Uint32())
		}
		pkt[14] = 0x45 // IPv4 header length 20 at Ethernet's offset
		if r.IntN(2) == 0 {
			pkt[20], pkt[21] = 0, 0 // not a fragment
		}
		for pc := 0; pc+1 < len(p); pc++ {
			ld, j := p[pc], p[pc+1]
			if ld.Class() != spec.ClassLD || j.Class() != spec.ClassJMP || j.Src() != spec.SrcK || r.IntN(3) == 0 {
				continue
			}
			k := int(ld.K)
			switch ld.Mode() {
			case spec.ModeABS:
			case spec.ModeIND:
				k += []int{20, 40}[r.IntN(2)]
			default:
				continue
			}
			size := map[uint16]int{spec.SizeB: 1, spec.SizeH: 2, spec.SizeW: 4}[ld.Size()]
			if k+size > len(pkt) {
				continue
			}
			for b := 0; b < size; b++ {
				pkt[k+b] = byte(j.K >> (8 * (size - 1 - b)))
			}
		}
		pkt = pkt[:r.IntN(maxLen+1)]
		pkts[i], wires[i] = pkt, uint32(len(pkt))
	}
	return pkts, wires
}

// countOp returns how many instructions of p have opcode op.
func countOp(p spec.Program, op uint16) int {
	n := 0
	for _, ins := range p {
		if ins.Op == op {
			n++
		}
	}
	return n
}

// TestHoistPortPrograms: the blocks that only set X (or would, for the
// IPv6 branch of tcpDstPort25 and the IPv4 branch of fddiDst) disappear, the
// programs get shorter and keep their results.
func TestHoistPortPrograms(t *testing.T) {
	r := rand.New(rand.NewPCG(5, 6))
	const ja = spec.ClassJMP | spec.JumpJA
	for _, c := range []struct {
		name string
		p    spec.Program
		pass []Pass
	}{
		{"tcp port 80, hoist alone", tcpPort80, []Pass{Hoist}},
		{"tcp port 80", tcpPort80, Passes()},
		{"tcp dst port 25", tcpDstPort25, Passes()},
		{"FDDI dst 10.0.0.2", fddiDst, Passes()},
	} {
		q, err := Run(c.p, c.pass...)
		if err != nil {
			t.Fatalf("%s: %v", c.name, err)
		}
		pkts, wires := aimed(r, c.p, 3000, 80)
		checkSame(t, c.p, q, pkts, wires, true)
		if len(q) >= len(c.p) {
			t.Errorf("%s: %d instructions, not fewer than the input's %d\n%s", c.name, len(q), len(c.p), listing(q))
		}
		if countOp(q, ja) != 0 {
			t.Errorf("%s: a ja is left\n%s", c.name, listing(q))
		}
	}
}

// TestHoistKeepsLiveX: where another path reads X, the `ldx` may not move
// above the branch; the program must keep its results (returning X on the
// other path tells the difference).
func TestHoistKeepsLiveX(t *testing.T) {
	r := rand.New(rand.NewPCG(7, 8))
	p := append(spec.Program(nil), tcpPort80...)
	// The IPv6 branch's failed protocol test (pc 3) returns X instead
	// of 0: `txa; ret a` at the end, where X still holds its initial 0.
	p = append(p, spec.Stmt(spec.ClassMISC|spec.MiscTXA, 0), spec.Stmt(spec.ClassRET|spec.RetA, 0))
	p[3].Jf = uint8(len(p) - 2 - 4)
	if err := wellFormed(p); err != nil {
		t.Fatalf("test input malformed: %v\n%s", err, listing(p))
	}
	pkts, wires := aimed(r, p, 3000, 80)
	for _, passes := range [][]Pass{{Hoist}, Passes()} {
		q, err := Run(p, passes...)
		if err != nil {
			t.Fatal(err)
		}
		checkSame(t, p, q, pkts, wires, false)
	}
}

// TestHoistShapes: random programs of the shape hoist works on (tests,
// a block that sets X to a constant and jumps, X-relative loads after, and
// paths that read or set X elsewhere) keep their results under hoist
// alone and under every pass.
func TestHoistShapes(t *testing.T) {
	r := rand.New(rand.NewPCG(9, 10))
	pkts, wires := randPackets(r, 200)
	hoisted := 0
	n := 2000
	if testing.Short() {
		n = 200
	}
	for i := 0; i < n; i++ {
		p := hoistShape(r)
		if err := wellFormed(p); err != nil {
			t.Fatalf("test input malformed: %v\n%s", err, listing(p))
		}
		more, mw := aimed(r, p, 100, 64)
		all, allw := append(append([][]byte(nil), pkts...), more...), append(append([]uint32(nil), wires...), mw...)
		q, err := Run(p, Hoist)
		if err != nil {
			t.Fatal(err)
		}
		checkSame(t, p, q, all, allw, true)
		if laid, err := Run(p); err != nil {
			t.Fatal(err)
		} else if len(q) < len(laid) {
			hoisted++
		}
		checkSame(t, p, Program(p), all, allw, true)
	}
	if hoisted == 0 || hoisted == n {
		// Some programs read X on the other path or set it on the
		// way, so neither none nor all may change.
		t.Errorf("hoist shortened %d of %d programs", hoisted, n)
	}
	t.Logf("hoist alone shortened %d of %d programs (against the same program laid out again)", hoisted, n)
}

// hoistShape returns a random program: a test on A, then on one side a
// test and a block `ldx #c; ja S`, on the other a test and a block that
// sets X from the packet and falls into S; S loads X-relative and
// returns. Random extra statements read or write X on the way.
func hoistShape(r *rand.Rand) spec.Program {
	ldb := func(k uint32) spec.Instruction { return spec.Stmt(spec.ClassLD|spec.SizeB|spec.ModeABS, k) }
	jeq := func(k uint32, jt, jf uint8) spec.Instruction {
		return spec.Jump(spec.ClassJMP|spec.JumpJEQ, k, jt, jf)
	}
	extra := func() []spec.Instruction {
		switch r.IntN(6) {
		case 0:
			return []spec.Instruction{spec.Stmt(spec.ClassLDX|spec.SizeW|spec.ModeIMM, uint32(r.IntN(3)))}
		case 1:
			return []spec.Instruction{spec.Stmt(spec.ClassMISC|spec.MiscTXA, 0)}
		case 2:
			return []spec.Instruction{spec.Stmt(spec.ClassLD|spec.SizeB|spec.ModeIND, uint32(r.IntN(4)))}
		}
		return nil
	}
	// Layout (offsets filled below):
	//   pre  ldb [0]; jeq #1 -> A, B
	//   A:   extraA; ldb [1]; jeq #2 -> C, E
	//   E:   extraE; ldb [5]; jeq #6 -> C, RZ or RX
	//   C:   ldx #c; ja S
	//   B:   extraB; ldb [2]; jeq #3 -> D, RX
	//   D:   ldxb 4*([3]&0xf)
	//   S:   extraS; ldb [x+4]; jeq #5 -> R1, RZ
	//   R1:  ret #1
	//   RX:  txa; ret a   (or ret #0)
	//   RZ:  ret #0
	var p spec.Program
	p = append(p, extra()...)
	p = append(p, ldb(0), jeq(1, 0, 0))
	jPre := len(p) - 1
	a := len(p)
	p = append(p, extra()...)
	p = append(p, ldb(1), jeq(2, 0, 0))
	jA := len(p) - 1
	e := len(p)
	p = append(p, extra()...)
	p = append(p, ldb(5), jeq(6, 0, 0))
	jE := len(p) - 1
	p = append(p, spec.Stmt(spec.ClassLDX|spec.SizeW|spec.ModeIMM, uint32(r.IntN(3)*4)), spec.Stmt(spec.ClassJMP|spec.JumpJA, 0))
	jaC := len(p) - 1
	b := len(p)
	p = append(p, extra()...)
	p = append(p, ldb(2), jeq(3, 0, 0))
	jB := len(p) - 1
	p = append(p, spec.Stmt(spec.ClassLDX|spec.SizeB|spec.ModeMSH, 3))
	s := len(p)
	p = append(p, extra()...)
	p = append(p, spec.Stmt(spec.ClassLD|spec.SizeB|spec.ModeIND, 4), jeq(5, 0, 0))
	jS := len(p) - 1
	r1 := len(p)
	p = append(p, spec.Stmt(spec.ClassRET|spec.RetK, 1))
	rx := len(p)
	if r.IntN(2) == 0 {
		p = append(p, spec.Stmt(spec.ClassMISC|spec.MiscTXA, 0), spec.Stmt(spec.ClassRET|spec.RetA, 0))
	} else {
		p = append(p, spec.Stmt(spec.ClassRET|spec.RetK, 0))
	}
	rz := len(p)
	p = append(p, spec.Stmt(spec.ClassRET|spec.RetK, 0))
	set := func(pc, t, f int) { p[pc].Jt, p[pc].Jf = uint8(t-pc-1), uint8(f-pc-1) }
	set(jPre, a, b)
	set(jA, jaC-1, e)
	set(jE, jaC-1, rz)
	if r.IntN(2) == 0 {
		set(jE, jaC-1, rx)
	}
	p[jaC].K = uint32(s - jaC - 1)
	set(jB, jB+1, rx)
	set(jS, r1, rz)
	return p
}

// TestNarrowShapes: random masked comparisons (every byte window, jeq, jgt
// and jge, constants near the edges) followed by a second load or a
// return, checked on packets of every length around the loads: narrow
// alone and the whole pipeline keep the results, including on packets too
// short for the wide load.
func TestNarrowShapes(t *testing.T) {
	r := rand.New(rand.NewPCG(11, 12))
	masks4 := []uint32{0xff000000, 0x00ff0000, 0x0000ff00, 0x000000ff, 0xffff0000, 0x00ffff00, 0x0000ffff, 0xffffff00, 0x0ff00000}
	masks2 := []uint32{0xff00, 0x00ff, 0x0ff0}
	ops := []uint16{spec.JumpJEQ, spec.JumpJGT, spec.JumpJGE}
	narrowed := 0
	n := 3000
	if testing.Short() {
		n = 300
	}
	for i := 0; i < n; i++ {
		size, mask := uint16(spec.SizeW), masks4[r.IntN(len(masks4))]
		if r.IntN(3) == 0 {
			size, mask = spec.SizeH, masks2[r.IntN(len(masks2))]
		}
		k := uint32(r.IntN(8))
		var c uint32
		switch r.IntN(4) {
		case 0:
			c = mask
		case 1:
			c = mask & r.Uint32()
		case 2:
			c = r.Uint32()
		default:
			c = (mask & r.Uint32()) + uint32(r.IntN(3)) - 1
		}
		var p spec.Program
		if r.IntN(3) == 0 {
			// An earlier load that may already cover the wide one.
			p = append(p, spec.Stmt(spec.ClassLD|spec.SizeB|spec.ModeABS, uint32(r.IntN(14))))
		}
		p = append(p,
			spec.Stmt(spec.ClassLD|size|spec.ModeABS, k),
			spec.Stmt(spec.ClassALU|spec.ALUAnd|spec.SrcK, mask),
			spec.Jump(spec.ClassJMP|ops[r.IntN(len(ops))], c, 0, 2))
		// True: a second load (which may cover the first), then return
		// 1; false: return 0 or 2. The second load is a masked
		// comparison of its own half of the time (each of the two may
		// justify narrowing the other, but not both at once).
		k2 := uint32(r.IntN(12))
		p = append(p,
			spec.Stmt(spec.ClassLD|spec.SizeB|spec.ModeABS, k2),
			spec.Stmt(spec.ClassRET|spec.RetK, 1))
		switch r.IntN(3) {
		case 0:
			p[len(p)-2] = spec.Stmt(spec.ClassLD|spec.SizeW|spec.ModeIMM, 7)
		case 1:
			m2 := masks4[r.IntN(len(masks4))]
			p = p[:len(p)-2]
			p[len(p)-1].Jf = 4
			p = append(p,
				spec.Stmt(spec.ClassLD|spec.SizeW|spec.ModeABS, k2),
				spec.Stmt(spec.ClassALU|spec.ALUAnd|spec.SrcK, m2),
				spec.Jump(spec.ClassJMP|spec.JumpJEQ, m2&c, 0, 1),
				spec.Stmt(spec.ClassRET|spec.RetK, 1))
		}
		p = append(p, spec.Stmt(spec.ClassRET|spec.RetK, uint32(r.IntN(2)*2)))
		if r.IntN(4) == 0 {
			// A is read after the jump: no narrowing.
			p[len(p)-1] = spec.Stmt(spec.ClassRET|spec.RetA, 0)
		}
		var pkts [][]byte
		var wires []uint32
		for l := 0; l <= 16; l++ {
			for rep := 0; rep < 6; rep++ {
				pkt := make([]byte, l)
				for j := range pkt {
					pkt[j] = byte(r.Uint32())
				}
				if rep < 4 {
					// The loaded bytes hold the constant, or one
					// more or less.
					v := c + uint32(rep%3) - 1
					w := 4
					if size == spec.SizeH {
						w = 2
					}
					for b := 0; b < w && int(k)+b < l; b++ {
						pkt[int(k)+b] = byte(v >> (8 * (w - 1 - b)))
					}
				}
				pkts, wires = append(pkts, pkt), append(wires, uint32(l))
			}
		}
		q, err := Run(p, Narrow)
		if err != nil {
			t.Fatal(err)
		}
		checkSame(t, p, q, pkts, wires, true)
		if countOp(q, spec.ClassALU|spec.ALUAnd|spec.SrcK) == 0 {
			narrowed++
		}
		checkSame(t, p, Program(p), pkts, wires, true)
	}
	if narrowed == 0 {
		t.Errorf("narrow changed none of %d programs", n)
	}
	t.Logf("narrow removed the mask of %d of %d programs", narrowed, n)
}
