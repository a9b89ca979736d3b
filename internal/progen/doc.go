// Package progen generates classic BPF programs for tests: random programs
// of realistic shape that verify, and programs aimed at the edges of the
// verifier's rules (jumps to and past the end, backward jumps, scratch read
// before written on one path, constant division by zero, large shifts,
// missing returns, unknown opcodes and unused opcode bits, 0, 4096 and 4097
// instructions, every ancillary offset, parse-record and header-relative
// loads). Everything is deterministic from the seed, so a failing case is
// reproduced by its seed and index.
package progen
