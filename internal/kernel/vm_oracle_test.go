//go:build linux

package kernel

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"golang.org/x/net/bpf"

	"github.com/wringcap/wring/internal/corpus"
	"github.com/wringcap/wring/spec"
	"github.com/wringcap/wring/verifier"
	"github.com/wringcap/wring/vm"
)

// xnetVM converts prog for golang.org/x/net/bpf, or returns nil when x/net
// refuses it or cannot represent one of its instructions (its decoder turns
// ldx #len into ld #len, and it has no ancillary loads).
func xnetVM(prog spec.Program) *bpf.VM {
	insns := make([]bpf.Instruction, len(prog))
	for i, ins := range prog {
		insns[i] = bpf.RawInstruction(ins).Disassemble()
		if raw, err := insns[i].Assemble(); err != nil || spec.Instruction(raw).Canonical() != ins.Canonical() {
			return nil
		}
	}
	v, err := bpf.NewVM(insns)
	if err != nil {
		return nil
	}
	return v
}

// corpusPackets returns every packet of libpcap/filter and, from each
// capture of the tcpdump corpus, the first perFile packets (all of them
// when perFile <= 0). Files pcapgo cannot read are counted and skipped.
func corpusPackets(t *testing.T, perFile int) (pkts [][]byte, files, unreadable int) {
	t.Helper()
	for _, dir := range []string{"libpcap/filter", "tcpdump"} {
		for _, f := range corpus.Files(t, dir) {
			c, err := corpus.ReadCapture(f)
			if c == nil {
				unreadable++
				continue
			}
			_ = err // keep the packets read before a mid-file error
			files++
			n := len(c.Packets)
			if dir == "tcpdump" && perFile > 0 {
				n = min(n, perFile)
			}
			for _, p := range c.Packets[:n] {
				pkts = append(pkts, p.Data)
			}
		}
	}
	return pkts, files, unreadable
}

// oraclePrograms compiles the EN10MB filter_accept expressions (tcpdump
// -dd -y EN10MB) and the filter_apply expressions (tcpdump -dd -r
// SAVEFILE), returning the distinct programs and how many compilations
// failed.
func oraclePrograms(t *testing.T) (progs []spec.Program, jobs, failed int) {
	t.Helper()
	var js []compileJob
	for _, tc := range corpus.CasesOf(t, "filter_accept") {
		if tc.DLT != "EN10MB" || tc.HasLinuxExt() {
			continue
		}
		j := compileJob{DLT: tc.DLT, Optimize: tc.Optimize != 0, Expr: tc.Expr}
		if tc.Snaplen != nil {
			j.Snaplen = *tc.Snaplen
		}
		js = append(js, j)
	}
	root := corpus.Need(t)
	for _, tc := range corpus.CasesOf(t, "filter_apply") {
		js = append(js, compileJob{Savefile: filepath.Join(root, "libpcap", tc.Savefile), Optimize: tc.Optimize != 0, Expr: tc.Expr})
	}
	seen := map[string]bool{}
	for _, r := range compileAll(js) {
		if r.Err != nil {
			failed++
			continue
		}
		key := fmt.Sprint(r.Prog)
		if !seen[key] {
			seen[key] = true
			progs = append(progs, r.Prog)
		}
	}
	return progs, len(js), failed
}

// TestVMAgainstKernelAndXNet runs every corpus program that verifies on
// every packet of libpcap/filter and a sample of the tcpdump corpus (the
// first 3 packets of each file; WRING_ORACLE_ALL_PACKETS=1 takes all) in
// wring's VM, in x/net/bpf's VM and in the kernel (a socket filter on an
// AF_UNIX datagram socket), and requires the same verdict everywhere both
// can run. The wire length is the captured length: neither x/net nor the
// socket pair has another.
func TestVMAgainstKernelAndXNet(t *testing.T) {
	needRoot(t)
	needTcpdump(t)
	perFile := 3
	if os.Getenv("WRING_ORACLE_ALL_PACKETS") == "1" {
		perFile = 0
	}
	start := time.Now()
	progs, jobs, failed := oraclePrograms(t)
	pkts, files, unreadable := corpusPackets(t, perFile)
	t.Logf("%d compilations (%d failed in Debian's tcpdump) gave %d distinct programs; %d packets from %d capture files (%d unreadable by pcapgo); prepared in %v",
		jobs, failed, len(progs), len(pkts), files, unreadable, time.Since(start).Round(time.Millisecond))

	r, err := NewRunner()
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	var (
		rejected                 = map[verifier.ErrorCode]int{}
		kernelRejects            int
		withExt                  int
		xnetCannot, xnetNeg      int
		kernelRuns, kernelSame   int
		xnetRuns, xnetSame       int
		bothPrograms, vmPrograms int
		bad                      []string
	)
	for _, prog := range progs {
		p, err := verifier.Verify(prog, verifier.Options{})
		if err != nil {
			var ve *verifier.Error
			if !errors.As(err, &ve) {
				t.Fatalf("Verify: %v", err)
			}
			rejected[ve.Code]++
			if r.SetFilter(prog) == nil {
				t.Errorf("the kernel accepts a program wring rejects (%v): %v", err, prog)
			}
			continue
		}
		vmPrograms++
		if p.Extensions() != 0 {
			withExt++ // the socket pair's ancillary values are not a packet's
			continue
		}
		if err := r.SetFilter(prog); err != nil {
			kernelRejects++
			t.Errorf("the kernel rejects a verified program: %v\n%v", err, prog)
			continue
		}
		x := xnetVM(prog)
		if x == nil {
			xnetCannot++
		} else {
			bothPrograms++
		}
		for _, pkt := range pkts {
			want := vm.Run(p, pkt, uint32(len(pkt)), nil)
			n, kept, err := r.Run(pkt)
			if err != nil {
				t.Fatalf("kernel run: %v", err)
			}
			kernelRuns++
			if kept == (want != 0) && (!kept || uint32(n) == min(want, uint32(len(pkt)))) {
				kernelSame++
			} else if len(bad) < 5 {
				bad = append(bad, fmt.Sprintf("kernel kept=%v n=%d, vm %d, on % x\n%v", kept, n, want, pkt[:min(len(pkt), 64)], prog))
			}
			if x == nil {
				continue
			}
			got, err := x.Run(pkt)
			if err != nil {
				xnetNeg++ // x/net does not implement neg
				continue
			}
			xnetRuns++
			if uint32(got) == want {
				xnetSame++
			} else if len(bad) < 5 {
				bad = append(bad, fmt.Sprintf("x/net %d, vm %d, on % x\n%v", got, want, pkt[:min(len(pkt), 64)], prog))
			}
		}
	}
	for _, b := range bad {
		t.Errorf("disagreement: %s", b)
	}
	var rej []string
	for c, n := range rejected {
		rej = append(rej, fmt.Sprintf("%v %d", c, n))
	}
	t.Logf("programs: %d verified (%d with ancillary loads, not compared), rejected by the verifier: [%s], of those compared x/net cannot represent or refuses %d",
		vmPrograms, withExt, strings.Join(rej, ", "), xnetCannot)
	t.Logf("summary: vm = kernel on %d of %d runs; vm = x/net on %d of %d runs (%d programs x/net runs; %d runs stopped in x/net at a neg); %d packets; %v",
		kernelSame, kernelRuns, xnetSame, xnetRuns, bothPrograms, xnetNeg, len(pkts), time.Since(start).Round(time.Millisecond))
	if kernelRuns == 0 || xnetRuns == 0 || kernelSame != kernelRuns || xnetSame != xnetRuns {
		t.Errorf("vm disagrees: kernel %d/%d, x/net %d/%d", kernelSame, kernelRuns, xnetSame, xnetRuns)
	}
}
