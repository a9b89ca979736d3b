package main

import (
	"encoding/json"
	"net/netip"
	"strings"
	"testing"

	"github.com/wringcap/wring/export/ipfix"
)

const sampleFlowEvent = `{"analyzer":"flow","event":"flow","ts":1767225600005158707,"src":"10.0.0.2","dst":"10.0.0.1","sport":8080,"dport":33757,"proto":6,"hash":2145159540,"packets":3,"bytes":180,"src_packets":2,"src_bytes":120,"dst_packets":1,"dst_bytes":60,"src_tcp_flags":27,"dst_tcp_flags":18,"vlan":20,"ifindex":3,"first":1767225600000034686,"last":1767225600000044686,"reason":"fin"}`

func TestParseFlowEvent(t *testing.T) {
	fwd, rev, err := parseFlowEvent([]byte(sampleFlowEvent + "\n"))
	if err != nil {
		t.Fatal(err)
	}
	a, b := netip.MustParseAddr("10.0.0.2"), netip.MustParseAddr("10.0.0.1")
	want := ipfix.Record{Src: a, Dst: b, SrcPort: 8080, DstPort: 33757, Proto: 6, First: 1767225600000034686, Last: 1767225600000044686, Packets: 2, Bytes: 120, EndReason: ipfix.EndOfFlow,
		TCPFlags: 27, VLAN: 20, IfIndex: 3}
	if fwd != want {
		t.Fatalf("forward %+v, want %+v", fwd, want)
	}
	want.Src, want.Dst, want.SrcPort, want.DstPort, want.Packets, want.Bytes, want.TCPFlags = b, a, 33757, 8080, 1, 60, 18
	if rev != want {
		t.Fatalf("reverse %+v, want %+v", rev, want)
	}
	for _, bad := range []string{
		strings.Replace(sampleFlowEvent, `"src":"10.0.0.2",`, "", 1),
		strings.Replace(sampleFlowEvent, `"fin"`, `"later"`, 1),
		strings.Replace(sampleFlowEvent, `"sport":8080`, `"sport":80800`, 1),
		strings.Replace(sampleFlowEvent, `"first":1767225600000034686`, `"first":-1`, 1),
		strings.Replace(sampleFlowEvent, `"dst":"10.0.0.1"`, `"dst":"10.0.0.1\"`, 1),
		sampleFlowEvent[:len(sampleFlowEvent)-1],
		`{"src" "x"}`,
		strings.Replace(sampleFlowEvent, `"vlan":20`, `"vlan":4096`, 1),
		strings.Replace(sampleFlowEvent, `"src_tcp_flags":27`, `"src_tcp_flags":256`, 1),
	} {
		if _, _, err := parseFlowEvent([]byte(bad)); err == nil {
			t.Errorf("accepted %s", bad)
		}
	}
}

// FuzzParseFlowEvent checks the scanner against encoding/json: what the
// scanner accepts is valid JSON with the same members.
func FuzzParseFlowEvent(f *testing.F) {
	f.Add(sampleFlowEvent)
	f.Add(strings.Replace(sampleFlowEvent, `"10.0.0.2"`, `"2001:db8::1"`, 1))
	f.Add(`{"a":"\"","src":"1.2.3.4"}`)
	f.Fuzz(func(t *testing.T, line string) {
		fwd, rev, err := parseFlowEvent([]byte(line))
		if err != nil {
			return
		}
		// encoding/json matches member names without regard to case; a
		// map keeps them exact (the last of a repeated name wins, as in
		// the scanner).
		var m map[string]json.RawMessage
		if json.Unmarshal([]byte(line), &m) != nil {
			// The scanner does not check what it skips (other members'
			// values); it must still have read the ones it uses right.
			return
		}
		str := func(k string) string {
			var v string
			if err := json.Unmarshal(m[k], &v); err != nil {
				t.Fatalf("%s: member %s accepted by the scanner: %v", line, k, err)
			}
			return v
		}
		num := func(k string) uint64 {
			var v uint64
			if err := json.Unmarshal(m[k], &v); err != nil {
				t.Fatalf("%s: member %s accepted by the scanner: %v", line, k, err)
			}
			return v
		}
		if fwd.Src != netip.MustParseAddr(str("src")) || fwd.Dst != netip.MustParseAddr(str("dst")) || fwd.Dst != rev.Src ||
			uint64(fwd.SrcPort) != num("sport") || uint64(fwd.DstPort) != num("dport") || uint64(fwd.Proto) != num("proto") ||
			fwd.Packets != num("src_packets") || fwd.Bytes != num("src_bytes") || rev.Packets != num("dst_packets") ||
			rev.Bytes != num("dst_bytes") || uint64(fwd.First) != num("first") || uint64(fwd.Last) != num("last") ||
			endReasons[str("reason")] != fwd.EndReason {
			t.Fatalf("%s: scanner %+v / %+v, encoding/json %v", line, fwd, rev, m)
		}
	})
}
