package vm

import "github.com/wringcap/wring/spec"

// Meta is what a run may read besides the packet bytes: ancillary values,
// the network header offset and the parse record (spec.Meta, which every
// backend shares). A nil *Meta reads as the zero Meta.
type Meta = spec.Meta

var zeroMeta Meta
