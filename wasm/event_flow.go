package wasm

import (
	"encoding/binary"
	"net/netip"
	"strconv"

	"github.com/wringcap/wring/capture/packet"
	"github.com/wringcap/wring/capture/stream"
	"github.com/wringcap/wring/spec"
)

// WithEventFlows makes the host add a "flow" member to every event about a
// packet or a stream chunk: the 5-tuple of that packet (for a chunk, of the
// segment's direction), taken from the parse record the host already has,
// so that an event can be joined with the flow it belongs to (the IPFIX
// export attaches the HTTP host, DNS query name and TLS server name to
// flow records this way). The member comes right after "ts":
//
//	"flow":{"src":"10.0.0.1","dst":"10.0.0.2","sport":40000,"dport":80,"proto":6}
//
// Ports are those the flow analyzer keys flows by: TCP, UDP and SCTP
// packets that are not IP fragments have them, others carry 0. Events
// about no packet (ticks) and about a packet that is not IP have no flow
// member. The key "flow" is reserved for the host whether or not this is
// on (spec/ABI.md §6).
func (c Config) WithEventFlows(on bool) Config {
	c.eventFlows = on
	return c
}

// flowKey is the 5-tuple of one packet of a call, for the "flow" member.
type flowKey struct {
	src, dst     netip.Addr // invalid: not IP, no member
	sport, dport uint16
	proto        uint8
}

// recordFlow reads the 5-tuple of a parse record (spec/RECORD.md).
func recordFlow(r *packet.Record) flowKey {
	var k flowKey
	switch r[spec.RecIPVersion] {
	case 4:
		k.src = netip.AddrFrom4([4]byte(r[spec.RecSrcAddr : spec.RecSrcAddr+4]))
		k.dst = netip.AddrFrom4([4]byte(r[spec.RecDstAddr : spec.RecDstAddr+4]))
	case 6:
		k.src = netip.AddrFrom16([16]byte(r[spec.RecSrcAddr : spec.RecSrcAddr+16]))
		k.dst = netip.AddrFrom16([16]byte(r[spec.RecDstAddr : spec.RecDstAddr+16]))
	default:
		return k
	}
	k.proto = r[spec.RecIPProto]
	// A later fragment has no transport header: no ports. A first
	// fragment has them, and the flow analyzer counts every fragment in
	// the datagram's 5-tuple flow (analyzers/flow/frag.go).
	if binary.LittleEndian.Uint32(r[spec.RecFlags:])&spec.RecFlagLaterFragment != 0 {
		return k
	}
	switch k.proto {
	case 6, 17, 132:
		k.sport = binary.LittleEndian.Uint16(r[spec.RecSrcPort:])
		k.dport = binary.LittleEndian.Uint16(r[spec.RecDstPort:])
	}
	return k
}

// appendFlowMember appends the "flow" member of k, nothing when k is not IP.
func appendFlowMember(dst []byte, k *flowKey) []byte {
	if !k.src.IsValid() {
		return dst
	}
	dst = append(dst, `,"flow":{"src":"`...)
	dst = k.src.AppendTo(dst)
	dst = append(dst, `","dst":"`...)
	dst = k.dst.AppendTo(dst)
	dst = append(dst, `","sport":`...)
	dst = strconv.AppendUint(dst, uint64(k.sport), 10)
	dst = append(dst, `,"dport":`...)
	dst = strconv.AppendUint(dst, uint64(k.dport), 10)
	dst = append(dst, `,"proto":`...)
	dst = strconv.AppendUint(dst, uint64(k.proto), 10)
	return append(dst, '}')
}

// streamFlow is the 5-tuple of direction d of a TCP stream: direction 0
// goes from the initiator to the responder.
func streamFlow(f *stream.Flow, d stream.Dir) flowKey {
	src, dst := f.Key.A, f.Key.B
	if src != f.Initiator {
		src, dst = dst, src
	}
	if d != 0 {
		src, dst = dst, src
	}
	return flowKey{src: src.Addr(), dst: dst.Addr(), sport: src.Port(), dport: dst.Port(), proto: 6}
}
