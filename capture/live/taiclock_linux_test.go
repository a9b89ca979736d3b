//go:build linux

package live

import (
	"sort"
	"testing"

	"github.com/cilium/ebpf"
	"github.com/cilium/ebpf/asm"

	unix "github.com/wringcap/wring/internal/linux"
	"github.com/wringcap/wring/internal/netns"
)

// TestProgramTAIClock: the clock the capture programs stamp with
// (bpf_ktime_get_tai_ns) is CLOCK_TAI, so that a stamp minus taiOffset is
// wall time. A program run with BPF_PROG_RUN stores its reading in a map;
// each reading is compared with clock_gettime(CLOCK_TAI) taken before and
// after the run. It asserts the clocks are the same (median within 1 ms:
// another clock would be off by hours or years) and logs how close they
// are.
func TestProgramTAIClock(t *testing.T) {
	netns.Require(t)
	m, err := ebpf.NewMap(&ebpf.MapSpec{Type: ebpf.Array, KeySize: 4, ValueSize: 8, MaxEntries: 1})
	if err != nil {
		t.Fatal(err)
	}
	defer m.Close()
	p, err := ebpf.NewProgram(&ebpf.ProgramSpec{Type: ebpf.XDP, License: "Dual BSD/GPL", Instructions: asm.Instructions{
		asm.FnKtimeGetTaiNs.Call(),
		asm.StoreMem(asm.RFP, -8, asm.R0, asm.DWord),
		asm.StoreImm(asm.RFP, -12, 0, asm.Word),
		asm.LoadMapPtr(asm.R1, m.FD()),
		asm.Mov.Reg(asm.R2, asm.RFP), asm.Add.Imm(asm.R2, -12),
		asm.Mov.Reg(asm.R3, asm.RFP), asm.Add.Imm(asm.R3, -8),
		asm.Mov.Imm(asm.R4, 0),
		asm.FnMapUpdateElem.Call(),
		asm.Mov.Imm(asm.R0, 2),
		asm.Return(),
	}})
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()
	var fromMid []int64
	inside := 0
	for i := 0; i < 200; i++ {
		var a, b unix.Timespec
		if err := unix.ClockGettime(unix.CLOCK_TAI, &a); err != nil {
			t.Fatal(err)
		}
		if _, err := p.Run(&ebpf.RunOptions{Data: make([]byte, 60)}); err != nil {
			t.Fatal(err)
		}
		if err := unix.ClockGettime(unix.CLOCK_TAI, &b); err != nil {
			t.Fatal(err)
		}
		var v uint64
		if err := m.Lookup(uint32(0), &v); err != nil {
			t.Fatal(err)
		}
		if int64(v) >= a.Nano() && int64(v) <= b.Nano() {
			inside++
		}
		fromMid = append(fromMid, int64(v)-(a.Nano()+b.Nano())/2)
	}
	sort.Slice(fromMid, func(i, j int) bool { return fromMid[i] < fromMid[j] })
	med := fromMid[len(fromMid)/2]
	t.Logf("bpf_ktime_get_tai_ns - clock_gettime(CLOCK_TAI) around the run, over %d runs: min %d, median %d, max %d ns; %d readings inside the bracket",
		len(fromMid), fromMid[0], med, fromMid[len(fromMid)-1], inside)
	if med > 1_000_000 || med < -1_000_000 {
		t.Errorf("the programs' clock is %d ns from CLOCK_TAI: not the same clock", med)
	}
}
