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
	descSize     uint32 // bytes per packet descriptor: spec.DescSize, or spec.DescSizeTunnel with InfoFlagTunnels
	version      uint32 // the module's ABI version
	// Version 2, with InfoFlagStreams: the stream area and the server
	// ports wanted (empty: every TCP flow).
	streamsPtr   uint32
	streamsCap   uint32
	streamPorts  []uint16
	streamChunks int // chunks per call
	counterNames []string
	sinkNames    []string
}

// maxEventArea caps the event area: the host reads all of it after every
// call (the events over the caps are counted by their size fields), so its
// size bounds the host's work per call whatever the guest paid for.
const maxEventArea = 1 << 20

// parseInfo validates the Info block at ptr in mem (the guest's whole
// memory) and the areas it points to, for a module speaking ABI version
// (1 or 2).
func parseInfo(mem []byte, ptr uint32, version uint32) (*info, error) {
	size := uint64(spec.InfoSize)
	if version >= 2 {
		size = spec.InfoSizeV2
	}
	blk, err := area(mem, ptr, size, "info block")
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
	in.version = version
	if v := u(spec.InfoVersion); v != version {
		return nil, fmt.Errorf("info block version %d, want %d (the module's ABI version)", v, version)
	}
	if in.need > spec.NeedPacket {
		return nil, fmt.Errorf("info block: need %d is not one of 0..%d", in.need, spec.NeedPacket)
	}
	known := uint32(spec.InfoFlagTick)
	if version >= 2 {
		known |= spec.InfoFlagStreams | spec.InfoFlagStreamsOnly | spec.InfoFlagTunnels
	}
	if in.flags&^known != 0 {
		return nil, fmt.Errorf("info block: unknown flags %#x (ABI version %d)", in.flags&^known, version)
	}
	if version >= 2 {
		if err := in.parseStreams(mem, blk); err != nil {
			return nil, err
		}
	}
	in.descSize = spec.DescSize
	if in.tunnels() {
		if in.streamsOnly() {
			return nil, fmt.Errorf("info block: flag tunnels on a streams-only module, which takes no packets")
		}
		in.descSize = spec.DescSizeTunnel
	}
	if in.streamsOnly() {
		// No packets: the packet fields must be zero.
		for _, off := range []int{spec.InfoNeed, spec.InfoPayloadMax, spec.InfoMaxPackets, spec.InfoBatchPtr, spec.InfoBatchCap, spec.InfoVerdictsPtr} {
			if v := u(off); v != 0 {
				return nil, fmt.Errorf("info block: field at offset %d is %d; a streams-only module leaves the packet fields 0", off, v)
			}
		}
		return in.parseRest(mem, u)
	}
	if in.maxPackets == 0 || in.maxPackets > spec.MaxBatchPackets {
		return nil, fmt.Errorf("info block: max packets %d outside 1..%d", in.maxPackets, spec.MaxBatchPackets)
	}
	in.dataOff = spec.BatchHeaderSize + in.maxPackets*in.descSize
	if in.batchCap < in.dataOff {
		return nil, fmt.Errorf("info block: batch area of %d bytes cannot hold %d descriptors (%d bytes)", in.batchCap, in.maxPackets, in.dataOff)
	}
	if _, err := area(mem, in.batchPtr, uint64(in.batchCap), "batch area"); err != nil {
		return nil, err
	}
	if _, err := area(mem, in.verdictsPtr, uint64(in.maxPackets)*spec.VerdictSize, "verdict area"); err != nil {
		return nil, err
	}
	return in.parseRest(mem, u)
}

// streamsOnly reports a module that takes streams and no packets.
func (in *info) streamsOnly() bool { return in.flags&spec.InfoFlagStreamsOnly != 0 }

// tunnels reports a module that takes the inner packet's Record and the
// tunnel record.
func (in *info) tunnels() bool { return in.flags&spec.InfoFlagTunnels != 0 }

// streams reports a module that takes streams.
func (in *info) streams() bool { return in.flags&spec.InfoFlagStreams != 0 }

// parseStreams validates the version-2 fields of the Info block blk.
func (in *info) parseStreams(mem, blk []byte) error {
	u := func(off int) uint32 { return binary.LittleEndian.Uint32(blk[off:]) }
	for k, b := range blk[spec.InfoV2Reserved:spec.InfoSizeV2] {
		if b != 0 {
			return fmt.Errorf("info block: reserved byte at offset %d is %#x, want 0", spec.InfoV2Reserved+k, b)
		}
	}
	ptr, capacity, nports := u(spec.InfoStreamsPtr), u(spec.InfoStreamsCap), u(spec.InfoStreamPortsN)
	if !in.streams() {
		if in.streamsOnly() {
			return fmt.Errorf("info block: flag streams-only without flag streams")
		}
		if ptr != 0 || capacity != 0 || nports != 0 || u(spec.InfoStreamChunks) != 0 {
			return fmt.Errorf("info block: stream fields set (area %#x, %d bytes, %d ports) without flag streams", ptr, capacity, nports)
		}
		return nil
	}
	if capacity < spec.StreamAreaMin || capacity > spec.StreamAreaMax {
		return fmt.Errorf("info block: stream area of %d bytes outside %d..%d", capacity, spec.StreamAreaMin, spec.StreamAreaMax)
	}
	if ptr%8 != 0 {
		return fmt.Errorf("info block: stream area at %#x is not 8-byte aligned", ptr)
	}
	if _, err := area(mem, ptr, uint64(capacity), "stream area"); err != nil {
		return err
	}
	if nports > spec.MaxStreamPorts {
		return fmt.Errorf("info block: %d stream ports, at most %d", nports, spec.MaxStreamPorts)
	}
	in.streamsPtr, in.streamsCap = ptr, capacity
	in.streamChunks = int(capacity-spec.StreamHeaderSize) / spec.ChunkSize
	if mc := u(spec.InfoStreamChunks); mc > spec.MaxStreamChunks {
		return fmt.Errorf("info block: %d chunks per call, at most %d", mc, spec.MaxStreamChunks)
	} else if mc != 0 {
		in.streamChunks = min(in.streamChunks, int(mc))
	}
	for k := 0; k < int(nports); k++ {
		p := binary.LittleEndian.Uint16(blk[spec.InfoStreamPorts+2*k:])
		if p == 0 {
			return fmt.Errorf("info block: stream port %d is 0", k)
		}
		in.streamPorts = append(in.streamPorts, p)
	}
	for k := int(nports); k < spec.MaxStreamPorts; k++ {
		if p := binary.LittleEndian.Uint16(blk[spec.InfoStreamPorts+2*k:]); p != 0 {
			return fmt.Errorf("info block: stream port slot %d is %d past the %d listed", k, p, nports)
		}
	}
	return nil
}

// parseRest validates the fields every module has: counters, events and
// sinks.
func (in *info) parseRest(mem []byte, u func(int) uint32) (*info, error) {
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
