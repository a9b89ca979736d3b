//go:build !(linux && amd64)

package jit

import "errors"

// nativeSupported reports whether this platform has the native backend.
const nativeSupported = false

// scratchBytes matches the native backend's scratch area.
const scratchBytes = 64

// mapping stands in for the native backend's executable mapping.
type mapping struct{}

func newMapping([]byte) (*mapping, error) { return nil, errors.New("no native backend") }
func (*mapping) entry() uintptr           { return 0 }
func (*mapping) bytes() []byte            { return nil }
func (*mapping) attach(*Filter)           {}
func (*mapping) free() error              { return nil }

// enter is never called here: no Filter has native code.
func enter(uintptr, *byte, uint64, uint32, *Meta) uint32 { panic("jit: no native backend") }

// enterBatch is never called here: no Filter has native code.
func enterBatch(uintptr, *[]byte, *uint32, *uint32, int, *Meta) { panic("jit: no native backend") }

func keepAlive(*Filter) {}
