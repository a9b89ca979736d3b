package spec

// Constants of the Wasm analyzer ABI, versions 1 and 2. ABI.md is the normative
// description; the constants below are its names, offsets and sizes. All
// multi-byte values in guest memory are little-endian, and every pointer is a
// 32-bit offset into the guest's exported linear memory.
const (
	// ABIVersion is the newest ABI version this host speaks. Version 2
	// adds TCP streams (ABI.md §10) and keeps every layout of version 1.
	ABIVersion = 2
	// ABIVersionMin is the oldest version this host still speaks: a
	// version-1 module runs unchanged.
	ABIVersionMin = 1

	// ABIModule is the import module name of the host functions.
	ABIModule = "wring"
)

// Exports a module provides. The version, config-buffer, init and process
// exports are required; tick is optional.
const (
	ExportMemory       = "memory"               // the guest's linear memory
	ExportABIVersion   = "wring_abi_version"    // func() -> i32: returns ABIVersion
	ExportConfigBuffer = "wring_config_buffer"  // func(len i32) -> i32: where the host writes len config bytes, 0 to refuse
	ExportInit         = "wring_init"           // func(cfg_ptr, cfg_len i32) -> i32: pointer to the Info block, 0 on failure
	ExportProcess      = "wring_process"        // func(count i32) -> i32: 0, or a guest error code
	ExportTick         = "wring_tick"           // func(now_ns i64, final i32) -> i32: optional timer and flush
	ExportStreams      = "wring_streams"        // func(count i32) -> i32: version 2, with InfoFlagStreams: count chunks in the stream area
	ExportInitialize   = "_initialize"          // WASI reactor start function, run once before anything else
	ExportFuel         = "__wring_fuel"         // the mutable i64 fuel global the host injects; reserved
	ExportStack        = "__wring_stack"        // the mutable i64 call stack budget the host injects; reserved
	ExportFuelReserve  = "__wring_fuel_reserve" // the mutable i64 fuel beyond the current slice, which the host injects; reserved
)

// Host functions in module ABIModule.
const (
	ImportLog   = "log"   // func(level, ptr, len i32): a log line, rate limited
	ImportRules = "rules" // func(ptr, cap i32) -> i32: copy the current rule blob; needs the rules capability
)

// Log levels for ImportLog.
const (
	LogDebug = 0
	LogInfo  = 1
	LogWarn  = 2
	LogError = 3
)

// The Info block the guest returns from wring_init: InfoSize bytes, each
// field a u32.
const (
	InfoSize          = 64
	InfoVersion       = 0  // ABIVersion again, so a stray pointer is caught
	InfoNeed          = 4  // Need* constant: which packet bytes the host copies
	InfoPayloadMax    = 8  // with NeedPayload: payload bytes wanted after the headers
	InfoMaxPackets    = 12 // packets per wring_process call, 1..MaxBatchPackets
	InfoBatchPtr      = 16 // the batch area: header, descriptors, packet bytes
	InfoBatchCap      = 20 // its size in bytes
	InfoVerdictsPtr   = 24 // InfoMaxPackets verdict slots of VerdictSize bytes
	InfoCountersPtr   = 28 // u64 counters, 8-byte aligned
	InfoCounterCount  = 32 // number of counters, at most MaxCounters
	InfoCounterNames  = 36 // counter names, each terminated by a NUL byte
	InfoCounterNamesN = 40 // bytes in the names blob
	InfoEventsPtr     = 44 // the event area
	InfoEventsCap     = 48 // its size in bytes (0: no events)
	InfoSinkNames     = 52 // names of the sinks the guest forwards to, each NUL-terminated
	InfoSinkNamesN    = 56 // bytes in the sink names blob (0: no sinks)
	InfoFlags         = 60 // InfoFlag* bits
)

// Need values: which bytes of each packet the host copies into the batch.
// Copied bytes always start at the packet's first byte, so the offsets of the
// Record apply unchanged.
const (
	NeedRecord  = 0 // the Record only, no packet bytes
	NeedHeaders = 1 // bytes up to the transport payload (the whole capture when there is none)
	NeedPayload = 2 // headers plus up to InfoPayloadMax payload bytes
	NeedPacket  = 3 // every captured byte
)

// Info flags.
const (
	InfoFlagTick        = 1 << 0 // call wring_tick on the host's timer and at close
	InfoFlagStreams     = 1 << 1 // version 2: call wring_streams with reassembled TCP streams
	InfoFlagStreamsOnly = 1 << 2 // version 2, with InfoFlagStreams: no packets (wring_process is not called)
	InfoFlagTunnels     = 1 << 3 // version 2: descriptors of DescSizeTunnel bytes, the inner packet's Record and the tunnel record (spec/TUNNEL.md)
)

// The version-2 Info block: the InfoSize bytes of version 1, then the
// stream fields, InfoSizeV2 bytes in all.
const (
	InfoSizeV2        = 128
	InfoStreamsPtr    = 64  // u32: the stream area
	InfoStreamsCap    = 68  // u32: its size in bytes, StreamAreaMin..StreamAreaMax
	InfoStreamPortsN  = 72  // u32: server ports listed, 0..MaxStreamPorts (0: every TCP flow)
	InfoStreamPorts   = 76  // MaxStreamPorts u16 ports; the first InfoStreamPortsN are used, each non-zero
	InfoStreamChunks  = 108 // u32: chunks per wring_streams call, 1..MaxStreamChunks (0: as many as the area holds)
	InfoV2Reserved    = 112
	MaxStreamChunks   = 1 << 16
	MaxStreamPorts    = 16
	StreamAreaMin     = 4096
	StreamAreaMax     = 16 << 20
	InfoV2ReservedLen = InfoSizeV2 - InfoV2Reserved // reserved bytes, zero
)

// The stream area: a StreamHeaderSize-byte header, then count chunk
// descriptors of ChunkSize bytes, then the chunks' bytes (from
// StreamHeaderSize + count*ChunkSize on).
const (
	StreamHeaderSize = 32
	StreamCount      = 0  // u32 chunks in this call
	StreamFlags      = 4  // u32, 0 (reserved)
	StreamSeq        = 8  // u64 sequence number of this wring_streams call in this instance, from 1
	StreamNow        = 16 // u64 capture time of the newest packet behind the call, ns since the Unix epoch
	StreamLost       = 24 // u32 chunks lost for this instance since its previous call (a failed call's, the staging's)
	StreamDataLen    = 28 // u32 bytes of chunk data after the descriptors

	ChunkSize    = 32
	ChunkFlow    = 0  // u64 flow id, unique per worker (never 0)
	ChunkOffset  = 8  // u64 stream offset of the first byte (data, gap); 0 (start, end)
	ChunkLen     = 16 // u32 bytes of data (data, start), or lost (gap)
	ChunkDataOff = 20 // u32 offset of the chunk's bytes from the stream area's start
	ChunkDir     = 24 // u8 direction: 0 from the initiator, 1 towards it
	ChunkKind    = 25 // u8 Chunk* kind
	ChunkAux     = 26 // u8 start: IP version (4, 6); end: End* reason; else 0
	ChunkVLAN    = 28 // u16 VLAN id of the flow (0: none)

	// The bytes of a start chunk: ChunkStartLen bytes.
	ChunkStartLen     = 36
	StartInitiator    = 0  // [16]byte initiator address (IPv4 in the first 4 bytes)
	StartResponder    = 16 // [16]byte responder address
	StartInitiatorPrt = 32 // u16 initiator port
	StartResponderPrt = 34 // u16 responder port
)

// Chunk kinds.
const (
	ChunkStart = 1 // a flow the module has not seen: its endpoints
	ChunkData  = 2 // in-order bytes of one direction
	ChunkGap   = 3 // bytes of one direction that were lost
	ChunkEnd   = 4 // the flow ended; ChunkAux says why
)

// End reasons (ChunkAux of an end chunk).
const (
	EndFIN   = 1 // both directions closed by FIN
	EndRST   = 2 // reset
	EndIdle  = 3 // no segment for the idle timeout
	EndFlush = 4 // the capture ended (the host closed)
)

// Limits of ABI versions 1 and 2.
const (
	MaxBatchPackets = 4096 // InfoMaxPackets upper bound
	MaxCounters     = 1024 // InfoCounterCount upper bound
	MaxNameLen      = 64   // bytes in a counter, sink or event field name
)

// The batch area: a BatchHeaderSize-byte header, then count descriptors of
// DescSize bytes, then the copied packet bytes.
const (
	BatchHeaderSize = 32
	BatchCount      = 0  // u32 packets in this call
	BatchFlags      = 4  // u32 BatchFlag* bits
	BatchSeq        = 8  // u64 call sequence number of this instance, from 1
	BatchNow        = 16 // u64 capture time of the batch's last packet, ns since the Unix epoch
	BatchRulesGen   = 24 // u32 generation of the rule blob (0: none)

	DescSize    = RecordSize + 8 // one packet descriptor
	DescRecord  = 0              // the packet's Record, RecordSize bytes
	DescDataOff = RecordSize     // u32 offset of the packet bytes from the batch area's start
	DescDataLen = RecordSize + 4 // u32 number of packet bytes copied

	// With InfoFlagTunnels a descriptor is longer: the Record describes
	// the inner packet of a tunnel the host entered (capture/packet's
	// ParseInner; the outermost packet's when none was), and the tunnel
	// record, all zero when none was, follows the data fields.
	DescSizeTunnel = DescSize + TunnelRecordSize
	DescTunnel     = DescSize // the tunnel record, TunnelRecordSize bytes
)

// Batch flags.
const (
	BatchFlagRulesChanged = 1 << 0 // the rule blob changed since the previous call
)

// A verdict slot, VerdictSize bytes per packet, written by the guest.
const (
	VerdictSize   = 8
	VerdictAction = 0 // u8 Verdict* action
	VerdictSink   = 2 // u16 index into the guest's sink names (forward)
	VerdictTag    = 4 // u32 tag (match)
)

// Verdict actions, in increasing precedence.
const (
	VerdictNone    = 0 // no opinion
	VerdictMatch   = 1 // the packet matches; the tag says which rule
	VerdictForward = 2 // send the packet to the named sink
	VerdictDrop    = 3 // drop the packet
)

// The event area: an EventsHeaderSize-byte header, then events back to back.
// The host zeroes EventsUsed before each call.
const (
	EventsHeaderSize = 8
	EventsUsed       = 0 // u32 bytes of events written after the header
	EventsLost       = 4 // u32 events the guest could not fit (the host adds them up)

	// An event: EventHeaderSize bytes, then its kind name (u8 length and
	// bytes), then its fields.
	EventHeaderSize = 8
	EventSize       = 0 // u16 total bytes of the event, header included
	EventFields     = 2 // u16 number of fields
	EventPacket     = 4 // u32 index of the packet in this call, EventNoPacket if none
	EventNoPacket   = 0xffffffff

	// A field: u8 type, u8 key length, the key, then the value.
	FieldString = 1 // u16 length, bytes (UTF-8; invalid bytes are replaced)
	FieldUint   = 2 // u64
	FieldInt    = 3 // i64
	FieldBool   = 4 // u8, 0 or 1
	FieldAddr   = 5 // u8 length (4 or 16), address bytes
)

// Host functions through which an analyzer granted the rules capability adds
// and removes exact flow rules (ABI.md §12). Both take FlowReqSize-byte
// records back to back and return RuleResult-encoded results.
const (
	ImportRuleAdd = "rule_add" // func(ptr, len i32) -> i32: add or refresh the flows of len/FlowReqSize records
	ImportRuleDel = "rule_del" // func(ptr, len i32) -> i32: remove the flows of len/FlowReqSize records
)

// A flow request record: FlowReqSize bytes, written by the guest.
const (
	FlowReqSize    = 64
	FlowReqIPVer   = 0  // u8 4 or 6
	FlowReqProto   = 1  // u8 IP protocol; ports must be 0 unless it is TCP, UDP or SCTP
	FlowReqFlags   = 2  // u8 FlowReqFlag* bits
	FlowReqAction  = 3  // u8 FlowAction*
	FlowReqSrcPort = 4  // u16 source port
	FlowReqDstPort = 6  // u16 destination port
	FlowReqVLAN    = 8  // u16 VLAN id (0..4095), with FlowReqFlagVLAN; else 0
	FlowReqRsvd1   = 10 // u16, 0
	FlowReqIdleMs  = 12 // u32 idle timeout in ms, 1..MaxFlowIdleMs
	FlowReqArg     = 16 // u32 the action's argument: bypass N; else 0
	FlowReqRsvd2   = 20 // u32, 0
	FlowReqSrcAddr = 24 // [16]byte source address; IPv4 in the first 4 bytes, the rest 0
	FlowReqDstAddr = 40 // [16]byte destination address
	FlowReqRsvd3   = 56 // 8 bytes, 0

	FlowReqFlagBoth = 1 << 0 // the flow matches both directions
	FlowReqFlagVLAN = 1 << 1 // the flow's packets carry an outer VLAN tag with id FlowReqVLAN

	MaxFlowReqs   = 256              // records per rule_add or rule_del call
	MaxFlowIdleMs = 3600 * 1000 * 24 // one day
)

// Flow actions of a flow request (FlowReqAction).
const (
	FlowActionKeep    = 1 // capture without consulting the expression (spec/RULES.md, "keep")
	FlowActionCapture = 2 // capture: the expression decides
	FlowActionDrop    = 3 // not captured, counted
	FlowActionBypass  = 4 // capture the first FlowReqArg packets of the flow, then stop
)

// Results of rule_add and rule_del: n >= 0 when all n records were applied;
// a negative value -(index*256 + code) when the record at index was refused
// with code (records before it were applied, none after it was tried).
const (
	RuleOK           = 0  // (not returned: success is the record count)
	RuleErrArgs      = 1  // len is not a positive multiple of FlowReqSize, more than MaxFlowReqs records, or outside memory
	RuleErrReserved  = 2  // a reserved byte or an unknown flag bit is set
	RuleErrIPVersion = 3  // IP version is not 4 or 6, or an IPv4 address has bytes past its fourth
	RuleErrPorts     = 4  // ports on a protocol without ports
	RuleErrAction    = 5  // unknown action, or an argument the action does not take
	RuleErrIdle      = 6  // idle timeout 0 or above MaxFlowIdleMs
	RuleErrVLAN      = 7  // VLAN id above 4095, or set without FlowReqFlagVLAN
	RuleErrQuota     = 8  // the analyzer has as many flows alive as it may
	RuleErrRate      = 9  // the analyzer added as many flows this second as it may
	RuleErrConflict  = 10 // another rule (the operator's, another analyzer's) holds the key
	RuleErrTable     = 11 // the rule table refused it (full)
	RuleErrUnknown   = 12 // rule_del: the analyzer has no such flow
	RuleErrNoTable   = 13 // the capture has no rule table
)

// RuleResult encodes a refusal of record index with code.
func RuleResult(index, code int) int32 { return -int32(index*256 + code) }
