//go:build linux

package kernel

import (
	"encoding/binary"
	"fmt"
	"os"

	"github.com/wringcap/wring/internal/corpus"
)

// readLenientPcap reads a classic pcap file the way libpcap does where
// gopacket's reader refuses it: a record whose captured length exceeds its
// wire length (some of libpcap's test captures have one) is kept as it is.
func readLenientPcap(path string) (*corpus.Capture, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	if len(b) < 24 {
		return nil, fmt.Errorf("%s: %d bytes, too short for a pcap header", path, len(b))
	}
	var bo binary.ByteOrder
	nano := false
	switch m := binary.LittleEndian.Uint32(b); m {
	case 0xa1b2c3d4, 0xa1b23c4d:
		bo, nano = binary.LittleEndian, m == 0xa1b23c4d
	case 0xd4c3b2a1, 0x4d3cb2a1:
		bo, nano = binary.BigEndian, m == 0x4d3cb2a1
	default:
		return nil, fmt.Errorf("%s: not a classic pcap file (magic %#x)", path, m)
	}
	c := &corpus.Capture{Snaplen: bo.Uint32(b[16:])}
	for off := 24; off < len(b); {
		if len(b)-off < 16 {
			return c, fmt.Errorf("%s: offset %d: truncated record header", path, off)
		}
		sec, frac := int64(bo.Uint32(b[off:])), int64(bo.Uint32(b[off+4:]))
		caplen, wirelen := int(bo.Uint32(b[off+8:])), bo.Uint32(b[off+12:])
		off += 16
		if caplen > len(b)-off {
			return c, fmt.Errorf("%s: offset %d: record of %d bytes past the end", path, off, caplen)
		}
		if !nano {
			frac *= 1000
		}
		c.Packets = append(c.Packets, corpus.Packet{Data: b[off : off+caplen], WireLen: wirelen, TsNanos: sec*1e9 + frac})
		off += caplen
	}
	return c, nil
}
