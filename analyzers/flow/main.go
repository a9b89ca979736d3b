// Command flow is wring's bundled flow-statistics analyzer (PF_RING's
// in-kernel NetFlow cache idea, in a sandbox). Built for WASI (analyzers/bundled
// embeds the result), it reads only the parse records and keeps, per flow
// (the record's symmetric flow hash confirmed by the IP version, protocol,
// addresses and ports, in either direction), packets and bytes (on the
// wire) per direction, and first and last seen (capture time). Ports count
// only for TCP, UDP and SCTP: both directions of an ICMP exchange are one
// flow. A fragment of such a datagram counts in the 5-tuple flow of the
// datagram: the first fragment's ports are carried to the later ones
// (frag.go); a later fragment seen before its first counts in the
// addresses' port-less flow.
//
// A flow is exported as a "flow" event when it ends: a TCP RST, or a FIN
// from each end (reason rst or fin), once linger= seconds of capture time
// have passed since that packet (the last ACK and retransmissions after the
// end belong to the flow, as in tshark's conversations; a SYN without ACK
// starts a new one at once); when it has been idle
// for idle= seconds or open for active= seconds (reason idle or active, at
// its next packet or on the host's tick, both in capture time); when the
// table is full and it is the least recently seen flow (reason evicted);
// and when the host closes (reason end). A packet after a flow's export
// starts a new flow. Event fields: src and dst (src sent the flow's first
// packet), sport, dport, proto, hash, packets and bytes (both directions),
// src_packets, src_bytes, dst_packets, dst_bytes, src_tcp_flags and
// dst_tcp_flags (the OR of each direction's TCP flags), vlan and ifindex (of
// the flow's first packet; 0 when none or unknown), first, last (ns since
// the Unix epoch), reason.
//
// Configuration: idle=SECONDS (default 30), active=SECONDS (default 300),
// max_flows=N (default and maximum 65536), linger=SECONDS (default 1; 0
// exports at the packet that ends the flow), tunnels=outer|inner|both
// (default outer: a tunnelled packet counts in its outer flow; inner: the
// host enters the tunnels of spec/TUNNEL.md (GRE, VXLAN, VXLAN-GPE, Geneve,
// IP in IP, 6in4, GTP-U, ERSPAN, NSH, PIM Register, unencrypted MACsec)
// and the packet counts in its inner flow, whose event adds tunnel, the
// type, and tunnel_id, the key, VNI, TEID, ERSPAN session or NSH service
// path of the flow's first packet; flows of the same inner addresses and
// ports in different tunnels are one flow, as with VLANs; both: the packet
// counts in its inner flow as with inner and also in its outer IP flow,
// one packet in two flows, as tshark's conversation tables count a frame
// once per layer and an IPFIX exporter that meters both layers does; NSH
// on Ethernet and MACsec have no outer IP flow, and the counter
// tunnel_outer_packets counts the packets that went to an outer flow).
//
// ICMP errors count in the ICMP flow of their own addresses, not in the
// flow of the packet they quote: tshark's conversations and IPFIX count
// them so, and a quoted header, cut and possibly forged, is no packet of
// that flow (Suricata associates them with the quoted flow for its
// detection, which is another purpose).
//
// Each instance keeps its own table: with several capture workers, a flow
// is whole only if the capture sends all its packets to one worker (by flow
// hash).
package main

import (
	"errors"

	"github.com/wringcap/wring/wasm/guest"
)

var (
	cStarted   = guest.NewCounter("flows_started")
	cExported  = guest.NewCounter("flows_exported")
	cPackets   = guest.NewCounter("packets")
	cBytes     = guest.NewCounter("bytes")
	cNonIP     = guest.NewCounter("non_ip")
	cEvictions = guest.NewCounter("evictions")
	cLost      = guest.NewCounter("exports_lost")
	cActive    = guest.NewCounter("active_flows")
	// Fragments of TCP, UDP and SCTP datagrams that took their first
	// fragment's ports, and those that could not (frag.go).
	cFragCarried  = guest.NewCounter("fragments_carried")
	cFragPortless = guest.NewCounter("fragments_portless")
	// Tunnelled packets counted in their outer flow too (tunnels=both).
	cOuter   = guest.NewCounter("tunnel_outer_packets")
	cReasons = [numReasons]*guest.Counter{
		guest.NewCounter("exported.fin"), guest.NewCounter("exported.rst"),
		guest.NewCounter("exported.idle"), guest.NewCounter("exported.active"),
		guest.NewCounter("exported.evicted"), guest.NewCounter("exported.end"),
	}
)

const (
	maxFlows = 65536
	// flowEventBytes bounds one flow event's size (IPv6: about 330 bytes).
	flowEventBytes = 400
	maxPackets     = 256
)

type analyzer struct {
	frags fragTable
	table *Table
	pkt   Pkt
	seen  Stats // table statistics already added to the counters
	both  bool  // tunnels=both: a tunnelled packet counts in its outer flow too
}

var a = &analyzer{}

func (f *analyzer) Init(cfg guest.Config) error {
	idle := number(cfg, "idle", 30) * 1e9
	active := number(cfg, "active", 300) * 1e9
	max := number(cfg, "max_flows", maxFlows)
	if max > maxFlows {
		max = maxFlows
	}
	f.table = NewTable(int(max), idle, active, exportFlow)
	switch v, _ := cfg.Get("tunnels"); v {
	case "", "outer":
	case "inner":
		guest.SetTunnels(true)
	case "both":
		guest.SetTunnels(true)
		f.both = true
	default:
		return errors.New("tunnels: want outer, inner or both")
	}
	if v, ok := cfg.Get("linger"); ok && v == "0" {
		f.table.Linger = 0
	} else {
		f.table.Linger = number(cfg, "linger", 1) * 1e9
	}
	return nil
}

func number(cfg guest.Config, k string, def int64) int64 {
	v, ok := cfg.Get(k)
	if !ok || v == "" {
		return def
	}
	var n int64
	for _, c := range v {
		if c < '0' || c > '9' || n > 1e12 {
			return def
		}
		n = n*10 + int64(c-'0')
	}
	if n <= 0 {
		return def
	}
	return n
}

func (f *analyzer) Packet(p *guest.Packet, v *guest.Verdict) {
	if f.both {
		f.outerFlow(p)
	}
	ver := p.IPVersion()
	if ver != 4 && ver != 6 {
		cNonIP.Add(1)
		return
	}
	rec := p.Record()
	k := &f.pkt
	k.Version, k.Proto = ver, p.IPProto()
	copy(k.Src[:], rec[recSrcAddr:recSrcAddr+16])
	copy(k.Dst[:], rec[recDstAddr:recDstAddr+16])
	if ver == 4 { // only the first 4 bytes are the address
		clear(k.Src[4:])
		clear(k.Dst[4:])
	}
	k.SrcPort, k.DstPort = p.SrcPort(), p.DstPort()
	k.Hash = p.FlowHash()
	k.Time = p.Timestamp()
	k.WireLen = p.WireLen()
	k.TCPFlags = p.TCPFlags()
	k.Fragment = p.Flags()&guest.FlagFragment != 0
	k.VLAN = 0
	if rec[recVLANCount] > 0 {
		k.VLAN = uint16(rec[recVLANOuter]) | uint16(rec[recVLANOuter+1])<<8&0x0f00
	}
	if k.Fragment && (k.Proto == 6 || k.Proto == 17 || k.Proto == 132) {
		f.carryPorts(p, rec, k)
	}
	k.TunType, k.TunID = p.TunnelType(), p.TunnelID()
	k.IfIndex = uint32(rec[recIfindex]) | uint32(rec[recIfindex+1])<<8 | uint32(rec[recIfindex+2])<<16 | uint32(rec[recIfindex+3])<<24
	cPackets.Add(1)
	cBytes.Add(uint64(k.WireLen))
	f.table.Packet(k)
	f.sync()
}

// outerFlow counts a tunnelled packet in its outer IP flow, from the
// tunnel record: the outer addresses, protocol and (for UDP) ports. The
// host enters no tunnel of a fragment, so the ports are the flow's.
func (f *analyzer) outerFlow(p *guest.Packet) {
	tun := guest.TunnelRecord(p)
	if len(tun) < tunDstAddr+16 || tun[0] == guest.TunnelNone {
		return
	}
	ver := tun[tunIPVersion]
	if ver != 4 && ver != 6 {
		return // NSH on Ethernet, MACsec: no outer IP
	}
	k := &f.pkt
	k.Version, k.Proto = ver, tun[tunIPProto]
	copy(k.Src[:], tun[tunSrcAddr:tunSrcAddr+16])
	copy(k.Dst[:], tun[tunDstAddr:tunDstAddr+16])
	if ver == 4 {
		clear(k.Src[4:])
		clear(k.Dst[4:])
	}
	k.SrcPort = uint16(tun[tunSrcPort]) | uint16(tun[tunSrcPort+1])<<8
	k.DstPort = uint16(tun[tunDstPort]) | uint16(tun[tunDstPort+1])<<8
	k.Hash = flowHash(k.Version, k.Proto, &k.Src, &k.Dst, k.SrcPort, k.DstPort)
	k.Time = p.Timestamp()
	k.WireLen = p.WireLen()
	k.TCPFlags = 0
	k.Fragment = false
	k.VLAN = outerVLAN(p)
	k.TunType, k.TunID = 0, 0
	rec := p.Record()
	k.IfIndex = uint32(rec[recIfindex]) | uint32(rec[recIfindex+1])<<8 | uint32(rec[recIfindex+2])<<16 | uint32(rec[recIfindex+3])<<24
	cOuter.Add(1)
	f.table.Packet(k)
	f.sync()
}

// outerVLAN returns the VLAN id of an Ethernet frame's first tag (the
// Record describes the inner packet, whose tags are its own), 0 without.
func outerVLAN(p *guest.Packet) uint16 {
	rec, d := p.Record(), p.Data()
	if uint16(rec[recLinkType])|uint16(rec[recLinkType+1])<<8 != 1 || len(d) < 16 {
		return 0
	}
	switch uint16(d[12])<<8 | uint16(d[13]) {
	case 0x8100, 0x88a8, 0x9100:
		return (uint16(d[14])<<8 | uint16(d[15])) & 0x0fff
	}
	return 0
}

// carryPorts gives a fragment of a TCP, UDP or SCTP datagram the ports of
// its first fragment and the hash of that 5-tuple (frag.go).
func (f *analyzer) carryPorts(p *guest.Packet, rec []byte, k *Pkt) {
	l3 := int(rec[recL3Off]) | int(rec[recL3Off+1])<<8
	id, ok := fragID(p.Data(), l3, k.Version)
	if l3 == noOffset || !ok {
		cFragPortless.Add(1)
		return
	}
	fk := fragKey{version: k.Version, proto: k.Proto, src: k.Src, dst: k.Dst, id: id}
	if p.Flags()&guest.FlagLaterFragment == 0 {
		f.frags.first(&fk, k.SrcPort, k.DstPort, k.Time)
	} else if sp, dp, ok := f.frags.later(&fk, k.Time); ok {
		k.SrcPort, k.DstPort = sp, dp
	} else {
		cFragPortless.Add(1)
		return
	}
	k.Fragment = false
	k.Hash = flowHash(k.Version, k.Proto, &k.Src, &k.Dst, k.SrcPort, k.DstPort)
	cFragCarried.Add(1)
}

// Record offsets (spec/RECORD.md) and tunnel record offsets
// (spec/TUNNEL.md).
const (
	recL3Off     = 24
	recIfindex   = 16
	recLinkType  = 22
	recVLANOuter = 32
	recVLANCount = 36
	recSrcAddr   = 48
	recDstAddr   = 64

	tunIPVersion = 1
	tunIPProto   = 2
	tunSrcPort   = 16
	tunDstPort   = 18
	tunSrcAddr   = 24
	tunDstAddr   = 40
)

// sync adds the table's new statistics to the counters.
func (f *analyzer) sync() {
	s := &f.table.Stats
	cStarted.Add(s.Started - f.seen.Started)
	cExported.Add(s.Exported - f.seen.Exported)
	cLost.Add(s.Lost - f.seen.Lost)
	cEvictions.Add(s.Evictions - f.seen.Evictions)
	for r := range s.ByReason {
		cReasons[r].Add(s.ByReason[r] - f.seen.ByReason[r])
	}
	cActive.Add(uint64(s.Started-f.seen.Started) - uint64(s.Exported-f.seen.Exported))
	f.seen = *s
}

// maxTickExports bounds the flows one Tick exports, so that a call stays
// well within its fuel; Tick asks to be called again for the rest.
const maxTickExports = 512

// tickBudget is the number of exports left in this Tick call (-1 outside
// one: a packet exports at most three flows).
var tickBudget = -1

// exportFlow writes a flow event, or returns false when the event area has
// no room for it.
func exportFlow(fl *Flow, r Reason) bool {
	if guest.EventRoom() < flowEventBytes || tickBudget == 0 {
		return false
	}
	if tickBudget > 0 {
		tickBudget--
	}
	ln := 4
	if fl.Key.Version == 6 {
		ln = 16
	}
	k := &fl.Key
	e := guest.TickEvent("flow")
	if fl.TunType != 0 {
		e = e.String("tunnel", guest.TunnelName(fl.TunType)).Uint("tunnel_id", uint64(fl.TunID))
	}
	e.Addr("src", k.A[:ln]).Addr("dst", k.B[:ln]).
		Uint("sport", uint64(k.PortA)).Uint("dport", uint64(k.PortB)).
		Uint("proto", uint64(k.Proto)).Uint("hash", uint64(fl.Hash)).
		Uint("packets", fl.Packets[0]+fl.Packets[1]).Uint("bytes", fl.Bytes[0]+fl.Bytes[1]).
		Uint("src_packets", fl.Packets[0]).Uint("src_bytes", fl.Bytes[0]).
		Uint("dst_packets", fl.Packets[1]).Uint("dst_bytes", fl.Bytes[1]).
		Uint("src_tcp_flags", uint64(fl.TCPFlags[0])).Uint("dst_tcp_flags", uint64(fl.TCPFlags[1])).
		Uint("vlan", uint64(fl.VLAN)).Uint("ifindex", uint64(fl.IfIndex)).
		Int("first", fl.First).Int("last", fl.Last).String("reason", r.String()).Done()
	return true
}

// Tick exports idle and long-active flows, or all of them when final. When
// the event area fills up it asks to be called again and resumes.
func (f *analyzer) Tick(now int64, final bool) {
	tickBudget = maxTickExports
	if !f.table.Expire(now, final) {
		guest.TickMore()
	}
	tickBudget = -1
	f.sync()
}

func init() {
	// At most three exports per packet (its flow timed out, the least
	// recently seen one evicted, its own end), so a call's events fit.
	// The headers: a fragment's IP identification (frag.go).
	guest.Register(a, guest.Options{Need: guest.NeedHeaders, MaxPackets: maxPackets,
		EventBytes: 3 * maxPackets * flowEventBytes})
}

func main() {}
