package ebpf

import (
	"errors"
	"strings"
	"testing"

	"github.com/cilium/ebpf/asm"
	"github.com/wringcap/wring/spec"
	"github.com/wringcap/wring/verifier"
)

// mustVerify verifies a hand-written program.
func mustVerify(tb testing.TB, prog spec.Program) *verifier.Program {
	tb.Helper()
	p, err := verifier.Verify(prog, verifier.Options{})
	if err != nil {
		tb.Fatalf("verify: %v", err)
	}
	return p
}

func parse(tb testing.TB, listing string) spec.Program {
	tb.Helper()
	prog, err := spec.ParseText([]byte(listing), spec.TextListing)
	if err != nil {
		tb.Fatalf("parse: %v", err)
	}
	return prog
}

// tcpPort80 is `tcpdump -d -y EN10MB 'tcp port 80'` (libpcap 1.10.3).
const tcpPort80 = `(000) ldh      [12]
(001) jeq      #0x86dd          jt 2	jf 8
(002) ldb      [20]
(003) jeq      #0x6             jt 4	jf 19
(004) ldh      [54]
(005) jeq      #0x50            jt 18	jf 6
(006) ldh      [56]
(007) jeq      #0x50            jt 18	jf 19
(008) jeq      #0x800           jt 9	jf 19
(009) ldb      [23]
(010) jeq      #0x6             jt 11	jf 19
(011) ldh      [20]
(012) jset     #0x1fff          jt 19	jf 13
(013) ldxb     4*([14]&0xf)
(014) ldh      [x + 14]
(015) jeq      #0x50            jt 18	jf 16
(016) ldh      [x + 16]
(017) jeq      #0x50            jt 18	jf 19
(018) ret      #262144
(019) ret      #0
`

func TestGuardsCoalesced(t *testing.T) {
	p := mustVerify(t, parse(t, tcpPort80))
	_, st, err := translate(p, Options{Target: XDP, OnMatch: asm.Instructions{asm.Return()}})
	if err != nil {
		t.Fatal(err)
	}
	// 11 absolute loads; the verifier's facts need a guard per IPv6/IPv4
	// branch start and one per later growth, never one per load.
	t.Logf("absolute guards %d, extra %d, indirect %d", st.guards, st.extraGuards, st.indirectGuards)
	if st.extraGuards != 0 {
		t.Errorf("%d loads not covered by the verifier's guards", st.extraGuards)
	}
	if st.guards == 0 || st.guards > 4 {
		t.Errorf("%d absolute guards for tcp port 80, want 1 to 4", st.guards)
	}
	if st.indirectGuards != 2 {
		t.Errorf("%d indirect guards, want 2", st.indirectGuards)
	}
}

// tcpBothPorts80 is `tcp src port 80 and tcp dst port 80` over IPv4: both
// X+k loads lie on every matching path, so one check covers them.
const tcpBothPorts80 = `(000) ldh      [12]
(001) jeq      #0x800           jt 2	jf 12
(002) ldb      [23]
(003) jeq      #0x6             jt 4	jf 12
(004) ldh      [20]
(005) jset     #0x1fff          jt 12	jf 6
(006) ldxb     4*([14]&0xf)
(007) ldh      [x + 14]
(008) jeq      #0x50            jt 9	jf 12
(009) ldh      [x + 16]
(010) jeq      #0x50            jt 11	jf 12
(011) ret      #262144
(012) ret      #0
`

func TestIndirectGuardsCoalesced(t *testing.T) {
	p := mustVerify(t, parse(t, tcpBothPorts80))
	_, st, err := translate(p, Options{Target: XDP, OnMatch: asm.Instructions{asm.Return()}})
	if err != nil {
		t.Fatal(err)
	}
	if st.indirectLoads != 2 || st.indirectGuards != 1 {
		t.Errorf("%d indirect loads with %d checks, want 2 with 1", st.indirectLoads, st.indirectGuards)
	}
	if st.guards != 1 || st.extraGuards != 0 {
		t.Errorf("%d absolute guards (%d extra), want 1 (0)", st.guards, st.extraGuards)
	}
}

func TestUnsupported(t *testing.T) {
	anc := func(off uint32) spec.Program {
		return spec.Program{spec.Stmt(spec.ClassLD|spec.ModeABS|spec.SizeW, spec.AncillaryBase+off), spec.Stmt(spec.ClassRET|spec.RetA, 0)}
	}
	for _, tc := range []struct {
		name   string
		prog   spec.Program
		target Target
		opts   verifier.Options
		want   string // "" means translates
	}{
		{"xdp ifindex", anc(spec.AncIfindex), XDP, verifier.Options{}, ""},
		{"xdp queue", anc(spec.AncQueue), XDP, verifier.Options{}, ""},
		{"xdp xor", anc(spec.AncAluXorX), XDP, verifier.Options{}, ""},
		{"xdp rxhash", anc(spec.AncRxHash), XDP, verifier.Options{}, "pc 0: ancillary load rxhash"},
		{"xdp mark", anc(spec.AncMark), XDP, verifier.Options{}, "pc 0: ancillary load mark"},
		{"xdp pkttype", anc(spec.AncPktType), XDP, verifier.Options{}, "pc 0: ancillary load type"},
		{"xdp vlan", anc(spec.AncVLANTagPresent), XDP, verifier.Options{}, "pc 0: ancillary load vlan_avail"},
		{"xdp protocol", anc(spec.AncProtocol), XDP, verifier.Options{}, "pc 0: ancillary load proto"},
		{"socket rxhash", anc(spec.AncRxHash), SocketFilter, verifier.Options{}, ""},
		{"socket vlan", anc(spec.AncVLANTag), SocketFilter, verifier.Options{}, ""},
		{"socket hatype", anc(spec.AncHaType), SocketFilter, verifier.Options{}, "pc 0: ancillary load hatype"},
		{"socket poff", anc(spec.AncPayOffset), SocketFilter, verifier.Options{}, "pc 0: ancillary load poff"},
		{"xdp netoff", spec.Program{spec.Stmt(spec.ClassLD|spec.ModeABS|spec.SizeB, spec.NetOff+9), spec.Stmt(spec.ClassRET|spec.RetA, 0)}, XDP, verifier.Options{}, "network header"},
		{"record", spec.Program{spec.Stmt(spec.ClassLD|spec.ModeABS|spec.SizeB, spec.RecordBase), spec.Stmt(spec.ClassRET|spec.RetA, 0)}, SocketFilter, verifier.Options{Record: true}, "parse record load"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p, err := verifier.Verify(tc.prog, tc.opts)
			if err != nil {
				t.Fatal(err)
			}
			_, err = ProgramInstructions(p, tc.target)
			if tc.want == "" {
				if err != nil {
					t.Fatalf("unexpected error: %v", err)
				}
				return
			}
			if err == nil || !errors.Is(err, ErrUnsupported) || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("error %v, want ErrUnsupported containing %q", err, tc.want)
			}
			var te *Error
			if !errors.As(err, &te) || te.PC != 0 {
				t.Fatalf("error %v is not an *Error at pc 0", err)
			}
		})
	}
}

func TestOptions(t *testing.T) {
	p := mustVerify(t, spec.Program{spec.Stmt(spec.ClassRET|spec.RetK, 1)})
	ret := asm.Instructions{asm.Return()}
	for _, tc := range []struct {
		name string
		o    Options
	}{
		{"no target", Options{OnMatch: ret}},
		{"no match action", Options{Target: XDP}},
		{"both match actions", Options{Target: XDP, OnMatch: ret, MatchLabel: "m"}},
		{"both no-match actions", Options{Target: XDP, OnMatch: ret, NoMatchLabel: "n", OnNoMatch: ret}},
		{"duplicate registers", Options{Target: XDP, OnMatch: ret, Registers: Registers{Ctx: asm.R1, A: asm.R1, X: asm.R2, Tmp: asm.R3, Data: asm.R4, DataEnd: asm.R5}}},
		{"socket ctx not r6", Options{Target: SocketFilter, OnMatch: ret, Registers: Registers{Ctx: asm.R1, A: asm.R7, X: asm.R8, Tmp: asm.R9}}},
		{"socket A clobbered", Options{Target: SocketFilter, OnMatch: ret, Registers: Registers{Ctx: asm.R6, A: asm.R0, X: asm.R8, Tmp: asm.R9}}},
		{"frame pointer", Options{Target: XDP, OnMatch: ret, Registers: Registers{Ctx: asm.R1, A: asm.R10, X: asm.R2, Tmp: asm.R3, Data: asm.R4, DataEnd: asm.R5}}},
		{"stack", Options{Target: XDP, OnMatch: ret, StackOffset: 500}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if _, err := Translate(p, tc.o); !errors.Is(err, ErrOptions) {
				t.Fatalf("error %v, want ErrOptions", err)
			}
		})
	}
	if _, err := Translate(nil, Options{Target: XDP, OnMatch: ret}); !errors.Is(err, ErrOptions) {
		t.Fatalf("nil program: error %v, want ErrOptions", err)
	}
}

func TestJumpTooFar(t *testing.T) {
	tr := &translator{}
	tr.out = append(tr.out, asm.Ja.Label("far"))
	for i := 0; i < 40000; i++ {
		tr.out = append(tr.out, asm.Mov.Imm(asm.R0, 0))
	}
	tr.out = append(tr.out, asm.Return().WithSymbol("far"))
	if err := tr.checkJumps(); !errors.Is(err, ErrTooLarge) {
		t.Fatalf("error %v, want ErrTooLarge", err)
	}
	tr.out = tr.out[len(tr.out)-100:]
	tr.out[0] = asm.Ja.Label("far")
	if err := tr.checkJumps(); err != nil {
		t.Fatalf("short jump: %v", err)
	}
}
