package pcapfile

import (
	"encoding/binary"
	"errors"
	"io"

	"github.com/wringcap/wring/capture/packet"
)

// ReadBatch reads up to len(pk) packets, setting each one's Info and Data
// (not its Record), and returns how many it read. The data of every packet
// of the batch stays valid until the next ReadBatch or ReadPacket. It
// returns the packets read before an error with that error, except that the
// end of the file after at least one packet is reported by the next call:
// it returns 0 and io.EOF after the last packet.
//
// It reads exactly the packets ReadPacket would, in one loop: a pcap file's
// common records are decoded straight from the buffer.
func (r *Reader) ReadBatch(pk []packet.Packet) (int, error) {
	return r.ReadBatchViews(pk, nil, nil)
}

// ReadBatchViews is ReadBatch that also stores each packet's data in
// data[i] and its wire length in wirelens[i], when they are not nil (they
// must then be at least as long as pk): the arrays a batch filter takes,
// filled in the same pass.
func (r *Reader) ReadBatchViews(pk []packet.Packet, data [][]byte, wirelens []uint32) (int, error) {
	swaps := r.swaps
	n := 0
	for n < len(pk) {
		if r.fast {
			n = r.pcapFastBatch(pk, n, data, wirelens)
			if n == len(pk) {
				break
			}
		}
		p := &pk[n]
		d, err := r.ReadPacket(&p.Info)
		if err != nil {
			if errors.Is(err, io.EOF) && n > 0 {
				return n, nil
			}
			return n, err
		}
		p.Data = d
		if data != nil {
			data[n], wirelens[n] = d, p.Info.WireLen
		}
		n++
		// Data read before a swap stays valid until the next one: end
		// the batch after a packet whose read swapped the buffers (unless
		// it is the first, whose predecessors are not in the batch).
		if r.swaps != swaps {
			if n > 1 {
				break
			}
			swaps = r.swaps
		}
	}
	return n, nil
}

// pcapFastBatch decodes the buffered records that take pcapNext's fast path
// into pk[n:] (and data and wirelens, when not nil), and returns the new
// count. It stops at the first record that is not wholly buffered or not
// common (the slow path decides those).
func (r *Reader) pcapFastBatch(pk []packet.Packet, n int, data [][]byte, wirelens []uint32) int {
	if data != nil {
		data, wirelens = data[:len(pk)], wirelens[:len(pk)]
	}
	buf := r.buf[:r.end]
	pos := r.pos
	lt, res, max := r.linkType, r.res, r.fastMax
	scale := int64(1000)
	if r.nano {
		scale = 1
	}
	for ; n < len(pk) && len(buf)-pos >= 16; n++ {
		h := buf[pos : pos+16]
		caplen := binary.LittleEndian.Uint32(h[8:])
		if caplen > max || len(buf)-pos-16 < int(caplen) {
			break
		}
		sec := int64(binary.LittleEndian.Uint32(h[0:]))
		frac := int64(int32(binary.LittleEndian.Uint32(h[4:])))
		wirelen := binary.LittleEndian.Uint32(h[12:])
		start := pos + 16
		pos = start + int(caplen)
		// Field by field: a composite literal would be built on the
		// stack and copied.
		p := &pk[n]
		p.Info.Timestamp = sec*1_000_000_000 + frac*scale
		p.Info.CapLen = caplen
		p.Info.WireLen = wirelen
		p.Info.LinkType = lt
		p.Info.Ifindex = 0
		p.Info.Queue = 0
		p.Info.Interface = 0
		p.Info.Stamp.Sec = sec
		p.Info.Stamp.Frac = uint64(frac)
		p.Info.Stamp.Res = res
		p.Info.Stamp.Bin = false
		p.Data = buf[start:pos:pos]
		if data != nil {
			data[n], wirelens[n] = p.Data, wirelen
		}
	}
	r.pos = pos
	return n
}
