package main

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gopacket/gopacket"
	"github.com/gopacket/gopacket/layers"
	"github.com/gopacket/gopacket/pcapgo"

	"github.com/wringcap/wring/internal/corpus"
	"github.com/wringcap/wring/internal/nfcapd"
	"github.com/wringcap/wring/internal/trafficgen"
)

// exportCorpusFiles are the corpus captures of the IPFIX acceptance test:
// many IPv4 and IPv6 flows of several protocols (PIM, AFS over UDP,
// RESP over TCP, VRRP, MPTCP).
var exportCorpusFiles = []string{
	"tcpdump/pim-packet-assortment.pcap", "tcpdump/afs.pcap", "tcpdump/resp_1_benchmark.pcap",
	"tcpdump/vrrp.pcap", "tcpdump/mptcp-v0.pcap",
}

// uniFlow is one direction of a flow, as compared between wring's own flow
// events and what nfdump stored.
type uniFlow struct {
	src, dst     netip.Addr
	sport, dport uint16
	proto        uint8
	first, last  int64 // ms
	packets      uint64
	bytes        uint64
	flags        string // as nfdump prints them
	vlan         uint16
	ifindex      uint32
}

func (f uniFlow) String() string {
	return fmt.Sprintf("%v:%d > %v:%d proto %d, %d-%d ms, %d packets, %d bytes, flags %s, vlan %d, ifindex %d", f.src, f.sport, f.dst, f.dport, f.proto, f.first, f.last, f.packets, f.bytes, f.flags, f.vlan, f.ifindex)
}

// eventFlows reads the flow analyzer's events and splits each into the
// directions that carried packets (spec/IPFIX.md: one record each).
func eventFlows(t *testing.T, file string) (flows []uniFlow, events int) {
	b, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	for _, line := range bytes.Split(bytes.TrimSpace(b), []byte("\n")) {
		if len(line) == 0 {
			continue
		}
		var ev struct {
			Analyzer, Event, Src, Dst                  string
			Sport, Dport                               uint16
			Proto                                      uint8
			SrcPackets, SrcBytes, DstPackets, DstBytes uint64
			SrcFlags, DstFlags                         uint8
			VLAN                                       uint16
			IfIndex                                    uint32
			First, Last                                int64
		}
		dec := json.NewDecoder(bytes.NewReader(line))
		if err := dec.Decode(&struct {
			Analyzer   *string `json:"analyzer"`
			Event      *string `json:"event"`
			Src        *string `json:"src"`
			Dst        *string `json:"dst"`
			Sport      *uint16 `json:"sport"`
			Dport      *uint16 `json:"dport"`
			Proto      *uint8  `json:"proto"`
			SrcPackets *uint64 `json:"src_packets"`
			SrcBytes   *uint64 `json:"src_bytes"`
			DstPackets *uint64 `json:"dst_packets"`
			DstBytes   *uint64 `json:"dst_bytes"`
			SrcFlags   *uint8  `json:"src_tcp_flags"`
			DstFlags   *uint8  `json:"dst_tcp_flags"`
			VLAN       *uint16 `json:"vlan"`
			IfIndex    *uint32 `json:"ifindex"`
			First      *int64  `json:"first"`
			Last       *int64  `json:"last"`
		}{&ev.Analyzer, &ev.Event, &ev.Src, &ev.Dst, &ev.Sport, &ev.Dport, &ev.Proto, &ev.SrcPackets, &ev.SrcBytes, &ev.DstPackets, &ev.DstBytes, &ev.SrcFlags, &ev.DstFlags, &ev.VLAN, &ev.IfIndex, &ev.First, &ev.Last}); err != nil {
			t.Fatalf("event %s: %v", line, err)
		}
		if ev.Analyzer != "flow" || ev.Event != "flow" {
			continue
		}
		events++
		src, dst := netip.MustParseAddr(ev.Src), netip.MustParseAddr(ev.Dst)
		f := uniFlow{src: src, dst: dst, sport: ev.Sport, dport: ev.Dport, proto: ev.Proto, first: ev.First / 1e6, last: ev.Last / 1e6, vlan: ev.VLAN, ifindex: ev.IfIndex}
		if ev.SrcPackets > 0 {
			g := f
			g.packets, g.bytes, g.flags = ev.SrcPackets, ev.SrcBytes, nfcapd.Flags(ev.SrcFlags)
			flows = append(flows, g)
		}
		if ev.DstPackets > 0 {
			g := f
			g.src, g.dst, g.sport, g.dport = dst, src, ev.Dport, ev.Sport
			g.packets, g.bytes, g.flags = ev.DstPackets, ev.DstBytes, nfcapd.Flags(ev.DstFlags)
			flows = append(flows, g)
		}
	}
	return flows, events
}

// compareFlows matches two lists as multisets and returns what only one
// side has.
func compareFlows(want, got []uniFlow) (missing, extra []uniFlow) {
	count := map[uniFlow]int{}
	for _, f := range got {
		count[f]++
	}
	for _, f := range want {
		if count[f] > 0 {
			count[f]--
			continue
		}
		missing = append(missing, f)
	}
	for f, n := range count {
		for range n {
			extra = append(extra, f)
		}
	}
	sort.Slice(extra, func(i, j int) bool { return extra[i].String() < extra[j].String() })
	return missing, extra
}

// udpRelay receives datagrams on a free port of 127.0.0.1, keeps a copy of
// each and forwards it to to.
type udpRelay struct {
	conn  *net.UDPConn
	out   net.Conn
	mu    sync.Mutex
	grams [][]byte
	done  chan struct{}
}

func newUDPRelay(t *testing.T, to int) *udpRelay {
	c, err := net.ListenUDP("udp", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		t.Fatal(err)
	}
	c.SetReadBuffer(16 << 20)
	out, err := net.Dial("udp", "127.0.0.1:"+strconv.Itoa(to))
	if err != nil {
		t.Fatal(err)
	}
	r := &udpRelay{conn: c, out: out, done: make(chan struct{})}
	go func() {
		defer close(r.done)
		buf := make([]byte, 65536)
		for {
			n, err := c.Read(buf)
			if err != nil {
				return
			}
			g := append([]byte(nil), buf[:n]...)
			r.mu.Lock()
			r.grams = append(r.grams, g)
			r.mu.Unlock()
			out.Write(g)
			time.Sleep(20 * time.Microsecond) // nfcapd reads one datagram at a time
		}
	}()
	return r
}

func (r *udpRelay) port() int { return r.conn.LocalAddr().(*net.UDPAddr).Port }

// stop waits until no datagram arrived for a while, then closes.
func (r *udpRelay) stop() [][]byte {
	last := -1
	for {
		time.Sleep(200 * time.Millisecond)
		r.mu.Lock()
		n := len(r.grams)
		r.mu.Unlock()
		if n == last {
			break
		}
		last = n
	}
	r.conn.Close()
	<-r.done
	r.out.Close()
	return r.grams
}

// writeDatagrams writes the datagrams as UDP packets from 127.0.0.1:50000
// to 127.0.0.1:port in a pcap file, for tshark.
func writeDatagrams(t *testing.T, file string, port int, grams [][]byte) {
	f, err := os.Create(file)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	w := pcapgo.NewWriter(f)
	if err := w.WriteFileHeader(65535, layers.LinkTypeEthernet); err != nil {
		t.Fatal(err)
	}
	for i, g := range grams {
		eth := &layers.Ethernet{SrcMAC: net.HardwareAddr{2, 0, 0, 0, 0, 1}, DstMAC: net.HardwareAddr{2, 0, 0, 0, 0, 2}, EthernetType: layers.EthernetTypeIPv4}
		ip := &layers.IPv4{Version: 4, TTL: 64, Protocol: layers.IPProtocolUDP, SrcIP: net.IPv4(127, 0, 0, 1), DstIP: net.IPv4(127, 0, 0, 1)}
		udp := &layers.UDP{SrcPort: 50000, DstPort: layers.UDPPort(port)}
		udp.SetNetworkLayerForChecksum(ip)
		buf := gopacket.NewSerializeBuffer()
		if err := gopacket.SerializeLayers(buf, gopacket.SerializeOptions{FixLengths: true, ComputeChecksums: true}, eth, ip, udp, gopacket.Payload(g)); err != nil {
			t.Fatal(err)
		}
		ci := gopacket.CaptureInfo{Timestamp: time.Unix(1767225600, int64(i)*1000), CaptureLength: len(buf.Bytes()), Length: len(buf.Bytes())}
		if err := w.WritePacket(ci, buf.Bytes()); err != nil {
			t.Fatal(err)
		}
	}
}

// tsharkCheck decodes the datagrams with tshark as IPFIX (cflow) and
// returns the messages and data records it decoded and the frames with a
// malformed field or an expert warning or error.
func tsharkCheck(t *testing.T, file string, port int) (messages, records, bad int) {
	decode := "udp.port==" + strconv.Itoa(port) + ",cflow"
	out, err := exec.Command("tshark", "-n", "-r", file, "-d", decode, "-Y", "cflow", "-T", "fields", "-e", "cflow.version", "-e", "cflow.srcaddr", "-e", "cflow.srcaddrv6", "-E", "occurrence=a", "-E", "aggregator=,").Output()
	if err != nil {
		t.Fatalf("tshark: %v\n%s", err, out)
	}
	sc := bufio.NewScanner(bytes.NewReader(out))
	for sc.Scan() {
		fields := strings.Split(sc.Text(), "\t")
		if len(fields) != 3 || fields[0] != "10" {
			t.Fatalf("tshark line %q: want version 10 and addresses", sc.Text())
		}
		messages++
		for _, f := range fields[1:] {
			if f != "" {
				records += strings.Count(f, ",") + 1
			}
		}
	}
	out, err = exec.Command("tshark", "-n", "-r", file, "-d", decode, "-Y", "_ws.malformed || _ws.expert.severity >= warning").Output()
	if err != nil {
		t.Fatalf("tshark: %v\n%s", err, out)
	}
	if s := strings.TrimSpace(string(out)); s != "" {
		bad = strings.Count(s, "\n") + 1
		t.Logf("tshark reports:\n%.2000s", s)
	}
	return messages, records, bad
}

// TestExportIPFIXAcceptance reads the bundled sample, a generated mixed
// capture and five corpus captures with --export to nfdump's nfcapd (through
// a relay that keeps the datagrams), and compares every flow nfdump lists
// with wring's own flow events (written with --events in the same run):
// addresses, ports, protocol, packets, bytes, first and last (ms), TCP
// flags, VLAN id and interface index, zero differences. tshark then decodes every datagram as IPFIX with no
// malformed field.
func TestExportIPFIXAcceptance(t *testing.T) {
	for _, tool := range []string{"nfcapd", "nfdump", "tshark"} {
		if _, err := exec.LookPath(tool); err != nil {
			corpus.Unavailable(t, tool+" is not installed (apt-get install nfdump tshark)")
		}
	}
	root := corpus.Need(t)
	gen := filepath.Join(t.TempDir(), "mixed.pcap")
	g, err := os.Create(gen)
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
	files := []string{"", gen}
	for _, f := range exportCorpusFiles {
		files = append(files, filepath.Join(root, f))
	}
	for _, file := range files {
		name := filepath.Base(file)
		if file == "" {
			name = "sample"
		}
		t.Run(name, func(t *testing.T) {
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
			args := []string{"read", "--analyzer", "flow", "--events", events, "--export", fmt.Sprintf("ipfix://127.0.0.1:%d", relay.port()), "-w", os.DevNull}
			if file != "" {
				args = append(args, "-r", file)
			}
			var stderr bytes.Buffer
			if code := run(args, nil, &bytes.Buffer{}, &stderr); code != 0 {
				t.Fatalf("wring %s: exit %d\n%s", strings.Join(args, " "), code, stderr.String())
			}
			grams := relay.stop()
			got, err := col.Stop()
			if err != nil {
				t.Fatal(err)
			}
			want, nEvents := eventFlows(t, events)
			if !strings.Contains(stderr.String(), fmt.Sprintf("export ipfix://127.0.0.1:%d: %d flow events, %d records exported", relay.port(), nEvents, len(want))) ||
				!strings.Contains(stderr.String(), ", 0 dropped") {
				t.Fatalf("summary does not say %d flow events, %d records exported, 0 dropped:\n%s", nEvents, len(want), stderr.String())
			}
			var stored []uniFlow
			for _, f := range got {
				stored = append(stored, uniFlow{src: f.Src, dst: f.Dst, sport: f.SrcPort, dport: f.DstPort, proto: f.Proto, first: f.First, last: f.Last, packets: f.Packets, bytes: f.Bytes,
					flags: f.TCPFlags, vlan: f.VLAN, ifindex: f.IfIndex})
			}
			missing, extra := compareFlows(want, stored)
			for i, f := range missing {
				if i < 5 {
					t.Errorf("in wring's flows, not in nfdump's: %v", f)
				}
			}
			for i, f := range extra {
				if i < 5 {
					t.Errorf("in nfdump's flows, not in wring's: %v", f)
				}
			}
			if len(missing)+len(extra) > 0 {
				t.Fatalf("%d flow events, %d directions: %d missing from nfdump, %d extra in nfdump", nEvents, len(want), len(missing), len(extra))
			}
			pcap := filepath.Join(dir, "ipfix.pcap")
			writeDatagrams(t, pcap, relay.port(), grams)
			msgs, recs, bad := tsharkCheck(t, pcap, relay.port())
			if msgs != len(grams) || recs != len(want) || bad != 0 {
				t.Fatalf("tshark decoded %d of %d messages and %d of %d records; %d frames malformed or with warnings", msgs, len(grams), recs, len(want), bad)
			}
			t.Logf("%d flow events, %d records: nfdump lists all %d, zero differences; tshark decoded %d messages, none malformed", nEvents, len(want), len(stored), msgs)
		})
	}
}
