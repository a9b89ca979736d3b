package rulemaps

// Sizes and layouts of the map values (little-endian, as the program reads
// them on the host it runs on).
const (
	keySize    = 48 // rules.Key: six u64
	hitSize    = 16 // flow and tuple values: rank u64, index u32, pad
	descSize   = 56 // tuple descriptor: mask [6]u64, min rank u64
	activeSize = 8  // generation u32, tuple count u32
	ruleSize   = 16 // id u32, verb u8, per-flow u8, pad u16, n u32, pad u32
	countSize  = 24 // packets u64, bytes u64, last hit ns u64
	bypassKey  = 56 // canonical flow (48) + rule id u32 + pad
	statsSize  = 8 * numStats
)

// Offsets in a rule value.
const (
	ruleID      = 0
	ruleVerb    = 4
	rulePerFlow = 5
	ruleN       = 8
)

// MaxTuples is the most tuples (mask combinations) one generation of the
// kernel tables holds, a quarter of what the userspace classifier allows
// (rules.MaxTuples): the verifier walks the search loop once per tuple, so
// its work, and a capture's start-up time, grow with this bound (about
// 240 instructions per tuple, 62,000 in all and some 60 ms per program at
// 256; 1,024 would take a quarter of a second per program). A rule set
// with more tuples stays in userspace.
const MaxTuples = 256

// MaxVLANTags is the most VLAN tags the kernel walks; a frame with more is
// left unclassified (captured, counted in Stats.Unclassified).
const MaxVLANTags = 16

// Outcome codes in a result word (bits 24 to 30); they are rules.Outcome's.
const (
	outCapture    = 0
	outDrop       = 1
	outPass       = 2
	outSampledOut = 3
	outBypassed   = 4
)

// Result word flags.
const (
	resultUnclassified = 1 << 31
	resultKeep         = 1 << 30 // a keep rule captured it: the filter is skipped (BlockOptions.Keep)
	resultOutcomeShift = 24
	resultOutcomeMask  = 0x3f
	resultIndexMask    = 1<<24 - 1
)

// MaxQueues is the most receive queues the XDP block counts outcomes for
// one by one (Maps.QueueStats); frames of higher queues are counted
// together, in one more entry. The tc block counts every packet in entry
// 0 (its per-CPU values are the passive path's per-ring figures).
const MaxQueues = 256

// statEntries is the size of the statistics array: one entry per queue,
// and one for the queues from MaxQueues up.
const statEntries = MaxQueues + 1

// Kernel statistics slots (each entry of a per-CPU array, by queue).
const (
	statCaptured = iota
	statDropped
	statPassed
	statSampledOut
	statBypassed
	statNoMatch
	statUnclassified
	statBypassFull
	numStats
)

// noIndex marks "no rule found yet" in the tuple search.
const noIndex = 0xffffffff
