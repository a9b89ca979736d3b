package sink

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/wringcap/wring/capture/packet"
	"github.com/wringcap/wring/capture/pcapfile"
	"github.com/wringcap/wring/capture/sample"
	"github.com/wringcap/wring/internal/corpus"
	"github.com/wringcap/wring/internal/trafficgen"
	"github.com/wringcap/wring/spec"
)

// flagSet is a set of tcpdump flags and the options that mean the same.
type flagSet struct {
	name  string
	flags []string
	o     TextOptions
	dump  bool // a raw dump: must match for every decoded packet
}

// flagSets are the tcpdump flag sets TestTextLikeTcpdump compares.
var flagSets = []flagSet{
	{"none", nil, TextOptions{}, false},
	{"-v", []string{"-v"}, TextOptions{Verbose: 1}, false},
	{"-e", []string{"-e"}, TextOptions{LinkHeader: true}, false},
	{"-tt", []string{"-tt"}, TextOptions{TimeFormat: 2}, false},
	{"-x", []string{"-x"}, TextOptions{Hex: 1}, true},
	{"-X", []string{"-X"}, TextOptions{Hex: 1, HexASCII: true}, true},
	{"-A", []string{"-A"}, TextOptions{ASCII: 1}, true},
}

// tcpdumpOutput runs tcpdump -n -r file with flags in UTC, or reads the
// output cached under $WRING_TCPDUMP_CACHE (a development aid: the corpus
// takes minutes to print seven times).
func tcpdumpOutput(file string, flags []string) []byte {
	cache := os.Getenv("WRING_TCPDUMP_CACHE")
	var cf string
	if cache != "" {
		name := strings.TrimPrefix(strings.Join(flags, ""), "-")
		name = strings.ReplaceAll(name, "=", "")
		if name == "" {
			name = "none"
		}
		cf = filepath.Join(cache, filepath.Base(file)+"."+name)
		if b, err := os.ReadFile(cf); err == nil {
			return b
		}
	}
	args := append([]string{"-n", "-r", file}, flags...)
	cmd := exec.Command("tcpdump", args...)
	cmd.Env = append(os.Environ(), "TZ=UTC")
	var out bytes.Buffer
	cmd.Stdout = &out
	_ = cmd.Run() // damaged files end with an error after their packets
	if cf != "" {
		os.WriteFile(cf, out.Bytes(), 0o644)
	}
	return out.Bytes()
}

type capturedPacket struct {
	info packet.Info
	data []byte
	rec  packet.Record
}

func readCapture(t testing.TB, file string) []capturedPacket {
	r, err := pcapfile.Open(file)
	if err != nil {
		return nil
	}
	defer r.Close()
	var out []capturedPacket
	for {
		var c capturedPacket
		d, err := r.ReadPacket(&c.info)
		if errors.Is(err, io.EOF) || err != nil {
			return out
		}
		c.data = append([]byte(nil), d...)
		packet.Parse(c.info, c.data, &c.rec)
		out = append(out, c)
	}
}

// class names the protocol a packet is counted under: the innermost layer
// wring's parse record decodes.
func class(r *packet.Record) string {
	switch r.LinkType() {
	case spec.LinkEthernet, spec.LinkLinuxSLL, spec.LinkNull, spec.LinkLoop, spec.LinkRaw, spec.LinkIPv4, spec.LinkIPv6:
	default:
		return "other link"
	}
	switch r.IPVersion() {
	case 0:
		if r.EtherType() == 0x0806 {
			return "ARP"
		}
		if r.LinkType() == spec.LinkEthernet {
			return "Ethernet"
		}
		return "other link"
	}
	if r.L4Off() == spec.NoOffset || r.Flags()&spec.RecFlagLaterFragment != 0 {
		if r.IPVersion() == 4 {
			return "IPv4"
		}
		return "IPv6"
	}
	switch r.IPProto() {
	case packet.ProtoTCP, packet.ProtoUDP:
		if r.SrcPort() == 53 || r.DstPort() == 53 {
			return "DNS"
		}
		if r.IPProto() == packet.ProtoTCP {
			return "TCP"
		}
		return "UDP"
	case packet.ProtoICMP:
		return "ICMP"
	case packet.ProtoICMPv6:
		return "ICMPv6"
	}
	if r.IPVersion() == 4 {
		return "IPv4"
	}
	return "IPv6"
}

// mustMatch are the classes whose well-formed packets must print exactly
// as tcpdump prints them.
var mustMatch = map[string]bool{"Ethernet": true, "ARP": true, "IPv4": true, "IPv6": true, "TCP": true, "UDP": true, "ICMP": true, "ICMPv6": true, "DNS": true}

// knownDifferences bounds, per flag set and category, the packets printed
// differently from tcpdump: the counts may fall, never rise. "not decoded"
// names what tcpdump decodes there and this printer does not; "damaged"
// packets are truncated or malformed ones whose decoding tcpdump carries
// further than this printer.
var knownDifferences = map[string]int{
	"-e|not decoded: AH":                          62,
	"-e|not decoded: DCCP":                        45,
	"-e|not decoded: EIGRP":                       106,
	"-e|not decoded: GRE payload":                 5,
	"-e|not decoded: GRE source routes":           1,
	"-e|not decoded: GRE version 1":               1,
	"-e|not decoded: IGRP":                        1,
	"-e|not decoded: OSPF":                        119,
	"-e|not decoded: PGM":                         38,
	"-e|not decoded: PIM":                         346,
	"-e|not decoded: RSVP":                        13,
	"-e|not decoded: SCTP":                        255,
	"-e|not decoded: appletalk":                   1,
	"-e|not decoded: chdlc protocol":              64,
	"-e|not decoded: ethertype":                   854,
	"-e|not decoded: igmp dvmrp, pimv1, mtrace":   10,
	"-e|not decoded: igmp long response time":     2,
	"-e|not decoded: link type":                   638,
	"-e|not decoded: llc":                         412,
	"-e|not decoded: nfs":                         5,
	"-e|not decoded: ppp header":                  57,
	"-e|not decoded: tcp payload":                 520,
	"-e|not decoded: udp payload":                 985,
	"-tt|not decoded: AH":                         62,
	"-tt|not decoded: DCCP":                       45,
	"-tt|not decoded: EIGRP":                      106,
	"-tt|not decoded: GRE payload":                5,
	"-tt|not decoded: GRE source routes":          1,
	"-tt|not decoded: GRE version 1":              1,
	"-tt|not decoded: IGRP":                       1,
	"-tt|not decoded: OSPF":                       119,
	"-tt|not decoded: PGM":                        38,
	"-tt|not decoded: PIM":                        346,
	"-tt|not decoded: RSVP":                       13,
	"-tt|not decoded: SCTP":                       255,
	"-tt|not decoded: appletalk":                  1,
	"-tt|not decoded: chdlc protocol":             62,
	"-tt|not decoded: ethertype":                  853,
	"-tt|not decoded: igmp dvmrp, pimv1, mtrace":  10,
	"-tt|not decoded: igmp long response time":    2,
	"-tt|not decoded: link type":                  621,
	"-tt|not decoded: llc":                        412,
	"-tt|not decoded: nfs":                        5,
	"-tt|not decoded: ppp protocol":               4,
	"-tt|not decoded: tcp payload":                523,
	"-tt|not decoded: udp payload":                1009,
	"-v|not decoded: AH":                          62,
	"-v|not decoded: DCCP":                        45,
	"-v|not decoded: EIGRP":                       106,
	"-v|not decoded: GRE payload":                 5,
	"-v|not decoded: GRE source routes":           1,
	"-v|not decoded: GRE version 1":               1,
	"-v|not decoded: IGRP":                        1,
	"-v|not decoded: OSPF":                        119,
	"-v|not decoded: PGM":                         38,
	"-v|not decoded: PIM":                         346,
	"-v|not decoded: RSVP":                        13,
	"-v|not decoded: SCTP":                        255,
	"-v|not decoded: appletalk":                   1,
	"-v|not decoded: chdlc protocol":              62,
	"-v|not decoded: ethertype":                   874,
	"-v|not decoded: icmp extensions":             11,
	"-v|not decoded: igmp dvmrp, pimv1, mtrace":   10,
	"-v|not decoded: igmp long response time":     2,
	"-v|not decoded: igmp v3 records":             2,
	"-v|not decoded: link type":                   622,
	"-v|not decoded: llc":                         412,
	"-v|not decoded: nfs":                         5,
	"-v|not decoded: ppp protocol":                4,
	"-v|not decoded: tcp payload":                 523,
	"-v|not decoded: tcp rst data":                4,
	"-v|not decoded: udp payload":                 1235,
	"none|not decoded: AH":                        62,
	"none|not decoded: DCCP":                      45,
	"none|not decoded: EIGRP":                     106,
	"none|not decoded: GRE payload":               5,
	"none|not decoded: GRE source routes":         1,
	"none|not decoded: GRE version 1":             1,
	"none|not decoded: IGRP":                      1,
	"none|not decoded: OSPF":                      119,
	"none|not decoded: PGM":                       38,
	"none|not decoded: PIM":                       346,
	"none|not decoded: RSVP":                      13,
	"none|not decoded: SCTP":                      255,
	"none|not decoded: appletalk":                 1,
	"none|not decoded: chdlc protocol":            62,
	"none|not decoded: ethertype":                 853,
	"none|not decoded: igmp dvmrp, pimv1, mtrace": 10,
	"none|not decoded: igmp long response time":   2,
	"none|not decoded: link type":                 621,
	"none|not decoded: llc":                       412,
	"none|not decoded: nfs":                       5,
	"none|not decoded: ppp protocol":              4,
	"none|not decoded: tcp payload":               523,
	"none|not decoded: udp payload":               1009,
}

type tally struct{ same, total int }

// TestTextLikeTcpdump prints every packet of tcpdump's corpus and the
// bundled sample with each flag set and compares the text line by line
// with tcpdump -n's.
func TestTextLikeTcpdump(t *testing.T) {
	if _, err := exec.LookPath("tcpdump"); err != nil {
		corpus.Unavailable(t, "tcpdump is not installed")
	}
	files := corpus.Files(t, "tcpdump")
	tmp := t.TempDir()
	smp := filepath.Join(tmp, "sample.pcap")
	if err := os.WriteFile(smp, sample.Pcap, 0o644); err != nil {
		t.Fatal(err)
	}
	files = append(files, smp, mixedCapture(t, tmp))
	sort.Strings(files)
	compareWithTcpdump(t, narrowFiles(files), narrowFlags(flagSets), knownDifferences)
}

// narrowFiles keeps the files whose base name matches the regular
// expression in $WRING_TCPDUMP_FILES (a development aid: the whole corpus
// takes minutes per flag set); unset, it keeps them all.
func narrowFiles(files []string) []string {
	pat := os.Getenv("WRING_TCPDUMP_FILES")
	if pat == "" {
		return files
	}
	re := regexp.MustCompile(pat)
	var out []string
	for _, f := range files {
		if re.MatchString(filepath.Base(f)) {
			out = append(out, f)
		}
	}
	return out
}

// narrowFlags keeps the flag sets named in the comma-separated
// $WRING_TCPDUMP_FLAGS ("-x,-A"); unset, it keeps them all.
func narrowFlags(sets []flagSet) []flagSet {
	names := os.Getenv("WRING_TCPDUMP_FLAGS")
	if names == "" {
		return sets
	}
	var out []flagSet
	for _, fs := range sets {
		for _, n := range strings.Split(names, ",") {
			if n == fs.name {
				out = append(out, fs)
			}
		}
	}
	return out
}

// mixedCapture writes the generated mixed capture (HTTP, DNS, TCP
// handshakes, UDP applications, ICMP, ARP, fragments, VLAN and MPLS
// tags, some packets cut short) to dir and returns its path.
func mixedCapture(t *testing.T, dir string) string {
	var b bytes.Buffer
	if err := trafficgen.Generate(&b, trafficgen.Config{Seed: 13, Count: 4096}); err != nil {
		t.Fatal(err)
	}
	f := filepath.Join(dir, "mixed.pcap")
	if err := os.WriteFile(f, b.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	return f
}

// compareWithTcpdump prints every packet of files with each flag set and
// compares the text with tcpdump's, logging the tables and failing on any
// difference in a packet the printer decodes throughout or on a count of
// differences above known.
func compareWithTcpdump(t *testing.T, files []string, flagSets []flagSet, knownDifferences map[string]int) {
	lines := map[string]map[string]*tally{}   // flag set -> class -> lines
	decoded := map[string]map[string]*tally{} // the same, packets decoded throughout
	diffs := map[string]int{}                 // "flags|category" -> packets
	examples := map[string]string{}
	// $WRING_TCPDUMP_SHOW logs every packet whose "flags|category" key
	// holds it (a development aid).
	show := os.Getenv("WRING_TCPDUMP_SHOW")
	for _, fs := range flagSets {
		lines[fs.name] = map[string]*tally{}
		decoded[fs.name] = map[string]*tally{}
	}
	for _, f := range files {
		pk := readCapture(t, f)
		if len(pk) == 0 {
			continue
		}
		// tcpdump runs for every flag set at once: the corpus takes
		// minutes to print seven times over.
		refs := make([][]byte, len(flagSets))
		var wg sync.WaitGroup
		for k := range flagSets {
			wg.Add(1)
			go func() {
				defer wg.Done()
				refs[k] = tcpdumpOutput(f, flagSets[k].flags)
			}()
		}
		wg.Wait()
		for k, fs := range flagSets {
			ref := string(refs[k])
			o := fs.o
			o.Loc = time.UTC
			pr := printer{o: o, loc: time.UTC}
			ts := printer{o: o, loc: time.UTC} // the time stamps alone, one packet ahead
			ts.timestamp(&pk[0].info)
			for i := range pk {
				c := &pk[i]
				pr.b = pr.b[:0]
				pr.packet(&c.info, c.data)
				got := pr.b
				// tcpdump's text for this packet runs to the start of the
				// next packet's time stamp.
				var block string
				if i+1 < len(pk) {
					ts.b = ts.b[:0]
					ts.timestamp(&pk[i+1].info)
					next := "\n" + string(ts.b)
					if n := &pk[i+1].info; n.CapLen == 0 || n.WireLen == 0 || n.WireLen < n.CapLen || n.WireLen > maxSnaplen || n.CapLen > maxSnaplen {
						next = "\n[Invalid header"
					}
					if j := strings.Index(ref, next); j >= 0 {
						block, ref = ref[:j+1], ref[j+1:]
					} else {
						block, ref = ref, ""
					}
				} else {
					block, ref = ref, ""
				}
				cl := class(&c.rec)
				tl := lines[fs.name][cl]
				if tl == nil {
					tl = &tally{}
					lines[fs.name][cl] = tl
				}
				td := decoded[fs.name][cl]
				if td == nil {
					td = &tally{}
					decoded[fs.name][cl] = td
				}
				want := strings.SplitAfter(block, "\n")
				have := strings.SplitAfter(string(got), "\n")
				for k, l := range want {
					if l == "" {
						continue
					}
					same := k < len(have) && have[k] == l
					for _, x := range []*tally{tl, td} {
						if x == td && pr.undecoded != "" {
							continue
						}
						x.total++
						if same {
							x.same++
						}
					}
				}
				if fs.dump {
					// The dump is the end of tcpdump's text; what comes
					// before it is the decoded line.
					dump := string(got[pr.dumpStart:])
					ok := strings.HasSuffix(block, dump)
					if block == string(got) {
						ok = true
					} else if ok && fs.o.ASCII > 0 {
						ok = !asciiAmbiguous(block, c.data, pr.dumpOff)
					} else if ok {
						ok = strings.Count(block, "\n\t0x") == strings.Count(dump, "\n\t0x")
					}
					if !ok {
						key := fs.name + "|dump: " + dumpCategory(&c.rec, pr.undecoded, block)
						if show != "" && strings.Contains(key, show) {
							t.Logf("%s: %s #%d\n  tcpdump: %q\n  wring:   %q\n  tcpdump dump: %q\n  wring dump:   %q", key, filepath.Base(f), i+1, firstLine(block), firstLine(string(got)), firstDumpLine(block, fs.o), firstDumpLine(dump, fs.o))
						}
						diffs[key]++
						if _, ok := examples[key]; !ok {
							examples[key] = fmt.Sprintf("%s #%d\n  tcpdump: %q\n  wring:   %q", filepath.Base(f), i+1, block, got)
						}
					}
					continue
				}
				if block == string(got) {
					continue
				}
				cat := category(cl, &c.rec, pr.undecoded, block)
				key := fs.name + "|" + cat
				if show != "" && strings.Contains(key, show) {
					t.Logf("%s: %s #%d\n  tcpdump: %q\n  wring:   %q", key, filepath.Base(f), i+1, block, got)
				}
				diffs[key]++
				if _, ok := examples[key]; !ok {
					examples[key] = fmt.Sprintf("%s #%d\n  tcpdump: %q\n  wring:   %q", filepath.Base(f), i+1, block, got)
				}
			}
		}
	}
	// The tables.
	classes := []string{"Ethernet", "ARP", "IPv4", "IPv6", "TCP", "UDP", "ICMP", "ICMPv6", "DNS", "other link"}
	table := func(title string, m map[string]map[string]*tally) {
		var sb strings.Builder
		fmt.Fprintf(&sb, "%-6s", "flags")
		for _, cl := range classes {
			fmt.Fprintf(&sb, " %15s", cl)
		}
		sb.WriteString("\n")
		for _, fs := range flagSets {
			fmt.Fprintf(&sb, "%-6s", fs.name)
			for _, cl := range classes {
				tl := m[fs.name][cl]
				if tl == nil || tl.total == 0 {
					fmt.Fprintf(&sb, " %15s", "-")
					continue
				}
				fmt.Fprintf(&sb, " %6.2f%% %7d", 100*float64(tl.same)/float64(tl.total), tl.total)
			}
			sb.WriteString("\n")
		}
		t.Logf("%s (share identical, tcpdump's lines):\n%s", title, sb.String())
	}
	table("lines of all packets", lines)
	table("lines of packets whose every protocol the printer decodes", decoded)
	keys := make([]string, 0, len(diffs))
	for k := range diffs {
		keys = append(keys, k)
	}
	sort.Slice(keys, func(i, j int) bool { return diffs[keys[i]] > diffs[keys[j]] })
	var db strings.Builder
	for _, k := range keys {
		fmt.Fprintf(&db, "%6d  %s\n", diffs[k], k)
	}
	t.Logf("packets printed differently, by flag set and category:\n%s", db.String())
	if testing.Verbose() {
		for _, k := range keys {
			t.Logf("%s: %s", k, examples[k])
		}
	}
	for _, k := range keys {
		if strings.Contains(k, "|well-formed ") || strings.HasSuffix(k, "|dump: decoded") {
			t.Errorf("%d packets: %s: %s", diffs[k], k, examples[k])
			continue
		}
		if n, ok := knownDifferences[k]; !ok || diffs[k] > n {
			t.Errorf("%s: %d packets differ, at most %d known", k, diffs[k], n)
		}
	}
}

// category says why a packet prints differently: something tcpdump decodes
// here and this printer does not, a damaged packet, or (the failures) a
// well-formed packet of a class that must match.
func category(cl string, r *packet.Record, undecoded, ref string) string {
	switch {
	case undecoded != "":
		return "not decoded: " + undecoded
	case r.Flags()&(spec.RecFlagMalformed|spec.RecFlagTruncated) != 0 || r.CapLen() < r.WireLen() || strings.Contains(ref, "[|"):
		return "damaged " + cl
	case !mustMatch[cl]:
		return cl
	}
	return "well-formed " + cl
}

// dumpCategory says why a raw dump differs: where the packet holds a
// protocol this printer does not decode, the dump's start (after the link
// header, or the whole packet when tcpdump's decoder stopped on truncated
// data) is not known.
func dumpCategory(r *packet.Record, undecoded, ref string) string {
	if undecoded != "" {
		return "not decoded: " + undecoded
	}
	return "decoded"
}

// asciiAmbiguous reports whether tcpdump's text for a packet also ends
// with the -A dump of data from an offset before off: the -A dump has no
// offsets, so a dump from off that ends tcpdump's text shows that tcpdump
// dumped from off only when no longer dump would end it as well.
func asciiAmbiguous(block string, data []byte, off int) bool {
	pr := printer{o: TextOptions{ASCII: 1}}
	pr.pkt, pr.end = data, len(data)
	for k := 0; k < off && k < len(data); k++ {
		pr.b = pr.b[:0]
		pr.ascii(k, len(data)-k)
		if strings.HasSuffix(block, string(pr.b)) {
			return true
		}
	}
	return false
}

// moreFlagSets are the other forms a user can ask for, compared on the
// sample and the mixed capture.
var moreFlagSets = []flagSet{
	{"-q", []string{"-q"}, TextOptions{Quiet: true}, false},
	{"-vv", []string{"-vv"}, TextOptions{Verbose: 2}, false},
	{"-ev", []string{"-e", "-v"}, TextOptions{LinkHeader: true, Verbose: 1}, false},
	{"-t", []string{"-t"}, TextOptions{TimeFormat: 1}, false},
	{"-ttt", []string{"-ttt"}, TextOptions{TimeFormat: 3}, false},
	{"-tttt", []string{"-tttt"}, TextOptions{TimeFormat: 4}, false},
	{"-ttttt", []string{"-ttttt"}, TextOptions{TimeFormat: 5}, false},
	{"nano", []string{"--time-stamp-precision=nano"}, TextOptions{Nano: true}, false},
	{"-xx", []string{"-xx"}, TextOptions{Hex: 2}, true},
	{"-XX", []string{"-XX"}, TextOptions{Hex: 2, HexASCII: true}, true},
	{"-AA", []string{"-AA"}, TextOptions{ASCII: 2}, true},
}

// knownMoreDifferences is knownDifferences for moreFlagSets.
var knownMoreDifferences = map[string]int{
	"-ev|not decoded: appletalk":      1,
	"-ev|not decoded: udp payload":    1,
	"-ttttt|not decoded: appletalk":   1,
	"-ttttt|not decoded: udp payload": 1,
	"-tttt|not decoded: appletalk":    1,
	"-tttt|not decoded: udp payload":  1,
	"-ttt|not decoded: appletalk":     1,
	"-ttt|not decoded: udp payload":   1,
	"-t|not decoded: appletalk":       1,
	"-t|not decoded: udp payload":     1,
	"-vv|not decoded: appletalk":      1,
	"-vv|not decoded: udp payload":    1,
	"nano|not decoded: appletalk":     1,
	"nano|not decoded: udp payload":   1,
}

// TestTextFlagsLikeTcpdump compares the remaining flag forms on the sample
// and the mixed capture.
func TestTextFlagsLikeTcpdump(t *testing.T) {
	if _, err := exec.LookPath("tcpdump"); err != nil {
		corpus.Unavailable(t, "tcpdump is not installed")
	}
	tmp := t.TempDir()
	smp := filepath.Join(tmp, "sample.pcap")
	if err := os.WriteFile(smp, sample.Pcap, 0o644); err != nil {
		t.Fatal(err)
	}
	compareWithTcpdump(t, narrowFiles([]string{smp, mixedCapture(t, tmp)}), narrowFlags(moreFlagSets), knownMoreDifferences)
}

// firstLine is the first line of s.
func firstLine(s string) string {
	s, _, _ = strings.Cut(s, "\n")
	return s
}

// firstDumpLine is the first line of the -x/-X dump in s (the -A dump has
// no marker: its first line after the text line).
func firstDumpLine(s string, o TextOptions) string {
	if o.ASCII > 0 {
		_, s, _ = strings.Cut(s, "\n")
		return firstLine(s)
	}
	if i := strings.Index(s, "\n\t0x"); i >= 0 {
		return firstLine(s[i+1:])
	}
	return ""
}
