package main

import (
	"bufio"
	"bytes"
	"encoding/hex"
	"encoding/json"
	"encoding/xml"
	"errors"
	"fmt"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"testing"

	"github.com/wringcap/wring/capture/sample"
	"github.com/wringcap/wring/export/ipfix"
	"github.com/wringcap/wring/internal/corpus"
	"github.com/wringcap/wring/internal/nfcapd"
	"github.com/wringcap/wring/internal/trafficgen"
)

// strKinds name the three strings, in the order of ipfix.IEHTTPHost,
// IEDNSQName and IETLSServerName (enterprise element ids 1, 2, 3).
var strKinds = [nStrings]string{"http host", "dns query name", "tls server name"}

// flowStrings maps a flow (both directions) to the strings of one kind seen
// on it.
type flowStrings map[joinKey]map[string]bool

func (m flowStrings) add(k joinKey, s string) {
	if m[k] == nil {
		m[k] = map[string]bool{}
	}
	m[k][s] = true
}

// pdmlField is a field of tshark's PDML output.
type pdmlField struct {
	Name     string      `xml:"name,attr"`
	Show     string      `xml:"show,attr"`
	Showname string      `xml:"showname,attr"`
	Value    string      `xml:"value,attr"`
	Fields   []pdmlField `xml:"field"`
}

var pieType = regexp.MustCompile(`\(Example Enterprise Number for Documentation Use\) Type (\d+): Value`)

// cflowStrings decodes the IPFIX datagrams in file with tshark (PDML) and
// returns, per kind, the strings each data record carries with its
// 5-tuple, and the number of data records.
func cflowStrings(t *testing.T, file string, port int) (got [nStrings]flowStrings, records int) {
	out, err := exec.Command("tshark", "-n", "-r", file, "-d", "udp.port=="+strconv.Itoa(port)+",cflow", "-T", "pdml").Output()
	if err != nil {
		t.Fatalf("tshark: %v", err)
	}
	for i := range got {
		got[i] = flowStrings{}
	}
	d := xml.NewDecoder(bytes.NewReader(out))
	for {
		tok, err := d.Token()
		if err != nil {
			break
		}
		se, ok := tok.(xml.StartElement)
		if !ok || se.Name.Local != "field" {
			continue
		}
		var f pdmlField
		if err := d.DecodeElement(&f, &se); err != nil {
			t.Fatal(err)
		}
		if f.Name != "" || !strings.HasPrefix(f.Show, "Set ") {
			continue
		}
		for _, rec := range f.Fields {
			if !strings.HasPrefix(rec.Show, "Flow ") {
				continue
			}
			records++
			var src, dst netip.Addr
			var sport, dport, proto uint64
			var strs [nStrings]string
			for _, e := range rec.Fields {
				switch e.Name {
				case "cflow.srcaddr", "cflow.srcaddrv6":
					src = netip.MustParseAddr(e.Show)
				case "cflow.dstaddr", "cflow.dstaddrv6":
					dst = netip.MustParseAddr(e.Show)
				case "cflow.srcport":
					sport, _ = strconv.ParseUint(e.Show, 10, 16)
				case "cflow.dstport":
					dport, _ = strconv.ParseUint(e.Show, 10, 16)
				case "cflow.protocol":
					proto, _ = strconv.ParseUint(e.Show, 10, 8)
				case "cflow.enterprise_private_entry":
					m := pieType.FindStringSubmatch(e.Showname)
					b, herr := hex.DecodeString(e.Value)
					if m == nil || herr != nil {
						t.Fatalf("enterprise element %q: not one of ours", e.Showname)
					}
					id, _ := strconv.Atoi(m[1])
					if id < 1 || id > nStrings {
						t.Fatalf("enterprise element %d", id)
					}
					strs[id-1] = string(b)
				}
			}
			k := makeJoinKey(src, dst, uint16(sport), uint16(dport), uint8(proto))
			for i, s := range strs {
				if s != "" {
					got[i].add(k, s)
				}
			}
		}
	}
	return got, records
}

// tsharkStrings reads the capture with tshark and returns, per kind, the
// strings its dissectors report per flow: http.host of requests,
// dns.qry.name of queries (and, separately, of responses), and the TLS
// ClientHello's server_name.
func tsharkStrings(t *testing.T, file string) (want [nStrings]flowStrings, dnsResponses flowStrings) {
	out, err := exec.Command("tshark", "-n", "-r", file, "-Y", "http.host || dns.qry.name || tls.handshake.extensions_server_name",
		"-T", "fields", "-E", "occurrence=f",
		"-e", "ip.src", "-e", "ip.dst", "-e", "ipv6.src", "-e", "ipv6.dst", "-e", "ip.proto", "-e", "ipv6.nxt",
		"-e", "tcp.srcport", "-e", "tcp.dstport", "-e", "udp.srcport", "-e", "udp.dstport",
		"-e", "http.host", "-e", "dns.flags.response", "-e", "dns.qry.name", "-e", "tls.handshake.extensions_server_name").Output()
	if err != nil {
		t.Fatalf("tshark: %v", err)
	}
	for i := range want {
		want[i] = flowStrings{}
	}
	dnsResponses = flowStrings{}
	sc := bufio.NewScanner(bytes.NewReader(out))
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		f := strings.Split(sc.Text(), "\t")
		if len(f) != 14 {
			t.Fatalf("tshark line %q", sc.Text())
		}
		src, dst, proto := f[0], f[1], f[4]
		if src == "" {
			src, dst, proto = f[2], f[3], f[5]
		}
		// IPv6's next header may be an extension header: the ports say
		// which transport the string came in.
		sport, dport := f[6], f[7]
		proto = "6"
		if sport == "" {
			sport, dport, proto = f[8], f[9], "17"
		}
		s, err1 := netip.ParseAddr(src)
		d, err2 := netip.ParseAddr(dst)
		sp, _ := strconv.ParseUint(sport, 10, 16)
		dp, _ := strconv.ParseUint(dport, 10, 16)
		pr, err3 := strconv.ParseUint(proto, 10, 8)
		if err := errors.Join(err1, err2, err3); err != nil {
			t.Fatalf("tshark line %q: %v", sc.Text(), err)
		}
		k := makeJoinKey(s, d, uint16(sp), uint16(dp), uint8(pr))
		if f[10] != "" {
			want[strHost].add(k, f[10])
		}
		if f[12] != "" {
			if f[11] == "1" || f[11] == "True" {
				dnsResponses.add(k, f[12])
			} else {
				want[strQName].add(k, f[12])
			}
		}
		if f[13] != "" {
			want[strSNI].add(k, f[13])
		}
	}
	return want, dnsResponses
}

// eventStrings reads wring's own events: per kind, the strings the
// analyzers reported per flow (by the host's flow member).
func eventStrings(t *testing.T, file string) (ev [nStrings]flowStrings) {
	for i := range ev {
		ev[i] = flowStrings{}
	}
	b, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	for _, line := range bytes.Split(bytes.TrimSpace(b), []byte("\n")) {
		var e struct {
			Analyzer, Event string
			Flow            *struct {
				Src, Dst     netip.Addr
				Sport, Dport uint16
				Proto        uint8
			}
			Host, Name, SNI string
		}
		if err := json.Unmarshal(line, &e); err != nil {
			t.Fatalf("event %q: %v", line, err)
		}
		if e.Flow == nil {
			continue
		}
		k := makeJoinKey(e.Flow.Src, e.Flow.Dst, e.Flow.Sport, e.Flow.Dport, e.Flow.Proto)
		switch {
		case e.Analyzer == "http" && e.Event == "request" && e.Host != "":
			ev[strHost].add(k, e.Host)
		case e.Analyzer == "dns" && e.Event == "query" && e.Name != "":
			ev[strQName].add(k, e.Name)
		case e.Analyzer == "tls" && e.Event == "client_hello" && e.SNI != "":
			ev[strSNI].add(k, e.SNI)
		}
	}
	return ev
}

// TestExportIPFIXStrings exports the bundled sample and the generated mixed
// capture with the http, dns and tls analyzers to nfcapd (through the
// datagram-keeping relay) and checks that the enterprise elements carry
// the strings: tshark's cflow decoding of the datagrams shows, for each
// flow tshark's own dissectors give an http.host, a DNS query name or a
// TLS server name, that string (both directions of the flow carry it).
// Flows where they differ are counted by category; a category that is not
// explained fails the test.
func TestExportIPFIXStrings(t *testing.T) {
	for _, tool := range []string{"nfcapd", "nfdump", "tshark"} {
		if _, err := exec.LookPath(tool); err != nil {
			corpus.Unavailable(t, tool+" is not installed (apt-get install nfdump tshark)")
		}
	}
	dir := t.TempDir()
	samplePath := filepath.Join(dir, "sample.pcap")
	if err := os.WriteFile(samplePath, sample.Pcap, 0o644); err != nil {
		t.Fatal(err)
	}
	mixed := filepath.Join(dir, "mixed.pcap")
	g, err := os.Create(mixed)
	if err != nil {
		t.Fatal(err)
	}
	n := 20000
	if testing.Short() {
		n = 2000
	}
	if err := trafficgen.Generate(g, trafficgen.Config{Seed: 17, Count: n}); err != nil {
		t.Fatal(err)
	}
	g.Close()
	for _, file := range []string{samplePath, mixed} {
		t.Run(filepath.Base(file), func(t *testing.T) {
			dir := t.TempDir()
			col, err := nfcapd.Start(dir)
			if errors.Is(err, nfcapd.ErrMissing) {
				corpus.Unavailable(t, err.Error())
			}
			if err != nil {
				t.Fatal(err)
			}
			relay := newUDPRelay(t, col.Port)
			events := filepath.Join(dir, "events.json")
			url := fmt.Sprintf("ipfix://127.0.0.1:%d", relay.port())
			args := []string{"read", "--analyzer", "http", "--analyzer", "dns", "--analyzer", "tls", "--events", events, "--export", url, "-w", os.DevNull, "-r", file}
			var stderr bytes.Buffer
			if code := run(args, nil, &bytes.Buffer{}, &stderr); code != 0 {
				t.Fatalf("wring %s: exit %d\n%s", strings.Join(args, " "), code, stderr.String())
			}
			grams := relay.stop()
			stored, err := col.Stop()
			if err != nil {
				t.Fatal(err)
			}
			pcap := filepath.Join(dir, "ipfix.pcap")
			writeDatagrams(t, pcap, relay.port(), grams)
			got, records := cflowStrings(t, pcap, relay.port())
			if records != len(stored) || records == 0 {
				t.Fatalf("tshark decoded %d data records, nfdump stored %d", records, len(stored))
			}
			if msgs, recs, bad := tsharkCheck(t, pcap, relay.port()); msgs != len(grams) || recs != records || bad != 0 {
				t.Fatalf("tshark decoded %d of %d messages, %d records; %d frames malformed or with warnings", msgs, len(grams), recs, bad)
			}
			want, dnsResponses := tsharkStrings(t, file)
			ev := eventStrings(t, events)
			t.Log(lineWith(stderr.String(), "strings attached"))
			for kind := range want {
				matched := 0
				miss := map[string]int{}
				for k, ws := range want[kind] {
					gs := got[kind][k]
					switch {
					case overlaps(gs, ws):
						matched++
					case len(gs) > 0:
						// The flow carried several (tshark lists them all, the
						// record the first the analyzer reported).
						if len(ev[kind][k]) > 1 && overlaps(gs, ev[kind][k]) {
							miss["another of the flow's strings exported"]++
						} else {
							miss["a different string exported"]++
							t.Errorf("%s on %v: tshark %v, exported %v, events %v", strKinds[kind], k, keys(ws), keys(gs), keys(ev[kind][k]))
						}
					case len(ev[kind][k]) > 0:
						miss["in wring's events, not exported"]++
						t.Errorf("%s on %v: the analyzer reported %v, the record has none", strKinds[kind], k, keys(ev[kind][k]))
					default:
						miss["the analyzer reported none"]++
						if miss["the analyzer reported none"] <= 3 {
							t.Logf("%s on %v: tshark %v, wring's analyzer reported none", strKinds[kind], k, keys(ws))
						}
					}
				}
				extra := 0
				for k, gs := range got[kind] {
					if !overlaps(gs, want[kind][k]) && !overlaps(gs, dnsResponses[k]) {
						extra++
						if !overlaps(gs, ev[kind][k]) {
							t.Errorf("%s on %v: exported %v, not in the events", strKinds[kind], k, keys(gs))
						}
					}
				}
				t.Logf("%s: tshark %d flows, exported %d flows, %d match; misses %v; %d exported flows tshark has no such string for",
					strKinds[kind], len(want[kind]), len(got[kind]), matched, miss, extra)
				if len(want[kind]) > 0 && matched == 0 {
					t.Errorf("%s: none of tshark's %d flows matched", strKinds[kind], len(want[kind]))
				}
			}
		})
	}
}

func overlaps(a, b map[string]bool) bool {
	for s := range a {
		if b[s] {
			return true
		}
	}
	return false
}

func keys(m map[string]bool) []string {
	var s []string
	for k := range m {
		s = append(s, k)
	}
	sort.Strings(s)
	return s
}

func lineWith(s, sub string) string {
	for _, l := range strings.Split(s, "\n") {
		if strings.Contains(l, sub) {
			return l
		}
	}
	return "(no line with " + strconv.Quote(sub) + ")"
}

// TestStringJoin checks the joiner's rules: a string goes into the
// records of the flow whose time span holds it (both directions), a later
// one waits for the next flow on the 5-tuple, an earlier one is counted
// stale, the first string of a kind wins, and events of other analyzers or
// without a flow member are left alone or counted.
func TestStringJoin(t *testing.T) {
	j := newStringJoin([]string{"flow", "http", "dns"}, []string{"flow", "http", "dns-1"})
	if j == nil || len(j.prefixes) != 2 {
		t.Fatalf("joiner for http and dns: %+v", j)
	}
	ev := func(analyzer, event string, ts int64, flow, member string) []byte {
		f := ""
		if flow != "" {
			f = `,"flow":` + flow
		}
		return []byte(fmt.Sprintf(`{"analyzer":%q,"event":%q,"ts":%d%s,%s}`+"\n", analyzer, event, ts, f, member))
	}
	const fl = `{"src":"10.0.0.1","dst":"10.0.0.2","sport":40000,"dport":80,"proto":6}`
	const rfl = `{"src":"10.0.0.2","dst":"10.0.0.1","sport":80,"dport":40000,"proto":6}`
	j.note(ev("http", "request", 100, fl, `"host":"a.example"`))
	j.note(ev("http", "request", 150, rfl, `"host":"second.example"`)) // same flow, other direction: not the first
	j.note(ev("http", "request", 500, fl, `"host":"later.example"`))   // the next flow's
	j.note(ev("dns", "query", 120, fl, `"name":"not.ours"`))           // instance "dns" is not loaded as dns
	j.note(ev("dns-1", "query", 130, "", `"name":"no.flow"`))
	j.note(ev("dns-1", "response", 130, fl, `"name":"response.example"`))
	rec := func(first, last int64) (ipfix.Record, ipfix.Record) {
		a, b := netip.MustParseAddr("10.0.0.1"), netip.MustParseAddr("10.0.0.2")
		return ipfix.Record{Src: a, Dst: b, SrcPort: 40000, DstPort: 80, Proto: 6, First: first, Last: last},
			ipfix.Record{Src: b, Dst: a, SrcPort: 80, DstPort: 40000, Proto: 6, First: first, Last: last}
	}
	f, r := rec(90, 200)
	j.attach(&f, &r)
	if f.Host != "a.example" || r.Host != "a.example" || f.QName != "" {
		t.Fatalf("first flow: %q %q %q", f.Host, r.Host, f.QName)
	}
	f, r = rec(450, 600)
	j.attach(&f, &r)
	if f.Host != "later.example" || r.Host != "later.example" {
		t.Fatalf("second flow: %q %q", f.Host, r.Host)
	}
	j.note(ev("http", "request", 700, fl, `"host":"stale.example"`))
	f, r = rec(800, 900)
	j.attach(&f, &r)
	if f.Host != "" {
		t.Fatalf("a string before the flow's first packet was attached: %q", f.Host)
	}
	if j.attached[strHost] != 2 || j.seen[strHost] != 4 || j.others != 1 || j.noFlow != 1 || j.stale != 1 || len(j.flows) != 0 {
		t.Fatalf("counters: %v (flows left %d)", j, len(j.flows))
	}
	j.note([]byte(`{"analyzer":"http","event":"request","ts":"x"}` + "\n"))
	if j.unread != 1 {
		t.Fatalf("unreadable event not counted: %v", j)
	}
	if newStringJoin([]string{"flow"}, []string{"flow"}) != nil {
		t.Fatal("a joiner without string analyzers")
	}
}

// FuzzStringJoin feeds event lines (their strings come from packets) and
// flow reports to the joiner: it never panics, never holds more than its
// bounds, attaches only strings it read, and every string it read is
// attached or counted.
func FuzzStringJoin(f *testing.F) {
	f.Add([]byte(`{"analyzer":"http","event":"request","ts":100,"flow":{"src":"10.0.0.1","dst":"10.0.0.2","sport":40000,"dport":80,"proto":6},"host":"a.example"}`), int64(90), int64(200))
	f.Add([]byte(`{"analyzer":"dns","event":"query","ts":5,"flow":{"src":"2001:db8::1","dst":"2001:db8::2","sport":5353,"dport":53,"proto":17},"name":"x\u00e9\"y"}`), int64(0), int64(10))
	f.Add([]byte(`{"analyzer":"tls","event":"client_hello","ts":7,"sni":"no.flow"}`), int64(0), int64(10))
	f.Add([]byte(`{"analyzer":"http","event":"request","ts":1,"flow":{"src":"1.2.3.4","dst":"::1","sport":1,"dport":2,"proto":6},"host":"mixed"}`), int64(0), int64(1))
	f.Fuzz(func(t *testing.T, line []byte, first, last int64) {
		j := newStringJoin([]string{"http", "dns", "tls"}, []string{"http", "dns", "tls"})
		for i := 0; i < 3; i++ {
			j.note(line)
		}
		var ev stringEvent
		if json.Unmarshal(line, &ev) != nil || ev.Flow == nil {
			if len(j.flows) != 0 {
				t.Fatalf("an unreadable line or one without a flow member was kept: %q", line)
			}
			return
		}
		if j.held > maxJoinHeld || len(j.flows) > maxJoinFlows {
			t.Fatalf("over the bounds: %d strings, %d flows", j.held, len(j.flows))
		}
		fl := ev.Flow
		if !fl.Src.IsValid() || !fl.Dst.IsValid() {
			return
		}
		fwd := ipfix.Record{Src: fl.Src, Dst: fl.Dst, SrcPort: fl.Sport, DstPort: fl.Dport, Proto: fl.Proto, First: first, Last: last}
		rev := fwd
		j.attach(&fwd, &rev)
		for _, s := range []string{fwd.Host, fwd.QName, fwd.SNI} {
			if s != "" && s != ev.Host && s != ev.Name && s != ev.SNI {
				t.Fatalf("attached %q, the line had %q %q %q", s, ev.Host, ev.Name, ev.SNI)
			}
		}
		var seen, attached uint64
		for k := range j.seen {
			seen += j.seen[k]
			attached += j.attached[k]
		}
		if attached+j.others+j.noFlow+j.tableFull+j.stale+uint64(j.held) != seen {
			t.Fatalf("strings read %d, attached %d + later %d + no flow %d + table full %d + stale %d + held %d", seen, attached, j.others, j.noFlow, j.tableFull, j.stale, j.held)
		}
	})
}
