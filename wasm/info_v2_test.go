package wasm

import (
	"encoding/binary"
	"strings"
	"testing"

	"github.com/wringcap/wring/spec"
)

// v2Info returns a memory with a valid version-2 streams-only Info block at
// 4 (stream area at 0x1000, 4096 bytes, port 443) and a function to edit it.
func v2Info() []byte {
	m := make([]byte, 0x2000)
	b := m[4:]
	binary.LittleEndian.PutUint32(b[spec.InfoVersion:], 2)
	binary.LittleEndian.PutUint32(b[spec.InfoFlags:], spec.InfoFlagStreams|spec.InfoFlagStreamsOnly)
	binary.LittleEndian.PutUint32(b[spec.InfoStreamsPtr:], 0x1000)
	binary.LittleEndian.PutUint32(b[spec.InfoStreamsCap:], 4096)
	binary.LittleEndian.PutUint32(b[spec.InfoStreamPortsN:], 1)
	binary.LittleEndian.PutUint16(b[spec.InfoStreamPorts:], 443)
	return m
}

func TestInfoV2(t *testing.T) {
	in, err := parseInfo(v2Info(), 4, 2)
	if err != nil {
		t.Fatal(err)
	}
	if !in.streams() || !in.streamsOnly() || in.streamsPtr != 0x1000 || in.streamsCap != 4096 || len(in.streamPorts) != 1 || in.streamPorts[0] != 443 {
		t.Fatalf("%+v", in)
	}
	u32 := func(off int, v uint32) func([]byte) {
		return func(m []byte) { binary.LittleEndian.PutUint32(m[4+off:], v) }
	}
	for _, c := range []struct {
		edit func([]byte)
		want string
	}{
		{u32(spec.InfoVersion, 1), "version 1, want 2"},
		{u32(spec.InfoStreamsCap, 4095), "stream area of 4095 bytes"},
		{u32(spec.InfoStreamsCap, 0x2000), "stream area [0x1000, +8192) outside"},
		{u32(spec.InfoStreamsPtr, 0x1004), "not 8-byte aligned"},
		{u32(spec.InfoStreamPortsN, 17), "17 stream ports"},
		{u32(spec.InfoStreamPortsN, 2), "stream port 1 is 0"},
		{u32(spec.InfoStreamPorts+4, 80), "stream port slot 2 is 80"},
		{u32(spec.InfoFlags, spec.InfoFlagStreamsOnly), "streams-only without flag streams"},
		{u32(spec.InfoFlags, 16|spec.InfoFlagStreams), "unknown flags 0x10"},
		{u32(spec.InfoFlags, spec.InfoFlagTunnels|spec.InfoFlagStreams|spec.InfoFlagStreamsOnly), "flag tunnels on a streams-only module"},
		{u32(spec.InfoMaxPackets, 1), "streams-only module leaves the packet fields 0"},
		{u32(spec.InfoV2Reserved+8, 1), "reserved byte at offset 120"},
		{u32(spec.InfoStreamChunks, 1<<16+1), "65537 chunks per call"},
	} {
		m := v2Info()
		c.edit(m)
		_, err := parseInfo(m, 4, 2)
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("got %v, want %q", err, c.want)
		}
	}
	// Version 1 knows no stream flags, and reads 64 bytes only.
	m := v2Info()
	binary.LittleEndian.PutUint32(m[4+spec.InfoVersion:], 1)
	if _, err := parseInfo(m, 4, 1); err == nil || !strings.Contains(err.Error(), "unknown flags 0x6 (ABI version 1)") {
		t.Errorf("version 1 with stream flags: %v", err)
	}
	// Stream fields without the flag.
	m = v2Info()
	binary.LittleEndian.PutUint32(m[4+spec.InfoFlags:], 0)
	binary.LittleEndian.PutUint32(m[4+spec.InfoMaxPackets:], 1)
	if _, err := parseInfo(m, 4, 2); err == nil || !strings.Contains(err.Error(), "without flag streams") {
		t.Errorf("stream fields without the flag: %v", err)
	}
}

// TestInfoTunnels: with the tunnels flag a packet descriptor is
// spec.DescSizeTunnel bytes, and the batch area must hold that many; the
// flag is version 2's.
func TestInfoTunnels(t *testing.T) {
	mk := func(version, flags, batchCap uint32) []byte {
		m := make([]byte, 0x10000)
		b := m[4:]
		put := func(off int, v uint32) { binary.LittleEndian.PutUint32(b[off:], v) }
		put(spec.InfoVersion, version)
		put(spec.InfoMaxPackets, 4)
		put(spec.InfoBatchPtr, 0x1000)
		put(spec.InfoBatchCap, batchCap)
		put(spec.InfoVerdictsPtr, 0x800)
		put(spec.InfoFlags, flags)
		return m
	}
	need := uint32(spec.BatchHeaderSize + 4*spec.DescSizeTunnel)
	in, err := parseInfo(mk(2, spec.InfoFlagTunnels, need), 4, 2)
	if err != nil {
		t.Fatal(err)
	}
	if !in.tunnels() || in.descSize != spec.DescSizeTunnel || in.dataOff != need {
		t.Fatalf("%+v", in)
	}
	if _, err := parseInfo(mk(2, spec.InfoFlagTunnels, need-1), 4, 2); err == nil || !strings.Contains(err.Error(), "cannot hold 4 descriptors") {
		t.Errorf("a batch area too small for tunnel descriptors: %v", err)
	}
	if in, err := parseInfo(mk(2, 0, need-1), 4, 2); err != nil || in.descSize != spec.DescSize {
		t.Errorf("without the flag: %+v %v", in, err)
	}
	if _, err := parseInfo(mk(1, spec.InfoFlagTunnels, need), 4, 1); err == nil || !strings.Contains(err.Error(), "unknown flags 0x8 (ABI version 1)") {
		t.Errorf("version 1 with the tunnels flag: %v", err)
	}
}
