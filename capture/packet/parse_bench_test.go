package packet_test

import (
	"runtime"
	"testing"

	"github.com/gopacket/gopacket"
	"github.com/gopacket/gopacket/layers"
	"github.com/wringcap/wring/capture/packet"
	"github.com/wringcap/wring/internal/corpus"
	"github.com/wringcap/wring/internal/cputime"
	"github.com/wringcap/wring/spec"
)

type benchPkt struct {
	lt   spec.LinkType
	data []byte
}

// BenchmarkParse measures the one-pass parse per packet (ns/op is ns per
// packet) on a few traffic mixes.
func BenchmarkParse(b *testing.B) {
	tcp4 := build(b, &layers.Ethernet{SrcMAC: mac1, DstMAC: mac2, EthernetType: layers.EthernetTypeIPv4},
		&layers.IPv4{Version: 4, IHL: 5, TTL: 64, Protocol: layers.IPProtocolTCP, SrcIP: v4a, DstIP: v4b},
		&layers.TCP{SrcPort: 40000, DstPort: 80, ACK: true, DataOffset: 5}, gopacket.Payload(make([]byte, 100)))
	udp6 := build(b, &layers.Ethernet{SrcMAC: mac1, DstMAC: mac2, EthernetType: layers.EthernetTypeIPv6},
		&layers.IPv6{Version: 6, HopLimit: 64, NextHeader: layers.IPProtocolUDP, SrcIP: v6a, DstIP: v6b},
		&layers.UDP{SrcPort: 53, DstPort: 5353}, gopacket.Payload(make([]byte, 60)))
	vlan := build(b, &layers.Ethernet{SrcMAC: mac1, DstMAC: mac2, EthernetType: layers.EthernetTypeQinQ},
		&layers.Dot1Q{VLANIdentifier: 100, Type: layers.EthernetTypeDot1Q},
		&layers.Dot1Q{VLANIdentifier: 200, Type: layers.EthernetTypeMPLSUnicast},
		&layers.MPLS{Label: 1000, StackBottom: true, TTL: 9},
		&layers.IPv4{Version: 4, IHL: 5, TTL: 64, Protocol: layers.IPProtocolUDP, SrcIP: v4a, DstIP: v4b},
		&layers.UDP{SrcPort: 1, DstPort: 2}, gopacket.Payload(make([]byte, 18)))
	mixes := []struct {
		name string
		pkts []benchPkt
	}{
		{"tcp4", []benchPkt{{spec.LinkEthernet, tcp4}}},
		{"udp6", []benchPkt{{spec.LinkEthernet, udp6}}},
		{"vlan_mpls", []benchPkt{{spec.LinkEthernet, vlan}}},
		{"mix", []benchPkt{{spec.LinkEthernet, tcp4}, {spec.LinkEthernet, udp6}, {spec.LinkEthernet, tcp4}, {spec.LinkEthernet, vlan}}},
	}
	if corpus.Root() != "" {
		var pk []benchPkt
		for _, f := range corpus.Files(b, "tcpdump") {
			c, _ := corpus.ReadCapture(f)
			if c == nil {
				continue
			}
			for _, p := range c.Packets {
				pk = append(pk, benchPkt{c.LinkType, p.Data})
			}
		}
		mixes = append(mixes, struct {
			name string
			pkts []benchPkt
		}{"tcpdump_corpus", pk})
	}
	for _, m := range mixes {
		b.Run(m.name+"/record", func(b *testing.B) {
			var rec packet.Record
			n := len(m.pkts)
			runtime.LockOSThread()
			defer runtime.UnlockOSThread()
			b.ReportAllocs()
			b.ResetTimer()
			c0 := cputime.Thread()
			for i := 0; i < b.N; i++ {
				p := &m.pkts[i%n]
				packet.Parse(packet.Info{CapLen: uint32(len(p.data)), WireLen: uint32(len(p.data)), LinkType: p.lt}, p.data, &rec)
			}
			c1 := cputime.Thread()
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N), "ns/pkt")
			// The thread's CPU time per packet: what the parse costs on a
			// shared, loaded machine, where wall time includes waiting.
			b.ReportMetric(float64(c1-c0)/float64(b.N), "cpu-ns/pkt")
		})
		// The anchor: gopacket's DecodingLayerParser over the layers the
		// Record covers (Ethernet, Dot1Q, IPv4, IPv6, TCP, UDP, ICMP; it has
		// no MPLS DecodingLayer), zero-copy, on the same packets.
		b.Run(m.name+"/gopacket", func(b *testing.B) {
			var (
				eth layers.Ethernet
				dot layers.Dot1Q
				ip4 layers.IPv4
				ip6 layers.IPv6
				tcp layers.TCP
				udp layers.UDP
				ic4 layers.ICMPv4
				ic6 layers.ICMPv6
				pay gopacket.Payload
			)
			parser := gopacket.NewDecodingLayerParser(layers.LayerTypeEthernet, &eth, &dot, &ip4, &ip6, &tcp, &udp, &ic4, &ic6, &pay)
			parser.IgnoreUnsupported = true
			decoded := make([]gopacket.LayerType, 0, 16)
			n := len(m.pkts)
			b.ReportAllocs()
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				p := &m.pkts[i%n]
				if p.lt == spec.LinkEthernet {
					_ = parser.DecodeLayers(p.data, &decoded)
				}
			}
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N), "ns/pkt")
		})
	}
}
