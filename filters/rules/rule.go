package rules

import (
	"fmt"
	"net/netip"
	"time"
)

// Verb is what a rule does with the packets it matches.
type Verb uint8

// Verbs. The zero Verb is invalid so that a forgotten action is an error.
const (
	VerbCapture Verb = iota + 1 // hand the packet to userspace (the expression then decides)
	VerbDrop                    // never copied; counted
	VerbPass                    // left to the host stack, not captured; counted
	VerbSample                  // capture 1 in N (per packet or per flow)
	VerbBypass                  // capture the first N packets of each flow, then stop copying it
	VerbTag                     // capture, carrying tag T to the userspace stages
	VerbForward                 // capture, carrying the sink name to the userspace stages
	VerbKeep                    // capture without consulting the expression (flows analyzers add)
)

var verbNames = [...]string{VerbCapture: "capture", VerbDrop: "drop", VerbPass: "pass", VerbSample: "sample",
	VerbBypass: "bypass", VerbTag: "tag", VerbForward: "forward", VerbKeep: "keep"}

// String returns the verb's name in the text format.
func (v Verb) String() string {
	if int(v) < len(verbNames) && verbNames[v] != "" {
		return verbNames[v]
	}
	return fmt.Sprintf("verb(%d)", uint8(v))
}

// Action is a verb with its argument.
type Action struct {
	Verb    Verb
	N       uint32 // sample N, bypass after N
	PerFlow bool   // sample: 1 in N flows (by flow hash) instead of 1 in N packets
	Tag     uint32 // tag T
	Sink    string // forward SINK
}

// PortRange is an inclusive range of ports; Lo == Hi is one port.
type PortRange struct{ Lo, Hi uint16 }

// Field is a set of match fields, one bit each.
type Field uint16

// Match fields.
const (
	FieldQueue Field = 1 << iota
	FieldVLAN
	FieldEtherType
	FieldIPVersion
	FieldProto
	FieldSrc
	FieldDst
	FieldSrcPort
	FieldDstPort
	FieldTCPFlags
)

// Match is what a wildcard rule compares. Only the fields in Fields are
// compared; the others must be zero.
type Match struct {
	Fields    Field
	Queue     uint16
	VLAN      uint16 // VLAN id (0 to 4095) of the outer tag; untagged packets never match
	EtherType uint16
	IPVersion uint8 // 4 or 6
	Proto     uint8
	Src, Dst  netip.Prefix // masked (Prefix.Masked); IPv4 prefixes are never 4-in-6
	SrcPort   PortRange
	DstPort   PortRange
	Flags     uint8 // TCP flags value: (flags & FlagMask) == Flags
	FlagMask  uint8
	// Either also matches the packet with source and destination (address
	// and port) swapped.
	Either bool
}

// Rule is a wildcard rule. Lower Priority numbers win; ties go to the lower
// ID.
type Rule struct {
	ID       uint32
	Priority uint32
	Match    Match
	Action   Action
}

// Flow is an exact flow rule: a 5-tuple plus VLAN. Flow rules are looked up
// before wildcard rules.
type Flow struct {
	ID     uint32
	VLAN   uint16 // VLAN id; meaningful when Tagged
	Tagged bool   // the flow's packets carry an outer VLAN tag with id VLAN
	Proto  uint8
	Src    netip.AddrPort
	Dst    netip.AddrPort
	// Both also matches the reverse direction (Dst to Src).
	Both bool
	// Idle removes the flow once no packet hit it for this long (0: never).
	Idle   time.Duration
	Action Action
}

// File is a rule file: wildcard rules and flow rules, ids unique across
// both.
type File struct {
	Rules []Rule
	Flows []Flow
}

// Protocol numbers with names in the text format, and those that carry
// ports.
const (
	ProtoICMP   = 1
	ProtoTCP    = 6
	ProtoUDP    = 17
	ProtoICMPv6 = 58
	ProtoSCTP   = 132
)

func hasPorts(proto uint8) bool { return proto == ProtoTCP || proto == ProtoUDP || proto == ProtoSCTP }
