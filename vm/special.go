package vm

import (
	"encoding/binary"

	"github.com/wringcap/wring/spec"
)

// special performs an absolute load at k >= spec.RecordBase: a parse record
// field, a Linux ancillary value, or a packet byte relative to the link or
// network header. ok is false when the load fails (the run returns 0).
func special(k, size uint32, a, x uint32, pkt []byte, meta *Meta) (v uint32, ok bool) {
	switch {
	case k < spec.RecordEnd:
		r := meta.Record
		if r == nil {
			return 0, false
		}
		off := k - spec.RecordBase
		if off+size > spec.RecordSize { // the verifier rejects this; never index past the record
			return 0, false
		}
		switch size {
		case 4:
			return binary.LittleEndian.Uint32(r[off:]), true
		case 2:
			return uint32(binary.LittleEndian.Uint16(r[off:])), true
		}
		return uint32(r[off]), true
	case k >= spec.AncillaryBase:
		return ancillary(k-spec.AncillaryBase, a, x, pkt, meta), true
	}
	off, ok := headerRelative(k, meta)
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

// headerRelative resolves an offset relative to the link-layer header
// (spec.LLOff+off: the packet starts with it) or the network header
// (spec.NetOff+off, when meta knows where it is) to a packet offset.
func headerRelative(k uint32, meta *Meta) (uint64, bool) {
	switch {
	case k >= spec.NetOff:
		if !meta.NetOffsetValid {
			return 0, false
		}
		return uint64(meta.NetOffset) + uint64(k-spec.NetOff), true
	case k >= spec.LLOff:
		return uint64(k - spec.LLOff), true
	}
	return 0, false
}

// ancillary returns the value of the Linux ancillary load at off
// (SKF_AD_*). The verifier admits only known offsets. As in Linux, the
// load's size does not matter: every size reads the whole value.
func ancillary(off, a, x uint32, pkt []byte, meta *Meta) uint32 {
	switch off {
	case spec.AncProtocol:
		return meta.Protocol
	case spec.AncPktType:
		return meta.PktType
	case spec.AncIfindex:
		return meta.Ifindex
	case spec.AncNLAttr:
		return nlattr(pkt, a, x)
	case spec.AncNLAttrNest:
		return nlattrNest(pkt, a, x)
	case spec.AncMark:
		return meta.Mark
	case spec.AncQueue:
		return meta.Queue
	case spec.AncHaType:
		return meta.HaType
	case spec.AncRxHash:
		return meta.RxHash
	case spec.AncCPU:
		return meta.CPU
	case spec.AncAluXorX:
		return a ^ x
	case spec.AncVLANTag:
		return meta.VLANTCI
	case spec.AncVLANTagPresent:
		if meta.VLANPresent {
			return 1
		}
		return 0
	case spec.AncPayOffset:
		return meta.PayOffset
	case spec.AncRandom:
		return meta.Random
	case spec.AncVLANTPID:
		return meta.VLANTPID
	}
	return 0
}
