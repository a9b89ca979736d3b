package jit

import (
	"encoding/binary"
	"testing"

	"github.com/wringcap/wring/spec"
	"github.com/wringcap/wring/verifier"
)

// decodeProgram reads 8-byte sock_filter records (little-endian code, jt,
// jf, k); a trailing partial record is ignored.
func decodeProgram(b []byte) spec.Program {
	var p spec.Program
	for ; len(b) >= 8; b = b[8:] {
		p = append(p, spec.Instruction{
			Op: binary.LittleEndian.Uint16(b), Jt: b[2], Jf: b[3], K: binary.LittleEndian.Uint32(b[4:]),
		})
	}
	return p
}

// encodeProgram is decodeProgram's inverse.
func encodeProgram(p spec.Program) []byte {
	b := make([]byte, 0, 8*len(p))
	for _, ins := range p {
		b = binary.LittleEndian.AppendUint16(b, ins.Op)
		b = append(b, ins.Jt, ins.Jf)
		b = binary.LittleEndian.AppendUint32(b, ins.K)
	}
	return b
}

// FuzzJIT: arbitrary program bytes that verify, run on an arbitrary packet
// (and each of its prefixes), give vm.Run's result in the native code
// (blinded and not, one packet at a time and in a batch) and the portable
// form. flags bit 0 allows record
// loads, bit 1 passes metadata, bit 2 passes a parse record with it.
// The seed corpus (testdata/fuzz/FuzzJIT) holds libpcap's programs and
// random verified programs with packets that reach their loads.
func FuzzJIT(f *testing.F) {
	f.Add(encodeProgram(spec.Program{spec.Stmt(spec.ClassRET|spec.RetK, 1)}), []byte{}, uint16(0), uint8(0))
	// The shapes of the portable backend's rarer fused codes, on a packet
	// long enough for their loads (and, through the prefixes, shorter).
	pkt := make([]byte, 48)
	for i := range pkt {
		pkt[i] = byte(i % 3)
	}
	for name, src := range codePrograms() {
		prog, err := spec.ParseText([]byte(src), spec.TextAsm)
		if err != nil {
			f.Fatalf("%s: %v", name, err)
		}
		f.Add(encodeProgram(prog), pkt, uint16(0), uint8(0))
	}
	f.Fuzz(func(t *testing.T, progBytes, pkt []byte, extra uint16, flags uint8) {
		prog := decodeProgram(progBytes)
		p, err := verifier.Verify(prog, verifier.Options{Record: flags&1 != 0})
		if err != nil {
			return
		}
		e := compileAll(t, p)
		defer e.close(t)
		var batch [][]byte
		for n := len(pkt); n >= 0; n -= 1 + n/8 {
			batch = append(batch, pkt[:n])
			meta := testMeta(int(flags)+n, pkt[:n])
			if flags&2 == 0 {
				meta = nil
			} else if flags&4 == 0 {
				meta.Record = nil
			}
			if msg := e.check(pkt[:n], uint32(n)+uint32(extra), meta); msg != "" {
				t.Fatalf("%d-byte packet: %s\n%s", n, msg, listing(prog))
			}
		}
		if msg := e.checkBatch(batch, nil); msg != "" {
			t.Fatalf("batch: %s\n%s", msg, listing(prog))
		}
	})
}
