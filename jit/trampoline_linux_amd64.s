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
