package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/wringcap/wring/internal/corpus"
	"github.com/wringcap/wring/internal/nfcapd"
	"github.com/wringcap/wring/internal/trafficgen"
)

// flowKey is a direction's 5-tuple, with the ports cleared for ICMP and
// ICMPv6 (softflowd puts the type and code there; wring's flows have none).
type flowKey struct {
	src, dst     string
	sport, dport uint16
	proto        uint8
}

type flowSum struct {
	records, packets int
	bytes            uint64
}

func keyOf(f uniFlow) flowKey {
	k := flowKey{src: f.src.String(), dst: f.dst.String(), sport: f.sport, dport: f.dport, proto: f.proto}
	if f.proto == 1 || f.proto == 58 {
		k.sport, k.dport = 0, 0
	}
	return k
}

// Difference categories between wring's records and softflowd's, each
// explained by how the two define a flow (spec/IPFIX.md).
const (
	catSame        = "same packets and bytes"
	catLinkHeader  = "same packets; bytes differ by the link layer (wring counts bytes on the wire: header, VLAN tags, padding; softflowd the IP length)"
	catSplit       = "same totals, split into a different number of records (timeouts, the end of a TCP flow, ICMP types)"
	catICMPPorts   = "ICMP type and code in softflowd's ports (cleared before the comparison)"
	catTimes       = "start and end times (softflowd stamps flows read from a file with its own clock)"
	catFragments   = "same address pair and totals under other ports or protocol (IP fragments: wring gives every fragment no ports, as its flow hash does; softflowd takes the first fragment's ports and gives later IPv6 fragments protocol 0)"
	catSkipped     = "packets softflowd skips and wring counts: under two VLAN tags (QinQ; it reads one tag)"
	catOnlyWring   = "only in wring (unexplained)"
	catOnlySoft    = "only in softflowd (unexplained)"
	catCountsDiffr = "packets or bytes differ (unexplained)"
)

// compareSoftflowd counts the differences between wring's records and
// softflowd's by category, comparing the totals of each direction's
// 5-tuple. It also returns a few examples of unexplained ones.
func compareSoftflowd(wring, soft []uniFlow, cut map[[2]string]flowSum) (map[string]int, []string) {
	cats := map[string]int{}
	w, s := map[flowKey]*flowSum{}, map[flowKey]*flowSum{}
	add := func(m map[flowKey]*flowSum, f uniFlow) {
		k := keyOf(f)
		if m[k] == nil {
			m[k] = &flowSum{}
		}
		m[k].records++
		m[k].packets += int(f.packets)
		m[k].bytes += f.bytes
	}
	for _, f := range wring {
		add(w, f)
	}
	for _, f := range soft {
		add(s, f)
		if (f.proto == 1 || f.proto == 58) && (f.sport != 0 || f.dport != 0) {
			cats[catICMPPorts]++
		}
	}
	cats[catTimes] = len(soft)
	// First pass: directions whose 5-tuple both have. Keys left over go to
	// the second pass, by address pair.
	type pair struct{ src, dst string }
	left := map[pair]*[2]flowSum{}
	leave := func(k flowKey, a, b *flowSum) {
		p := pair{k.src, k.dst}
		if left[p] == nil {
			left[p] = &[2]flowSum{}
		}
		for i, x := range []*flowSum{a, b} {
			if x != nil {
				left[p][i].records += x.records
				left[p][i].packets += x.packets
				left[p][i].bytes += x.bytes
			}
		}
	}
	for k, a := range w {
		b, ok := s[k]
		switch {
		case !ok || a.packets != b.packets:
			leave(k, a, b)
			continue
		case a.bytes == b.bytes:
			cats[catSame]++
		case wireBytes(a.bytes, b.bytes, a.packets):
			cats[catLinkHeader]++
		default:
			leave(k, a, b)
			continue
		}
		if a.records != b.records {
			cats[catSplit]++
		}
	}
	for k, b := range s {
		if _, ok := w[k]; !ok {
			leave(k, nil, b)
		}
	}
	// Second pass: the same address pair with the same totals under other
	// ports or protocol numbers.
	var examples []string
	for p, ab := range left {
		a, b := ab[0], ab[1]
		c := cut[[2]string{p.src, p.dst}]
		switch {
		case a.packets == b.packets && (a.bytes == b.bytes || wireBytes(a.bytes, b.bytes, a.packets)):
			cats[catFragments] += max(a.records, b.records)
		case c.packets > 0 && a.packets-c.packets == b.packets && a.bytes >= c.bytes && (a.bytes-c.bytes == b.bytes || wireBytes(a.bytes-c.bytes, b.bytes, b.packets)):
			cats[catSkipped] += c.packets
		case b.records == 0:
			cats[catOnlyWring] += a.records
			examples = append(examples, fmt.Sprintf("only in wring: %v > %v %+v", p.src, p.dst, a))
		case a.records == 0:
			cats[catOnlySoft] += b.records
			examples = append(examples, fmt.Sprintf("only in softflowd: %v > %v %+v", p.src, p.dst, b))
		default:
			cats[catCountsDiffr] += max(a.records, b.records)
			examples = append(examples, fmt.Sprintf("differ: %v > %v wring %+v softflowd %+v", p.src, p.dst, a, b))
		}
	}
	sort.Strings(examples)
	return cats, examples
}

// wireBytes reports whether wring's bytes exceed softflowd's by what the
// link layer adds to each packet: a header of 14 to 22 bytes (Ethernet,
// VLAN tags, Linux cooked) and, for frames under 60 bytes, Ethernet
// padding (at most 46 bytes).
func wireBytes(wring, soft uint64, packets int) bool {
	if wring < soft || packets == 0 {
		return false
	}
	d := wring - soft
	return d >= 14*uint64(packets) && d <= (22+46)*uint64(packets)
}

// linkHeader reports whether n bytes per packet are a link-layer header:
// Ethernet (14), with one or two VLAN tags (18, 22), Linux cooked (16, 20).
func linkHeader(n uint64) bool {
	switch n {
	case 14, 16, 18, 20, 22:
		return true
	}
	return false
}

// TestExportVersusSoftflowd reads captures with wring --export and with
// softflowd -r, both exporting IPFIX to nfcapd, and counts the differences
// by category: each must be one that the two meters' definitions explain.
func TestExportVersusSoftflowd(t *testing.T) {
	for _, tool := range []string{"nfcapd", "nfdump", "softflowd"} {
		if _, err := exec.LookPath(tool); err != nil {
			corpus.Unavailable(t, tool+" is not installed (apt-get install nfdump softflowd)")
		}
	}
	root := corpus.Need(t)
	tmp := t.TempDir()
	sample := filepath.Join(tmp, "sample.pcap")
	if code := run([]string{"read", "-w", sample}, nil, &bytes.Buffer{}, &bytes.Buffer{}); code != 0 {
		t.Fatalf("writing the sample: exit %d", code)
	}
	gen := filepath.Join(tmp, "mixed.pcap")
	g, err := os.Create(gen)
	if err != nil {
		t.Fatal(err)
	}
	if err := trafficgen.Generate(g, trafficgen.Config{Seed: 17, Count: 5000}); err != nil {
		t.Fatal(err)
	}
	g.Close()
	files := []string{sample, gen}
	for _, f := range exportCorpusFiles {
		files = append(files, filepath.Join(root, f))
	}
	total := map[string]int{}
	for _, file := range files {
		t.Run(filepath.Base(file), func(t *testing.T) {
			wringFlows := collect(t, func(port int) error {
				var stderr bytes.Buffer
				args := []string{"read", "-r", file, "--export", fmt.Sprintf("ipfix://127.0.0.1:%d", port), "-w", os.DevNull}
				if code := run(args, nil, &bytes.Buffer{}, &stderr); code != 0 {
					return fmt.Errorf("wring: exit %d: %s", code, stderr.String())
				}
				return nil
			})
			softFlows := collect(t, func(port int) error {
				ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
				defer cancel()
				out, err := exec.CommandContext(ctx, "softflowd", "-r", file, "-n", fmt.Sprintf("127.0.0.1:%d", port), "-v", "10", "-d").CombinedOutput()
				if err != nil {
					return fmt.Errorf("softflowd: %v: %s", err, out)
				}
				return nil
			})
			cats, examples := compareSoftflowd(wringFlows, softFlows, skippedPackets(t, file))
			var lines []string
			for c, n := range cats {
				total[c] += n
				lines = append(lines, fmt.Sprintf("%6d  %s", n, c))
			}
			sort.Strings(lines)
			t.Logf("wring %d records, softflowd %d:\n%s", len(wringFlows), len(softFlows), strings.Join(lines, "\n"))
			if n := cats[catOnlyWring] + cats[catOnlySoft] + cats[catCountsDiffr]; n > 0 {
				for i, e := range examples {
					if i < 10 {
						t.Log(e)
					}
				}
				t.Errorf("%d unexplained differences", n)
			}
		})
	}
	t.Logf("all files: %v", total)
}

// collect starts nfcapd, runs send with its port, and returns the flows
// nfdump lists.
func collect(t *testing.T, send func(port int) error) []uniFlow {
	col, err := nfcapd.Start(t.TempDir())
	if errors.Is(err, nfcapd.ErrMissing) {
		corpus.Unavailable(t, err.Error())
	}
	if err != nil {
		t.Fatal(err)
	}
	sendErr := send(col.Port)
	time.Sleep(300 * time.Millisecond)
	flows, err := col.Stop()
	if sendErr != nil {
		t.Fatal(sendErr)
	}
	if err != nil {
		t.Fatal(err)
	}
	out := make([]uniFlow, len(flows))
	for i, f := range flows {
		out[i] = uniFlow{src: f.Src, dst: f.Dst, sport: f.SrcPort, dport: f.DstPort, proto: f.Proto, first: f.First, last: f.Last, packets: f.Packets, bytes: f.Bytes}
	}
	return out
}

// skippedPackets counts, per source and destination address, the IP
// packets of file that softflowd skips: those under two VLAN tags (it reads
// IP after an Ethernet header, one VLAN tag or MPLS). It reads wring's own
// packet lines (spec/JSON.md) and returns the packets' number and bytes on
// the wire.
func skippedPackets(t *testing.T, file string) map[[2]string]flowSum {
	var out bytes.Buffer
	if code := run([]string{"read", "-r", file, "--json"}, nil, &out, &bytes.Buffer{}); code != 0 {
		t.Fatalf("wring read --json %s: exit %d", file, code)
	}
	skipped := map[[2]string]flowSum{}
	for _, line := range bytes.Split(out.Bytes(), []byte("\n")) {
		var p struct {
			Type, Src, Dst string
			Len            uint64
			Vlans          int
		}
		if len(line) == 0 || json.Unmarshal(line, &p) != nil || p.Type != "packet" || p.Src == "" {
			continue
		}
		if p.Vlans > 1 {
			k := [2]string{p.Src, p.Dst}
			c := skipped[k]
			c.packets++
			c.bytes += p.Len
			skipped[k] = c
		}
	}
	return skipped
}
