package guest

import (
	"encoding/binary"
	"testing"

	"github.com/wringcap/wring/spec"
)

func TestStreamMirrorsSpec(t *testing.T) {
	for _, c := range []struct {
		name      string
		got, want int
	}{
		{"infoSizeV2", infoSizeV2, spec.InfoSizeV2},
		{"infoFlagStreams", infoFlagStreams, spec.InfoFlagStreams},
		{"infoStreamsOnly", infoStreamsOnly, spec.InfoFlagStreamsOnly},
		{"maxStreamPorts", maxStreamPorts, spec.MaxStreamPorts},
		{"streamAreaMin", streamAreaMin, spec.StreamAreaMin},
		{"streamAreaMax", streamAreaMax, spec.StreamAreaMax},
		{"streamHeader", streamHeader, spec.StreamHeaderSize},
		{"chunkSize", chunkSize, spec.ChunkSize},
		{"chunkStartLen", chunkStartLen, spec.ChunkStartLen},
		{"ChunkStart", int(ChunkStart), spec.ChunkStart},
		{"ChunkData", int(ChunkData), spec.ChunkData},
		{"ChunkGap", int(ChunkGap), spec.ChunkGap},
		{"ChunkEnd", int(ChunkEnd), spec.ChunkEnd},
		{"EndFIN", int(EndFIN), spec.EndFIN},
		{"EndRST", int(EndRST), spec.EndRST},
		{"EndIdle", int(EndIdle), spec.EndIdle},
		{"EndFlush", int(EndFlush), spec.EndFlush},
		// The accessors' offsets.
		{"flow", 0, spec.ChunkFlow}, {"offset", 8, spec.ChunkOffset}, {"len", 16, spec.ChunkLen},
		{"dataoff", 20, spec.ChunkDataOff}, {"dir", 24, spec.ChunkDir}, {"kind", 25, spec.ChunkKind},
		{"aux", 26, spec.ChunkAux}, {"vlan", 28, spec.ChunkVLAN},
		{"lost", 24, spec.StreamLost}, {"now", 16, spec.StreamNow},
	} {
		if c.got != c.want {
			t.Errorf("%s = %d, spec says %d", c.name, c.got, c.want)
		}
	}
}

// area builds a stream area with a start, a data and an end chunk.
func area() ([]byte, int) {
	a := make([]byte, 4096)
	n := 3
	binary.LittleEndian.PutUint32(a, uint32(n))
	at := uint32(streamHeader + n*chunkSize)
	d := func(i int) []byte { return a[streamHeader+i*chunkSize:] }
	binary.LittleEndian.PutUint64(d(0), 7)
	binary.LittleEndian.PutUint32(d(0)[16:], chunkStartLen)
	binary.LittleEndian.PutUint32(d(0)[20:], at)
	d(0)[25], d(0)[26] = 1, 4
	copy(a[at:], []byte{10, 0, 0, 1})
	copy(a[at+16:], []byte{10, 0, 0, 2})
	binary.LittleEndian.PutUint16(a[at+32:], 40000)
	binary.LittleEndian.PutUint16(a[at+34:], 443)
	at += chunkStartLen
	binary.LittleEndian.PutUint64(d(1), 7)
	binary.LittleEndian.PutUint64(d(1)[8:], 100)
	binary.LittleEndian.PutUint32(d(1)[16:], 5)
	binary.LittleEndian.PutUint32(d(1)[20:], at)
	d(1)[24], d(1)[25] = 1, 2
	copy(a[at:], "hello")
	binary.LittleEndian.PutUint64(d(2), 7)
	d(2)[25], d(2)[26] = 4, 2
	return a, n
}

func TestChunks(t *testing.T) {
	a, n := area()
	if i, ok := CheckStreamArea(a, n); !ok {
		t.Fatalf("good area refused at chunk %d", i)
	}
	var got []string
	eachChunk(a, n, func(c *Chunk) {
		switch c.Kind() {
		case ChunkStart:
			ia, ip := c.Initiator()
			ra, rp := c.Responder()
			if len(ia) != 4 || ia[3] != 1 || ip != 40000 || ra[3] != 2 || rp != 443 || c.Flow() != 7 {
				t.Errorf("start %v:%d %v:%d", ia, ip, ra, rp)
			}
		case ChunkData:
			if string(c.Data()) != "hello" || c.Offset() != 100 || c.Dir() != 1 {
				t.Errorf("data %q at %d dir %d", c.Data(), c.Offset(), c.Dir())
			}
		case ChunkEnd:
			if c.Reason() != EndRST {
				t.Errorf("end reason %d", c.Reason())
			}
		}
		got = append(got, string(rune('0'+c.Kind())))
	})
	if len(got) != 3 {
		t.Fatalf("%d chunks", len(got))
	}
	// Each kind of damage is refused.
	for name, bad := range map[string]func(a []byte){
		"count":    func(a []byte) { a[0] = 4 },
		"flags":    func(a []byte) { a[4] = 1 },
		"kind":     func(a []byte) { a[streamHeader+chunkSize+25] = 5 },
		"dir":      func(a []byte) { a[streamHeader+chunkSize+24] = 2 },
		"reserved": func(a []byte) { a[streamHeader+chunkSize+27] = 1 },
		"data past the area": func(a []byte) {
			binary.LittleEndian.PutUint32(a[streamHeader+chunkSize+16:], 5000)
		},
		"data over the descriptors": func(a []byte) {
			binary.LittleEndian.PutUint32(a[streamHeader+chunkSize+20:], 40)
		},
		"start length": func(a []byte) { a[streamHeader+16] = 35 },
		"start ip":     func(a []byte) { a[streamHeader+26] = 5 },
	} {
		a, n := area()
		bad(a)
		if _, ok := CheckStreamArea(a, n); ok {
			t.Errorf("%s: accepted", name)
		}
	}
}

// FuzzStreamArea: CheckStreamArea never panics, and the chunks of an area
// it accepts can be read whole without going out of bounds.
func FuzzStreamArea(f *testing.F) {
	a, n := area()
	f.Add(a, n)
	f.Add(a[:64], n)
	f.Add([]byte{}, 0)
	f.Add(make([]byte, 32), 0)
	f.Fuzz(func(t *testing.T, a []byte, n int) {
		if _, ok := CheckStreamArea(a, n); !ok {
			return
		}
		eachChunk(a, n, func(c *Chunk) {
			_ = c.Flow() + c.Offset() + uint64(c.Len()) + uint64(c.Dir()) + uint64(c.Reason()) + uint64(c.VLAN())
			ia, _ := c.Initiator()
			ra, _ := c.Responder()
			if c.Kind() == ChunkData && uint32(len(c.Data())) != c.Len() || len(ia) != len(ra) {
				t.Fatalf("chunk %+v", c)
			}
		})
	})
}
