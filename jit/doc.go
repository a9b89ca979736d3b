// Package jit compiles verified classic BPF programs for userspace: to
// x86-64 machine code on linux/amd64, and to a portable pre-decoded form
// everywhere else (or when Options.Portable asks for it). A Filter returns
// exactly what vm.Run returns for the same program, packet and metadata.
//
// Compile accepts only a *verifier.Program and uses the verifier's facts
// instead of checking again: the hoisted length guards cover every
// absolute packet load, so a filter like "tcp port 80" checks the packet
// length a handful of times, not once per load; indirect loads are
// coalesced the same way per value of X.
//
// The native code is written into an anonymous mapping while it is
// read-write, then made read-execute (never both), and entered through a
// small assembly trampoline. It reads only the packet, the Meta and its own
// 64-byte scratch area in the trampoline's frame, allocates nothing and
// calls nothing. Constant blinding (on by default) keeps every constant of
// the program out of the executable memory: each one is XORed with a fresh
// random key and unblinded in a register at run time, and packet offsets
// are displaced by a random per-compile bias. DESIGN.md in this directory
// gives the design and the safety argument.
package jit
