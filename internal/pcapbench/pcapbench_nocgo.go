//go:build !cgo

package pcapbench

import "github.com/wringcap/wring/spec"

// Available reports whether this build can run libpcap's bpf_filter.
const Available = false

// Set stands in for the cgo build's packet set.
type Set struct{}

// New reports ErrUnavailable: this build has no cgo.
func New(spec.Program, [][]byte, []uint32) (*Set, error) { return nil, ErrUnavailable }

// Loop is never reached without a Set.
func (*Set) Loop(int) uint64 { return 0 }

// Result is never reached without a Set.
func (*Set) Result(int) uint32 { return 0 }

// Close does nothing.
func (*Set) Close() {}
