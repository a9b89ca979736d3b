package guest

// FlowAction is what an exact flow rule added by an analyzer does
// (spec/ABI.md §12).
type FlowAction uint8

// Flow actions.
const (
	FlowKeep    FlowAction = 1 // capture without consulting the expression
	FlowCapture FlowAction = 2 // capture: the expression decides
	FlowDrop    FlowAction = 3 // not captured, counted
	FlowBypass  FlowAction = 4 // capture the first Arg packets, then stop
)

// Flow is an exact flow rule to add or remove: a 5-tuple plus VLAN.
type Flow struct {
	Src, Dst         []byte // 4 bytes (IPv4) or 16 (IPv6), both the same length
	SrcPort, DstPort uint16
	Proto            uint8
	Both             bool   // both directions
	Tagged           bool   // the flow's packets carry an outer VLAN tag with id VLAN
	VLAN             uint16 // 0..4095
	IdleMs           uint32 // idle timeout, 1 ms to a day (rule_add)
	Action           FlowAction
	Arg              uint32 // bypass N
}

// Results of AddFlows and DelFlows, as in spec/abi.go: n >= 0 when all n
// flows were applied, else -(index*256 + code).
const (
	FlowErrArgs      = 1
	FlowErrReserved  = 2
	FlowErrIPVersion = 3
	FlowErrPorts     = 4
	FlowErrAction    = 5
	FlowErrIdle      = 6
	FlowErrVLAN      = 7
	FlowErrQuota     = 8
	FlowErrRate      = 9
	FlowErrConflict  = 10
	FlowErrTable     = 11
	FlowErrUnknown   = 12
	FlowErrNoTable   = 13
)

const (
	flowReqSize = 64
	maxFlowReqs = 256
)

// FlowRefused splits a negative result into the index of the refused flow
// and the FlowErr* code.
func FlowRefused(res int32) (index, code int) {
	if res >= 0 {
		return -1, 0
	}
	return int(-res / 256), int(-res % 256)
}

// flowBuf holds the records of one call.
var flowBuf [maxFlowReqs * flowReqSize]byte

// encodeFlows writes the flows as records; it returns the bytes used, or 0
// when a flow's addresses are not 4 or 16 bytes alike or there are too many.
func encodeFlows(fs []Flow) int {
	if len(fs) == 0 || len(fs) > maxFlowReqs {
		return 0
	}
	for i := range fs {
		f := &fs[i]
		b := flowBuf[i*flowReqSize : (i+1)*flowReqSize]
		clear(b)
		switch {
		case len(f.Src) == 4 && len(f.Dst) == 4:
			b[0] = 4
		case len(f.Src) == 16 && len(f.Dst) == 16:
			b[0] = 6
		default:
			return 0
		}
		b[1] = f.Proto
		if f.Both {
			b[2] |= 1
		}
		if f.Tagged {
			b[2] |= 2
		}
		b[3] = byte(f.Action)
		put16(b[4:], f.SrcPort)
		put16(b[6:], f.DstPort)
		put16(b[8:], f.VLAN)
		put32(b[12:], f.IdleMs)
		put32(b[16:], f.Arg)
		copy(b[24:40], f.Src)
		copy(b[40:56], f.Dst)
	}
	return len(fs) * flowReqSize
}

// AddFlows adds (or refreshes) exact flow rules in the capture's rule table.
// It needs the rules capability (`--grant NAME:rules`); the host holds each
// analyzer to a quota of flows alive and adds per second.
func AddFlows(fs []Flow) int32 {
	n := encodeFlows(fs)
	if n == 0 {
		return -FlowErrArgs
	}
	return ruleAdd(n)
}

// DelFlows removes exact flow rules this analyzer added (only their keys
// are read).
func DelFlows(fs []Flow) int32 {
	for i := range fs {
		if fs[i].Action == 0 {
			fs[i].Action = FlowKeep
		}
	}
	n := encodeFlows(fs)
	if n == 0 {
		return -FlowErrArgs
	}
	return ruleDel(n)
}
