// Package rules holds wring's rule tables: PF_RING-style wildcard rules
// (priority, masks, CIDR prefixes, port ranges) and exact flow rules, their
// text and JSON formats, and a classifier whose per-packet work is bounded by
// the number of distinct mask combinations (tuples), not by the number of
// rules.
//
// A packet is described by a Key, built from its parse record
// (KeyFromRecord). A Classifier answers, for a Key, which rule decides the
// packet: the exact flow rule for its 5-tuple and VLAN if there is one, else
// the wildcard rule with the lowest priority number (ties: lowest id) among
// those that match. Rules are added and removed while packets flow: every
// change builds a new generation, copying only the hash-table shards it
// touches, and switches to it with one atomic store, so that a lookup sees
// either the old set or the new one, never a mix. ClassifyBatch looks up
// to BatchSize packets up together, with the results of one Classify per
// packet, so that the memory loads of different packets overlap.
//
// What an action does to a packet (sampling, bypass after N packets) is
// decided by a Decider, one per worker, which keeps a bounded table of
// per-flow packet counts. spec/RULES.md is the normative description.
package rules
