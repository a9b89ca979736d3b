//go:build linux

package xdpgen

import (
	"errors"
	"os"

	"github.com/cilium/ebpf"
	"github.com/cilium/ebpf/asm"
	"github.com/cilium/ebpf/link"
	"strconv"
	"strings"
	"testing"

	"github.com/wringcap/wring/internal/netns"
)

func rxPackets(t *testing.T, ns, ifname string) uint64 {
	t.Helper()
	var v uint64
	err := netns.Do(ns, func() error {
		// /sys reflects the mounting namespace; /proc/thread-self/net follows the thread.
		b, err := os.ReadFile("/proc/thread-self/net/dev")
		if err != nil {
			return err
		}
		for _, l := range strings.Split(string(b), "\n") {
			name, rest, ok := strings.Cut(strings.TrimSpace(l), ":")
			if ok && name == ifname {
				v, err = strconv.ParseUint(strings.Fields(rest)[1], 10, 64)
				return err
			}
		}
		return os.ErrNotExist
	})
	if err != nil {
		t.Fatalf("rx_packets of %s: %v", ifname, err)
	}
	return v
}

// TestGeneratorDelivers sends frames from B and counts them arriving on A.
func TestGeneratorDelivers(t *testing.T) {
	netns.Require(t)
	if err := Supported(); err != nil {
		// Nothing of the generator can run here: the kernel's own mode is
		// missing, not something the generator does.
		t.Skipf("%v: the generator cannot send on this kernel", err)
	}
	p := netns.New(t, 2)
	idx, err := netns.Ifindex(p.NSB, p.IfB)
	if err != nil {
		t.Fatal(err)
	}
	// veth hands XDP_TX frames to its peer only when the peer runs XDP.
	if err := netns.Do(p.NSA, func() error {
		idxA, err := netns.Ifindex(p.NSA, p.IfA)
		if err != nil {
			return err
		}
		pass, err := ebpf.NewProgram(&ebpf.ProgramSpec{Type: ebpf.XDP, License: "Dual BSD/GPL",
			Instructions: asm.Instructions{asm.Mov.Imm(asm.R0, 2), asm.Return()}})
		if err != nil {
			return err
		}
		l, err := link.AttachXDP(link.XDPOptions{Program: pass, Interface: idxA})
		if err != nil {
			return err
		}
		t.Cleanup(func() { l.Close(); pass.Close() })
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	before := rxPackets(t, p.NSA, p.IfA)
	var d float64
	var frames, matches uint64
	err = netns.Do(p.NSB, func() error {
		g, err := New(idx, 100)
		if err != nil {
			return err
		}
		defer g.Close()
		dur, err := g.Send(100000, -1)
		d = dur.Seconds()
		if err != nil {
			return err
		}
		frames, matches, err = g.Counts()
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	got := rxPackets(t, p.NSA, p.IfA) - before
	// Outside the namespace the same generator refuses to send.
	var g *Generator
	if err := netns.Do(p.NSB, func() error {
		var err error
		g, err = New(idx, 0)
		return err
	}); err != nil {
		t.Fatal(err)
	}
	defer g.Close()
	if _, err := g.Send(1, -1); !errors.Is(err, ErrWrongNamespace) {
		t.Fatalf("Send outside the namespace: %v, want ErrWrongNamespace", err)
	}
	t.Logf("sent 100000 frames in %.3fs (%.2f Mpps); peer counted %d", d, 0.1/d, got)
	if got < 100000 {
		t.Fatalf("peer received %d of 100000 frames", got)
	}
	// The generator's own count: every frame, and about one in 100 made
	// to match (the choice is random: 1000 expected, far outside 500-1500
	// would mean the count or the choice is wrong).
	t.Logf("generator counted %d frames, %d matching", frames, matches)
	if frames != 100000 || matches < 500 || matches > 1500 {
		t.Fatalf("generator counted %d frames (want 100000), %d matching (want about 1000)", frames, matches)
	}
}
