package vm

import (
	"testing"

	"github.com/wringcap/wring/spec"
	"github.com/wringcap/wring/verifier"
)

func mustVerify(t testing.TB, prog spec.Program, opts verifier.Options) *verifier.Program {
	t.Helper()
	p, err := verifier.Verify(prog, opts)
	if err != nil {
		t.Fatalf("verify: %v", err)
	}
	return p
}

func st(op uint16, k uint32) spec.Instruction { return spec.Stmt(op, k) }

// TestSemantics checks the rules spec/ISA.md states in words (the values
// follow from them); agreement with x/net/bpf and the kernel on real
// programs is tested elsewhere.
func TestSemantics(t *testing.T) {
	pkt := []byte{0x45, 0x00, 0x01, 0x02, 0x03, 0x04, 0x05, 0x06}
	retA := st(spec.OpRetA, 0)
	rec := new([spec.RecordSize]byte)
	rec[spec.RecSrcPort], rec[spec.RecSrcPort+1] = 0x50, 0x00 // 80, little-endian
	meta := &Meta{Protocol: 0x86dd, VLANPresent: true, VLANTCI: 0x2064, Random: 7, NetOffset: 2, NetOffsetValid: true, Record: rec}
	tests := []struct {
		name    string
		prog    spec.Program
		wirelen uint32
		meta    *Meta
		want    uint32
	}{
		{"ld word", spec.Program{st(spec.OpLdAbsW, 0), retA}, 8, nil, 0x45000102},
		{"ld word past end", spec.Program{st(spec.OpLdAbsW, 5), retA}, 8, nil, 0},
		{"ldh last two", spec.Program{st(spec.OpLdAbsH, 6), retA}, 8, nil, 0x0506},
		{"ldb past end", spec.Program{st(spec.OpLdAbsB, 8), st(spec.OpRetK, 9)}, 8, nil, 0},
		{"len is wirelen", spec.Program{st(spec.OpLdLen, 0), retA}, 1500, nil, 1500},
		{"ldx len", spec.Program{st(spec.OpLdxLen, 0), st(spec.OpTxa, 0), retA}, 60, nil, 60},
		{"msh", spec.Program{st(spec.OpLdxMsh, 0), st(spec.OpTxa, 0), retA}, 8, nil, 20},
		{"ind", spec.Program{st(spec.OpLdxImm, 4), st(spec.OpLdIndH, 1), retA}, 8, nil, 0x0405},
		{"ind no wrap", spec.Program{st(spec.OpLdxImm, 0xffffffff), st(spec.OpLdIndB, 1), st(spec.OpRetK, 1)}, 8, nil, 0},
		{"div by x zero", spec.Program{st(spec.OpLdImm, 10), st(alu|spec.ALUDiv|srcX, 0), st(spec.OpRetK, 1)}, 8, nil, 0},
		{"mod by x zero", spec.Program{st(spec.OpLdImm, 10), st(alu|spec.ALUMod|srcX, 0), st(spec.OpRetK, 1)}, 8, nil, 0},
		{"lsh by x 32", spec.Program{st(spec.OpLdImm, 1), st(spec.OpLdxImm, 32), st(alu|spec.ALULsh|srcX, 0), retA}, 8, nil, 0},
		{"rsh by x 31", spec.Program{st(spec.OpLdImm, 0x80000000), st(spec.OpLdxImm, 31), st(alu|spec.ALURsh|srcX, 0), retA}, 8, nil, 1},
		{"neg", spec.Program{st(spec.OpLdImm, 1), st(spec.OpNeg, 0), retA}, 8, nil, 0xffffffff},
		{"tax txa", spec.Program{st(spec.OpLdImm, 5), st(spec.OpTax, 0), st(spec.OpLdImm, 0), st(spec.OpTxa, 0), retA}, 8, nil, 5},
		{"scratch", spec.Program{st(spec.OpLdImm, 3), st(spec.OpSt, 15), st(spec.OpLdImm, 0), st(spec.OpLdxMem, 15), st(spec.OpTxa, 0), retA}, 8, nil, 3},
		{"jset", spec.Program{st(spec.OpLdImm, 4), spec.Jump(jmp|spec.JumpJSET|srcK, 6, 0, 1), st(spec.OpRetK, 1), st(spec.OpRetK, 2)}, 8, nil, 1},
		{"ja", spec.Program{st(spec.OpJa, 1), st(spec.OpRetK, 1), st(spec.OpRetK, 2)}, 8, nil, 2},
		{"protocol", spec.Program{st(spec.OpLdAbsH, spec.AncillaryBase+spec.AncProtocol), retA}, 8, meta, 0x86dd},
		{"ancillary ignores size", spec.Program{st(spec.OpLdAbsB, spec.AncillaryBase+spec.AncVLANTag), retA}, 8, meta, 0x2064},
		{"vlan present", spec.Program{st(spec.OpLdAbsW, spec.AncillaryBase+spec.AncVLANTagPresent), retA}, 8, meta, 1},
		{"nil meta", spec.Program{st(spec.OpLdAbsW, spec.AncillaryBase+spec.AncVLANTagPresent), retA}, 8, nil, 0},
		{"xor x", spec.Program{st(spec.OpLdxImm, 3), st(spec.OpLdImm, 5), st(spec.OpLdAbsW, spec.AncillaryBase+spec.AncAluXorX), retA}, 8, nil, 6},
		{"random", spec.Program{st(spec.OpLdAbsW, spec.AncillaryBase+spec.AncRandom), retA}, 8, meta, 7},
		{"link-layer offset", spec.Program{st(spec.OpLdAbsB, spec.LLOff+1), st(opAddK, 1), retA}, 8, nil, 1},
		{"network offset", spec.Program{st(spec.OpLdAbsH, spec.NetOff+1), retA}, 8, meta, 0x0203},
		{"network offset unknown", spec.Program{st(spec.OpLdAbsH, spec.NetOff+1), st(spec.OpRetK, 1)}, 8, nil, 0},
		{"record", spec.Program{st(spec.OpLdAbsH, spec.RecordBase+spec.RecSrcPort), retA}, 8, meta, 80},
		{"record missing", spec.Program{st(spec.OpLdAbsH, spec.RecordBase+spec.RecSrcPort), st(spec.OpRetK, 1)}, 8, nil, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := mustVerify(t, tt.prog, verifier.Options{Record: true})
			if got := Run(p, pkt, tt.wirelen, tt.meta); got != tt.want {
				t.Fatalf("Run = %#x, want %#x", got, tt.want)
			}
		})
	}
}

const opAddK = alu | spec.ALUAdd | srcK
