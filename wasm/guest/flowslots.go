package guest

// FlowSlots maps the host's stream flow ids (Chunk.Flow) to a fixed number
// of slots, for an analyzer that keeps per-flow state in arrays: open
// addressing (linear probing, backward-shift deletion), no allocation after
// NewFlowSlots. When every slot is taken, Add replaces the least recently
// used flow (the caller counts it).
type FlowSlots struct {
	ids   []uint64 // per bucket: flow id, 0 empty
	slot  []int32  // per bucket: slot index
	free  []int32  // free slot indices
	owner []uint64 // per slot: the flow id using it, 0 free
	used  []uint64 // per slot: last use stamp
	clock uint64
}

// NewFlowSlots returns a table of the given number of slots.
func NewFlowSlots(slots int) *FlowSlots {
	buckets := 1
	for buckets < 2*slots {
		buckets <<= 1
	}
	t := &FlowSlots{ids: make([]uint64, buckets), slot: make([]int32, buckets),
		free: make([]int32, slots), owner: make([]uint64, slots), used: make([]uint64, slots)}
	for i := range t.free {
		t.free[i] = int32(slots - 1 - i)
	}
	return t
}

func (t *FlowSlots) bucket(id uint64) int {
	h := id * 0x9e3779b97f4a7c15
	return int(h>>32) & (len(t.ids) - 1)
}

// Get returns the slot of id, or -1.
func (t *FlowSlots) Get(id uint64) int {
	if id == 0 {
		return -1
	}
	m := len(t.ids) - 1
	for b := t.bucket(id); t.ids[b] != 0; b = (b + 1) & m {
		if t.ids[b] == id {
			s := int(t.slot[b])
			t.clock++
			t.used[s] = t.clock
			return s
		}
	}
	return -1
}

// Add gives id a slot (id must not be present and not 0). evicted is the id
// of the flow whose slot it took, 0 if a slot was free.
func (t *FlowSlots) Add(id uint64) (slot int, evicted uint64) {
	if len(t.free) == 0 {
		old := 0
		for s := range t.used {
			if t.used[s] < t.used[old] {
				old = s
			}
		}
		evicted = t.owner[old]
		t.Remove(evicted)
	}
	s := t.free[len(t.free)-1]
	t.free = t.free[:len(t.free)-1]
	m := len(t.ids) - 1
	b := t.bucket(id)
	for t.ids[b] != 0 {
		b = (b + 1) & m
	}
	t.ids[b], t.slot[b] = id, s
	t.owner[s] = id
	t.clock++
	t.used[s] = t.clock
	return int(s), evicted
}

// Remove frees id's slot; it returns the slot, or -1 when id is absent.
func (t *FlowSlots) Remove(id uint64) int {
	if id == 0 {
		return -1
	}
	m := len(t.ids) - 1
	b := t.bucket(id)
	for ; t.ids[b] != id; b = (b + 1) & m {
		if t.ids[b] == 0 {
			return -1
		}
	}
	s := t.slot[b]
	t.ids[b] = 0
	// Backward-shift the entries after b that probed past it.
	for i := (b + 1) & m; t.ids[i] != 0; i = (i + 1) & m {
		home := t.bucket(t.ids[i])
		if (i-home)&m >= (i-b)&m {
			t.ids[b], t.slot[b] = t.ids[i], t.slot[i]
			t.ids[i] = 0
			b = i
		}
	}
	t.owner[s] = 0
	t.used[s] = 0
	t.free = append(t.free, s)
	return int(s)
}

// Live returns the number of flows held.
func (t *FlowSlots) Live() int { return len(t.owner) - len(t.free) }

// Slots returns the table's number of slots.
func (t *FlowSlots) Slots() int { return len(t.owner) }

// Owner returns the flow id holding slot s, 0 when it is free.
func (t *FlowSlots) Owner(s int) uint64 { return t.owner[s] }
