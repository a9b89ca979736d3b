package main

import (
	"bytes"
	"encoding/json"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/gopacket/gopacket"
	"github.com/gopacket/gopacket/layers"
	"github.com/gopacket/gopacket/pcapgo"
)

func writeFile(t *testing.T, name, content string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

func TestRulesCheck(t *testing.T) {
	p := writeFile(t, "r.rules", "# x\nrule 2 proto tcp dport 80-81 either -> bypass after 10\nrule 1 priority 0 src 10.0.0.0/8 -> drop\nflow 3 proto udp src 1.1.1.1 sport 1 dst 2.2.2.2 dport 2 both -> tag 5\n")
	var out, errw bytes.Buffer
	if code := run([]string{"rules", "check", p}, nil, &out, &errw); code != 0 {
		t.Fatalf("exit %d: %s", code, errw.String())
	}
	want := "rule 1 priority 0 src 10.0.0.0/8 -> drop\nrule 2 priority 0 proto tcp dport 80-81 either -> bypass after 10\nflow 3 proto udp src 1.1.1.1 sport 1 dst 2.2.2.2 dport 2 both -> tag 5\n"
	if out.String() != want {
		t.Errorf("normalized:\n%s\nwant:\n%s", out.String(), want)
	}
	// Rule 2 covers v4 and v6 (one tuple) in two directions: 2 tuples, 4
	// entries; rule 1 a third tuple.
	if !strings.Contains(errw.String(), "2 rules, 1 flow: 3 tuples (hash probes per packet, at most), 5 table entries, 2 flow entries") {
		t.Errorf("size line: %s", errw.String())
	}
	out.Reset()
	errw.Reset()
	if code := run([]string{"rules", "check", "--json", p}, nil, &out, &errw); code != 0 || !strings.HasPrefix(out.String(), `{"rules":[{"id":1,`) {
		t.Fatalf("--json: exit %d: %s %s", code, out.String(), errw.String())
	}
	// The JSON form checks the same.
	pj := writeFile(t, "r.json", out.String())
	out.Reset()
	if code := run([]string{"rules", "check", pj}, nil, &out, &errw); code != 0 || out.String() != want {
		t.Fatalf("JSON input: exit %d:\n%s", code, out.String())
	}

	bad := writeFile(t, "bad.rules", "rule 1 -> drop\nrule 2 proto tcp dport 80-x -> drop\n")
	errw.Reset()
	if code := run([]string{"rules", "check", bad}, nil, &out, &errw); code != 1 || !strings.Contains(errw.String(), "line 2 col 27: dport") {
		t.Fatalf("bad file: exit %d: %s", code, errw.String())
	}
}

// udpFlows writes flows×perFlow UDP packets, the flows interleaved, and
// returns the file.
func udpFlows(t *testing.T, flows, perFlow int, dport uint16) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "flows.pcap")
	f, err := os.Create(p)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	w := pcapgo.NewWriter(f)
	if err := w.WriteFileHeader(65535, layers.LinkTypeEthernet); err != nil {
		t.Fatal(err)
	}
	ts := time.Unix(1_700_000_000, 0)
	for i := range perFlow {
		for fl := range flows {
			eth := &layers.Ethernet{SrcMAC: net.HardwareAddr{2, 0, 0, 0, 0, 1}, DstMAC: net.HardwareAddr{2, 0, 0, 0, 0, 2}, EthernetType: layers.EthernetTypeIPv4}
			ip := &layers.IPv4{Version: 4, TTL: 64, Protocol: layers.IPProtocolUDP, SrcIP: net.IPv4(10, 0, 0, byte(fl)), DstIP: net.IPv4(10, 0, 1, 1)}
			udp := &layers.UDP{SrcPort: layers.UDPPort(20000 + fl), DstPort: layers.UDPPort(dport)}
			if i%2 == 1 { // the reply direction
				ip.SrcIP, ip.DstIP = ip.DstIP, ip.SrcIP
				udp.SrcPort, udp.DstPort = udp.DstPort, udp.SrcPort
			}
			if err := udp.SetNetworkLayerForChecksum(ip); err != nil {
				t.Fatal(err)
			}
			buf := gopacket.NewSerializeBuffer()
			if err := gopacket.SerializeLayers(buf, gopacket.SerializeOptions{FixLengths: true, ComputeChecksums: true}, eth, ip, udp, gopacket.Payload("payload!")); err != nil {
				t.Fatal(err)
			}
			ts = ts.Add(time.Millisecond)
			if err := w.WritePacket(gopacket.CaptureInfo{Timestamp: ts, CaptureLength: len(buf.Bytes()), Length: len(buf.Bytes())}, buf.Bytes()); err != nil {
				t.Fatal(err)
			}
		}
	}
	return p
}

// TestReadRulesBypassAndSample: bypass after 5 keeps exactly 5 packets of
// each flow (both directions count), sample 4 packet keeps packets 1, 5,
// 9, ... of its rule, and the counters reconcile: received = captured by
// the rules + dropped + passed + sampled out + bypassed, and the
// expression filters what the rules capture.
func TestReadRulesBypassAndSample(t *testing.T) {
	pcap := udpFlows(t, 20, 12, 5004)
	rf := writeFile(t, "r.rules", "rule 1 proto udp dport 5004 either -> bypass after 5\n")
	code, out, errs := runRead(t, nil, "-r", pcap, "--rules", rf, "--json")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errs)
	}
	lines := strings.Split(strings.TrimSpace(out), "\n")
	var st statsJSON
	if err := json.Unmarshal([]byte(lines[len(lines)-1]), &st); err != nil {
		t.Fatal(err)
	}
	if st.Captured != 100 || st.Rules == nil || st.Rules.Bypassed != 140 || st.Rules.Captured != 100 {
		t.Fatalf("bypass after 5 over 20 flows of 12: captured %d, rules %+v", st.Captured, st.Rules)
	}
	if len(st.Rules.Rules) != 1 || st.Rules.Rules[0].Packets != 240 {
		t.Fatalf("rule counters %+v", st.Rules.Rules)
	}
	if !strings.Contains(errs, "wring: rules: 100 captured (0 matched no rule), 0 dropped, 0 passed, 0 sampled out, 140 bypassed") {
		t.Errorf("summary: %s", errs)
	}

	rf = writeFile(t, "s.rules", "rule 1 priority 1 proto udp sport 20000-20004 -> drop\nrule 2 priority 2 proto udp -> sample 4 packet\n")
	// The expression keeps only the requests (to port 5004).
	code, out, errs = runRead(t, nil, "-r", pcap, "--rules", rf, "--json", "udp", "dst", "port", "5004")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errs)
	}
	lines = strings.Split(strings.TrimSpace(out), "\n")
	st = statsJSON{}
	if err := json.Unmarshal([]byte(lines[len(lines)-1]), &st); err != nil {
		t.Fatal(err)
	}
	r := st.Rules
	// Flows 0-4 send 6 requests each (dropped: 30); everything else
	// (240-30 = 210 packets) reaches rule 2, which keeps 1 in 4: 53.
	if r.Dropped != 30 || r.Captured != 53 || r.SampledOut != 157 {
		t.Fatalf("rules %+v", r)
	}
	if st.Received != r.Captured+r.Dropped+r.Passed+r.SampledOut+r.Bypassed {
		t.Errorf("received %d != rule outcomes %+v", st.Received, r)
	}
	if st.Captured+st.Filtered != st.Received || st.Captured > r.Captured || st.Captured == 0 {
		t.Errorf("captured %d, filtered %d, received %d, rules captured %d", st.Captured, st.Filtered, st.Received, r.Captured)
	}
	if len(lines)-1 != int(st.Captured) {
		t.Errorf("%d packet lines, %d captured", len(lines)-1, st.Captured)
	}
}

func TestReadRulesErrors(t *testing.T) {
	rf := writeFile(t, "f.rules", "rule 1 -> forward alerts\n")
	if code, _, errs := runRead(t, nil, "--rules", rf); code != 2 || !strings.Contains(errs, "forward alerts: wring has no named sinks yet") {
		t.Errorf("forward: exit %d: %s", code, errs)
	}
	rf = writeFile(t, "b.rules", "rule 1 -> sample 0 packet\n")
	if code, _, errs := runRead(t, nil, "--rules", rf); code != 1 || !strings.Contains(errs, "line 1 col 18: sample 0") {
		t.Errorf("bad rules: exit %d: %s", code, errs)
	}
}
