package jit

import (
	"unsafe"

	"github.com/wringcap/wring/spec"
)

// Meta is what a run may read besides the packet bytes: ancillary values,
// the network header offset and the parse record (spec.Meta, the one type
// every backend reads). A nil *Meta reads as the zero Meta. The generated
// code only reads a Meta, never writes it.
type Meta = spec.Meta

// zeroMeta is what a nil *Meta reads as.
var zeroMeta Meta

// metaField returns the byte offset in Meta of the 32-bit value of an
// ancillary load at SKF_AD_OFF+off, for the native code, and false for the
// loads that are not a plain field (VLAN tag presence, A^X, the netlink
// searches).
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
