//go:build linux

package ebpf

import (
	"encoding/binary"
	"errors"
	"os"
	"strconv"
	"testing"

	"github.com/cilium/ebpf"
	"github.com/wringcap/wring/internal/progen"
	"github.com/wringcap/wring/spec"
	"github.com/wringcap/wring/verifier"
	"github.com/wringcap/wring/vm"
)

// headerRelative reports whether the program loads relative to the
// link-layer or network header (SKF_LL_OFF, SKF_NET_OFF). In a socket
// filter test run the kernel's link-layer header is the Ethernet header
// the test puts in front (socketPrefix), not the packet's start, so those
// loads are compared in XDP only.
func headerRelative(p *verifier.Program) bool {
	for pc := 0; pc < p.Len(); pc++ {
		ins := p.At(pc)
		isAbs := ins.Class() == spec.ClassLD && ins.Mode() == spec.ModeABS
		if (isAbs || ins.Op == opLdxMsh) && ins.K >= spec.LLOff && ins.K < spec.AncillaryBase {
			return true
		}
	}
	return false
}

// diff runs one verified program in the kernel for both targets on pkts
// and compares with vm.Run. It returns the number of comparisons made and
// reports each disagreement through report.
type diffCounts struct {
	programs, unsupported, runs, skipped, disagree int
}

func diffProgram(tb testing.TB, p *verifier.Program, pkts [][]byte, c *diffCounts, report func(string, ...any)) {
	tb.Helper()
	c.programs++
	buf := make([]byte, 0, maxTestRun)
	for _, target := range []Target{XDP, SocketFilter} {
		prog, err := load(p, target)
		switch {
		case errors.Is(err, ErrUnsupported):
			c.unsupported++
			continue
		case err != nil:
			report("%s: %v", target, err)
			continue
		}
		compare := !(target == SocketFilter && (usesNondeterministic(p) || headerRelative(p)))
		for i, pkt := range pkts {
			if !compare {
				break
			}
			if target == XDP {
				if !xdpRunnable(pkt) {
					c.skipped++
					continue
				}
				got, err := runXDP(prog, pkt)
				if err != nil {
					tb.Fatalf("xdp packet %d: %v", i, err)
				}
				want := vm.Run(p, pkt, uint32(len(pkt)), &xdpMeta) != 0
				c.runs++
				if got != want {
					c.disagree++
					report("xdp packet %d (% x): kernel match=%v, vm match=%v", i, pkt, got, want)
				}
				continue
			}
			if !socketRunnable(pkt) {
				c.skipped++
				continue
			}
			got, err := runSocket(prog, pkt, &buf)
			if err != nil {
				tb.Fatalf("socket packet %d: %v", i, err)
			}
			want := vm.Run(p, pkt, uint32(len(pkt)), &socketMeta)
			c.runs++
			if got != want {
				c.disagree++
				report("socket packet %d (% x): kernel %d, vm %d", i, pkt, got, want)
			}
		}
		prog.Close()
	}
}

// TestRandomPrograms is acceptance line 1 for random verified programs:
// internal/progen's valid programs (ancillary and header-relative loads
// included) run in the kernel on random packets aimed at their compares,
// against vm.Run. WRING_EBPF_RANDOM sets the number of programs (default
// 1500), WRING_EBPF_MAXLEN their maximum length (default 128).
func TestRandomPrograms(t *testing.T) {
	needKernel(t)
	n := 1500
	if s := os.Getenv("WRING_EBPF_RANDOM"); s != "" {
		v, err := strconv.Atoi(s)
		if err != nil {
			t.Fatalf("WRING_EBPF_RANDOM: %v", err)
		}
		n = v
	}
	maxLen := 128
	if s := os.Getenv("WRING_EBPF_MAXLEN"); s != "" {
		v, err := strconv.Atoi(s)
		if err != nil {
			t.Fatalf("WRING_EBPF_MAXLEN: %v", err)
		}
		maxLen = v
	}
	g := progen.New(20261122, progen.Config{Mode: progen.Valid, MaxLen: maxLen, HeaderRelative: true, PacketLen: 64})
	var c diffCounts
	reported := 0
	for i := 0; i < n; i++ {
		prog := g.Program()
		p, err := verifier.Verify(prog, verifier.Options{})
		if err != nil {
			t.Fatalf("program %d: progen's valid program does not verify: %v", i, err)
		}
		pkts := make([][]byte, 24)
		for j := range pkts {
			pkts[j] = g.Packet(prog)
		}
		diffProgram(t, p, pkts, &c, func(format string, args ...any) {
			if reported < 10 {
				var text []byte
				_ = spec.WriteText(byteWriter{&text}, prog, spec.TextListing)
				t.Errorf("program %d:\n%s"+format, append([]any{i, text}, args...)...)
			}
			reported++
		})
	}
	t.Logf("random programs %d: translations unsupported on a target %d, runs %d, packets skipped (kernel limits) %d, disagreements %d",
		c.programs, c.unsupported, c.runs, c.skipped, c.disagree)
	if c.runs == 0 {
		t.Fatal("nothing compared")
	}
}

// byteWriter appends to a byte slice.
type byteWriter struct{ b *[]byte }

func (w byteWriter) Write(p []byte) (int, error) { *w.b = append(*w.b, p...); return len(p), nil }

// FuzzTranslate translates arbitrary verified programs for both targets:
// no panic, no error but ErrUnsupported, and, where the kernel is
// available, the kernel accepts the program and agrees with vm.Run on the
// packet taken from the input.
func FuzzTranslate(f *testing.F) {
	f.Add(packProgram(parse(f, tcpPort80)), make([]byte, 60))
	f.Add(packProgram(spec.Program{
		spec.Stmt(spec.ClassLDX|spec.ModeMSH|spec.SizeB, 0),
		spec.Stmt(spec.ClassLD|spec.ModeIND|spec.SizeW, 2),
		spec.Stmt(spec.ClassALU|spec.ALULsh|spec.SrcX, 0),
		spec.Stmt(spec.ClassRET|spec.RetA, 0),
	}), []byte("\x4f\x01\x02\x03\x04\x05\x06\x07\x08\x09\x0a\x0b\x0c\x0d\x0e\x0f"))
	f.Add(packProgram(spec.Program{
		spec.Stmt(spec.ClassLD|spec.ModeLEN|spec.SizeW, 0),
		spec.Stmt(spec.ClassST, 3),
		spec.Stmt(spec.ClassLDX|spec.ModeMEM, 3),
		spec.Stmt(spec.ClassALU|spec.ALUDiv|spec.SrcX, 0),
		spec.Jump(spec.ClassJMP|spec.JumpJSET|spec.SrcK, 0x80000000, 0, 1),
		spec.Stmt(spec.ClassRET|spec.RetK, 0),
		spec.Stmt(spec.ClassRET|spec.RetA, 0),
	}), make([]byte, 20))
	g := progen.New(7, progen.Config{Mode: progen.Valid, HeaderRelative: true})
	for i := 0; i < 8; i++ {
		prog := g.Program()
		f.Add(packProgram(prog), g.Packet(prog))
	}
	kernel := os.Geteuid() == 0
	f.Fuzz(func(t *testing.T, code, pkt []byte) {
		prog := unpackProgram(code)
		p, err := verifier.Verify(prog, verifier.Options{})
		if err != nil {
			return
		}
		for _, target := range []Target{XDP, SocketFilter} {
			if _, err := ProgramInstructions(p, target); err != nil && !errors.Is(err, ErrUnsupported) {
				t.Fatalf("%s: %v", target, err)
			}
		}
		if !kernel {
			return
		}
		var c diffCounts
		diffProgram(t, p, [][]byte{pkt}, &c, func(format string, args ...any) { t.Errorf(format, args...) })
	})
}

// packProgram encodes a program as sock_filter bytes (little-endian).
func packProgram(p spec.Program) []byte {
	b := make([]byte, 0, 8*len(p))
	for _, ins := range p {
		b = binary.LittleEndian.AppendUint16(b, ins.Op)
		b = append(b, ins.Jt, ins.Jf)
		b = binary.LittleEndian.AppendUint32(b, ins.K)
	}
	return b
}

// unpackProgram decodes sock_filter bytes; a partial last instruction is
// dropped.
func unpackProgram(b []byte) spec.Program {
	var p spec.Program
	for len(b) >= 8 && len(p) < spec.MaxInstructions {
		p = append(p, spec.Instruction{Op: binary.LittleEndian.Uint16(b), Jt: b[2], Jf: b[3], K: binary.LittleEndian.Uint32(b[4:])})
		b = b[8:]
	}
	return p
}

var _ = ebpf.XDP
