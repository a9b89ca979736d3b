package rules

// BatchSize is the number of packets a batch lookup (ClassifyBatch,
// Decider.DecideBatch) works on together; longer slices are taken in
// chunks of this many.
const BatchSize = 16

// Packet is one packet of a batch lookup: its key, its time (ns), its wire
// length and its symmetric flow hash (spec/RECORD.md; only a Decider's
// sample N flow reads it).
type Packet struct {
	Key      Key
	Now      int64
	Bytes    uint32
	FlowHash uint32
}

// ClassifyBatch classifies ps[i] into out[i] for every i, with the results
// of len(ps) calls of Classify in order: the same rules, the same counters
// and Seq in packet order. out must be at least as long as ps. It looks a
// chunk of BatchSize packets up in phases (hash every key and load its
// first tag, then scan the tags, then compare the slots and read their
// rules, then count), so that the memory loads of different packets
// overlap where Classify finishes one packet's chain of dependent loads
// before the next packet's begins. It allocates nothing.
func (c *Classifier) ClassifyBatch(ps []Packet, out []Hit) {
	out = out[:len(ps)]
	var best [BatchSize]*hot
	for len(ps) > 0 {
		n := min(len(ps), BatchSize)
		c.gen.Load().lookupBatch(ps[:n], &best)
		// What each hit reports, with plain loads of the rules' lines,
		// which overlap; then the counters, whose locked adds would each
		// wait for their line before the next packet's loads could start.
		for i := range n {
			if h := best[i]; h != nil {
				out[i] = Hit{Matched: true, Flow: h.flow, ID: uint32(h.rank), Action: h.action()}
			} else {
				out[i] = Hit{}
			}
		}
		for i := range n {
			if h := best[i]; h != nil {
				out[i].Seq = h.count(ps[i].Now, ps[i].Bytes)
			}
		}
		ps, out = ps[n:], out[n:]
	}
}

// lookupBatch is lookup for up to BatchSize packets: best[i] is what
// lookup(&ps[i].Key, ps[i].Now) would return had the packets before i been
// classified (counted) first.
func (g *generation) lookupBatch(ps []Packet, best *[BatchSize]*hot) {
	n := len(ps)
	var mk [BatchSize]Key
	var act [BatchSize]uint8 // indices of the packets still looking
	na := 0
	for i := range n {
		best[i] = nil
	}
	if g.flows.n > 0 {
		for i := range n {
			mk[i] = ps[i].Key.and(&flowMask)
			act[i] = uint8(i)
		}
		g.flows.getBatch(&mk, act[:n], best)
		// A flow that matched decides its packet unless it has been idle
		// too long. Classify would have counted the packets before i
		// first, so the time a flow was last hit is that of the latest
		// packet before i that it decided, if any.
		for i := range n {
			r := best[i]
			if r == nil || r.idle == 0 {
				continue
			}
			last := int64(0)
			found := false
			for j := i - 1; j >= 0; j-- {
				if best[j] == r {
					last, found = ps[j].Now, true
					break
				}
			}
			if !found {
				last = r.last.Load()
			}
			if last != 0 && ps[i].Now-last > r.idle {
				best[i] = nil
			}
		}
		for i := range n {
			if best[i] == nil {
				act[na] = uint8(i)
				na++
			}
		}
	} else {
		for i := range n {
			act[i] = uint8(i)
		}
		na = n
	}
	// Flow hits are final; the other packets walk the tuples in order, each
	// until a tuple cannot beat its best rule so far (as lookup does: the
	// tuples are sorted by minRank, so a packet that stops stays stopped).
	var got [BatchSize]*hot
	for _, t := range g.tuples {
		k := 0
		for _, i := range act[:na] {
			if b := best[i]; b != nil && t.minRank > b.rank {
				continue
			}
			act[k] = i
			k++
			mk[i] = ps[i].Key.and(&t.mask)
		}
		na = k
		if na == 0 {
			return
		}
		t.m.getBatch(&mk, act[:na], &got)
		for _, i := range act[:na] {
			if r := got[i]; r != nil && (best[i] == nil || r.rank < best[i].rank) {
				best[i] = r
			}
		}
	}
}

// getBatch is get for the keys ks[i], i in idx: out[i] is the rule at
// ks[i] or nil. It runs get's probe in three passes over the keys so that
// their loads overlap: hash each key and load its home tag; scan each
// key's tags for the first that matches (or ends the probe); compare each
// candidate slot.
func (t *table) getBatch(ks *[BatchSize]Key, idx []uint8, out *[BatchSize]*hot) {
	var hs [BatchSize]uint64
	var shs [BatchSize]*shard
	var first [BatchSize]uint8
	var cand [BatchSize]int // distance of the candidate slot from home, -1 none
	for _, i := range idx {
		h := tabHash(&ks[i], t.seed)
		sh := &t.shards[h>>t.shift]
		hs[i], shs[i] = h, sh
		first[i] = sh.tagSlice()[h&sh.mask]
	}
	probe := t.probe
	for _, i := range idx {
		h, sh := hs[i], shs[i]
		tag := tagOf(h)
		cand[i] = -1
		g := first[i]
		for d := 0; d <= probe; d++ {
			if d > 0 {
				g = sh.tagSlice()[(h+uint64(d))&sh.mask]
			}
			if g == 0 {
				break
			}
			if g == tag {
				cand[i] = d
				break
			}
		}
	}
	for _, i := range idx {
		out[i] = nil
		d := cand[i]
		if d < 0 {
			continue
		}
		h, sh := hs[i], shs[i]
		s := sh.slotSlice()
		if e := &s[(h+uint64(d))&sh.mask]; e.hash == h && keyEq(&e.key, &ks[i]) {
			out[i] = e.r
			continue
		}
		// A tag that matched another key (1 in 128 of the occupied slots
		// passed): the rest of the probe, as get runs it.
		tags, tag := sh.tagSlice(), tagOf(h)
		for d++; d <= probe; d++ {
			j := (h + uint64(d)) & sh.mask
			g := tags[j]
			if g == 0 {
				break
			}
			if e := &s[j]; g == tag && e.hash == h && keyEq(&e.key, &ks[i]) {
				out[i] = e.r
				break
			}
		}
	}
}
