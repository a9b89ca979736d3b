//go:build linux

package rulemaps

import (
	"testing"
)

// FuzzKernelClassify feeds arbitrary frames to the kernel's parser and
// classifier (BPF_PROG_TEST_RUN) and to capture/packet.Parse and
// filters/rules' decider, with a random rule set of every action: they
// must agree on every frame the test run takes. Frames are untrusted
// input to the kernel block: it must neither fail nor disagree.
func FuzzKernelClassify(f *testing.F) {
	needKernel(f)
	g := newGen(5, 8)
	file := g.file(300, 100)
	rg := newRig(f, file, Options{})
	for range 64 {
		f.Add(g.frame(g.packet(file)))
	}
	f.Fuzz(func(t *testing.T, frame []byte) {
		if len(frame) < minFrame || len(frame) > maxFrame {
			return
		}
		var tl tally
		rg.compare(t, &tl, frame)
		for _, b := range tl.firstBad {
			t.Error(b)
		}
	})
}
