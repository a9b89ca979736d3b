package wasm

import (
	"encoding/binary"
	"fmt"

	"github.com/wringcap/wring/spec"
)

// info is a validated Info block (spec/ABI.md): every area lies inside the
// guest memory it was read from. Memory never shrinks, so the areas stay
// valid for the life of the instance.
type info struct {
	need         uint32
	payloadMax   uint32
	maxPackets   uint32
	batchPtr     uint32
	batchCap     uint32
	dataOff      uint32 // offset of the packet bytes in the batch area
	verdictsPtr  uint32
	countersPtr  uint32
	counterCount uint32
	eventsPtr    uint32
	eventsCap    uint32
	flags        uint32
	counterNames []string
	sinkNames    []string
}

// maxEventArea caps the event area: the host reads all of it after every
// call (the events over the caps are counted by their size fields), so its
// size bounds the host's work per call whatever the guest paid for.
const maxEventArea = 1 << 20

// parseInfo validates the Info block at ptr in mem (the guest's whole
// memory) and the areas it points to.
func parseInfo(mem []byte, ptr uint32) (*info, error) {
	blk, err := area(mem, ptr, spec.InfoSize, "info block")
	if err != nil {
		return nil, err
	}
	u := func(off int) uint32 { return binary.LittleEndian.Uint32(blk[off:]) }
	in := &info{
		need:         u(spec.InfoNeed),
		payloadMax:   u(spec.InfoPayloadMax),
		maxPackets:   u(spec.InfoMaxPackets),
		batchPtr:     u(spec.InfoBatchPtr),
		batchCap:     u(spec.InfoBatchCap),
		verdictsPtr:  u(spec.InfoVerdictsPtr),
		countersPtr:  u(spec.InfoCountersPtr),
		counterCount: u(spec.InfoCounterCount),
		eventsPtr:    u(spec.InfoEventsPtr),
		eventsCap:    u(spec.InfoEventsCap),
		flags:        u(spec.InfoFlags),
	}
	if v := u(spec.InfoVersion); v != spec.ABIVersion {
		return nil, fmt.Errorf("info block version %d, want %d", v, spec.ABIVersion)
	}
	if in.need > spec.NeedPacket {
		return nil, fmt.Errorf("info block: need %d is not one of 0..%d", in.need, spec.NeedPacket)
	}
	if in.maxPackets == 0 || in.maxPackets > spec.MaxBatchPackets {
		return nil, fmt.Errorf("info block: max packets %d outside 1..%d", in.maxPackets, spec.MaxBatchPackets)
	}
	if in.flags&^spec.InfoFlagTick != 0 {
		return nil, fmt.Errorf("info block: unknown flags %#x", in.flags)
	}
	in.dataOff = spec.BatchHeaderSize + in.maxPackets*spec.DescSize
	if in.batchCap < in.dataOff {
		return nil, fmt.Errorf("info block: batch area of %d bytes cannot hold %d descriptors (%d bytes)", in.batchCap, in.maxPackets, in.dataOff)
	}
	if _, err := area(mem, in.batchPtr, uint64(in.batchCap), "batch area"); err != nil {
		return nil, err
	}
	if _, err := area(mem, in.verdictsPtr, uint64(in.maxPackets)*spec.VerdictSize, "verdict area"); err != nil {
		return nil, err
	}
	if in.counterCount > spec.MaxCounters {
		return nil, fmt.Errorf("info block: %d counters, at most %d", in.counterCount, spec.MaxCounters)
	}
	if in.countersPtr%8 != 0 {
		return nil, fmt.Errorf("info block: counter array at %#x is not 8-byte aligned", in.countersPtr)
	}
	if _, err := area(mem, in.countersPtr, uint64(in.counterCount)*8, "counter array"); err != nil {
		return nil, err
	}
	if in.eventsCap != 0 {
		if in.eventsCap > maxEventArea {
			return nil, fmt.Errorf("info block: event area of %d bytes, at most %d", in.eventsCap, maxEventArea)
		}
		if in.eventsCap < spec.EventsHeaderSize {
			return nil, fmt.Errorf("info block: event area of %d bytes is smaller than its header", in.eventsCap)
		}
		if _, err := area(mem, in.eventsPtr, uint64(in.eventsCap), "event area"); err != nil {
			return nil, err
		}
	}
	names, err := area(mem, u(spec.InfoCounterNames), uint64(u(spec.InfoCounterNamesN)), "counter names")
	if err != nil {
		return nil, err
	}
	if in.counterNames, err = parseNames(names, "counter"); err != nil {
		return nil, err
	}
	if uint32(len(in.counterNames)) != in.counterCount {
		return nil, fmt.Errorf("info block: %d counters but %d counter names", in.counterCount, len(in.counterNames))
	}
	sinks, err := area(mem, u(spec.InfoSinkNames), uint64(u(spec.InfoSinkNamesN)), "sink names")
	if err != nil {
		return nil, err
	}
	if in.sinkNames, err = parseNames(sinks, "sink"); err != nil {
		return nil, err
	}
	if len(in.sinkNames) > 65535 {
		return nil, fmt.Errorf("info block: %d sinks", len(in.sinkNames))
	}
	return in, nil
}

// area returns mem[ptr:ptr+n], or an error naming what lies out of bounds.
func area(mem []byte, ptr uint32, n uint64, what string) ([]byte, error) {
	if uint64(ptr)+n > uint64(len(mem)) {
		return nil, fmt.Errorf("%s [%#x, +%d) outside the %d-byte memory", what, ptr, n, len(mem))
	}
	return mem[ptr : uint64(ptr)+n], nil
}

// parseNames splits a blob of NUL-terminated names and checks each.
func parseNames(blob []byte, what string) ([]string, error) {
	var names []string
	seen := map[string]bool{}
	for len(blob) > 0 {
		end := -1
		for i, c := range blob {
			if c == 0 {
				end = i
				break
			}
		}
		if end < 0 {
			return nil, fmt.Errorf("%s name %d is not NUL-terminated", what, len(names))
		}
		name := blob[:end]
		if err := checkName(name); err != nil {
			return nil, fmt.Errorf("%s name %d: %w", what, len(names), err)
		}
		if seen[string(name)] {
			return nil, fmt.Errorf("%s name %q appears twice", what, name)
		}
		seen[string(name)] = true
		names = append(names, string(name))
		blob = blob[end+1:]
	}
	return names, nil
}

// checkName accepts 1..MaxNameLen bytes of letters, digits and _ . : / -.
func checkName(b []byte) error {
	if len(b) == 0 || len(b) > spec.MaxNameLen {
		return fmt.Errorf("length %d outside 1..%d", len(b), spec.MaxNameLen)
	}
	for i, c := range b {
		if !nameByte(c) {
			return fmt.Errorf("byte %d (%#x) is not a letter, digit or one of _.:/-", i, c)
		}
	}
	return nil
}

func nameByte(c byte) bool {
	return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' ||
		c == '_' || c == '.' || c == ':' || c == '/' || c == '-'
}
