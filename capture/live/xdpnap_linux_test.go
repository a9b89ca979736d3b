//go:build linux

package live

import (
	"testing"
	"time"
)

// TestXDPNapMax: the longest nap lets at most a quarter of the UMEM's
// frames arrive at 14.88 Mpps, and never exceeds 1 ms.
func TestXDPNapMax(t *testing.T) {
	for _, tc := range []struct {
		frames uint32
		want   time.Duration
	}{
		{64, 1075 * time.Nanosecond},
		{4096, 68817 * time.Nanosecond},
		{16384, 275268 * time.Nanosecond},
		{1 << 20, time.Millisecond},
	} {
		got := xdpNapMax(tc.frames)
		if got != tc.want {
			t.Errorf("xdpNapMax(%d) = %v, want %v", tc.frames, got, tc.want)
		}
		if arrive := float64(got) / 1e9 * xdpNapLine; arrive > float64(tc.frames)/4 {
			t.Errorf("%d frames: %.0f frames arrive in the longest nap, more than a quarter", tc.frames, arrive)
		}
	}
}

// TestXDPNapAdapts drives the nap with a simulated queue: frames arrive at
// a steady rate, each read takes what arrived during the nap (up to the
// batch). The nap must settle where batches are between half full and
// full, stay within its bound, and end when traffic stops.
func TestXDPNapAdapts(t *testing.T) {
	const limit = 128
	for _, mpps := range []float64{0.05, 0.25, 1, 4, 14.88} {
		s := &xdpSource{napMax: xdpNapMax(16384)}
		k := 1 // the first frames woke the worker from poll
		var last []int
		for i := 0; i < 400; i++ {
			s.napAfter(k, limit)
			if s.nap < 0 || s.nap > s.napMax {
				t.Fatalf("%.2f Mpps: nap %v outside [0, %v]", mpps, s.nap, s.napMax)
			}
			k = min(limit, max(1, int(float64(s.nap)/1e3*mpps))) // frames/µs = Mpps
			if i >= 380 {
				last = append(last, k)
			}
		}
		// At low rates the nap reaches its bound before a batch fills half.
		full := float64(s.napMax) / 1e3 * mpps
		for _, b := range last {
			if full >= limit/2 && (b < limit/2 || b > limit) {
				t.Errorf("%.2f Mpps: batches %v after settling, want %d..%d", mpps, last, limit/2, limit)
				break
			}
		}
		if full < limit/2 && s.nap != s.napMax {
			t.Errorf("%.2f Mpps: nap %v, want the bound %v (a batch never fills half)", mpps, s.nap, s.napMax)
		}
		t.Logf("%.2f Mpps: nap %v, last batches %v", mpps, s.nap, last[len(last)-5:])
		s.napAfter(0, limit)
		if s.flowing {
			t.Errorf("%.2f Mpps: still flowing after an empty read", mpps)
		}
	}
}
