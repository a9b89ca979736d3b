package wasm

import (
	"encoding/binary"
	"net"
	"net/netip"
	"testing"

	"github.com/gopacket/gopacket"
	"github.com/gopacket/gopacket/layers"

	"github.com/wringcap/wring/capture/packet"
	"github.com/wringcap/wring/capture/stream"
	"github.com/wringcap/wring/spec"
)

// fuzzKeys are the flow keys FuzzABI gives appendEvents: an IPv4 packet, an
// IPv6 packet and one that is not IP.
var fuzzKeys = []flowKey{
	{src: netip.MustParseAddr("10.0.0.1"), dst: netip.MustParseAddr("10.0.0.2"), sport: 40000, dport: 80, proto: 6},
	{src: netip.MustParseAddr("2001:db8::1"), dst: netip.MustParseAddr("2001:db8::2"), sport: 5353, dport: 53, proto: 17},
	{},
}

// parsed serializes layers into an Ethernet frame and parses its record.
func parsed(t *testing.T, ls ...gopacket.SerializableLayer) *packet.Record {
	t.Helper()
	buf := gopacket.NewSerializeBuffer()
	if err := gopacket.SerializeLayers(buf, gopacket.SerializeOptions{FixLengths: true}, ls...); err != nil {
		t.Fatal(err)
	}
	info := packet.Info{CapLen: uint32(len(buf.Bytes())), WireLen: uint32(len(buf.Bytes())), LinkType: spec.LinkEthernet}
	var r packet.Record
	packet.Parse(info, buf.Bytes(), &r)
	return &r
}

func TestRecordFlow(t *testing.T) {
	eth4 := &layers.Ethernet{SrcMAC: net.HardwareAddr{2, 0, 0, 0, 0, 1}, DstMAC: net.HardwareAddr{2, 0, 0, 0, 0, 2}, EthernetType: layers.EthernetTypeIPv4}
	eth6 := &layers.Ethernet{SrcMAC: net.HardwareAddr{2, 0, 0, 0, 0, 1}, DstMAC: net.HardwareAddr{2, 0, 0, 0, 0, 2}, EthernetType: layers.EthernetTypeIPv6}
	ip4 := func(p layers.IPProtocol, flags layers.IPv4Flag, frag uint16) *layers.IPv4 {
		return &layers.IPv4{Version: 4, IHL: 5, TTL: 64, Protocol: p, Flags: flags, FragOffset: frag, SrcIP: net.IPv4(192, 0, 2, 1), DstIP: net.IPv4(198, 51, 100, 7)}
	}
	ip6 := &layers.IPv6{Version: 6, HopLimit: 64, NextHeader: layers.IPProtocolTCP, SrcIP: net.ParseIP("2001:db8::1"), DstIP: net.ParseIP("2001:db8::2")}
	arp := &layers.ARP{AddrType: layers.LinkTypeEthernet, Protocol: layers.EthernetTypeIPv4, HwAddressSize: 6, ProtAddressSize: 4,
		SourceHwAddress: []byte{2, 0, 0, 0, 0, 1}, SourceProtAddress: []byte{192, 0, 2, 1}, DstHwAddress: make([]byte, 6), DstProtAddress: []byte{192, 0, 2, 2}}
	ethARP := &layers.Ethernet{SrcMAC: net.HardwareAddr{2, 0, 0, 0, 0, 1}, DstMAC: net.HardwareAddr{0xff, 0xff, 0xff, 0xff, 0xff, 0xff}, EthernetType: layers.EthernetTypeARP}
	payload := gopacket.Payload("0123456789abcdef")
	for _, c := range []struct {
		name string
		rec  *packet.Record
		want string
	}{
		{"udp4", parsed(t, eth4, ip4(layers.IPProtocolUDP, 0, 0), &layers.UDP{SrcPort: 5353, DstPort: 53}, payload),
			`,"flow":{"src":"192.0.2.1","dst":"198.51.100.7","sport":5353,"dport":53,"proto":17}`},
		{"tcp6", parsed(t, eth6, ip6, &layers.TCP{SrcPort: 40000, DstPort: 443, DataOffset: 5, Window: 1}, payload),
			`,"flow":{"src":"2001:db8::1","dst":"2001:db8::2","sport":40000,"dport":443,"proto":6}`},
		// The first fragment has the UDP header, and the flow analyzer counts
		// the datagram's fragments in its 5-tuple flow: so does the member.
		{"first fragment", parsed(t, eth4, ip4(layers.IPProtocolUDP, layers.IPv4MoreFragments, 0), &layers.UDP{SrcPort: 5353, DstPort: 53}, payload),
			`,"flow":{"src":"192.0.2.1","dst":"198.51.100.7","sport":5353,"dport":53,"proto":17}`},
		// A later fragment has no transport header: no ports.
		{"later fragment", parsed(t, eth4, ip4(layers.IPProtocolUDP, 0, 185), payload),
			`,"flow":{"src":"192.0.2.1","dst":"198.51.100.7","sport":0,"dport":0,"proto":17}`},
		// ICMP's type and code are in the record's source port: not a port.
		{"icmp", parsed(t, eth4, ip4(layers.IPProtocolICMPv4, 0, 0), &layers.ICMPv4{TypeCode: layers.CreateICMPv4TypeCode(8, 0)}, payload),
			`,"flow":{"src":"192.0.2.1","dst":"198.51.100.7","sport":0,"dport":0,"proto":1}`},
		{"arp", parsed(t, ethARP, arp), ``},
	} {
		k := recordFlow(c.rec)
		if got := string(appendFlowMember(nil, &k)); got != c.want {
			t.Errorf("%s: got %s, want %s", c.name, got, c.want)
		}
	}
	if binary.LittleEndian.Uint16(parsed(t, eth4, ip4(layers.IPProtocolICMPv4, 0, 0), &layers.ICMPv4{TypeCode: layers.CreateICMPv4TypeCode(8, 0)}, payload)[spec.RecSrcPort:]) == 0 {
		t.Fatal("the ICMP case does not test anything: the record's source port is 0")
	}
}

// TestEventsFlowMember checks where the member goes: after "ts" of an event
// about a packet, with that packet's key; not in a tick event; and a guest
// field named "flow" is refused (the key is the host's).
func TestEventsFlowMember(t *testing.T) {
	ev := validEvents()
	binary.LittleEndian.PutUint32(ev[spec.EventsHeaderSize+spec.EventPacket:], 1)
	out, n, _, err := appendEvents(nil, ev, "x", []int64{7, 8, 9}, fuzzKeys, 0, 10, 1000)
	if err != nil || n != 1 {
		t.Fatalf("%d events, %v", n, err)
	}
	want := `{"analyzer":"x","event":"dns","ts":8,"flow":{"src":"2001:db8::1","dst":"2001:db8::2","sport":5353,"dport":53,"proto":17},"name":"a\"\ufffd","u":578437695752307201,"i":-1,"b":true,"a":"10.0.0.1"}` + "\n"
	if string(out) != want {
		t.Fatalf("got  %s\nwant %s", out, want)
	}
	binary.LittleEndian.PutUint32(ev[spec.EventsHeaderSize+spec.EventPacket:], spec.EventNoPacket)
	out, _, _, err = appendEvents(nil, ev, "x", []int64{7, 8, 9}, fuzzKeys, 5, 10, 1000)
	if err != nil || string(out) != `{"analyzer":"x","event":"dns","ts":5,"name":"a\"\ufffd","u":578437695752307201,"i":-1,"b":true,"a":"10.0.0.1"}`+"\n" {
		t.Fatalf("tick event: %s %v", out, err)
	}
	bad := validEvents()
	i := spec.EventsHeaderSize + spec.EventHeaderSize + 4 + 2 // the key of the first field, "name"
	copy(bad[i:], "flow")
	if _, _, _, err := appendEvents(nil, bad, "x", []int64{0}, nil, 0, 10, 1000); err == nil {
		t.Fatal("a guest field named flow was accepted")
	}
}

func TestEventsFlowMemberAllocs(t *testing.T) {
	ev := validEvents()
	ts := []int64{7, 8, 9}
	dst := make([]byte, 0, 4096)
	if a := testing.AllocsPerRun(100, func() {
		dst, _, _, _ = appendEvents(dst[:0], ev, "x", ts, fuzzKeys, 0, 10, 1000)
	}); a != 0 {
		t.Fatalf("%v allocations per call", a)
	}
}

// TestStreamFlow: a chunk's flow member is its segment's direction,
// whichever end the reassembler's canonical key puts first.
func TestStreamFlow(t *testing.T) {
	cli := netip.MustParseAddrPort("192.0.2.1:40000")
	srv := netip.MustParseAddrPort("198.51.100.7:443")
	for _, key := range []stream.Key{{A: cli, B: srv}, {A: srv, B: cli}} {
		f := &stream.Flow{Key: key, Initiator: cli}
		for d, want := range []string{
			`,"flow":{"src":"192.0.2.1","dst":"198.51.100.7","sport":40000,"dport":443,"proto":6}`,
			`,"flow":{"src":"198.51.100.7","dst":"192.0.2.1","sport":443,"dport":40000,"proto":6}`,
		} {
			k := streamFlow(f, stream.Dir(d))
			if got := string(appendFlowMember(nil, &k)); got != want {
				t.Errorf("key %v, direction %d: got %s, want %s", key, d, got, want)
			}
		}
	}
}
