package main

import (
	"net/netip"

	"github.com/wringcap/wring/wasm/guest"
)

// call is one dialog's media state.
type call struct {
	offer    []Media // from the first SDP of the INVITE transaction
	answer   []Media
	answered bool
	flows    []guest.Flow // the flows added for it
	last     int64        // capture time of its last message
}

// calls tracks dialogs by Call-ID, at most maxCalls of them.
type calls struct {
	m        map[string]*call
	maxCalls int
	idleMs   uint32
	// Results, read by the caller after each message.
	opened, closed, refused int
}

func newCalls(maxCalls int, idleMs uint32) *calls {
	return &calls{m: map[string]*call{}, maxCalls: maxCalls, idleMs: idleMs}
}

// get returns the call, creating it (and evicting the least recently seen
// one when the table is full).
func (cs *calls) get(id []byte, now int64) (*call, bool) {
	c := cs.m[string(id)]
	if c != nil {
		c.last = now
		return c, false
	}
	evicted := false
	if len(cs.m) >= cs.maxCalls {
		var oldID string
		var old *call
		for k, v := range cs.m {
			if old == nil || v.last < old.last {
				oldID, old = k, v
			}
		}
		cs.close(old)
		delete(cs.m, oldID)
		evicted = true
	}
	c = &call{last: now}
	cs.m[string(id)] = c
	return c, evicted
}

// handle updates the dialog state with one message. It returns the call
// (nil for a message about no call) and whether one was evicted.
func (cs *calls) handle(m *Message, now int64) (*call, bool) {
	cs.opened, cs.closed, cs.refused = 0, 0, 0
	switch {
	case m.Request && m.Method == "BYE", m.Request && m.Method == "CANCEL":
		c := cs.m[string(m.CallID)]
		if c != nil {
			cs.close(c)
			delete(cs.m, string(m.CallID))
		}
		return c, false
	case m.Request && m.Method == "INVITE":
		c, ev := cs.get(m.CallID, now)
		if m.SDP {
			// A new offer (a re-INVITE too): the answer comes with the 200.
			c.offer, c.answer, c.answered = append(c.offer[:0], m.Media...), nil, false
		}
		return c, ev
	case !m.Request && m.CSeqMethod == "INVITE" && m.Status >= 200 && m.Status < 300:
		c, ev := cs.get(m.CallID, now)
		if m.SDP {
			if c.offer == nil || c.answered {
				// Late offer: the 200 carries it, the ACK the answer.
				c.offer, c.answer, c.answered = append(c.offer[:0], m.Media...), nil, false
			} else {
				c.answer = append(c.answer[:0], m.Media...)
				cs.open(c)
			}
		}
		return c, ev
	case m.Request && m.Method == "ACK" && m.SDP:
		c := cs.m[string(m.CallID)]
		if c != nil && c.offer != nil && !c.answered {
			c.answer = append(c.answer[:0], m.Media...)
			cs.open(c)
			c.last = now
		}
		return c, false
	case !m.Request && m.CSeqMethod == "INVITE" && m.Status >= 300:
		// The call failed: nothing to open.
		c := cs.m[string(m.CallID)]
		if c != nil && !c.answered {
			delete(cs.m, string(m.CallID))
		}
		return c, false
	}
	return cs.m[string(m.CallID)], false
}

// open adds the RTP and RTCP flows of each pair of offered and answered
// streams, replacing the call's earlier flows.
func (cs *calls) open(c *call) {
	cs.close(c)
	c.answered = true
	var fs []guest.Flow
	for i := 0; i < len(c.offer) && i < len(c.answer); i++ {
		o, a := c.offer[i], c.answer[i]
		if o.Port == 0 || a.Port == 0 || !o.Addr.IsValid() || !a.Addr.IsValid() || o.Addr.Is4() != a.Addr.Is4() {
			continue
		}
		fs = append(fs, cs.flow(o.Addr, o.Port, a.Addr, a.Port))
		if o.Port < 65535 && a.Port < 65535 {
			fs = append(fs, cs.flow(o.Addr, o.Port+1, a.Addr, a.Port+1))
		}
	}
	if len(fs) == 0 {
		return
	}
	res := guest.AddFlows(fs)
	n := len(fs)
	if res < 0 {
		n, _ = guest.FlowRefused(res)
		cs.refused = len(fs) - n
	}
	c.flows = fs[:n]
	cs.opened = n
}

func (cs *calls) flow(a netip.Addr, ap uint16, b netip.Addr, bp uint16) guest.Flow {
	return guest.Flow{Src: a.AsSlice(), Dst: b.AsSlice(), SrcPort: ap, DstPort: bp, Proto: 17, Both: true,
		IdleMs: cs.idleMs, Action: guest.FlowKeep}
}

// close removes the call's flows.
func (cs *calls) close(c *call) {
	if len(c.flows) == 0 {
		return
	}
	res := guest.DelFlows(c.flows)
	n := len(c.flows)
	if res < 0 {
		// Flows that idled out of the table are unknown by now: remove
		// the rest one by one.
		n = 0
		for i := range c.flows {
			if guest.DelFlows(c.flows[i:i+1]) == 1 {
				n++
			}
		}
	}
	cs.closed += n
	c.flows = nil
}
