package guest

// Mirrors of spec/abi.go (this package may not import spec); a test checks
// that they agree.
const (
	abiVersion      = 2
	maxCounters     = 1024
	infoSize        = 64
	infoSizeV2      = 128
	batchHeaderSize = 32
	recordSize      = 96
	descSize        = recordSize + 8
	tunnelSize      = 56
	descSizeTunnel  = descSize + tunnelSize
	infoFlagTunnels = 8
	tunType         = 0
	tunIPVersion    = 1
	tunID           = 4
	tunSrcAddr      = 24
	tunDstAddr      = 40
	verdictSize     = 8
	eventsHeader    = 8
	eventHeader     = 8
	eventNoPacket   = 0xffffffff
	infoFlagTick    = 1
	infoFlagStreams = 2
	infoStreamsOnly = 4
	maxStreamPorts  = 16
	streamAreaMin   = 4096
	streamAreaMax   = 16 << 20
	streamHeader    = 32
	chunkSize       = 32
	chunkStartLen   = 36

	actionMatch   = 1
	actionForward = 2
	actionDrop    = 3

	fieldString = 1
	fieldUint   = 2
	fieldInt    = 3
	fieldBool   = 4
	fieldAddr   = 5

	noOffset = 0xffff

	recTimestamp  = 0
	recCapLen     = 8
	recWireLen    = 12
	recL3Off      = 24
	recL4Off      = 26
	recPayloadOff = 28
	recEtherType  = 30
	recIPVersion  = 38
	recIPProto    = 39
	recTCPFlags   = 40
	recSrcPort    = 42
	recDstPort    = 44
	recSrcAddr    = 48
	recDstAddr    = 64
	recFlowHash   = 80
	recFlags      = 84
	recPayloadLen = 88
)

func le16(b []byte) uint16 { return uint16(b[0]) | uint16(b[1])<<8 }
func le32(b []byte) uint32 {
	return uint32(b[0]) | uint32(b[1])<<8 | uint32(b[2])<<16 | uint32(b[3])<<24
}
func le64(b []byte) uint64 { return uint64(le32(b)) | uint64(le32(b[4:]))<<32 }
func put16(b []byte, v uint16) {
	b[0], b[1] = byte(v), byte(v>>8)
}
func put32(b []byte, v uint32) {
	b[0], b[1], b[2], b[3] = byte(v), byte(v>>8), byte(v>>16), byte(v>>24)
}
func put64(b []byte, v uint64) { put32(b, uint32(v)); put32(b[4:], uint32(v>>32)) }
