package rules

// FlowRows appends the table rows of the flows with the given ids that the
// classifier holds: each flow's TableRule to rs and its exact keys (two for
// a flow in both directions) to es, as Snapshot gives them. Ids of
// wildcard rules and unknown ids are skipped. A copy of the tables kept
// elsewhere (the kernel's, capture/rulemaps) adds the flows of a change
// from these rows instead of comparing a whole Snapshot, so the cost of a
// change follows its size, not the table's.
func (c *Classifier) FlowRows(ids []uint32, rs []TableRule, es []TableEntry) ([]TableRule, []TableEntry) {
	c.mu.Lock()
	defer c.mu.Unlock()
	for _, id := range ids {
		r := c.byID[id]
		if r == nil || !r.flow {
			continue
		}
		rs = append(rs, TableRule{ID: r.id, Rank: r.rank, Flow: true, Action: r.act})
		for _, k := range r.fl.keys() {
			es = append(es, TableEntry{Key: k, ID: r.id, Rank: r.rank})
		}
	}
	return rs, es
}

// ExpireIDs is Expire that also appends the ids of the expired flows to
// dst (a flow that another change removed meanwhile among them).
func (c *Classifier) ExpireIDs(now int64, dst []uint32) []uint32 {
	dst, _ = c.expire(now, dst)
	return dst
}

// expire removes the expired flows, appends their ids to dst and returns
// how many it removed.
func (c *Classifier) expire(now int64, dst []uint32) ([]uint32, int) {
	c.mu.Lock()
	start := len(dst)
	for id, r := range c.byID {
		if r.flow && r.h.expired(now) {
			dst = append(dst, id)
		}
	}
	c.mu.Unlock()
	if len(dst) == start {
		return dst, 0
	}
	n := c.Remove(dst[start:]...)
	c.expired.Add(uint64(n))
	return dst, n
}
