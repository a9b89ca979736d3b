package capture

import (
	"github.com/wringcap/wring/jit"
	"github.com/wringcap/wring/verifier"
	"github.com/wringcap/wring/vm"
)

// VMFilter runs a verified program in the reference interpreter. It is the
// fallback where the JIT is unavailable.
type VMFilter struct {
	Program *verifier.Program
}

// Run runs the program with no metadata.
func (f VMFilter) Run(pkt []byte, wirelen uint32) uint32 {
	return vm.Run(f.Program, pkt, wirelen, nil)
}

// RunMeta runs the program with the packet's metadata and record.
func (f VMFilter) RunMeta(pkt []byte, wirelen uint32, meta *jit.Meta) uint32 {
	return vm.Run(f.Program, pkt, wirelen, (*vm.Meta)(meta))
}
