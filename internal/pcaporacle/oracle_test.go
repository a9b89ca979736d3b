package pcaporacle

import (
	"errors"
	"testing"

	"github.com/wringcap/wring/internal/corpus"
	"github.com/wringcap/wring/internal/progen"
	"github.com/wringcap/wring/spec"
)

// TestInterpretMatchesC: the Go transcription agrees with libpcap's C
// bpf_filter on random valid programs and packets.
func TestInterpretMatchesC(t *testing.T) {
	if !Native {
		corpus.Unavailable(t, "built without cgo: libpcap's bpf_filter is not linked")
	}
	g := progen.New(7, progen.Config{Mode: progen.Valid, NoAncillary: true, NoLong: true})
	n := 0
	for i := 0; i < 3000; i++ {
		prog := g.Program()
		if usesVariableShift(prog) {
			continue // C shifts by X >= 32 are undefined behaviour
		}
		c := New(prog)
		for j := 0; j < 20; j++ {
			pkt := g.Packet(prog)
			wire := uint32(len(pkt)) + uint32(j%3)
			if got, want := Interpret(prog, pkt, wire), c.Run(pkt, wire); got != want {
				t.Fatalf("program %v\npacket % x: Interpret %d, bpf_filter %d", prog, pkt, got, want)
			}
			n++
		}
	}
	t.Logf("%d runs agree", n)
}

func usesVariableShift(p spec.Program) bool {
	for _, ins := range p {
		if ins.Class() == spec.ClassALU && ins.Src() == spec.SrcX && (ins.Operation() == spec.ALULsh || ins.Operation() == spec.ALURsh) {
			return true
		}
	}
	return false
}

// TestCompile: tcpdump's -ddd output parses, and a refusal is ErrRefused.
func TestCompile(t *testing.T) {
	if _, err := Tcpdump(); err != nil {
		corpus.Unavailable(t, err.Error())
	}
	p, err := Compile("ip", "EN10MB", Options{})
	if err != nil {
		t.Fatal(err)
	}
	// ldh [12]; jeq #0x800; ret #262144; ret #0 (libpcap 1.10)
	want := spec.Program{
		{Op: 0x28, K: 12},
		{Op: 0x15, Jt: 0, Jf: 1, K: 0x800},
		{Op: 0x06, K: 262144},
		{Op: 0x06, K: 0},
	}
	if len(p) != len(want) {
		t.Fatalf("got %v, want %v", p, want)
	}
	for i := range want {
		if p[i] != want[i] {
			t.Fatalf("pc %d: got %v, want %v", i, p[i], want[i])
		}
	}
	pkt := make([]byte, 20)
	pkt[12] = 0x08
	if got := New(p).Run(pkt, 20); got != 262144 {
		t.Errorf("ip on an IPv4 ethertype: %d", got)
	}
	if got := New(p).Run(pkt[:13], 20); got != 0 {
		t.Errorf("ip on a 13-byte packet: %d", got)
	}
	if _, err := Compile("ip and", "EN10MB", Options{}); !errors.Is(err, ErrRefused) {
		t.Errorf("syntax error: %v", err)
	}
	if _, err := Compile("wlan type mgt", "EN10MB", Options{}); !errors.Is(err, ErrRefused) {
		t.Errorf("wlan on ethernet: %v", err)
	}
}
