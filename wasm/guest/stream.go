package guest

// StreamAnalyzer is implemented by analyzers that take reassembled TCP
// streams (Options.Streams or Options.StreamsOnly). Chunk is called for each
// chunk of a wring_streams call, in order: per flow, a start chunk first,
// then data and gap chunks of either direction in stream order, and an end
// chunk last. A flow's chunks may be spread over many calls. After the
// host replaced a failed instance, the new one may see chunks of flows whose
// start it never saw (StreamsLost tells that chunks were lost).
type StreamAnalyzer interface {
	Chunk(c *Chunk)
}

// ChunkKind says what a chunk carries.
type ChunkKind uint8

// Chunk kinds, as in spec/ABI.md §10.
const (
	ChunkStart ChunkKind = 1 // a new flow: Initiator, Responder, VLAN
	ChunkData  ChunkKind = 2 // Data, the direction's bytes from Offset on
	ChunkGap   ChunkKind = 3 // Len bytes from Offset on were lost
	ChunkEnd   ChunkKind = 4 // the flow ended: Reason
)

// EndReason says why a flow ended (a ChunkEnd's Reason).
type EndReason uint8

// End reasons.
const (
	EndFIN   EndReason = 1 // both directions closed by FIN
	EndRST   EndReason = 2 // reset
	EndIdle  EndReason = 3 // no segment for the host's idle timeout
	EndFlush EndReason = 4 // the capture ended
)

// Chunk is one chunk of a wring_streams call. It is valid only during the
// Chunk call.
//
// It holds offsets, not slices, so that handing over a chunk writes no
// pointer (Go's write barriers are costly under the host's fuel metering
// while a collection is in progress).
type Chunk struct {
	at    int // descriptor offset in chunkArea
	index uint32
}

// desc returns the chunk's descriptor.
func (c *Chunk) desc() []byte { return chunkArea[c.at : c.at+chunkSize] }

// bytes returns the chunk's bytes (data, start), validated by
// CheckStreamArea.
func (c *Chunk) bytes() []byte {
	d := c.desc()
	if k := d[25]; k != uint8(ChunkData) && k != uint8(ChunkStart) {
		return nil
	}
	off, l := le32(d[20:]), le32(d[16:])
	return chunkArea[off : off+l : off+l]
}

// Flow returns the flow's id (unique per host worker, never 0).
func (c *Chunk) Flow() uint64 { return le64(c.desc()[0:]) }

// Offset returns the stream offset of the first byte (data, gap).
func (c *Chunk) Offset() uint64 { return le64(c.desc()[8:]) }

// Len returns the bytes of data, or the bytes lost (gap).
func (c *Chunk) Len() uint32 { return le32(c.desc()[16:]) }

// Dir returns the direction: 0 from the initiator, 1 towards it.
func (c *Chunk) Dir() int { return int(c.desc()[24]) }

// Kind returns the chunk's kind.
func (c *Chunk) Kind() ChunkKind { return ChunkKind(c.desc()[25]) }

// Reason returns why the flow ended (ChunkEnd).
func (c *Chunk) Reason() EndReason { return EndReason(c.desc()[26]) }

// VLAN returns the flow's VLAN id (0: none).
func (c *Chunk) VLAN() uint16 { return le16(c.desc()[28:]) }

// Data returns the chunk's bytes (ChunkData), nil for other kinds.
func (c *Chunk) Data() []byte {
	if c.Kind() != ChunkData {
		return nil
	}
	return c.bytes()
}

// Initiator returns the address (4 or 16 bytes) and port of the flow's
// initiator (ChunkStart; nil otherwise).
func (c *Chunk) Initiator() ([]byte, uint16) { return c.endpoint(0) }

// Responder returns the address and port of the other end (ChunkStart).
func (c *Chunk) Responder() ([]byte, uint16) { return c.endpoint(1) }

func (c *Chunk) endpoint(i int) ([]byte, uint16) {
	b := c.bytes()
	if c.Kind() != ChunkStart || len(b) < chunkStartLen {
		return nil, 0
	}
	n := 16
	if c.desc()[26] == 4 {
		n = 4
	}
	return b[16*i : 16*i+n], le16(b[32+2*i:])
}

// Event starts an event about this chunk; add fields and call Done. The
// host stamps it with the capture time of the packet behind the chunk.
func (c *Chunk) Event(kind string) *Event { return startEvent(c.index, kind) }

var (
	streamArea []byte // the stream area, header included
	chunkArea  []byte // the area the current chunks are read from
	chunk      Chunk
	streamLost uint32
	streamNow  int64
)

// StreamsLost returns the chunks the host reported lost for this instance
// before the current wring_streams call (its failed calls, quarantine).
func StreamsLost() uint32 { return streamLost }

// StreamNow returns the capture time of the newest packet behind the current
// wring_streams call, in ns since the Unix epoch.
func StreamNow() int64 { return streamNow }

// CheckStreamArea validates a stream area holding n chunks: the header's
// count is n, each descriptor lies in the area, has a known kind, a
// direction of 0 or 1 and zero reserved bytes, and each chunk's bytes lie
// after the descriptors and inside the area (start chunks hold exactly 36).
// It returns the index of the first bad chunk, -1 for a bad header, or
// len when all are good.
func CheckStreamArea(area []byte, n int) (int, bool) {
	if n < 0 || len(area) < streamHeader || int(le32(area)) != n || le32(area[4:]) != 0 {
		return -1, false
	}
	end := streamHeader + n*chunkSize
	if n > (len(area)-streamHeader)/chunkSize {
		return -1, false
	}
	for i := 0; i < n; i++ {
		d := area[streamHeader+i*chunkSize:]
		kind, dir := d[25], d[24]
		if dir > 1 || kind < 1 || kind > 4 || d[27] != 0 || le16(d[30:]) != 0 {
			return i, false
		}
		if kind == uint8(ChunkData) || kind == uint8(ChunkStart) {
			off, l := uint64(le32(d[20:])), uint64(le32(d[16:]))
			if off < uint64(end) || off+l > uint64(len(area)) {
				return i, false
			}
			if kind == uint8(ChunkStart) && (l != chunkStartLen || d[26] != 4 && d[26] != 6) {
				return i, false
			}
		}
	}
	return n, true
}

func streams(n int32) int32 {
	sa, ok := registered.(StreamAnalyzer)
	if !ok || streamArea == nil {
		return 1
	}
	if _, ok := CheckStreamArea(streamArea, int(n)); !ok {
		return 2
	}
	streamLost = le32(streamArea[24:])
	streamNow = int64(le64(streamArea[16:]))
	eachChunk(streamArea, int(n), sa.Chunk)
	return 0
}

// eachChunk calls fn for the n chunks of an area CheckStreamArea accepted.
func eachChunk(area []byte, n int, fn func(*Chunk)) {
	chunkArea = area
	for i := 0; i < n; i++ {
		chunk.at, chunk.index = streamHeader+i*chunkSize, uint32(i)
		fn(&chunk)
	}
}
