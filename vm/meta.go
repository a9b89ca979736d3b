package vm

import "github.com/wringcap/wring/spec"

// Meta carries what a run may read besides the packet bytes: the values of
// Linux's ancillary loads (SKF_AD_*) as the kernel would see them on the
// socket buffer, the network header offset for SKF_NET_OFF loads, and the
// parse record for wring's record loads. A nil *Meta reads as the zero Meta.
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

var zeroMeta Meta
