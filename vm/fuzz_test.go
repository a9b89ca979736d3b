package vm

import (
	"encoding/binary"
	"testing"

	"github.com/wringcap/wring/internal/progen"
	"github.com/wringcap/wring/spec"
	"github.com/wringcap/wring/verifier"
)

// decodeProgram reads 8-byte little-endian sock_filter records.
func decodeProgram(b []byte) spec.Program {
	var p spec.Program
	for ; len(b) >= 8; b = b[8:] {
		p = append(p, spec.Instruction{Op: binary.LittleEndian.Uint16(b), Jt: b[2], Jf: b[3], K: binary.LittleEndian.Uint32(b[4:])})
	}
	return p
}

func encodeProgram(p spec.Program) []byte {
	b := make([]byte, 0, 8*len(p))
	for _, ins := range p {
		b = binary.LittleEndian.AppendUint16(b, ins.Op)
		b = append(b, ins.Jt, ins.Jf)
		b = binary.LittleEndian.AppendUint32(b, ins.K)
	}
	return b
}

// FuzzVerifyRun feeds arbitrary bytes to Verify as a program and runs
// whatever verifies on the packet: neither may panic, and a verified
// program must agree with x/net/bpf wherever x/net can run it.
func FuzzVerifyRun(f *testing.F) {
	g := progen.New(11, progen.Config{NoLong: true})
	for range 40 {
		prog := g.Program()
		f.Add(encodeProgram(prog), g.Packet(prog), uint32(64), true)
	}
	for _, prog := range progen.Corners()[:200] {
		f.Add(encodeProgram(prog), []byte{1, 2, 3, 4}, uint32(4), false)
	}
	rec := new([spec.RecordSize]byte)
	meta := &Meta{Protocol: 0x800, VLANPresent: true, NetOffset: 14, NetOffsetValid: true, Record: rec}
	f.Fuzz(func(t *testing.T, progBytes, pkt []byte, wirelen uint32, record bool) {
		prog := decodeProgram(progBytes)
		p, err := verifier.Verify(prog, verifier.Options{Record: record})
		if err != nil {
			if _, ok := err.(*verifier.Error); !ok {
				t.Fatalf("error of type %T: %v", err, err)
			}
			return
		}
		copy(rec[:], pkt)
		got := Run(p, pkt, wirelen, meta)
		if p.Extensions() != 0 || wirelen != uint32(len(pkt)) {
			return
		}
		if x := xnetVM(prog); x != nil {
			if want, err := x.Run(pkt); err == nil && uint32(want) != got && !hasHeaderRelative(prog) {
				t.Fatalf("vm %d, x/net %d", got, want)
			}
		}
	})
}

// hasHeaderRelative reports whether prog has SKF_LL_OFF/SKF_NET_OFF loads,
// which x/net treats as plain (failing) offsets.
func hasHeaderRelative(prog spec.Program) bool {
	for _, ins := range prog {
		if (ins.Op == spec.OpLdAbsW || ins.Op == spec.OpLdAbsH || ins.Op == spec.OpLdAbsB || ins.Op == spec.OpLdxMsh) && ins.K >= spec.LLOff {
			return true
		}
	}
	return false
}
