package fuel

import "github.com/wringcap/wring/wasm/internal/binary"

// Fuel slices (Options.ReserveExport).
//
// Compiled guest code has no preemption point of the Go runtime: while a
// guest runs, a stop-the-world phase of the garbage collector waits for it,
// and with it every goroutine of the process, the host's wall-clock
// backstop and its signal handling included. Fuel alone bounds how long
// that lasts by the whole call's budget. With slices, the budget is split:
// the fuel global holds at most one slice and the reserve global the rest.
// A charge that finds the slice spent calls the refill function below,
// which moves the next slice from the reserve and executes memory.grow 0,
// which wazero performs in Go: the goroutine reaches a preemption point,
// a waiting collection goes ahead, the backstop's goroutine runs.
//
// The host stops a call by making the reserve negative (StopReserve); the
// refill traps on that, and on a negative fuel global. The reserve is written
// only by the refill and the host, so, unlike the fuel global, which every
// call writes back, the stop is not undone by the guest (the refill's own
// read-modify-write of the reserve can lose a stop landing inside it; the
// host repeats it). A call-free loop, which never writes its fuel back, and
// a loop of guest calls are both stopped within one slice of the stop, not
// when their whole budget is spent; write-backs stay a plain global.set.
//
// A slice costs one call and one trip through Go per DefaultSlice units
// (about a microsecond per millisecond of guest work); the common path of
// a charge is a compare and a fused branch, as without slices. A module
// without a memory has nothing to grow: its refill moves fuel but does not
// yield (the host refuses such modules as analyzers anyway).

// StopReserve is what the host writes to the reserve global to stop a
// call: far below any overdraft, so the refill's sum stays negative.
const StopReserve = -1 << 62

// DefaultSlice is the fuel slice when Options.Slice is zero: 2^20 units,
// about a millisecond of guest work or less.
const DefaultSlice = 1 << 20

// refillType is the encoding of the refill function's type, (i64) -> i64.
var refillType = []byte{0x60, 1, 0x7e, 1, 0x7e}

// slicing describes the refill function to append.
type slicing struct {
	fuel, reserve uint32 // global indices
	slice         int64
	typ           uint32 // the type index of refillType
	yield         bool   // the module has a memory to grow by 0 pages
}

const opDrop = 0x1a

// body encodes the refill function (size-prefixed, as in a code section).
// Its parameter x is the fuel local after the charge that ran out (x < 0,
// the overdraft); it returns the new fuel local:
//
//	global.get fuel; i64.const 0; i64.lt_s
//	if; i64.const -1; global.set fuel; unreachable; end   ;; stopped
//	global.get reserve; local.get x; i64.add; local.tee t
//	i64.const 0; i64.lt_s
//	if; i64.const -1; global.set fuel; unreachable; end   ;; out of fuel
//	local.get t; i64.const slice; local.get t; i64.const slice; i64.lt_s
//	select; local.set x                                    ;; x = min(t, slice)
//	local.get t; local.get x; i64.sub; global.set reserve
//	local.get x; global.set fuel
//	i32.const 0; memory.grow 0; drop                       ;; yield
//	local.get x
func (s slicing) body() []byte {
	const x, t = 0, 1
	b := []byte{1, 1, 0x7e} // one local group: one i64 (t)
	trap := func(b []byte) []byte {
		b = append(b, binary.OpIf, binary.BlockEmpty, binary.OpI64Const, 0x7f)
		b = appendGlobalOp(b, binary.OpGlobalSet, s.fuel)
		return append(b, binary.OpUnreachable, binary.OpEnd)
	}
	b = appendGlobalOp(b, binary.OpGlobalGet, s.fuel)
	b = append(b, binary.OpI64Const, 0, opI64LtS)
	b = trap(b)
	b = appendGlobalOp(b, binary.OpGlobalGet, s.reserve)
	b = appendLocal(b, opLocalGet, x)
	b = append(b, opI64Add)
	b = appendLocal(b, opLocalTee, t)
	b = append(b, binary.OpI64Const, 0, opI64LtS)
	b = trap(b)
	b = appendLocal(b, opLocalGet, t)
	b = appendS64(append(b, binary.OpI64Const), s.slice)
	b = appendLocal(b, opLocalGet, t)
	b = appendS64(append(b, binary.OpI64Const), s.slice)
	b = append(b, opI64LtS, opSelect)
	b = appendLocal(b, opLocalSet, x)
	b = appendLocal(b, opLocalGet, t)
	b = appendLocal(b, opLocalGet, x)
	b = append(b, opI64Sub)
	b = appendGlobalOp(b, binary.OpGlobalSet, s.reserve)
	b = appendLocal(b, opLocalGet, x)
	b = appendGlobalOp(b, binary.OpGlobalSet, s.fuel)
	if s.yield {
		b = append(b, opI32Const, 0, opMemGrow, 0, opDrop)
	}
	b = appendLocal(b, opLocalGet, x)
	b = append(b, binary.OpEnd)
	return append(appendU32(nil, uint32(len(b))), b...)
}

// appendVector appends one encoded element to a section body that is a
// vector (a count followed by the elements), raising the count.
func appendVector(body, elem []byte) []byte {
	r := binary.At(body, 0)
	n := r.U32()
	out := make([]byte, 0, len(body)+len(elem)+5)
	out = appendU32(out, n+1)
	out = append(out, body[r.Pos:]...)
	return append(out, elem...)
}
