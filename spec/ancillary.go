package spec

// Linux ancillary data loads. A load `ld{b,h,w} [AncillaryBase+off]` with one
// of these offsets reads socket-buffer metadata instead of packet bytes
// (SKF_AD_* in linux/filter.h). The kernel rejects unknown offsets in this
// range; so does the verifier.
const (
	AncillaryBase = 0xfffff000 // SKF_AD_OFF (-0x1000)

	AncProtocol       = 0  // skb->protocol (EtherType, network order value)
	AncPktType        = 4  // skb->pkt_type (0 host, 1 broadcast, 2 multicast, 3 other host, 4 outgoing)
	AncIfindex        = 8  // skb->dev->ifindex
	AncNLAttr         = 12 // netlink attribute search (not meaningful outside netlink)
	AncNLAttrNest     = 16 // nested netlink attribute search
	AncMark           = 20 // skb->mark
	AncQueue          = 24 // skb->queue_mapping (receive queue)
	AncHaType         = 28 // skb->dev->type (ARPHRD_*)
	AncRxHash         = 32 // skb->hash
	AncCPU            = 36 // current CPU
	AncAluXorX        = 40 // A ^= X
	AncVLANTag        = 44 // VLAN TCI of an offloaded tag
	AncVLANTagPresent = 48 // 1 if an offloaded VLAN tag is present
	AncPayOffset      = 52 // offset of the transport payload
	AncRandom         = 56 // a pseudo-random 32-bit number
	AncVLANTPID       = 60 // TPID of an offloaded VLAN tag
	AncMax            = 64 // first offset past the known ones (SKF_AD_MAX)
)

// Negative offsets the kernel resolves at run time relative to the network
// and link-layer headers (SKF_NET_OFF, SKF_LL_OFF).
const (
	NetOff = 0xfff00000 // SKF_NET_OFF (-0x100000)
	LLOff  = 0xffe00000 // SKF_LL_OFF (-0x200000)
)

// AncillaryNames maps each known ancillary offset to the name bpf_asm and
// tcpdump's listing use for it.
var AncillaryNames = map[uint32]string{
	AncProtocol:       "proto",
	AncPktType:        "type",
	AncIfindex:        "ifidx",
	AncNLAttr:         "nla",
	AncNLAttrNest:     "nlan",
	AncMark:           "mark",
	AncQueue:          "queue",
	AncHaType:         "hatype",
	AncRxHash:         "rxhash",
	AncCPU:            "cpu",
	AncAluXorX:        "xor_x",
	AncVLANTag:        "vlan_tci",
	AncVLANTagPresent: "vlan_avail",
	AncPayOffset:      "poff",
	AncRandom:         "rand",
	AncVLANTPID:       "vlan_tpid",
}

// IsAncillary reports whether an absolute load offset addresses Linux
// ancillary data (known or not).
func IsAncillary(k uint32) bool { return k >= AncillaryBase }

// wring's parse-record extension. A load `ld{b,h,w} [RecordBase+off]` reads
// the field of the parse Record (RECORD.md) that starts at byte off, with
// the load's size, as a little-endian unsigned value. These loads run only in
// wring's userspace backends; the kernel does not know them. The range sits
// below the kernel's SKF_LL_OFF so it never collides with a Linux offset.
const (
	RecordBase = 0xffd00000
	RecordEnd  = RecordBase + RecordSize
)

// IsRecordLoad reports whether an absolute load offset addresses the parse
// record.
func IsRecordLoad(k uint32) bool { return k >= RecordBase && k < RecordEnd }
