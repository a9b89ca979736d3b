// Package optimize shrinks classic BPF programs without changing what they
// return on any packet.
//
// It works on the control-flow graph of a program: basic blocks of
// straight-line statements, each ending in a return, an unconditional jump
// or a two-way conditional jump. Every pass has the same signature and
// reports whether it changed the graph; the driver runs them in order,
// round after round, until every pass has run on the graph as it is
// without changing it:
//
//   - fold: value numbering of A, X and the scratch slots across blocks, so
//     that constants are folded and propagated, redundant loads and
//     recomputations disappear, and a conditional jump whose outcome follows
//     from the comparisons made on every path to it becomes unconditional;
//   - thread: an edge into a block whose jump is decided on that edge (after
//     `jeq #0x800` is true, a later `ldh [12]; jeq #0x800`) goes straight to
//     the block's successor, and so does an edge into a block whose
//     undecided jump leads both ways to the same block; the facts on a value
//     are a range, known bits, excluded values and a small set of possible
//     values (after `jeq #0x806` or `jeq #0x8035`, one of the two);
//   - deadcode: statements whose results are never read disappear, and a
//     block from which every run returns 0 becomes `ret #0`;
//   - merge: identical blocks become one, jumps to jumps are shortened,
//     blocks with a single predecessor are joined to it;
//   - peephole: the last ALU operation of a block folds into its jump
//     (`sub #c; jeq #k` compares with k+c, `and #m; jeq #0` is `jset #m`);
//   - narrow: a load whose mask keeps whole bytes, then a comparison,
//     becomes a load of those bytes (`ld [26]; and #0xffff0000; jeq
//     #0xc0a80000` is `ldh [26]; jeq #0xc0a8`) where the narrower load
//     ends the run on the same packets;
//   - offsets: a constant added to X moves into the offsets of the
//     indirect loads that use it (`ld #c; add x; tax; ld [x+k]`);
//   - share: a block and the blocks after it become a jump into code
//     elsewhere that does the same: tail merging, and regions that differ
//     only in the offsets of their loads, which then read X-relative (the
//     IPv6 port tests of `tcp port 80` reuse the IPv4 ones with X = 40).
//     It is applied only where the laid-out program gets shorter. A
//     region whose X is still the initial 0 needs no `ldx #0`;
//   - hoist: a block that only sets X to a constant and jumps (what share
//     leaves on the path it redirects) disappears: X is set at the end of
//     its immediate dominator instead, where X is dead and no block on the
//     way writes it, and the jumps into the block go to its successor.
//     The IPv6 branch of `tcp dst port 25` becomes `ldx #40` before its
//     protocol test, whose true edge joins the IPv4 port test.
//
// Unreachable blocks vanish when the graph is laid out again as a program,
// with jump offsets of at most 255 (a long `ja` is inserted where needed).
//
// The semantics preserved are those of spec/ISA.md: A and X start at 0, a
// packet load past the captured length, or a division or modulo by a zero
// X, ends the run with 0.
// A load is therefore removed only when that effect cannot happen (an
// earlier load on every path reached as far) or cannot matter (the block
// returns 0 anyway). Loads of Linux ancillary data and of wring's parse
// record are kept unless an identical load already ran.
//
// The memory of a run (blocks, value numbers, the states and facts of the
// analyses) comes from a pool and goes back to it, so optimizing a typical
// filter allocates little besides the program it returns.
package optimize
