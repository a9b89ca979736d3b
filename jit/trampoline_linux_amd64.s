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
// enterBatch calls the batch form of the generated code, which loops over
// the n packets itself (x86gen.go, emitBatchLoop): R12 points at the first
// slice header, R13 past the last, R14 at the first wire length, R15 at the
// first result; 64(SP), just above the scratch area, holds the stride of
// R14: 4 through an array of wire lengths, 24 through the slice headers'
// len fields (whose low 32 bits are the captured length) when wirelens is
// nil. The code of the program's instructions never writes R10-R15; the
// batch form's head advances R12, R14 and R15. ABI0 leaves R14 and R15
// undefined: Go code that calls an ABI0 function reloads g into R14 from
// thread-local storage when it returns, and this function accesses no
// global, so no dynamic-linking use of R15 is disturbed. Same frame
// discipline as enter: a fixed frame, and the code adds only its return
// address.
TEXT ·enterBatch(SB), NOSPLIT, $72-48
	MOVQ pkts+8(FP), R12
	MOVQ n+32(FP), R13
	IMULQ $24, R13
	ADDQ R12, R13
	MOVQ wirelens+16(FP), R14
	MOVQ $4, AX
	TESTQ R14, R14
	JNZ strided
	LEAQ 8(R12), R14
	MOVQ $24, AX
strided:
	MOVQ AX, 64(SP)
	MOVQ out+24(FP), R15
	MOVQ meta+40(FP), R11
	MOVQ SP, R10
	MOVQ code+0(FP), AX
	CALL AX
	RET
