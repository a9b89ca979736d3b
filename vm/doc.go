// Package vm is wring's reference interpreter for verified classic BPF
// programs. It follows spec/ISA.md: unsigned 32-bit arithmetic; a load past
// the captured bytes, or a division or modulo by X = 0, ends the run with 0;
// shifts by X >= 32 give 0; len is the wire length; the return value is the
// number of bytes to keep, 0 meaning reject. The loads above the packet
// (parse record, Linux ancillary values, header-relative offsets) are
// spec.Meta's, which every backend shares.
//
// Run takes only a *verifier.Program, so every jump lands inside the
// program, every scratch index is below 16, no scratch slot is read before it
// is written, and the last instruction returns: the interpreter checks none
// of that again, executes at most Len() instructions, never panics and
// allocates nothing.
//
// Run dispatches once per instruction and is the plain statement of the
// semantics, the oracle the other backends are tested against. The form
// decoded once for repeated runs is jit's portable backend
// (jit.Options.Portable); Filter wraps a program for the capture pipeline.
package vm
