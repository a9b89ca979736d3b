//go:build linux

package rulemaps

import "testing"

func TestLoad(t *testing.T) {
	needKernel(t)
	m, err := New(Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer m.Close()
	p, err := m.Program()
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()
	info, _ := p.Info()
	n, _ := info.VerifiedInstructions()
	t.Logf("verified instructions %d", n)
	frame := make([]byte, 60)
	t.Logf("%#x", run(t, p, frame))
}

func TestDump(t *testing.T) {
	m, _ := New(Options{})
	defer m.Close()
	insns, err := m.Instructions(BlockOptions{Ctx: 6, Done: "x"})
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("%v", insns)
}
