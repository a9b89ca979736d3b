//go:build linux && amd64

#include "textflag.h"

// func enter(code uintptr, pkt *byte, caplen uint64, wirelen uint32, meta *Meta) uint32
//
// enter calls the generated code with the register contract of x86gen.go.
// NOSPLIT with a fixed 64-byte frame: the frame is the scratch area M[]
// (r10 points at it), so each call, and each goroutine, has its own. The
// generated code pushes nothing beyond its return address and calls
// nothing, so the stack it uses is this frame plus 8 bytes, well inside
// the space the linker guarantees a NOSPLIT chain (it checks this frame).
// It clobbers AX, BX, CX, DX, SI, DI, R8-R11 and the flags, all of which
// Go's ABI0 lets a callee clobber; it leaves SP, BP, R12-R15 and the vector
// registers alone.
TEXT ·enter(SB), NOSPLIT, $64-44
	MOVQ code+0(FP), AX
	MOVQ pkt+8(FP), DI
	MOVQ caplen+16(FP), SI
	MOVL wirelen+24(FP), R9
	MOVQ meta+32(FP), R11
	MOVQ SP, R10
	CALL AX
	MOVL AX, ret+40(FP)
	RET

// func enterBatch(code uintptr, pkts *[]byte, wirelens *uint32, out *uint32, n int, meta *Meta)
//
// enterBatch calls the generated code once per packet of a batch, with the
// same contract as enter, and stores each result. The loop state lives in
// R12 (next slice header), R13 (end), R14 (next wire length) and R15 (next
// result), which the generated code never touches. ABI0 leaves R14 and R15
// undefined: Go code that calls an ABI0 function reloads g into R14 from
// thread-local storage when it returns, and this function accesses no
// global, so no dynamic-linking use of R15 is disturbed. Same frame
// discipline as enter: a fixed frame, and the code adds only its return
// address.
TEXT ·enterBatch(SB), NOSPLIT, $64-48
	MOVQ pkts+8(FP), R12
	MOVQ n+32(FP), R13
	IMULQ $24, R13
	ADDQ R12, R13
	MOVQ wirelens+16(FP), R14
	MOVQ out+24(FP), R15
	TESTQ R14, R14
	JZ whole
wire:
	CMPQ R12, R13
	JAE done
	MOVQ 0(R12), DI
	MOVQ 8(R12), SI
	MOVL (R14), R9
	MOVQ meta+40(FP), R11
	MOVQ SP, R10
	MOVQ code+0(FP), AX
	CALL AX
	MOVL AX, (R15)
	ADDQ $24, R12
	ADDQ $4, R14
	ADDQ $4, R15
	JMP wire
whole:
	CMPQ R12, R13
	JAE done
	MOVQ 0(R12), DI
	MOVQ 8(R12), SI
	MOVL SI, R9
	MOVQ meta+40(FP), R11
	MOVQ SP, R10
	MOVQ code+0(FP), AX
	CALL AX
	MOVL AX, (R15)
	ADDQ $24, R12
	ADDQ $4, R15
	JMP whole
done:
	RET
