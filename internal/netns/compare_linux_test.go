package netns

import (
	"strings"
	"testing"
)

// TestCompareFlowOrder: per direction the order is strict; between the
// directions two frames may swap only within CrossWindow.
func TestCompareFlowOrder(t *testing.T) {
	f := func(ts int64, dir, data string) Frame { return Frame{Ts: ts, Dir: dir, Data: []byte(data), Flow: "f"} }
	ref := []Frame{f(0, "a>b", "q1"), f(1_000, "b>a", "r1"), f(1_000_000, "a>b", "q2"), f(2_000_000, "b>a", "r2")}
	for _, tc := range []struct {
		name string
		got  []Frame
		want string // a part of the problem, "" for none
	}{
		{"same", ref, ""},
		{"crossing within the window", []Frame{ref[1], ref[0], ref[2], ref[3]}, ""},
		{"crossing past the window", []Frame{ref[0], ref[1], ref[3], ref[2]}, "goes b>a"},
		{"one direction reordered", []Frame{ref[2], ref[1], ref[0], ref[3]}, "differs"},
		{"bytes differ", []Frame{ref[0], ref[1], f(1_000_000, "a>b", "qX"), ref[3]}, "differs"},
		{"missing", ref[:3], "missing"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			d := ComparePcaps(Capture{Frames: ref}, Capture{Frames: tc.got})
			got := strings.Join(d.Problems, "; ")
			if tc.want == "" && got != "" || tc.want != "" && !strings.Contains(got, tc.want) {
				t.Fatalf("problems %q, want one with %q", got, tc.want)
			}
		})
	}
}
