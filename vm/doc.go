// Package vm is wring's reference interpreter for verified classic BPF
// programs. It follows spec/ISA.md: unsigned 32-bit arithmetic; a load past
// the captured bytes, or a division or modulo by X = 0, ends the run with 0;
// shifts by X >= 32 give 0; len is the wire length; the return value is the
// number of bytes to keep, 0 meaning reject.
//
// Run takes only a *verifier.Program, so every jump lands inside the
// program, every scratch index is below 16, no scratch slot is read before it
// is written, and the last instruction returns: the interpreter checks none
// of that again, executes at most Len() instructions, never panics and
// allocates nothing.
//
// Run dispatches once per instruction and is the plain statement of the
// semantics. New decodes a program once for repeated runs (as
// golang.org/x/net/bpf's NewVM does): a load and the conditional jump after
// it become one step, and jumps to a return end the run at the jump. Its Run
// gives the package-level Run's result on every packet (held together by
// tests and a fuzz target) in two thirds to three quarters of the time
// (BenchmarkFilter).
package vm
