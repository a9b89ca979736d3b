package vm

import "github.com/wringcap/wring/verifier"

// Filter runs a verified program in the reference interpreter behind the
// filter interfaces of the capture pipeline (capture.Filter and
// capture.MetaFilter). It is the engine a caller picks when it wants the
// plain statement of the semantics, or where jit.Compile fails.
type Filter struct {
	Program *verifier.Program
}

// Run runs the program with no metadata.
func (f Filter) Run(pkt []byte, wirelen uint32) uint32 {
	return Run(f.Program, pkt, wirelen, nil)
}

// RunMeta runs the program with the packet's metadata and record.
func (f Filter) RunMeta(pkt []byte, wirelen uint32, meta *Meta) uint32 {
	return Run(f.Program, pkt, wirelen, meta)
}
