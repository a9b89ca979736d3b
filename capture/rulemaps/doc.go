// Package rulemaps is the kernel half of the rules (spec/RULES.md, "Kernel
// path"): it loads a filters/rules rule set into BPF maps and emits the
// instruction block that classifies a packet against them inside a tc
// program, in front of the translated filter.
//
// The block parses the frame into the same 48-byte rules.Key that
// userspace derives from the parse record, probes the exact flow hash map,
// then the wildcard tuples (one hash map per mask combination, in an
// array of maps, walked by a bounded loop in priority order with the same
// early stop as the userspace classifier), counts the packet on its rule
// (per CPU: packets, bytes, last hit) and applies the action: drop, pass,
// sample N per packet (a shared counter, as in userspace) or per flow (the
// record's symmetric flow hash, computed the same way), bypass after N (a
// per-flow count in an LRU hash). Wildcard tables come in two generations
// switched by one map write, so a packet never sees half a change.
//
// The block counts every packet's outcome per CPU; the XDP block also by
// receive queue (Maps.QueueStats), the AF_XDP path's unit of account.
//
// Maps.Sync brings the maps up to date with a classifier; Maps.Update
// changes both at run time without reloading the program.
package rulemaps
