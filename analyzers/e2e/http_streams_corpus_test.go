package e2e_test

import (
	"bytes"
	"path/filepath"
	"strings"
	"testing"

	"github.com/wringcap/wring/internal/analyzertest"
	"github.com/wringcap/wring/internal/corpus"
	"github.com/wringcap/wring/spec"
)

// TestHTTPStreamsAgainstTsharkOnMixedCapture is acceptance 1(a) on the
// generated mixed capture: the HTTP analyzer in stream mode against tshark
// with reassembly on.
func TestHTTPStreamsAgainstTsharkOnMixedCapture(t *testing.T) {
	needTshark(t)
	path := analyzertest.MixedCapture(t, 5000)
	c, err := corpus.ReadCapture(path)
	if err != nil {
		t.Fatal(err)
	}
	ev, counters := runAnalyzer(t, "http", "", c)
	d := compareItems("http/mixed", oursHTTP(t, ev), tsharkHTTP(t, path), classifyHTTP(t, path, c, truncatedHTTP(t, ev)))
	d.report(t)
	t.Logf("counters:%s", fmtCounters(counters))
	// Every item tshark reports is reported but 37 header blocks the
	// generator cut in single-segment flows that end with the capture
	// (catEndCut, with seed 1 and 5000 packets); no extra.
	if d.theirs < 1000 || d.agree != d.theirs-37 || len(d.explained) != 1 || d.count(catEndCut) != 37 {
		t.Errorf("http/mixed: tshark %d items, %d alike, %d explained in %d categories; want all but 37 alike, 37 %q",
			d.theirs, d.agree, d.count(catEndCut), len(d.explained), catEndCut)
	}
}

// TestHTTPStreamsAgainstTsharkOnCorpus is acceptance 1(a) on the tcpdump
// corpus files that hold "HTTP/1." in a packet.
func TestHTTPStreamsAgainstTsharkOnCorpus(t *testing.T) {
	needTshark(t)
	var all itemDiff
	all.what = "http/tcpdump"
	n := 0
	for _, f := range corpus.Files(t, "tcpdump") {
		c, _ := corpus.ReadCapture(f)
		if c == nil || len(c.Packets) == 0 {
			continue
		}
		has := false
		for _, p := range c.Packets {
			if bytes.Contains(p.Data, []byte("HTTP/1.")) {
				has = true
				break
			}
		}
		if !has {
			continue
		}
		n++
		ev, _ := runAnalyzer(t, "http", "", c)
		name := filepath.Base(f)
		d := compareItems(name, oursHTTP(t, ev), tsharkHTTP(t, f), classifyHTTP(t, f, c, truncatedHTTP(t, ev)))
		for i := range d.unexplained {
			d.unexplained[i] = name + ": " + d.unexplained[i]
		}
		all.merge(d)
	}
	t.Logf("%d files", n)
	all.report(t)
	if all.theirs < 9 || all.agree != all.theirs {
		t.Errorf("http/tcpdump: tshark %d items, %d alike: want at least 9, all alike", all.theirs, all.agree)
	}
}

// TestDNSStreamsAgainstTsharkOnCorpus compares DNS over TCP on the tcpdump
// corpus files with a TCP segment on port 53: every message tshark decodes
// there (queries and responses: name, type, id) must be reported alike.
func TestDNSStreamsAgainstTsharkOnCorpus(t *testing.T) {
	needTshark(t)
	var all itemDiff
	all.what = "dns-tcp/tcpdump"
	n := 0
	for _, f := range corpus.Files(t, "tcpdump") {
		c, _ := corpus.ReadCapture(f)
		if c == nil || len(c.Packets) == 0 {
			continue
		}
		has := false
		for i := range c.Packets {
			rec, _ := frameRecord(c, i+1)
			sp := uint16(rec[spec.RecSrcPort]) | uint16(rec[spec.RecSrcPort+1])<<8
			dp := uint16(rec[spec.RecDstPort]) | uint16(rec[spec.RecDstPort+1])<<8
			if rec[spec.RecIPProto] == 6 && (sp == 53 || dp == 53) {
				has = true
				break
			}
		}
		if !has {
			continue
		}
		n++
		ev, _ := runAnalyzer(t, "dns", "", c)
		name := filepath.Base(f)
		d := compareItems(name, oursDNS(t, ev), tsharkDNS(t, f), func(string, bool) string { return "" })
		for i := range d.unexplained {
			d.unexplained[i] = name + ": " + d.unexplained[i]
		}
		all.merge(d)
	}
	t.Logf("%d files", n)
	all.report(t)
	if all.theirs == 0 || all.agree != all.theirs {
		t.Errorf("dns-tcp/tcpdump: tshark %d items, %d alike: want all alike", all.theirs, all.agree)
	}
}

// classifyHTTP explains the differences of stream mode in file. An extra
// response tshark reports once it no longer waits for whole bodies
// (http.desegment_body off) is one whose body the capture does not hold
// completely.
//
// A missing item the packet mode reports is a header block cut in the
// last segment of a flow that ends without FIN or RST (catEndCut).
func classifyHTTP(t testing.TB, file string, c *corpus.Capture, trunc map[string]int) func(string, bool) string {
	var whole, packets map[string]int
	return func(item string, missing bool) string {
		if missing {
			if packets == nil {
				packets = map[string]int{}
				ev, _ := runAnalyzer(t, "http", "streams=0", c)
				for _, it := range oursHTTP(t, ev) {
					packets[it]++
				}
			}
			if packets[item] > 0 {
				packets[item]--
				return catEndCut
			}
			return ""
		}
		if trunc[item] > 0 {
			trunc[item]--
			return catStreamTrunc
		}
		if whole == nil {
			whole = map[string]int{}
			for _, it := range tsharkHTTP(t, file, "-o", "http.desegment_body:FALSE") {
				whole[it]++
			}
		}
		if strings.HasPrefix(item, "resp\t") && whole[item] > 0 {
			whole[item]--
			return catBodyCut
		}
		return ""
	}
}
