package expr

import (
	"errors"
	"path/filepath"
	"testing"

	"github.com/wringcap/wring/internal/corpus"
	"github.com/wringcap/wring/internal/pcaporacle"
	"github.com/wringcap/wring/spec"
	"github.com/wringcap/wring/verifier"
	"github.com/wringcap/wring/vm"
)

// TestProtochainDeepest checks ProtochainDeepest: every program fits in
// the instruction limit and verifies, and on ipv6_ext_headers.pcap (a
// packet with 101 IPv6 extension headers) gives libpcap 1.10.3's verdicts
// (tcpdump's program run by libpcap's bpf_filter) where a single
// protochain walk leaves room for 101 steps.
func TestProtochainDeepest(t *testing.T) {
	path := filepath.Join(corpus.Need(t), "libpcap", "filter", "ipv6_ext_headers.pcap")
	cp, err := readSavefile(path)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := pcaporacle.Tcpdump(); err != nil {
		corpus.Unavailable(t, err.Error())
	}
	for _, c := range []struct {
		expr string
		same bool // a single walk: deep enough for this capture
	}{
		{"ip6 protochain 17", true},
		{"ip6 protochain 6", true},
		{"ip protochain 17", true},
		{"protochain 17", false},
		{"ip6 protochain 17 or ip6 protochain 6", false},
		{"udp", true},
	} {
		for _, opt := range []bool{false, true} {
			prog, err := Compile(c.expr, Options{LinkType: cp.LinkType, Optimize: opt, ProtochainDepth: ProtochainDeepest, OfflineAF: true})
			if err != nil {
				t.Errorf("%q: %v", c.expr, err)
				continue
			}
			if len(prog) > spec.MaxInstructions {
				t.Errorf("%q: %d instructions", c.expr, len(prog))
			}
			vp, err := verifier.Verify(prog, verifier.Options{NoAncillary: true})
			if err != nil {
				t.Errorf("%q: does not verify: %v", c.expr, err)
				continue
			}
			lp, err := pcaporacle.CompileFile(c.expr, path, pcaporacle.Options{})
			if err != nil {
				t.Fatalf("%q: tcpdump: %v", c.expr, err)
			}
			lc := pcaporacle.New(lp)
			differ := 0
			for _, pk := range cp.Packets {
				wl := max(pk.WireLen, uint32(len(pk.Data)))
				if (vm.Run(vp, pk.Data, wl, nil) != 0) != (lc.Run(pk.Data, wl) != 0) {
					differ++
				}
			}
			if c.same && differ != 0 {
				t.Errorf("%q (optimize %v, %d instructions): %d of %d packets differ from libpcap", c.expr, opt, len(prog), differ, len(cp.Packets))
			}
			t.Logf("%q (optimize %v): %d instructions, %d of %d packets differ from libpcap", c.expr, opt, len(prog), differ, len(cp.Packets))
		}
	}
	// Beyond the limit even at the default depth: the error is kept.
	long := "ip6 protochain 17"
	for i := 0; i < 20; i++ {
		long += " or ip6 protochain 17"
	}
	if _, err := Compile(long, Options{LinkType: spec.LinkEthernet, ProtochainDepth: ProtochainDeepest}); !errors.Is(err, ErrTooLong) || !IsUnsupported(err) {
		t.Errorf("21 protochains: got %v, want a program-too-long error", err)
	}
}
