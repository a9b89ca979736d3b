package jit

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"net/netip"
	"testing"

	"github.com/wringcap/wring/filters/expr"
	"github.com/wringcap/wring/internal/benchdata"
	"github.com/wringcap/wring/internal/corpus"
	"github.com/wringcap/wring/spec"
	"github.com/wringcap/wring/verifier"
)

// corpusProgram is one distinct program of libpcap's accept tables.
type corpusProgram struct {
	label, expr string
	link        spec.LinkType
	p           *verifier.Program
}

// corpusPrograms returns the distinct (link type, bytecode) programs of
// TESTrun's filter_accept cases: libpcap's own output for its test
// expressions (optimised and not), and what wring's expression compiler
// (filters/expr) makes of the same expressions with the same options
// (expressions that need name resolution are left to libpcap's output).
// Each is verified; refused counts what Verify refused (protochain's
// loop, unoptimised code that reads scratch memory not written on every
// path).
func corpusPrograms(tb testing.TB) (out []corpusProgram, refused int) {
	tb.Helper()
	seen := map[string]bool{}
	for _, c := range corpus.CasesOf(tb, "filter_accept") {
		link, err := spec.ParseLinkType(c.DLT)
		if err != nil {
			link = spec.LinkType(0xffff) // no capture has it; still compiled
		}
		prog, err := spec.ParseText([]byte(c.Expected), spec.TextListing)
		if err != nil {
			tb.Fatalf("%s: parse expected listing: %v", c.Label, err)
		}
		out, refused = addProgram(tb, out, refused, seen, c.Label, c.Expr, link, prog)
		o := expr.Options{LinkType: link, Optimize: c.Optimize == 1, LinuxExt: c.HasLinuxExt()}
		if c.Snaplen != nil {
			o.Snaplen = uint32(*c.Snaplen)
		}
		if c.Netmask != nil {
			if a, err := netip.ParseAddr(*c.Netmask); err == nil && a.Is4() {
				b := a.As4()
				o.Netmask, o.HasNetmask = binary.BigEndian.Uint32(b[:]), true
			}
		}
		if wp, err := expr.Compile(c.Expr, o); err == nil {
			out, refused = addProgram(tb, out, refused, seen, c.Label+"/wring", c.Expr, link, wp)
		}
	}
	return out, refused
}

// addProgram verifies and appends prog unless the same bytes for the same
// link type are already there.
func addProgram(tb testing.TB, out []corpusProgram, refused int, seen map[string]bool,
	label, src string, link spec.LinkType, prog spec.Program) ([]corpusProgram, int) {
	var key bytes.Buffer
	fmt.Fprintf(&key, "%d:", link)
	for _, ins := range prog {
		fmt.Fprintf(&key, "%x,%x,%x,%x;", ins.Op, ins.Jt, ins.Jf, ins.K)
	}
	if seen[key.String()] {
		return out, refused
	}
	seen[key.String()] = true
	p, err := verifier.Verify(prog, verifier.Options{})
	if err != nil {
		var ve *verifier.Error
		if !errors.As(err, &ve) {
			tb.Fatalf("%s (%s): verify: %v", label, src, err)
		}
		return out, refused + 1
	}
	return append(out, corpusProgram{label: label, expr: src, link: link, p: p}), refused
}

// corpusCaptures reads the capture files of the tcpdump and libpcap filter
// corpora, grouped by link type. Files gopacket cannot read are skipped
// (many are broken on purpose); packets read before an error are kept.
func corpusCaptures(tb testing.TB) (map[spec.LinkType][]corpus.Packet, int) {
	tb.Helper()
	by := map[spec.LinkType][]corpus.Packet{}
	files := 0
	for _, dir := range []string{"tcpdump", "libpcap/filter"} {
		for _, f := range corpus.Files(tb, dir) {
			c, _ := corpus.ReadCapture(f)
			if c == nil || len(c.Packets) == 0 {
				continue
			}
			files++
			by[c.LinkType] = append(by[c.LinkType], c.Packets...)
		}
	}
	return by, files
}

// TestCorpusDifferential is acceptance line 1 for the userspace engines:
// every program of libpcap's accept tables and every program wring's
// expression compiler makes from the same expressions, compiled natively
// (blinded and not) and portably, returns vm.Run's value on every packet of
// the corpus captures of its link type and, for Ethernet, of the generated
// mixed capture (internal/benchdata's working set), with varied metadata.
// Every program also runs on synthetic packets of every length, so that
// programs for link types without a capture still execute, and RunBatch
// runs over the same packets in one call per engine.
func TestCorpusDifferential(t *testing.T) {
	progs, refused := corpusPrograms(t)
	caps, files := corpusCaptures(t)
	var runs, disagree, programs int
	var failures []string
	synthetic := syntheticPackets()
	mixed := benchdata.WorkingSet(t) // the generated mixed capture (Ethernet)
	for _, cp := range progs {
		e := compileAll(t, cp.p)
		programs++
		pkts := caps[cp.link]
		if cp.link == spec.LinkEthernet {
			for i, pk := range mixed {
				runs++
				if msg := e.check(pk.Data, pk.WireLen, testMeta(i, pk.Data)); msg != "" {
					disagree++
					if len(failures) < 20 {
						failures = append(failures, fmt.Sprintf("%s %q mixed packet %d: %s", cp.label, cp.expr, i, msg))
					}
				}
			}
		}
		for i, pk := range pkts {
			runs++
			if msg := e.check(pk.Data, pk.WireLen, testMeta(i, pk.Data)); msg != "" {
				disagree++
				if len(failures) < 20 {
					failures = append(failures, fmt.Sprintf("%s %q [%v] packet %d: %s", cp.label, cp.expr, cp.link, i, msg))
				}
			}
		}
		bp, bw := make([][]byte, len(pkts)), make([]uint32, len(pkts))
		for i, pk := range pkts {
			bp[i], bw[i] = pk.Data, pk.WireLen
		}
		for _, b := range []struct {
			p [][]byte
			w []uint32
		}{{bp, bw}, {synthetic, nil}} {
			runs += len(b.p)
			if msg := e.checkBatch(b.p, b.w); msg != "" {
				disagree++
				if len(failures) < 20 {
					failures = append(failures, fmt.Sprintf("%s %q: %s", cp.label, cp.expr, msg))
				}
			}
		}
		for i, pkt := range synthetic {
			runs++
			if msg := e.check(pkt, uint32(len(pkt)), testMeta(i, pkt)); msg != "" {
				disagree++
				if len(failures) < 20 {
					failures = append(failures, fmt.Sprintf("%s %q synthetic %d: %s", cp.label, cp.expr, i, msg))
				}
			}
		}
		e.close(t)
	}
	t.Logf("%d programs (%d refused by Verify), %d capture files, %d packet runs x 3 engines, %d disagreements",
		programs, refused, files, runs, disagree)
	for _, f := range failures {
		t.Error(f)
	}
	if programs == 0 || runs == 0 {
		t.Fatal("nothing was compared")
	}
}

// syntheticPackets returns Ethernet/IPv4/TCP and IPv6/UDP packets of every
// length up to their full size, so that every guard fails somewhere.
func syntheticPackets() [][]byte {
	var out [][]byte
	for _, p := range fullPackets() {
		for n := 0; n <= len(p); n++ {
			out = append(out, p[:n])
		}
	}
	return out
}

// fullPackets returns an Ethernet/IPv4/TCP SYN to port 80 from 192.0.2.7
// and an Ethernet/IPv6/UDP DNS packet.
func fullPackets() [][]byte {
	v4 := []byte{
		0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 0x08, 0x00,
		0x45, 0, 0, 40, 0, 1, 0, 0, 64, 6, 0, 0, 192, 0, 2, 7, 10, 0, 0, 1,
		0, 80, 0x1f, 0x90, 0, 0, 0, 1, 0, 0, 0, 0, 0x50, 0x02, 0xff, 0xff, 0, 0, 0, 0,
	}
	v6 := []byte{
		0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 0x86, 0xdd,
		0x60, 0, 0, 0, 0, 8, 17, 64,
		0x20, 1, 0xd, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1,
		0x20, 1, 0xd, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 2,
		0, 53, 0, 53, 0, 8, 0, 0,
	}
	return [][]byte{v4, v6}
}
