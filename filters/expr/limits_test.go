package expr

import (
	"errors"
	"fmt"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/wringcap/wring/spec"
)

// compileBudget is the most a compilation may allocate on the way to
// refusing an expression (issue 11: 100,000 OR terms refused within
// 100 MB).
const compileBudget = 100 << 20

func hostTerms(n int) string {
	var b strings.Builder
	for i := 0; i < n; i++ {
		if i > 0 {
			b.WriteString(" or ")
		}
		fmt.Fprintf(&b, "host 10.%d.%d.%d", i>>16&255, i>>8&255, i&255)
	}
	return b.String()
}

// measure compiles src and returns the error and the bytes allocated.
func measure(t *testing.T, src string) (error, uint64) {
	t.Helper()
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	start := time.Now()
	_, err := Compile(src, Options{LinkType: spec.LinkEthernet, Optimize: true})
	took := time.Since(start)
	runtime.ReadMemStats(&after)
	alloc := after.TotalAlloc - before.TotalAlloc
	msg := fmt.Sprint(err)
	if len(msg) > 100 {
		msg = msg[:100] + "..."
	}
	t.Logf("%d bytes: allocated %.1f MB in %v: %s", len(src), float64(alloc)/(1<<20), took, msg)
	return err, alloc
}

// TestCompileBounded feeds expressions past each input bound: each is
// refused with ErrTooComplex at the position of the first token over the
// bound, having allocated less than compileBudget.
func TestCompileBounded(t *testing.T) {
	nest := strings.Repeat("(", MaxNesting+1) + "tcp" + strings.Repeat(")", MaxNesting+1)
	cases := []struct {
		name string
		src  string
		pos  int // byte offset of the error
	}{
		// Three tokens a term: the token bound comes first, at the address
		// of term 33,334.
		{"100000 host terms", hostTerms(100_000), len(hostTerms(MaxTokens/3)) + len(" or host ")},
		{"10001 host terms", hostTerms(MaxTerms + 1), len(hostTerms(MaxTerms)) + 1},
		{"100000 tcp terms", strings.Repeat("tcp or ", 99_999) + "tcp", 7 * MaxTokens / 2},
		{"10001 tcp terms", strings.Repeat("tcp or ", MaxTerms) + "tcp", MaxTerms*7 - 3},
		{"tokens", "len = " + strings.Repeat("1+", MaxTokens), 6 + MaxTokens - 2},
		{"parentheses", nest, MaxNesting},
		{"not", strings.Repeat("not ", MaxNesting+1) + "tcp", 4 * MaxNesting},
		{"unary minus", "len = " + strings.Repeat("-", MaxNesting+1) + "1", 6 + MaxNesting},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			err, alloc := measure(t, c.src)
			if alloc > compileBudget {
				t.Errorf("allocated %d bytes, budget %d", alloc, compileBudget)
			}
			var e *Error
			if !errors.As(err, &e) || !errors.Is(err, ErrTooComplex) {
				t.Fatalf("error %v, want an *Error wrapping ErrTooComplex", err)
			}
			if e.Pos != c.pos {
				t.Errorf("error at byte %d, want %d", e.Pos, c.pos)
			}
		})
	}
}

// TestCompileAtLibpcapScale compiles expressions of the size libpcap
// (1.10.3, through tcpdump -d) still accepts: none is refused by the
// input bounds; they compile, or are refused as programs over the
// instruction limit (libpcap has none), within the budget.
func TestCompileAtLibpcapScale(t *testing.T) {
	cases := []struct {
		name    string
		src     string
		tooLong bool
	}{
		{"9995 parentheses", strings.Repeat("(", 9995) + "tcp" + strings.Repeat(")", 9995), false},
		{"9995 not", strings.Repeat("not ", 9995) + "tcp", false},
		{"20000 additions", "len = " + strings.Repeat("1+", 20_000) + "1", true},
		{"1000 host terms", hostTerms(1000), true},
		{"10000 host terms", hostTerms(MaxTerms), true},
		{"500 host terms", hostTerms(500), true},
		{"150 host terms", hostTerms(150), false},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			err, alloc := measure(t, c.src)
			if alloc > compileBudget {
				t.Errorf("allocated %d bytes, budget %d", alloc, compileBudget)
			}
			if c.tooLong {
				if !errors.Is(err, ErrTooLong) {
					t.Errorf("error %v, want ErrTooLong", err)
				}
			} else if err != nil {
				t.Errorf("error %v, want a program", err)
			}
		})
	}
}
