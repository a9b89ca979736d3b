package trafficgen_test

import (
	"fmt"

	"github.com/wringcap/wring/internal/trafficgen"
)

// Packets come one at a time from a Generator; the same seed always gives
// the same packets.
func ExampleGenerator() {
	g := trafficgen.New(trafficgen.Config{Seed: 1, NoTruncate: true})
	h := trafficgen.New(trafficgen.Config{Seed: 1, NoTruncate: true})
	same := true
	for range 1000 {
		p, q := g.Next(), h.Next()
		same = same && string(p.Data) == string(q.Data) && p.Kind == q.Kind && p.Time.Equal(q.Time)
	}
	fmt.Println(same)
	// Output: true
}
