package rules

import (
	"fmt"
	"sync/atomic"
)

// FlowCounts is the bounded per-flow packet count that bypass after N
// consults: a set-associative table (buckets of four slots) keyed by the
// flow (both directions share a slot) and the rule that matched it. When a
// bucket is full, the slot seen least recently is reused and the eviction
// counted; the evicted flow starts again from zero if it returns. One
// worker owns a FlowCounts: it takes no locks. Evicted may be read from
// any goroutine.
type FlowCounts struct {
	slots   []flowSlot
	mask    uint64 // buckets - 1
	used    int
	evicted atomic.Uint64
}

const flowWays = 4

type flowSlot struct {
	key   Key
	rule  uint32
	count uint32 // saturates
	last  int64
	used  bool
}

// Flow table sizes.
const (
	DefaultFlowSlots = 1 << 16
	MaxFlowSlots     = 1 << 24
)

// NewFlowCounts returns a table of slots entries (rounded up to a power of
// two, at least flowWays).
func NewFlowCounts(slots int) (*FlowCounts, error) {
	if slots < 1 || slots > MaxFlowSlots {
		return nil, fmt.Errorf("flow table of %d slots: want 1 to %d: %w", slots, MaxFlowSlots, ErrLimit)
	}
	n := flowWays
	for n < slots {
		n *= 2
	}
	return &FlowCounts{slots: make([]flowSlot, n), mask: uint64(n/flowWays - 1)}, nil
}

// canonical returns the flow part of k with the endpoints in a fixed
// order, so that both directions of a flow give the same key.
func canonical(k *Key) Key {
	f := k.and(&flowMask)
	sp, dp := f[4]>>48, (f[4]>>32)&0xffff
	if f[0] > f[2] || f[0] == f[2] && (f[1] > f[3] || f[1] == f[3] && sp > dp) {
		f[0], f[1], f[2], f[3] = f[2], f[3], f[0], f[1]
		f[4] = dp<<48 | sp<<32 | f[4]&0xffff_ffff
	}
	return f
}

// Count adds one packet of k's flow under rule and returns the flow's count
// including it.
func (t *FlowCounts) Count(k *Key, rule uint32, now int64) uint32 {
	f := canonical(k)
	b := (hashKey(&f) ^ uint64(rule)*0x9e3779b97f4a7c15) & t.mask
	bucket := t.slots[b*flowWays : b*flowWays+flowWays]
	victim := -1
	for i := range bucket {
		s := &bucket[i]
		if !s.used {
			if victim < 0 || bucket[victim].used {
				victim = i
			}
			continue
		}
		if s.key == f && s.rule == rule {
			if s.count != ^uint32(0) {
				s.count++
			}
			s.last = now
			return s.count
		}
		if victim < 0 || bucket[victim].used && s.last < bucket[victim].last {
			victim = i
		}
	}
	s := &bucket[victim]
	if s.used {
		t.evicted.Add(1)
	} else {
		t.used++
	}
	*s = flowSlot{key: f, rule: rule, count: 1, last: now, used: true}
	return 1
}

// Evicted returns how many flows were pushed out of a full bucket.
func (t *FlowCounts) Evicted() uint64 { return t.evicted.Load() }

// Slots returns the table's capacity.
func (t *FlowCounts) Slots() int { return len(t.slots) }
