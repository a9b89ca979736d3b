package fuel

import (
	"fmt"

	"github.com/wringcap/wring/wasm/internal/binary"
)

// The call stack budget. Fuel bounds the work a call does but not the
// memory its recursion takes: the engine grows a guest's call stack up to
// its own ceiling (hundreds of MiB in wazero's compiler), and a module that
// recurses until it overflows leaves the host holding that memory. With a
// stack export, the rewrite charges every call its callee's frame estimate
// against a second global before the call and gives it back after the
// return, so the memory a module's recursion can take is bounded by the
// budget the host chooses, before the engine's ceiling is anywhere near.
//
// A frame is estimated in 8-byte slots as frameOverhead + parameters +
// declared locals: the values a compiled frame keeps beside its return
// address. Imported functions (host calls, which do not call back into the
// module) cost frameOverhead; call_indirect costs the largest estimate of
// any function the module defines, since its callee is known only at run
// time.

// DefaultStackSlots is the call stack budget, in 8-byte slots, when Options
// does not set one: 1 Mi slots, 8 MiB of estimated frames, which lets a
// function with one parameter recurse about 200,000 deep.
const DefaultStackSlots = 1 << 20

// frameOverhead is the slots charged for a frame besides its parameters and
// locals (return address, frame pointer, saved context, spills).
const frameOverhead = 4

// stackCosts is what the call-site charges need.
type stackCosts struct {
	on       bool
	global   uint32   // the budget global's index
	imported uint32   // imported functions, which come first in the index space
	slots    []uint32 // per defined function, its frame estimate
	max      uint32   // the largest of slots (and frameOverhead)
}

// frames estimates each defined function's frame from the code section's
// local declarations (clamped like the scanner's limit, which refuses more).
func (st *stackCosts) frames(body []byte, ft funcTypes) error {
	st.max = frameOverhead
	if !st.on {
		return nil
	}
	r := binary.At(body, 0)
	n := r.U32()
	st.slots = make([]uint32, 0, min(int(n), len(ft.params)))
	for i := uint32(0); i < n && int(i) < len(ft.params); i++ {
		size := r.U32()
		fn := r.Bytes(int(size))
		if r.Err != nil {
			return fmt.Errorf("function %d: %w", i, r.Err)
		}
		fr := binary.At(fn, 0)
		groups := fr.U32()
		var locals uint64
		for g := uint32(0); g < groups && fr.Err == nil && locals <= 50000; g++ {
			locals += uint64(fr.U32())
			fr.Byte()
		}
		slots := uint32(frameOverhead + uint64(ft.params[i]) + min(locals, 50001))
		st.slots = append(st.slots, slots)
		st.max = max(st.max, slots)
	}
	return nil
}

// cost is the frame estimate of the callee of the call at fn[at:] (a call
// or call_indirect opcode).
func (st *stackCosts) cost(fn []byte, at int) (int64, error) {
	if fn[at] == opCallInd {
		return int64(st.max), nil
	}
	r := binary.At(fn, at+1)
	f := r.U32()
	if r.Err != nil {
		return 0, r.Err
	}
	if f < st.imported {
		return frameOverhead, nil
	}
	if uint64(f-st.imported) >= uint64(len(st.slots)) {
		return 0, fmt.Errorf("offset %d: function index %d out of range", at, f)
	}
	return int64(st.slots[f-st.imported]), nil
}

// appendStackTake subtracts cost from the budget and traps, the budget left
// negative, when it drops below zero.
func appendStackTake(b []byte, global uint32, cost int64) []byte {
	b = appendGlobalOp(b, binary.OpGlobalGet, global)
	b = append(b, binary.OpI64Const)
	b = appendS64(b, cost)
	b = append(b, opI64Sub)
	b = appendGlobalOp(b, binary.OpGlobalSet, global)
	b = appendGlobalOp(b, binary.OpGlobalGet, global)
	b = append(b, binary.OpI64Const, 0, opI64LtS, binary.OpIf, binary.BlockEmpty, binary.OpUnreachable, binary.OpEnd)
	return b
}

// appendStackGive adds cost back to the budget after the call returned.
func appendStackGive(b []byte, global uint32, cost int64) []byte {
	b = appendGlobalOp(b, binary.OpGlobalGet, global)
	b = append(b, binary.OpI64Const)
	b = appendS64(b, cost)
	b = append(b, opI64Add)
	return appendGlobalOp(b, binary.OpGlobalSet, global)
}
