package progen

import (
	"encoding/binary"

	"github.com/wringcap/wring/spec"
)

// Packet returns a random packet for prog: a length around the configured
// packet length (sometimes empty or very short), random bytes, and some of
// the program's compare constants written at the offsets its absolute loads
// read, so that branches are taken both ways.
func (g *Generator) Packet(prog spec.Program) []byte {
	r := g.r
	var n int
	switch r.IntN(8) {
	case 0:
		n = r.IntN(4)
	case 1:
		n = r.IntN(4 * g.cfg.PacketLen)
	default:
		n = r.IntN(2 * g.cfg.PacketLen)
	}
	pkt := make([]byte, n)
	for i := range pkt {
		pkt[i] = byte(r.Uint32())
	}
	for pc, ins := range prog {
		if ins.Op&0x07 != ld || ins.Op&0xe0 != spec.ModeABS || pc+1 >= len(prog) || r.IntN(2) == 0 {
			continue
		}
		next := prog[pc+1]
		if next.Op&0x07 != jmp || next.Op&0x08 != spec.SrcK {
			continue
		}
		k := uint64(ins.K)
		switch ins.Op & 0x18 {
		case spec.SizeW:
			if k+4 <= uint64(n) {
				binary.BigEndian.PutUint32(pkt[k:], next.K)
			}
		case spec.SizeH:
			if k+2 <= uint64(n) {
				binary.BigEndian.PutUint16(pkt[k:], uint16(next.K))
			}
		case spec.SizeB:
			if k < uint64(n) {
				pkt[k] = byte(next.K)
			}
		}
	}
	return pkt
}
