package verifier

import (
	"errors"
	"strings"
	"testing"

	"github.com/wringcap/wring/spec"
)

func stmt(op uint16, k uint32) spec.Instruction { return spec.Stmt(op, k) }
func jmp(op uint16, k uint32, jt, jf uint8) spec.Instruction {
	return spec.Jump(op, k, jt, jf)
}

var (
	retA = stmt(spec.OpRetA, 0)
	ret0 = stmt(spec.OpRetK, 0)
	ret1 = stmt(spec.OpRetK, 1)
)

func TestVerifyRejects(t *testing.T) {
	long := make(spec.Program, spec.MaxInstructions+1)
	for i := range long {
		long[i] = ret1
	}
	tests := []struct {
		name string
		prog spec.Program
		opts Options
		code ErrorCode
		pc   int
	}{
		{"empty", nil, Options{}, ErrEmpty, 0},
		{"4097 instructions", long, Options{}, ErrTooLong, spec.MaxInstructions},
		{"unknown class bits", spec.Program{stmt(0xffff, 0), ret1}, Options{}, ErrInvalidOpcode, 0},
		{"ldx abs", spec.Program{stmt(spec.ClassLDX|spec.ModeABS|spec.SizeW, 0), ret1}, Options{}, ErrInvalidOpcode, 0},
		{"ld imm with size h", spec.Program{stmt(spec.ClassLD|spec.SizeH|spec.ModeIMM, 0), ret1}, Options{}, ErrInvalidOpcode, 0},
		{"ret x", spec.Program{stmt(spec.ClassRET|0x08, 0)}, Options{}, ErrInvalidOpcode, 0},
		{"high opcode bit", spec.Program{stmt(0x100|spec.OpRetK, 0)}, Options{}, ErrInvalidOpcode, 0},
		{"neg with src x", spec.Program{stmt(spec.OpNeg|spec.SrcX, 0), ret1}, Options{}, ErrInvalidOpcode, 0},
		{"div #0", spec.Program{stmt(opDivK, 0), ret1}, Options{}, ErrDivByZero, 0},
		{"mod #0", spec.Program{ret1, stmt(opModK, 0), ret1}, Options{}, ErrDivByZero, 1},
		{"lsh #32", spec.Program{stmt(opLshK, 32), ret1}, Options{}, ErrShiftTooLarge, 0},
		{"rsh #0xffffffff", spec.Program{stmt(opRshK, 0xffffffff), ret1}, Options{}, ErrShiftTooLarge, 0},
		{"st M[16]", spec.Program{stmt(spec.OpSt, 16), ret1}, Options{}, ErrScratchIndex, 0},
		{"ldx M[99]", spec.Program{stmt(spec.OpLdxMem, 99), ret1}, Options{}, ErrScratchIndex, 0},
		{"ja to end", spec.Program{stmt(spec.OpJa, 1), ret1}, Options{}, ErrJumpOutOfRange, 0},
		{"ja huge", spec.Program{stmt(spec.OpJa, 0x7fffffff), ret1}, Options{}, ErrJumpOutOfRange, 0},
		{"ja to itself", spec.Program{ret1, stmt(spec.OpJa, 0xffffffff), ret1}, Options{}, ErrBackwardJump, 1},
		{"ja backward", spec.Program{ret1, ret1, stmt(spec.OpJa, 0xfffffffd), ret1}, Options{}, ErrBackwardJump, 2},
		{"jt past end", spec.Program{jmp(spec.OpJeqK, 0, 1, 0), ret1}, Options{}, ErrJumpOutOfRange, 0},
		{"jf past end", spec.Program{jmp(spec.OpJsetX, 0, 0, 255), ret1}, Options{}, ErrJumpOutOfRange, 0},
		{"no return", spec.Program{stmt(spec.OpLdImm, 1)}, Options{}, ErrNoReturn, 0},
		{"ends in jump", spec.Program{ret1, jmp(spec.OpJeqK, 0, 0, 0)}, Options{}, ErrJumpOutOfRange, 1},
		{"uninit read", spec.Program{stmt(spec.OpLdMem, 3), ret1}, Options{}, ErrUninitScratch, 0},
		{"uninit on one path", spec.Program{
			jmp(spec.OpJeqK, 0, 0, 1),
			stmt(spec.OpSt, 2),
			stmt(spec.OpLdxMem, 2),
			retA,
		}, Options{}, ErrUninitScratch, 2},
		{"read after ret inherits mask", spec.Program{
			ret1,
			stmt(spec.OpLdMem, 0),
			retA,
		}, Options{}, ErrUninitScratch, 1},
		{"unknown ancillary", spec.Program{stmt(spec.OpLdAbsW, spec.AncillaryBase+spec.AncMax), ret1}, Options{}, ErrUnknownExtension, 0},
		{"misaligned ancillary", spec.Program{stmt(spec.OpLdAbsB, spec.AncillaryBase+1), ret1}, Options{}, ErrUnknownExtension, 0},
		{"ancillary not allowed", spec.Program{stmt(spec.OpLdAbsW, spec.AncillaryBase+spec.AncVLANTag), ret1}, Options{NoAncillary: true}, ErrAncillaryNotAllowed, 0},
		{"record not allowed", spec.Program{stmt(spec.OpLdAbsH, spec.RecordBase+spec.RecSrcPort), ret1}, Options{}, ErrRecordNotAllowed, 0},
		{"record past end", spec.Program{stmt(spec.OpLdAbsW, spec.RecordBase+spec.RecordSize-2), ret1}, Options{Record: true}, ErrRecordOffset, 0},
		{"ja over 4094 far loads", func() spec.Program {
			p := make(spec.Program, spec.MaxInstructions)
			for i := range p {
				p[i] = stmt(spec.OpLdAbsW, 40000) // 16 eBPF instructions each
			}
			p[0] = stmt(spec.OpJa, spec.MaxInstructions-2)
			p[spec.MaxInstructions-1] = retA
			return p
		}(), Options{}, ErrJumpTooFar, 0},
		{"jump past eBPF instruction 32767", func() spec.Program {
			p := make(spec.Program, 2343)
			for i := range p {
				p[i] = stmt(spec.OpLdAbsW, 1) // 14 eBPF instructions each, after a 7-instruction prologue
			}
			return append(p, jmp(spec.OpJeqK, 0, 0, 0), retA)
		}(), Options{}, ErrJumpTooFar, 2343},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p, err := Verify(tt.prog, tt.opts)
			if err == nil {
				t.Fatalf("accepted (%v), want %v", p, tt.code)
			}
			var ve *Error
			if !errors.As(err, &ve) {
				t.Fatalf("error %T %v is not *Error", err, err)
			}
			if !errors.Is(err, tt.code) || ve.Code != tt.code || ve.PC != tt.pc {
				t.Fatalf("got %v (code %d pc %d), want code %v at PC %d", err, ve.Code, ve.PC, tt.code, tt.pc)
			}
			want := "PC " + itoa(tt.pc) + ": " + tt.code.Error() + ": "
			if !strings.HasPrefix(err.Error(), want) {
				t.Fatalf("message %q does not start with %q", err, want)
			}
		})
	}
}

func itoa(i int) string {
	if i == 0 {
		return "0"
	}
	var b []byte
	for ; i > 0; i /= 10 {
		b = append([]byte{byte('0' + i%10)}, b...)
	}
	return string(b)
}

func TestVerifyAccepts(t *testing.T) {
	full := make(spec.Program, spec.MaxInstructions)
	for i := range full {
		full[i] = ret1
	}
	full[0] = stmt(spec.OpJa, spec.MaxInstructions-2)
	tests := []struct {
		name string
		prog spec.Program
		opts Options
	}{
		{"ret #0", spec.Program{ret0}, Options{}},
		{"4096 instructions, ja to last", full, Options{}},
		{"lsh #31", spec.Program{stmt(opLshK, 31), retA}, Options{}},
		{"div x", spec.Program{stmt(opDivK|spec.SrcX, 0), retA}, Options{}},
		{"every known ancillary", func() spec.Program {
			var p spec.Program
			for off := uint32(0); off < spec.AncMax; off += 4 {
				p = append(p, stmt(spec.OpLdAbsB, spec.AncillaryBase+off))
			}
			return append(p, retA)
		}(), Options{}},
		{"net and ll offsets", spec.Program{stmt(spec.OpLdAbsB, spec.NetOff+9), stmt(spec.OpLdAbsH, spec.LLOff+12), retA}, Options{}},
		{"written on both paths", spec.Program{
			jmp(spec.OpJeqK, 0, 0, 2),
			stmt(spec.OpSt, 5),
			stmt(spec.OpJa, 1),
			stmt(spec.OpStx, 5),
			stmt(spec.OpLdMem, 5),
			retA,
		}, Options{}},
		{"unreachable read after ja", spec.Program{
			stmt(spec.OpJa, 1),
			stmt(spec.OpLdMem, 0), // never reached; Linux starts it from "all written"
			retA,
		}, Options{}},
		{"record load", spec.Program{stmt(spec.OpLdAbsW, spec.RecordBase+spec.RecordSize-4), retA}, Options{Record: true}},
		{"jt and jf ignored off jumps", spec.Program{{Op: spec.OpTax, Jt: 200, Jf: 200, K: 77}, retA}, Options{}},
		{"jump at eBPF instruction 32767", func() spec.Program {
			p := make(spec.Program, 2340)
			for i := range p {
				p[i] = stmt(spec.OpLdAbsW, 1)
			}
			return append(p, jmp(spec.OpJeqK, 0, 0, 0), retA) // 7 + 2340*14 = 32767: the kernel accepts it
		}(), Options{}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if _, err := Verify(tt.prog, tt.opts); err != nil {
				t.Fatal(err)
			}
		})
	}
}

func TestVerifyCopies(t *testing.T) {
	prog := spec.Program{ret1}
	p, err := Verify(prog, Options{})
	if err != nil {
		t.Fatal(err)
	}
	prog[0] = stmt(0xffff, 0)
	if p.At(0) != ret1 {
		t.Fatal("Program shares its instructions with the caller")
	}
	ins := p.Instructions()
	ins[0] = ret0
	if p.At(0) != ret1 {
		t.Fatal("Instructions returned the internal slice")
	}
}

func TestFacts(t *testing.T) {
	// ldh [12]; jeq #0x800 jt 2 jf 5; ldb [23]; jeq #6 jt 4 jf 5; ret #65535; ret #0
	ipTCP := spec.Program{
		stmt(spec.OpLdAbsH, 12),
		jmp(spec.OpJeqK, 0x800, 0, 3),
		stmt(spec.OpLdAbsB, 23),
		jmp(spec.OpJeqK, 6, 0, 1),
		stmt(spec.OpRetK, 65535),
		ret0,
	}
	p, err := Verify(ipTCP, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if p.MaxOffset() != 24 {
		t.Errorf("MaxOffset = %d, want 24", p.MaxOffset())
	}
	wantGuard := []uint32{24, 0, 0, 0, 0, 0}
	wantKnown := []uint32{24, 24, 24, 24, 24, 24}
	for pc := range ipTCP {
		if p.Guard(pc) != wantGuard[pc] || p.Known(pc) != wantKnown[pc] {
			t.Errorf("pc %d: guard %d known %d, want %d %d", pc, p.Guard(pc), p.Known(pc), wantGuard[pc], wantKnown[pc])
		}
	}

	// A path returning A needs nothing beyond what it loads before: the
	// guard at 0 covers only the byte both non-zero paths load.
	twoWays := spec.Program{
		stmt(spec.OpLdAbsB, 0),                  // 0
		jmp(spec.OpJeqK, 1, 0, 2),               // 1
		stmt(spec.OpLdAbsW, 100),                // 2
		stmt(spec.OpRetK, 1),                    // 3
		stmt(spec.OpLdxMsh, 14),                 // 4
		stmt(spec.OpLdIndW, 0),                  // 5: indirect, adds nothing
		stmt(spec.OpSt, 3),                      // 6
		stmt(spec.OpLdAbsB, spec.AncillaryBase), // 7: ancillary, adds nothing
		retA,                                    // 8
	}
	p, err = Verify(twoWays, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if g := p.Guard(0); g != 15 {
		t.Errorf("Guard(0) = %d, want 15 (min of 104 and 15)", g)
	}
	if g, k := p.Guard(2), p.Known(2); g != 104 || k != 104 {
		t.Errorf("pc 2: guard %d known %d, want 104 104", g, k)
	}
	if p.Guard(4) != 0 || p.Known(4) != 15 {
		t.Errorf("pc 4: guard %d known %d, want 0 15", p.Guard(4), p.Known(4))
	}
	if p.MaxOffset() != 104 {
		t.Errorf("MaxOffset = %d, want 104", p.MaxOffset())
	}
	if p.Scratch() != 1<<3 {
		t.Errorf("Scratch = %016b, want bit 3", p.Scratch())
	}
	if p.Extensions() != Ancillary(spec.AncProtocol) {
		t.Errorf("Extensions = %#x", p.Extensions())
	}

	// Every path returns 0: the guard says so.
	p, err = Verify(spec.Program{stmt(spec.OpLdAbsB, 0), ret0}, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if p.Guard(0) != never {
		t.Errorf("Guard(0) = %d, want %d", p.Guard(0), never)
	}
}

// TestGuardsCoverAbsoluteLoads checks the promise of Known on every corpus
// shape the unit tests build: every absolute packet load ends at or before
// Known(pc).
func TestGuardsCoverAbsoluteLoads(t *testing.T) {
	progs := []spec.Program{
		{stmt(spec.OpLdAbsW, 40), jmp(spec.OpJgtK, 3, 1, 0), stmt(spec.OpLdAbsB, 90), stmt(spec.OpLdAbsH, 2), retA},
		{jmp(spec.OpJeqK, 0, 0, 2), stmt(spec.OpLdAbsB, 10), stmt(spec.OpJa, 1), stmt(spec.OpLdAbsB, 30), stmt(spec.OpLdAbsB, 5), ret0, ret1},
	}
	for i, prog := range progs {
		p, err := Verify(prog, Options{})
		if err != nil {
			t.Fatal(err)
		}
		for pc := range prog {
			if end, ok := packetLoadEnd(prog[pc]); ok && end > p.Known(pc) {
				t.Errorf("prog %d pc %d: load ends at %d, known only %d", i, pc, end, p.Known(pc))
			}
		}
	}
}
