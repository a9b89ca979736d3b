//go:build linux

package passive

import (
	"os"
	"testing"

	"github.com/wringcap/wring/internal/corpus"
)

// TestChecksumProgramLoads: on this kernel (BTF, bpf_cast_to_kern_ctx) the
// egress program loads with the partial checksum reads, not the fallback.
func TestChecksumProgramLoads(t *testing.T) {
	if os.Geteuid() != 0 {
		corpus.Unavailable(t, "loading BPF programs needs root (CAP_BPF)")
	}
	l, err := kernelCsumLayout()
	if err != nil {
		corpus.Unavailable(t, "no kernel BTF for the checksum reads: "+err.Error())
	}
	t.Logf("layout: %+v", l)
	p, err := Load(Spec{Snaplen: 100, RingBytes: 1 << 16})
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()
	if err := p.ChecksumErr(); err != nil {
		t.Fatalf("the egress program was loaded without the checksum reads: %v", err)
	}
}
