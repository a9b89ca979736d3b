package fuel

import (
	"errors"
	"fmt"

	"github.com/wringcap/wring/wasm/internal/binary"
)

// The metering keeps each function's fuel in a local of its own (a register
// after compilation) and the global in sync at the points where control can
// leave the function: calls (written before, read back after), returns,
// branches to the function's outermost label, br_table (conservatively) and
// the final end. A charge at a loop header is then a subtraction and a
// compare on a register, not a load-modify-store chain through memory that
// every iteration would wait on.

// edit is one insertion into a function body.
type edit struct {
	at   int // offset in the body
	kind editKind
	cost int64
	// depth is the label depth, at the edit, of the block whose end traps
	// (for charges in a wrapped body).
	depth uint32
}

type editKind uint8

const (
	editLocals    editKind = iota // replace the local declarations (at 0, up to cost bytes)
	editEntry                     // load the global into the local and charge
	editEntryLoad                 // load the global into the local and charge, no check: a loop header checks next
	editCharge                    // charge the local at a loop header
	editSync                      // write the local to the global
	editReload                    // read the global into the local
	editBulk                      // charge a bulk operation its length, shifted right by cost
	editGrow                      // clamp the delta of table.grow (table cost) to fail past the cap, and charge the table's new size
	editMemGrow                   // charge memory.grow (memory cost) the memory it may copy
	editStackTake                 // take the callee's frame (cost) from the stack budget
	editStackGive                 // give the callee's frame (cost) back to the stack budget
	editNone                      // a segment's charge folded into its region's
)

// Bulk operations pay one unit per this many bytes (memory.fill, memory.copy,
// memory.init) or table elements (table.fill, table.copy, table.init, whose
// elements are 8-byte references in wazero), as a shift.
const (
	bulkMemoryShift = 4 // 16 bytes
	bulkTableShift  = 1 // 2 elements
)

// memoryGrowShift turns the pages of a memory into the fuel memory.grow pays
// before it runs, as a left shift: the grow may copy the whole memory (a
// 64 KiB page is charged like a bulk operation over as many bytes), so a
// program growing in large steps pays little and one growing a page at a
// time pays the square of its final size.
const memoryGrowShift = 16 - bulkMemoryShift

// tableCap is what the rewrite of table.grow needs: how many tables the
// module has, and how large each may grow.
type tableCap struct {
	tables uint32
	each   uint64
}

// funcTypes gives, for every defined function, its number of parameters.
type funcTypes struct {
	params []uint32 // per defined function, in code section order
	body   []byte   // per defined function: the block type of its body, 0 if none fits
}

// meterCode rewrites every function body of a code section.
func meterCode(body []byte, global uint32, ft funcTypes, tc tableCap, st stackCosts, opt options, refill int64) ([]byte, error) {
	if err := st.frames(body, ft); err != nil {
		return nil, err
	}
	r := binary.At(body, 0)
	n := r.U32()
	if r.Err != nil {
		return nil, r.Err
	}
	if int(n) != len(ft.params) {
		return nil, fmt.Errorf("%d function bodies for %d declared functions", n, len(ft.params))
	}
	out := make([]byte, 0, len(body)+len(body)/2+16)
	out = appendU32(out, n)
	s := scanner{frames: &st, noUnroll: opt.noUnroll, segmentAbove: opt.segmentAbove}
	var fnOut, unrolled []byte
	u := unroller{budget: unrollBudget + len(body)/4}
	if opt.noUnroll {
		u.budget = -1
	}
	for i := uint32(0); i < n; i++ {
		size := r.U32()
		fn := r.Bytes(int(size))
		if r.Err != nil {
			return nil, fmt.Errorf("function %d: %w", i, r.Err)
		}
		s.params, s.globals = ft.params[i], global
		orig := fn
		unrolled, fn = u.unroll(unrolled[:0], fn, ft.body[i])
		s.free = u.added
		if err := s.scan(fn); err != nil {
			if len(u.added) > 0 {
				// Report offsets in the module's own code.
				s.free = nil
				if err2 := s.scan(orig); err2 != nil {
					err = err2
				}
			}
			return nil, fmt.Errorf("function %d: %w", i, err)
		}
		local := ft.params[i] + s.locals
		scratch := local + 1 // an i32 for the operand of a bulk operation or table.grow
		wrap := ft.body[i]
		if refill >= 0 {
			// With fuel slices a charge that runs out calls the refill
			// function and goes on: every charge is inline (sliceCheck)
			// and the body needs no trap blocks.
			wrap = 0
		}
		fnOut = fnOut[:0]
		prev := 0
		// In a wrapped body each charge that checks gets a trap block of
		// its own (up to maxTraps; later ones share the last): a
		// conditional branch to a block with several predecessors is a
		// critical edge, which the compiler splits and then no longer
		// fuses with its compare (a setcc, a zero extension and a test
		// more on every charge).
		traps := uint32(1)
		if wrap != 0 && !opt.noCharge {
			traps = 0
			for _, e := range s.edits {
				if e.kind == editEntry || e.kind == editCharge {
					traps++
				}
			}
			traps = min(max(traps, 1), maxTraps)
		}
		trap := uint32(0) // the next charge's trap block
		for _, e := range s.edits {
			fnOut = append(fnOut, fn[prev:e.at]...)
			prev = e.at
			if opt.noCharge && (e.kind == editEntry || e.kind == editCharge || e.kind == editEntryLoad || e.kind == editBulk || e.kind == editMemGrow) {
				continue
			}
			switch e.kind {
			case editLocals:
				groups := s.groups + 1
				if s.scratch {
					groups++
				}
				fnOut = appendU32(fnOut, groups)
				fnOut = append(fnOut, fn[s.groupsStart:e.cost]...)
				fnOut = append(fnOut, 1, 0x7e) // one i64 local: the fuel
				if s.scratch {
					fnOut = append(fnOut, 1, 0x7f) // one i32 local: the scratch
				}
				prev = int(e.cost)
				if wrap != 0 {
					for range traps {
						fnOut = append(fnOut, binary.OpBlock, binary.BlockEmpty)
					}
					fnOut = append(fnOut, binary.OpBlock, wrap)
				}
			case editEntry:
				fnOut = appendGlobalOp(fnOut, binary.OpGlobalGet, global)
				if refill >= 0 {
					fnOut = appendLocal(fnOut, opLocalSet, local)
					fnOut = appendSliceCheck(fnOut, e.cost, local, uint32(refill))
					break
				}
				if wrap != 0 {
					fnOut = appendLocal(fnOut, opLocalSet, local)
					e.depth += min(trap, traps-1)
					trap++
					fnOut = appendCheckCharge(fnOut, e, local)
					break
				}
				fnOut = appendCharge(fnOut, e, local, global)
			case editEntryLoad:
				fnOut = appendGlobalOp(fnOut, binary.OpGlobalGet, global)
				fnOut = append(fnOut, binary.OpI64Const)
				fnOut = appendS64(fnOut, e.cost)
				fnOut = append(fnOut, opI64Sub)
				fnOut = appendLocal(fnOut, opLocalSet, local)
			case editCharge:
				if refill >= 0 {
					fnOut = appendSliceCheck(fnOut, e.cost, local, uint32(refill))
					break
				}
				if wrap != 0 {
					e.depth += min(trap, traps-1)
					trap++
					fnOut = appendCheckCharge(fnOut, e, local)
					break
				}
				fnOut = appendLocal(fnOut, opLocalGet, local)
				fnOut = appendCharge(fnOut, e, local, global)
			case editSync:
				if refill >= 0 {
					// With slices the host stops a call through the
					// reserve, which only the refill writes: a plain
					// write-back undoes nothing.
					fnOut = appendLocal(fnOut, opLocalGet, local)
					fnOut = appendGlobalOp(fnOut, binary.OpGlobalSet, global)
					break
				}
				// global = min(local, global): the global is never
				// below the local but when the host stopped the call
				// (wrote -1), which a plain write-back would undo.
				fnOut = appendLocal(fnOut, opLocalGet, local)
				fnOut = appendGlobalOp(fnOut, binary.OpGlobalGet, global)
				fnOut = appendLocal(fnOut, opLocalGet, local)
				fnOut = appendGlobalOp(fnOut, binary.OpGlobalGet, global)
				fnOut = append(fnOut, 0x53, opSelect) // i64.lt_s; select
				fnOut = appendGlobalOp(fnOut, binary.OpGlobalSet, global)
			case editReload:
				fnOut = appendGlobalOp(fnOut, binary.OpGlobalGet, global)
				fnOut = appendLocal(fnOut, opLocalSet, local)
			case editBulk:
				fnOut = appendBulkCharge(fnOut, e.cost, local, scratch, global, refill)
			case editGrow:
				fnOut = appendGrowClamp(fnOut, uint32(e.cost), tc.each, scratch)
				if !opt.noCharge {
					fnOut = appendGrowCharge(fnOut, uint32(e.cost), local, scratch, global, refill)
				}
			case editMemGrow:
				fnOut = appendMemGrowCharge(fnOut, uint32(e.cost), local, global, refill)
			case editStackTake:
				fnOut = appendStackTake(fnOut, st.global, e.cost)
			case editStackGive:
				fnOut = appendStackGive(fnOut, st.global, e.cost)
			}
		}
		fnOut = append(fnOut, fn[prev:]...)
		if wrap != 0 {
			// The body's final end closed the inner block: return its
			// results; the trap blocks' ends are reached only by a
			// charge that ran out.
			// A charge branches there before subtracting, so what is
			// left is written as -1: the host only reads the sign.
			fnOut = append(fnOut, opReturn)
			for range traps {
				fnOut = append(fnOut, binary.OpEnd, binary.OpI64Const, 0x7f)
				fnOut = appendGlobalOp(fnOut, binary.OpGlobalSet, global)
				fnOut = append(fnOut, binary.OpUnreachable)
			}
			fnOut = append(fnOut, binary.OpEnd)
		}
		out = appendU32(out, uint32(len(fnOut)))
		out = append(out, fnOut...)
	}
	if r.Pos != len(body) {
		return nil, errors.New("trailing bytes after the last function")
	}
	return out, nil
}

// maxTraps caps the trap blocks of a function.
const maxTraps = 64

const (
	opLocalGet = 0x20
	opLocalSet = 0x21
	opLocalTee = 0x22
	opReturn   = 0x0f
	opBr       = 0x0c
	opBrIf     = 0x0d
	opBrTable  = 0x0e
	opCall     = 0x10
	opCallInd  = 0x11
	opSelect   = 0x1b
	opI32Const = 0x41
	opI64GtU   = 0x56
	opI64Add   = 0x7c
	opI64ShrU  = 0x88
	opI64Shl   = 0x86
	opI32Ne    = 0x47
	opMemSize  = 0x3f
	opMemGrow  = 0x40
	opMisc     = 0xfc

	opI64ExtendI32U = 0xad

	miscMemoryInit = 8
	miscMemoryCopy = 10
	miscMemoryFill = 11
	miscTableInit  = 12
	miscTableCopy  = 14
	miscTableGrow  = 15
	miscTableSize  = 16
	miscTableFill  = 17
)

func appendLocal(b []byte, op byte, idx uint32) []byte    { return appendU32(append(b, op), idx) }
func appendGlobalOp(b []byte, op byte, idx uint32) []byte { return appendU32(append(b, op), idx) }

// appendCheckCharge charges the fuel local f in a wrapped body: it branches
// out to the trap block when f is less than the cost, then subtracts it:
//
//	local.get f; i64.const cost; i64.lt_s; br_if depth
//	local.get f; i64.const cost; i64.sub; local.set f
//
// The compiled code falls through on the common path instead of jumping over
// an inline trap at every loop iteration, and the compare does not wait for
// the subtraction.
func appendCheckCharge(b []byte, e edit, local uint32) []byte {
	b = appendLocal(b, opLocalGet, local)
	b = append(b, binary.OpI64Const)
	b = appendS64(b, e.cost)
	b = append(b, opI64LtS)
	b = appendU32(append(b, opBrIf), e.depth)
	b = appendLocal(b, opLocalGet, local)
	b = append(b, binary.OpI64Const)
	b = appendS64(b, e.cost)
	b = append(b, opI64Sub)
	return appendLocal(b, opLocalSet, local)
}

// appendCharge subtracts e.cost from the value on the stack, stores it in the
// fuel local and traps, after writing it to the global, when it is negative
// (for bodies that are not wrapped):
//
//	i64.const cost; i64.sub; local.tee f; i64.const 0; i64.lt_s
//	if; local.get f; global.set g; unreachable; end
func appendCharge(b []byte, e edit, local, global uint32) []byte {
	b = append(b, binary.OpI64Const)
	b = appendS64(b, e.cost)
	b = append(b, opI64Sub)
	b = appendLocal(b, opLocalTee, local)
	b = append(b, binary.OpI64Const, 0, opI64LtS, binary.OpIf, binary.BlockEmpty)
	b = appendLocal(b, opLocalGet, local)
	b = appendGlobalOp(b, binary.OpGlobalSet, global)
	return append(b, binary.OpUnreachable, binary.OpEnd)
}

// appendOverdraft follows a charge that left the fuel local f on the stack
// and stored: when f is negative it traps after writing f to the global
// (refill < 0), or, with fuel slices, calls the refill function, which pays
// the overdraft from the reserve or traps, and goes on with what it returns:
//
//	i64.const 0; i64.lt_s; if; local.get f; global.set g; unreachable; end
//	i64.const 0; i64.lt_s; if; local.get f; call refill; local.set f; end
func appendOverdraft(b []byte, local, global uint32, refill int64) []byte {
	b = append(b, binary.OpI64Const, 0, opI64LtS, binary.OpIf, binary.BlockEmpty)
	b = appendLocal(b, opLocalGet, local)
	if refill >= 0 {
		b = appendU32(append(b, opCall), uint32(refill))
		b = appendLocal(b, opLocalSet, local)
		return append(b, binary.OpEnd)
	}
	b = appendGlobalOp(b, binary.OpGlobalSet, global)
	return append(b, binary.OpUnreachable, binary.OpEnd)
}

// appendSliceCheck charges the fuel local f cost units with fuel slices:
// when f is less than the cost, the refill function is called with the
// overdraft f-cost and f becomes what it returns; otherwise the cost is
// subtracted. The charge branches out of an inner block to the refill, and
// the common path jumps over it, so the compare and the conditional branch
// stay fused (the branch target has no other predecessor):
//
//	block; block
//	  local.get f; i64.const cost; i64.lt_s; br_if 0
//	  local.get f; i64.const cost; i64.sub; local.set f; br 1
//	end
//	local.get f; i64.const cost; i64.sub; call refill; local.set f
//	end
func appendSliceCheck(b []byte, cost int64, local, refill uint32) []byte {
	b = append(b, binary.OpBlock, binary.BlockEmpty, binary.OpBlock, binary.BlockEmpty)
	b = appendLocal(b, opLocalGet, local)
	b = append(b, binary.OpI64Const)
	b = appendS64(b, cost)
	b = append(b, opI64LtS, opBrIf, 0)
	b = appendLocal(b, opLocalGet, local)
	b = append(b, binary.OpI64Const)
	b = appendS64(b, cost)
	b = append(b, opI64Sub)
	b = appendLocal(b, opLocalSet, local)
	b = append(b, opBr, 1, binary.OpEnd)
	b = appendLocal(b, opLocalGet, local)
	b = append(b, binary.OpI64Const)
	b = appendS64(b, cost)
	b = append(b, opI64Sub)
	b = appendU32(append(b, opCall), refill)
	b = appendLocal(b, opLocalSet, local)
	return append(b, binary.OpEnd)
}

// appendBulkCharge charges the fuel local f the length on top of the stack
// (an i32, left in place), shifted right by shift, before a bulk operation,
// and traps like appendCharge when f goes negative:
//
//	local.tee s; local.get f; local.get s; i64.extend_i32_u; i64.const shift
//	i64.shr_u; i64.sub; local.tee f; i64.const 0; i64.lt_s
//	if; local.get f; global.set g; unreachable; end
//
// The charge is self-contained (an if with no label a branch names), so it
// works in wrapped and unwrapped bodies alike.
func appendBulkCharge(b []byte, shift int64, local, scratch, global uint32, refill int64) []byte {
	b = appendLocal(b, opLocalTee, scratch)
	b = appendLocal(b, opLocalGet, local)
	b = appendLocal(b, opLocalGet, scratch)
	b = append(b, opI64ExtendI32U, binary.OpI64Const)
	b = appendS64(b, shift)
	b = append(b, opI64ShrU, opI64Sub)
	b = appendLocal(b, opLocalTee, local)
	return appendOverdraft(b, local, global, refill)
}

// appendGrowClamp replaces the delta n on top of the stack, before
// table.grow of table t, by -1 (0xffffffff, a delta no table can take:
// wazero and the spec make the grow return -1) when the table's size plus n
// exceeds each:
//
//	local.set s; i32.const -1; local.get s
//	table.size t; i64.extend_i32_u; local.get s; i64.extend_i32_u; i64.add
//	i64.const each; i64.gt_u; select
func appendGrowClamp(b []byte, table uint32, each uint64, scratch uint32) []byte {
	b = appendLocal(b, opLocalSet, scratch)
	b = append(b, opI32Const, 0x7f)
	b = appendLocal(b, opLocalGet, scratch)
	b = append(b, opMisc, miscTableSize)
	b = appendU32(b, table)
	b = append(b, opI64ExtendI32U)
	b = appendLocal(b, opLocalGet, scratch)
	b = append(b, opI64ExtendI32U, opI64Add, binary.OpI64Const)
	b = appendS64(b, int64(min(each, 1<<62)))
	return append(b, opI64GtU, opSelect)
}

// appendGrowCharge follows appendGrowClamp: it charges the fuel local f, with
// the clamped delta d on top of the stack (left in place), the table's size
// after the grow, table.size t + d, shifted right by bulkTableShift (wazero
// appends to the table, which may copy it), or nothing when d is -1 (the
// grow fails and changes nothing), and traps like appendCharge when f goes
// negative:
//
//	local.tee s; local.get f
//	table.size t; i64.extend_i32_u; local.get s; i64.extend_i32_u; i64.add
//	i64.const 0; local.get s; i32.const -1; i32.ne; select
//	i64.const shift; i64.shr_u; i64.sub; local.tee f; i64.const 0; i64.lt_s
//	if; local.get f; global.set g; unreachable; end
func appendGrowCharge(b []byte, table, local, scratch, global uint32, refill int64) []byte {
	b = appendLocal(b, opLocalTee, scratch)
	b = appendLocal(b, opLocalGet, local)
	b = append(b, opMisc, miscTableSize)
	b = appendU32(b, table)
	b = append(b, opI64ExtendI32U)
	b = appendLocal(b, opLocalGet, scratch)
	b = append(b, opI64ExtendI32U, opI64Add, binary.OpI64Const, 0)
	b = appendLocal(b, opLocalGet, scratch)
	b = append(b, opI32Const, 0x7f, opI32Ne, opSelect, binary.OpI64Const)
	b = appendS64(b, bulkTableShift)
	b = append(b, opI64ShrU, opI64Sub)
	b = appendLocal(b, opLocalTee, local)
	return appendOverdraft(b, local, global, refill)
}

// appendMemGrowCharge charges the fuel local f, before memory.grow of memory
// m, the memory's current size in pages shifted left by memoryGrowShift, and
// traps like appendCharge when f goes negative; the delta on the stack is
// left alone:
//
//	local.get f; memory.size m; i64.extend_i32_u; i64.const shift; i64.shl
//	i64.sub; local.tee f; i64.const 0; i64.lt_s
//	if; local.get f; global.set g; unreachable; end
func appendMemGrowCharge(b []byte, mem, local, global uint32, refill int64) []byte {
	b = appendLocal(b, opLocalGet, local)
	b = appendU32(append(b, opMemSize), mem)
	b = append(b, opI64ExtendI32U, binary.OpI64Const)
	b = appendS64(b, memoryGrowShift)
	b = append(b, opI64Shl, opI64Sub)
	b = appendLocal(b, opLocalTee, local)
	return appendOverdraft(b, local, global, refill)
}

// scanner decodes one function body and plans its edits.
type scanner struct {
	edits        []edit
	stack        []int   // per open block: the segment it charges to
	kinds        []byte  // per open block: its opcode (block, loop, if; 0 the function)
	targeted     []bool  // per open block: a branch names it
	costs        []int64 // per segment: instructions
	regionEdit   []int   // per segment: index of its charge edit
	region       []int   // per segment: the segment that starts its region
	locals       uint32  // declared locals
	groups       uint32  // local declaration groups
	groupsStart  int     // offset of the first group
	params       uint32  // parameters of the function
	free         []int   // offsets, in order, of instructions not charged (added by the unroller)
	globals      uint32  // globals of the module before the fuel global
	scratch      bool    // the body needs the scratch i32 local
	frames       *stackCosts
	total        []int64 // scratch of settle
	noUnroll     bool    // the rewrite unrolls no loop
	segmentAbove int64   // Options.SegmentAbove
}

func (s *scanner) scan(fn []byte) error {
	s.edits, s.stack, s.costs, s.regionEdit = s.edits[:0], s.stack[:0], s.costs[:0], s.regionEdit[:0]
	s.kinds, s.targeted, s.region = s.kinds[:0], s.targeted[:0], s.region[:0]
	s.scratch = false
	r := binary.At(fn, 0)
	s.groups = r.U32()
	s.groupsStart = r.Pos
	var locals uint64
	for g := uint32(0); g < s.groups && r.Err == nil; g++ {
		locals += uint64(r.U32())
		r.Byte()
		if locals > 50000 {
			return errors.New("too many locals")
		}
	}
	if r.Err != nil {
		return r.Err
	}
	if s.groups == ^uint32(0) {
		return errors.New("too many local groups")
	}
	s.locals = uint32(locals)
	s.edits = append(s.edits, edit{at: 0, kind: editLocals, cost: int64(r.Pos)})
	s.newRegion(r.Pos, editEntry)
	s.push(0, 0)
	// entry stays true while the code from the function's start is straight
	// (no branch, call or end): a loop header reached that way checks the
	// fuel right after the entry's charge, so the entry need not.
	entry := true
	for {
		if r.Pos >= len(fn) {
			return errors.New("body ends before its final end")
		}
		start := r.Pos
		cur := s.stack[len(s.stack)-1]
		if len(s.free) > 0 && s.free[0] == start {
			s.free = s.free[1:] // added by the unroller: not charged
		} else {
			s.costs[cur]++
		}
		op, err := instr(&r)
		if err != nil {
			return err
		}
		if entry {
			switch {
			case op == binary.OpLoop:
				s.edits[s.regionEdit[0]].kind = editEntryLoad
				entry = false
			case op == binary.OpBlock:
			case op <= opBrTable || op == opReturn || op == opCall || op == opCallInd || op == binary.OpUnreachable:
				entry = false
			}
		}
		switch op {
		case opLocalGet, opLocalSet, opLocalTee, binary.OpGlobalGet, binary.OpGlobalSet:
			// A module naming the fuel local or global is invalid as it
			// stands, and would be valid, and could refill its fuel, once
			// rewritten.
			lr := binary.At(fn, start+1)
			idx, limit, what := lr.U32(), uint64(s.globals), "global"
			if op <= opLocalTee {
				limit, what = uint64(s.params)+uint64(s.locals), "local"
			}
			if uint64(idx) >= limit {
				return fmt.Errorf("offset %d: %s index %d out of range", start, what, idx)
			}
		case binary.OpBlock, binary.OpIf:
			s.push(cur, op)
		case binary.OpLoop:
			s.push(s.newRegion(r.Pos, editCharge), op)
		case binary.OpElse:
			// The else arm is entered by a branch from the if.
			s.boundary(r.Pos)
		case opCall, opCallInd:
			if s.frames == nil || !s.frames.on {
				s.edits = append(s.edits, edit{at: start, kind: editSync}, edit{at: r.Pos, kind: editReload})
				break
			}
			cost, err := s.frames.cost(fn, start)
			if err != nil {
				return err
			}
			s.edits = append(s.edits, edit{at: start, kind: editSync}, edit{at: start, kind: editStackTake, cost: cost},
				edit{at: r.Pos, kind: editReload}, edit{at: r.Pos, kind: editStackGive, cost: cost})
		case opReturn:
			s.edits = append(s.edits, edit{at: start, kind: editSync})
		case opMemGrow:
			lr := binary.At(fn, start+1)
			s.edits = append(s.edits, edit{at: start, kind: editMemGrow, cost: int64(lr.U32())})
		case opMisc:
			lr := binary.At(fn, start+1)
			switch sub := lr.U32(); sub {
			case miscMemoryInit, miscMemoryCopy, miscMemoryFill:
				s.edits = append(s.edits, edit{at: start, kind: editBulk, cost: bulkMemoryShift})
				s.scratch = true
			case miscTableInit, miscTableCopy, miscTableFill:
				s.edits = append(s.edits, edit{at: start, kind: editBulk, cost: bulkTableShift})
				s.scratch = true
			case miscTableGrow:
				s.edits = append(s.edits, edit{at: start, kind: editGrow, cost: int64(lr.U32())})
				s.scratch = true
			}
		case opBrTable:
			// Sync only if one of the targets is the function's label.
			lr := binary.At(fn, start+1)
			n := lr.U32()
			synced := false
			for i := uint32(0); i <= n && lr.Err == nil; i++ {
				depth := lr.U32()
				if err := s.checkDepth(start, depth); err != nil {
					return err
				}
				s.targeted[len(s.stack)-1-int(depth)] = true
				if int(depth) == len(s.stack)-1 && !synced {
					s.edits = append(s.edits, edit{at: start, kind: editSync})
					synced = true
				}
			}
		case opBr, opBrIf:
			// The label follows the opcode; branching to the outermost
			// label returns from the function.
			lr := binary.At(fn, start+1)
			depth := lr.U32()
			if err := s.checkDepth(start, depth); err != nil {
				return err
			}
			s.targeted[len(s.stack)-1-int(depth)] = true
			if int(depth) == len(s.stack)-1 {
				s.edits = append(s.edits, edit{at: start, kind: editSync})
			}
		case binary.OpEnd:
			top := len(s.stack) - 1
			kind, targeted := s.kinds[top], s.targeted[top]
			s.stack, s.kinds, s.targeted = s.stack[:top], s.kinds[:top], s.targeted[:top]
			if len(s.stack) == 0 {
				if r.Pos != len(fn) {
					return fmt.Errorf("offset %d: code after the function's final end", r.Pos)
				}
				s.edits = append(s.edits, edit{at: start, kind: editSync})
				s.settle()
				return nil
			}
			switch {
			case kind == binary.OpIf || kind == binary.OpBlock && targeted:
				// Reached by a branch (or from an if's then arm).
				s.boundary(r.Pos)
			case kind == binary.OpBlock:
				// Reached only by falling out of the block: its last
				// segment goes on.
				s.stack[top-1] = cur
			}
		}
	}
}

// checkDepth refuses a branch past the function's label: invalid as it
// stands, it would name a block the rewriter adds.
func (s *scanner) checkDepth(at int, depth uint32) error {
	if uint64(depth) >= uint64(len(s.stack)) {
		return fmt.Errorf("offset %d: branch depth %d out of range", at, depth)
	}
	return nil
}

// push opens a block charging to segment seg.
func (s *scanner) push(seg int, op byte) {
	s.stack = append(s.stack, seg)
	s.kinds = append(s.kinds, op)
	s.targeted = append(s.targeted, false)
}

// Options.SegmentAbove is the cost of a loop region above which it is
// charged per segment instead of once per iteration. A region is a loop's
// body outside nested loops, and one charge at its header pays for all of
// it; when a large body runs a small part per iteration that overcharges by
// its size. The loop of Go's wasm code is the extreme: every function's
// body is one loop around a br_table, and every jump of the Go code goes
// back through it, so a one-charge region charges the whole function per
// jump. A segment starts at every point a branch can enter inside the
// region (after the end of a block some branch names, after an if's end,
// at an else), so control still only moves forward within a segment and a
// charge at its start pays for every instruction it can run there. Regions
// at most this size, unrolled loops and the function's own region keep one
// charge. It is off by default (RATIONALE.md: the charges it adds cost Go
// guests about 11% more CPU, and their overcharge fits the default fuel).

// unrolledMax bounds the cost of an unrolled loop's region: k copies of at
// most unrollTarget instructions in all, and up to 3 added instructions per
// copy. Such a region is never split: the unroller leaves the block ends
// of its copies uncharged, counting on the header's charge for them.
const unrolledMax = unrollTarget + 3*unrollMaxK

// boundary starts a new segment at offset at, in the region of the code
// around it, when that region is a loop's.
func (s *scanner) boundary(at int) {
	top := len(s.stack) - 1
	reg := s.region[s.stack[top]]
	if reg == 0 {
		return // the function's region: one charge at entry
	}
	seg := s.newRegion(at, editCharge)
	// newRegion counts a loop's own label, which a segment does not have:
	// here the labels are the len(s.stack) open ones, then the trap block.
	s.edits[s.regionEdit[seg]].depth--
	s.region[seg] = reg
	s.stack[top] = seg
}

// settle gives each charge its cost: a loop region at most SegmentAbove
// (or any region, when it is off) charges its whole cost at its header, a
// larger one each segment its own.
func (s *scanner) settle() {
	if cap(s.total) < len(s.costs) {
		s.total = make([]int64, len(s.costs))
	}
	total := s.total[:len(s.costs)]
	clear(total)
	for i, reg := range s.region {
		total[reg] += s.costs[i]
	}
	if s.segmentAbove <= 0 {
		for i, e := range s.regionEdit {
			if s.region[i] == i {
				s.edits[e].cost = max(total[i], 1)
			} else {
				s.edits[e].kind = editNone
			}
		}
		return
	}
	limit := max(s.segmentAbove, unrolledMax)
	if s.noUnroll {
		limit = s.segmentAbove // no loop was unrolled (tests)
	}
	for i, e := range s.regionEdit {
		reg := s.region[i]
		switch {
		case total[reg] > limit:
			s.edits[e].cost = max(s.costs[i], 1)
		case reg == i:
			s.edits[e].cost = max(total[reg], 1)
		default:
			s.edits[e].kind = editNone
		}
	}
}

// newRegion starts a charged region at offset at and returns its index.
func (s *scanner) newRegion(at int, kind editKind) int {
	s.costs = append(s.costs, 0)
	s.region = append(s.region, len(s.costs)-1)
	s.regionEdit = append(s.regionEdit, len(s.edits))
	// Inside the region the labels are its own (a loop's, or the wrapped
	// body's), the len(s.stack) enclosing ones, then the trap block.
	s.edits = append(s.edits, edit{at: at, kind: kind, depth: uint32(len(s.stack)) + 1})
	return len(s.costs) - 1
}
