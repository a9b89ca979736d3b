package jit

import (
	"unsafe"

	"github.com/wringcap/wring/spec"
)

// Meta carries what a run may read besides the packet bytes, exactly as
// vm.Meta does: the values of Linux's ancillary loads, the network header
// offset for SKF_NET_OFF loads and the parse record for record loads. Its
// fields are vm.Meta's, in the same order, so a *vm.Meta converts to a
// *jit.Meta with a plain conversion, at no cost: (*jit.Meta)(m). (jit and vm
// do not import each other; a test keeps the two identical.)
//
// A nil *Meta reads as the zero Meta. The generated code only reads a Meta,
// never writes it.
type Meta struct {
	Protocol    uint32 // SKF_AD_PROTOCOL: EtherType of the packet, host order (0x0800 for IPv4)
	PktType     uint32 // SKF_AD_PKTTYPE: 0 host, 1 broadcast, 2 multicast, 3 other host, 4 outgoing
	Ifindex     uint32 // SKF_AD_IFINDEX: interface index
	Mark        uint32 // SKF_AD_MARK
	Queue       uint32 // SKF_AD_QUEUE: receive queue
	HaType      uint32 // SKF_AD_HATYPE: ARPHRD_* of the interface
	RxHash      uint32 // SKF_AD_RXHASH: flow hash
	CPU         uint32 // SKF_AD_CPU
	VLANTCI     uint32 // SKF_AD_VLAN_TAG: TCI of an offloaded VLAN tag
	VLANPresent bool   // SKF_AD_VLAN_TAG_PRESENT
	VLANTPID    uint32 // SKF_AD_VLAN_TPID: TPID of an offloaded VLAN tag, host order
	PayOffset   uint32 // SKF_AD_PAY_OFFSET: offset of the transport payload
	Random      uint32 // SKF_AD_RANDOM: the value every random load of this run returns

	// NetOffset is the offset of the network header in the packet, used by
	// loads at SKF_NET_OFF+k; when NetOffsetValid is false those loads fail
	// (the run returns 0).
	NetOffset      uint32
	NetOffsetValid bool

	// Record is the packet's parse record, read by record loads
	// (spec.RecordBase+off, little-endian); when it is nil, a record load
	// ends the run with 0.
	Record *[spec.RecordSize]byte
}

// zeroMeta is what a nil *Meta reads as.
var zeroMeta Meta

// metaField returns the byte offset in Meta of the 32-bit value of an
// ancillary load at SKF_AD_OFF+off, and false for the loads that are not a
// plain field (VLAN tag presence, A^X, the netlink searches).
func metaField(off uint32) (uintptr, bool) {
	var m Meta
	switch off {
	case spec.AncProtocol:
		return unsafe.Offsetof(m.Protocol), true
	case spec.AncPktType:
		return unsafe.Offsetof(m.PktType), true
	case spec.AncIfindex:
		return unsafe.Offsetof(m.Ifindex), true
	case spec.AncMark:
		return unsafe.Offsetof(m.Mark), true
	case spec.AncQueue:
		return unsafe.Offsetof(m.Queue), true
	case spec.AncHaType:
		return unsafe.Offsetof(m.HaType), true
	case spec.AncRxHash:
		return unsafe.Offsetof(m.RxHash), true
	case spec.AncCPU:
		return unsafe.Offsetof(m.CPU), true
	case spec.AncVLANTag:
		return unsafe.Offsetof(m.VLANTCI), true
	case spec.AncPayOffset:
		return unsafe.Offsetof(m.PayOffset), true
	case spec.AncRandom:
		return unsafe.Offsetof(m.Random), true
	case spec.AncVLANTPID:
		return unsafe.Offsetof(m.VLANTPID), true
	}
	return 0, false
}

// ancillary returns the value of the ancillary load at SKF_AD_OFF+off
// (every load size reads the whole value, as in Linux).
func (m *Meta) ancillary(off, a, x uint32, pkt []byte) uint32 {
	switch off {
	case spec.AncVLANTagPresent:
		if m.VLANPresent {
			return 1
		}
		return 0
	case spec.AncAluXorX:
		return a ^ x
	case spec.AncNLAttr:
		return nlattr(pkt, a, x)
	case spec.AncNLAttrNest:
		return nlattrNest(pkt, a, x)
	}
	if fo, ok := metaField(off); ok {
		return *(*uint32)(unsafe.Add(unsafe.Pointer(m), fo))
	}
	return 0
}

// headerRelative resolves a load offset relative to the link-layer header
// (spec.LLOff+off: the packet starts with it) or the network header
// (spec.NetOff+off, when the Meta knows where it is) to a packet offset,
// as vm does: everything from spec.NetOff up counts from the network
// header (ld reaches here only below the ancillary range; ldx msh also
// above it). Offsets from spec.RecordBase below spec.LLOff fail.
func (m *Meta) headerRelative(k uint32) (uint64, bool) {
	switch {
	case k >= spec.NetOff:
		if !m.NetOffsetValid {
			return 0, false
		}
		return uint64(m.NetOffset) + uint64(k-spec.NetOff), true
	case k >= spec.LLOff:
		return uint64(k - spec.LLOff), true
	}
	return 0, false
}
