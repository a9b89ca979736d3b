//go:build linux

package ebpf

import (
	"encoding/binary"
	"testing"

	"github.com/cilium/ebpf"
	"github.com/cilium/ebpf/asm"
	"github.com/wringcap/wring/spec"
	"github.com/wringcap/wring/vm"
)

// TestSplice embeds filters in a caller's XDP program the way capture does:
// the caller keeps the context in R6, reserves 8 bytes under the frame
// pointer, and places the match and no-match labels after the filter. It
// covers filters that never match and never fail (their label must still
// be reachable for the kernel) and scratch memory below the caller's area.
func TestSplice(t *testing.T) {
	needKernel(t)
	const (
		match   = "caller_match"
		noMatch = "caller_nomatch"
	)
	ret := func(k uint32) spec.Instruction { return spec.Stmt(spec.ClassRET|spec.RetK, k) }
	for _, tc := range []struct {
		name string
		prog spec.Program
	}{
		{"tcp port 80", parse(t, tcpPort80)},
		{"never matches", spec.Program{ret(0)}},
		{"always matches", spec.Program{ret(1)}},
		{"scratch", spec.Program{
			spec.Stmt(spec.ClassLD|spec.ModeABS|spec.SizeH, 12),
			spec.Stmt(spec.ClassST, 15),
			spec.Stmt(spec.ClassLDX|spec.ModeMEM, 15),
			spec.Stmt(spec.ClassMISC|spec.MiscTXA, 0),
			spec.Stmt(spec.ClassALU|spec.ALUAnd|spec.SrcK, 1),
			spec.Stmt(spec.ClassRET|spec.RetA, 0),
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p := mustVerify(t, tc.prog)
			filter, err := Translate(p, Options{Target: XDP, MatchLabel: match, NoMatchLabel: noMatch, StackOffset: 8})
			if err != nil {
				t.Fatal(err)
			}
			// The caller: a canary in its 8 bytes, the filter, then its
			// own actions, which check the canary survived.
			insns := asm.Instructions{
				asm.Mov.Reg(asm.R6, asm.R1),
				asm.Mov.Imm(asm.R1, 0x5a5a5a5a),
				asm.StoreMem(asm.RFP, -8, asm.R1, asm.DWord),
			}
			insns = append(insns, filter...)
			insns = append(insns,
				asm.LoadMem(asm.R1, asm.RFP, -8, asm.DWord).WithSymbol(match),
				asm.JNE.Imm(asm.R1, 0x5a5a5a5a, "clobbered"),
				asm.Mov.Imm(asm.R0, XDPTx),
				asm.Return(),
				asm.LoadMem(asm.R1, asm.RFP, -8, asm.DWord).WithSymbol(noMatch),
				asm.JNE.Imm(asm.R1, 0x5a5a5a5a, "clobbered"),
				asm.Mov.Imm(asm.R0, XDPPass),
				asm.Return(),
				asm.Mov.Imm(asm.R0, XDPAborted).WithSymbol("clobbered"),
				asm.Return(),
			)
			prog, err := ebpf.NewProgram(&ebpf.ProgramSpec{Type: ebpf.XDP, Instructions: insns, License: "Dual MIT/GPL"})
			if err != nil {
				t.Fatalf("load: %v\n%v", err, insns)
			}
			defer prog.Close()
			for i := 0; i < 64; i++ {
				pkt := make([]byte, 14+i*3)
				binary.BigEndian.PutUint16(pkt[12:], uint16(0x0800+i%2))
				got, err := prog.Run(&ebpf.RunOptions{Data: pkt})
				if err != nil {
					t.Fatal(err)
				}
				want := uint32(XDPPass)
				if vm.Run(p, pkt, uint32(len(pkt)), nil) != 0 {
					want = XDPTx
				}
				if got != want {
					t.Fatalf("packet %d: XDP action %d, want %d", i, got, want)
				}
			}
		})
	}
}
