package main

import (
	"bytes"
	"errors"
	"strings"
	"testing"

	"github.com/wringcap/wring/jit/ebpf"
	"github.com/wringcap/wring/spec"
	"github.com/wringcap/wring/verifier"
)

func TestPrintEBPF(t *testing.T) {
	// ip and udp, as tcpdump -d -y EN10MB prints it.
	prog, err := spec.ParseText([]byte(`(000) ldh      [12]
(001) jeq      #0x800           jt 2	jf 5
(002) ldb      [23]
(003) jeq      #0x11            jt 4	jf 5
(004) ret      #262144
(005) ret      #0
`), spec.TextListing)
	if err != nil {
		t.Fatal(err)
	}
	p, err := verifier.Verify(prog, verifier.Options{})
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		target string
		want   []string
	}{
		{"xdp", []string{"XDP program", "(000) ldh      [12]", "LdXMemW dst: r2 src: r6 off: 0", "JGTReg dst: r9", "LdXMemH dst: r7 src: r2 off: 12", "SwapBE dst: r7", "JNE32Imm dst: r7 off: 4 imm: 2048 <wring_nomatch>", "wring_match:"}},
		{"", []string{"XDP program"}},
		{"socket", []string{"socket filter program", "LdAbsH imm: 12", "LdAbsB imm: 23", "MovReg32 dst: r0 src: r7", "Exit"}},
	} {
		var out bytes.Buffer
		if err := printEBPF(&out, p, tc.target); err != nil {
			t.Fatalf("%q: %v", tc.target, err)
		}
		for _, w := range tc.want {
			if !strings.Contains(out.String(), w) {
				t.Errorf("%q: output lacks %q:\n%s", tc.target, w, out.String())
			}
		}
	}
	if err := printEBPF(&bytes.Buffer{}, p, "tc"); !errors.Is(err, ebpf.ErrOptions) {
		t.Errorf("target tc: error %v, want ErrOptions", err)
	}
	// An ancillary load XDP cannot see is an error naming the PC.
	anc, err := verifier.Verify(spec.Program{
		spec.Stmt(spec.ClassLD|spec.ModeABS|spec.SizeW, spec.AncillaryBase+spec.AncMark),
		spec.Stmt(spec.ClassRET|spec.RetA, 0),
	}, verifier.Options{})
	if err != nil {
		t.Fatal(err)
	}
	err = printEBPF(&bytes.Buffer{}, anc, "xdp")
	if !errors.Is(err, ebpf.ErrUnsupported) || !strings.Contains(err.Error(), "pc 0: ancillary load mark") {
		t.Errorf("mark on xdp: error %v", err)
	}
	if err := printEBPF(&bytes.Buffer{}, anc, "socket"); err != nil {
		t.Errorf("mark on socket: %v", err)
	}
}
