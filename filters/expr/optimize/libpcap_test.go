package optimize

import (
	"errors"
	"math/rand/v2"
	"os"
	"sort"
	"strings"
	"sync"
	"testing"

	"github.com/wringcap/wring/internal/corpus"
	"github.com/wringcap/wring/internal/pcaporacle"
	"github.com/wringcap/wring/spec"
)

// libpcapCase is one expression compiled by libpcap both ways.
type libpcapCase struct {
	dlt, expr  string
	unopt, opt spec.Program
}

// libpcapCases compiles the TESTrun accept expressions of the given link
// types with tcpdump, unoptimized and optimized. Expressions tcpdump 1.10
// refuses are left out.
func libpcapCases(t *testing.T, dlts map[string]bool, limit int) []libpcapCase {
	t.Helper()
	if _, err := pcaporacle.Tcpdump(); err != nil {
		corpus.Unavailable(t, err.Error())
	}
	seen := map[[2]string]bool{}
	var todo []libpcapCase
	for _, c := range corpus.CasesOf(t, "filter_accept") {
		k := [2]string{c.DLT, c.Expr}
		if !dlts[c.DLT] || seen[k] || c.HasLinuxExt() {
			continue
		}
		seen[k] = true
		todo = append(todo, libpcapCase{dlt: c.DLT, expr: c.Expr})
	}
	sort.Slice(todo, func(i, j int) bool {
		if todo[i].dlt != todo[j].dlt {
			return todo[i].dlt < todo[j].dlt
		}
		return todo[i].expr < todo[j].expr
	})
	if limit > 0 && len(todo) > limit {
		// An even sample, the same on every run.
		step := float64(len(todo)) / float64(limit)
		var s []libpcapCase
		for i := 0; i < limit; i++ {
			s = append(s, todo[int(float64(i)*step)])
		}
		todo = s
	}
	var wg sync.WaitGroup
	sem := make(chan struct{}, 4)
	errs := make([]error, len(todo))
	for i := range todo {
		wg.Add(1)
		sem <- struct{}{}
		go func(c *libpcapCase, err *error) {
			defer func() { <-sem; wg.Done() }()
			if c.unopt, *err = pcaporacle.Compile(c.expr, c.dlt, pcaporacle.Options{Unoptimized: true}); *err != nil {
				return
			}
			c.opt, *err = pcaporacle.Compile(c.expr, c.dlt, pcaporacle.Options{})
		}(&todo[i], &errs[i])
	}
	wg.Wait()
	var out []libpcapCase
	for i, c := range todo {
		if errs[i] != nil {
			if !errors.Is(errs[i], pcaporacle.ErrRefused) {
				t.Fatalf("%s %q: %v", c.dlt, c.expr, errs[i])
			}
			continue
		}
		out = append(out, c)
	}
	return out
}

// TestLibpcapPrograms optimizes libpcap's own unoptimized programs for the
// TESTrun accept expressions and checks that the result agrees with them
// on the corpus packets of that link type and on packets made to match
// their comparisons, and reports how its size compares with libpcap's
// optimized program. WRING_OPT_ALL=1 runs every expression instead of a
// sample.
func TestLibpcapPrograms(t *testing.T) {
	limit := 250
	if os.Getenv("WRING_OPT_ALL") != "" {
		limit = 0
	}
	dlts := map[string]bool{"EN10MB": true, "RAW": true, "IPV4": true, "IPV6": true, "LINUX_SLL": true,
		"LINUX_SLL2": true, "NULL": true, "LOOP": true, "PPP": true, "IEEE802_11": true, "IEEE802_11_RADIO": true,
		"FDDI": true, "IEEE802": true, "SUNATM": true, "IP_OVER_FC": true, "PFLOG": true, "MTP2": true}
	cases := libpcapCases(t, dlts, limit)
	pkts := corpusPackets(t)
	r := rand.New(rand.NewPCG(3, 4))
	var notLonger, shorter, n, unsupported int
	var worse []string
	for _, c := range cases {
		q, err := Run(c.unopt, Passes()...)
		if err != nil {
			if errors.Is(err, ErrUnsupported) {
				unsupported++ // protochain loops backwards
				continue
			}
			t.Fatalf("%s %q: %v", c.dlt, c.expr, err)
		}
		n++
		if len(q) <= len(c.opt) {
			notLonger++
		}
		if len(q) < len(c.opt) {
			shorter++
		} else if len(q) > len(c.opt) {
			worse = append(worse, c.dlt+" "+c.expr)
		}
		if err := wellFormed(q); err != nil && wellFormed(c.unopt) == nil {
			t.Errorf("%s %q: %v", c.dlt, c.expr, err)
			continue
		}
		set := pkts[c.dlt]
		for i := 0; i < 200; i++ {
			set = append(set, matchingPacket(r, c.unopt))
		}
		for _, pk := range set {
			want, got := run(c.unopt, pk, uint32(len(pk))), run(q, pk, uint32(len(pk)))
			if want != got {
				t.Errorf("%s %q: packet % x: unoptimized %d, optimized %d\n%s---\n%s", c.dlt, c.expr, pk, want, got, listing(c.unopt), listing(q))
				break
			}
		}
	}
	t.Logf("%d programs (%d with backward jumps left alone): not longer than libpcap's optimizer %d (%.1f%%), shorter %d (%.1f%%)",
		n, unsupported, notLonger, 100*float64(notLonger)/float64(n), shorter, 100*float64(shorter)/float64(n))
	if len(worse) > 0 {
		t.Logf("longer than libpcap's (first 20): %s", strings.Join(worse[:min(20, len(worse))], "; "))
	}
}

// corpusPackets loads the packets of libpcap's filter test captures by
// link-type name.
func corpusPackets(t *testing.T) map[string][][]byte {
	names := map[spec.LinkType]string{}
	for _, n := range []string{"EN10MB", "RAW", "IPV4", "IPV6", "LINUX_SLL", "LINUX_SLL2", "NULL", "LOOP", "PPP", "IEEE802_11", "IEEE802_11_RADIO"} {
		if lt, err := spec.ParseLinkType(n); err == nil {
			names[lt] = n
		}
	}
	out := map[string][][]byte{}
	for _, f := range corpus.Files(t, "libpcap/filter") {
		c, err := corpus.ReadCapture(f)
		if c == nil || err != nil && len(c.Packets) == 0 {
			continue
		}
		if n, ok := names[c.LinkType]; ok {
			for _, p := range c.Packets {
				out[n] = append(out[n], p.Data)
			}
		}
	}
	return out
}

// matchingPacket returns a packet whose bytes at the program's absolute
// loads often equal the constants it compares them with.
func matchingPacket(r *rand.Rand, p spec.Program) []byte {
	pkt := make([]byte, 20+r.IntN(120))
	for i := range pkt {
		pkt[i] = byte(r.Uint32())
	}
	for pc := 0; pc+1 < len(p); pc++ {
		ld, j := p[pc], p[pc+1]
		if ld.Class() != spec.ClassLD || ld.Mode() != spec.ModeABS || j.Class() != spec.ClassJMP || j.Src() != spec.SrcK || r.IntN(4) == 0 {
			continue
		}
		k := int(ld.K)
		switch ld.Size() {
		case spec.SizeB:
			if k < len(pkt) {
				pkt[k] = byte(j.K)
			}
		case spec.SizeH:
			if k+2 <= len(pkt) {
				pkt[k], pkt[k+1] = byte(j.K>>8), byte(j.K)
			}
		case spec.SizeW:
			if k+4 <= len(pkt) {
				pkt[k], pkt[k+1], pkt[k+2], pkt[k+3] = byte(j.K>>24), byte(j.K>>16), byte(j.K>>8), byte(j.K)
			}
		}
	}
	if r.IntN(5) == 0 {
		pkt = pkt[:r.IntN(len(pkt))]
	}
	return pkt
}
