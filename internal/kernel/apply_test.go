//go:build linux

package kernel

import (
	"errors"
	"fmt"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"

	"github.com/wringcap/wring/internal/corpus"
	"github.com/wringcap/wring/verifier"
	"github.com/wringcap/wring/vm"
)

// tcpdumpMatches runs Debian's libpcap itself over the capture (tcpdump -r
// FILE [-O] -w OUT EXPR) and returns the (timestamp, wire length) of each
// packet it kept, in order.
func tcpdumpMatches(t *testing.T, savefile, expr string, optimize bool) ([][2]int64, error) {
	out := filepath.Join(t.TempDir(), "out.pcap")
	args := []string{"-r", savefile, "-w", out}
	if !optimize {
		args = append(args, "-O")
	}
	cmd := exec.Command("tcpdump", append(args, "--", expr)...)
	cmd.SysProcAttr = &syscall.SysProcAttr{Cloneflags: syscall.CLONE_NEWNET}
	if b, err := cmd.CombinedOutput(); err != nil {
		return nil, fmt.Errorf("tcpdump %s: %v: %s", strings.Join(cmd.Args[1:], " "), err, b)
	}
	c, err := corpus.ReadCapture(out)
	if err != nil {
		if c, err = readLenientPcap(out); err != nil {
			return nil, err
		}
	}
	var m [][2]int64
	for _, p := range c.Packets {
		m = append(m, [2]int64{p.TsNanos, int64(p.WireLen)})
	}
	return m, nil
}

// TestFilterApply reproduces the expected return values of TESTrun's
// filter_apply cases: compile with Debian's tcpdump (-r SAVEFILE -dd
// [-O]), verify, run wring's VM on each packet with its wire length and
// compare with the expected values (libpcap master's). Where they differ,
// the packets the VM keeps are compared with the packets Debian's libpcap
// keeps running the same program itself (tcpdump -r -w): equal sets mean
// Debian's compiler, not the VM, is the difference.
func TestFilterApply(t *testing.T) {
	needRoot(t) // tcpdump runs in a network namespace of its own
	needTcpdump(t)
	root := corpus.Need(t)
	cases := corpus.CasesOf(t, "filter_apply")
	jobs := make([]compileJob, len(cases))
	for i, tc := range cases {
		jobs[i] = compileJob{Savefile: filepath.Join(root, "libpcap", tc.Savefile), Optimize: tc.Optimize != 0, Expr: tc.Expr}
	}
	results := compileAll(jobs)
	var pass, protochain, cannotCompile, unreadable, compilerDiffers int
	rejected := map[verifier.ErrorCode]int{}
	for i, tc := range cases {
		name := fmt.Sprintf("%s (%q on %s)", tc.Label, tc.Expr, tc.Savefile)
		if results[i].Err != nil {
			cannotCompile++
			continue
		}
		p, err := verifier.Verify(results[i].Prog, verifier.Options{})
		if err != nil {
			var ve *verifier.Error
			if errors.As(err, &ve) && ve.Code == verifier.ErrBackwardJump && strings.Contains(tc.Expr, "protochain") {
				protochain++
				continue
			}
			if errors.As(err, &ve) {
				rejected[ve.Code]++
			}
			t.Errorf("%s: rejected: %v", name, err)
			continue
		}
		c, err := corpus.ReadCapture(jobs[i].Savefile)
		if err != nil {
			// gopacket refuses a record with caplen > wirelen; libpcap
			// takes it as it is.
			c, err = readLenientPcap(jobs[i].Savefile)
		}
		if err != nil {
			unreadable++
			t.Errorf("%s: cannot read the capture: %v", name, err)
			continue
		}
		want := strings.Fields(tc.Expected)
		if len(want) != len(c.Packets) {
			t.Errorf("%s: %d expected values for %d packets", name, len(want), len(c.Packets))
			continue
		}
		same := true
		var kept [][2]int64
		for j, pkt := range c.Packets {
			got := vm.Run(p, pkt.Data, pkt.WireLen, nil)
			w, err := strconv.ParseUint(want[j], 10, 32)
			if err != nil {
				t.Fatalf("%s: expected value %q: %v", name, want[j], err)
			}
			if uint64(got) != w {
				same = false
			}
			if got != 0 {
				kept = append(kept, [2]int64{pkt.TsNanos, int64(pkt.WireLen)})
			}
		}
		if same {
			pass++
			continue
		}
		lib, err := tcpdumpMatches(t, jobs[i].Savefile, tc.Expr, tc.Optimize != 0)
		if err != nil {
			t.Errorf("%s: differs from the expected values, and libpcap's own run failed: %v", name, err)
			continue
		}
		if fmt.Sprint(lib) == fmt.Sprint(kept) {
			compilerDiffers++
			t.Logf("%s: differs from libpcap master's values, but keeps exactly the packets Debian's libpcap keeps with the same program", name)
			continue
		}
		t.Errorf("%s: the VM keeps %d packets, Debian's libpcap %d: %v vs %v", name, len(kept), len(lib), kept, lib)
	}
	t.Logf("summary: %d filter_apply cases: %d reproduce the expected values exactly, %d are protochain (backward jump, rejected by design), %d Debian's tcpdump cannot compile, %d differ only because Debian's libpcap 1.10.3 compiles them differently (the VM agrees with Debian's libpcap on every packet), %d captures unreadable, other rejections %v",
		len(cases), pass, protochain, cannotCompile, compilerDiffers, unreadable, rejected)
	if pass == 0 {
		t.Error("no case reproduced")
	}
}
