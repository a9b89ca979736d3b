//go:build linux

package live

import (
	"testing"
	"time"

	"github.com/wringcap/wring/internal/netns"
)

// TestInterfaceDropped reads the device's receive drops since open. Frames
// of a protocol nobody handles (ethertype 0x88b5) are dropped by the host
// stack: counted as the device's rx_dropped on the passive path, whose tc
// programs see them first, and not on the AF_PACKET path, whose packet
// socket takes them as tcpdump's does — which is why only the latter prints
// tcpdump's "dropped by interface" line.
func TestInterfaceDropped(t *testing.T) {
	unknown := make([][]byte, 20)
	for i := range unknown {
		f := make([]byte, 60)
		copy(f, []byte{0x02, 0, 0, 0, 0, 2, 0x02, 0, 0, 0, 0, 1, 0x88, 0xb5})
		f[20] = byte(i)
		unknown[i] = f
	}
	for _, tc := range []struct {
		mode   Mode
		tapped bool
	}{{ModePassive, false}, {ModePacket, true}} {
		t.Run(tc.mode.String(), func(t *testing.T) {
			p := netns.New(t, 1)
			c := openIn(t, p, Options{Mode: tc.mode})
			if c.PacketSocket() != tc.tapped {
				t.Fatalf("PacketSocket() = %v on %s", c.PacketSocket(), c.Path())
			}
			before, ok := c.InterfaceDropped()
			if !ok {
				t.Fatal("no receive-drop counter for a veth")
			}
			// The peer must accept frames for any MAC: veth passes
			// them up regardless of the destination.
			if _, err := netns.Send(p.NSB, p.IfB, unknown); err != nil {
				t.Fatal(err)
			}
			time.Sleep(200 * time.Millisecond)
			after, _ := c.InterfaceDropped()
			t.Logf("%s: dropped by the device since open: %d before, %d after 20 frames of an unhandled protocol", c.Path(), before, after)
			switch {
			case !tc.tapped && after-before < uint64(len(unknown)):
				t.Errorf("passive: %d drops counted, want at least %d", after-before, len(unknown))
			case tc.tapped && after-before >= uint64(len(unknown)):
				t.Errorf("AF_PACKET: %d drops counted: the packet socket should take these frames", after-before)
			}
			c.Close()
			if n, ok := c.InterfaceDropped(); !ok || n != after {
				t.Errorf("InterfaceDropped after Close: %d, %v; want the count at Close, %d", n, ok, after)
			}
		})
	}
}
