package spec

import "encoding/binary"

// Meta carries what a run of a program may read besides the packet bytes:
// the values of Linux's ancillary loads (SKF_AD_*) as the kernel would see
// them on the socket buffer, the network header offset for SKF_NET_OFF
// loads, and the parse record for wring's record loads. Every userspace
// backend (vm, jit's native and portable code) reads this one type; the
// native code reads its fields at their offsets, so their order is part of
// the contract between jit and its generated code.
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
	// (RecordBase+off, little-endian); when it is nil, a record load ends
	// the run with 0.
	Record *[RecordSize]byte
}

// LoadSize returns the width in bytes (4, 2 or 1) of a load with opcode op,
// from its size field (W, H, B).
func LoadSize(op uint16) uint32 {
	switch op & 0x18 {
	case SizeH:
		return 2
	case SizeB:
		return 1
	}
	return 4
}

// Load performs an absolute load of size bytes at k >= RecordBase, as
// ISA.md defines it: a parse record field (little-endian), a Linux
// ancillary value (every size reads the whole value, as in Linux), or a
// big-endian packet load relative to the link-layer or network header. a
// and x are the registers (the netlink searches and A^X read them). ok is
// false when the load fails and the run must return 0: a missing record or
// network offset, or a header-relative offset past the captured bytes.
func (m *Meta) Load(k, size, a, x uint32, pkt []byte) (v uint32, ok bool) {
	switch {
	case k < RecordEnd:
		r := m.Record
		off := k - RecordBase
		if r == nil || off+size > RecordSize { // the verifier rejects the second
			return 0, false
		}
		switch size {
		case 4:
			return binary.LittleEndian.Uint32(r[off:]), true
		case 2:
			return uint32(binary.LittleEndian.Uint16(r[off:])), true
		}
		return uint32(r[off]), true
	case IsAncillary(k):
		return m.Ancillary(k-AncillaryBase, a, x, pkt), true
	}
	off, ok := m.HeaderOffset(k)
	if !ok || off+uint64(size) > uint64(len(pkt)) {
		return 0, false
	}
	switch size {
	case 4:
		return binary.BigEndian.Uint32(pkt[off:]), true
	case 2:
		return uint32(binary.BigEndian.Uint16(pkt[off:])), true
	}
	return uint32(pkt[off]), true
}

// HeaderOffset resolves an offset relative to the link-layer header
// (LLOff+off: the packet starts with it) or the network header (NetOff+off,
// when m knows where it is) to a packet offset. Everything from NetOff up
// counts from the network header (ld reaches it only below the ancillary
// range; ldx msh also above it); offsets from RecordBase below LLOff fail.
func (m *Meta) HeaderOffset(k uint32) (uint64, bool) {
	switch {
	case k >= NetOff:
		if !m.NetOffsetValid {
			return 0, false
		}
		return uint64(m.NetOffset) + uint64(k-NetOff), true
	case k >= LLOff:
		return uint64(k - LLOff), true
	}
	return 0, false
}

// Ancillary returns the value of the Linux ancillary load at
// AncillaryBase+off (SKF_AD_*), with registers a and x; unknown offsets,
// which the verifier rejects, read 0.
func (m *Meta) Ancillary(off, a, x uint32, pkt []byte) uint32 {
	switch off {
	case AncProtocol:
		return m.Protocol
	case AncPktType:
		return m.PktType
	case AncIfindex:
		return m.Ifindex
	case AncNLAttr:
		return nlAttr(pkt, a, x)
	case AncNLAttrNest:
		return nlAttrNest(pkt, a, x)
	case AncMark:
		return m.Mark
	case AncQueue:
		return m.Queue
	case AncHaType:
		return m.HaType
	case AncRxHash:
		return m.RxHash
	case AncCPU:
		return m.CPU
	case AncAluXorX:
		return a ^ x
	case AncVLANTag:
		return m.VLANTCI
	case AncVLANTagPresent:
		if m.VLANPresent {
			return 1
		}
		return 0
	case AncPayOffset:
		return m.PayOffset
	case AncRandom:
		return m.Random
	case AncVLANTPID:
		return m.VLANTPID
	}
	return 0
}
