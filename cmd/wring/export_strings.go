package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/netip"
	"strconv"

	"github.com/wringcap/wring/export/ipfix"
)

// The analyzer results --export joins into flow records (spec/IPFIX.md):
// which bundled analyzer, which event and member, and which string of the
// record it fills.
const (
	strHost = iota
	strQName
	strSNI
	nStrings
)

var stringSources = []struct {
	analyzer, event, member string
	kind                    int
}{
	{"http", "request", "host", strHost},
	{"dns", "query", "name", strQName},
	{"tls", "client_hello", "sni", strSNI},
	{"quic", "quic_client_hello", "sni", strSNI},
}

// maxJoinFlows bounds the flows whose strings wait for their flow record
// (four times the flow analyzer's largest table), maxJoinHeld the strings
// held in all (at most about 60 MiB of strings the encoder keeps, 431
// bytes at the default MTU). A string for a new flow past either is
// dropped and counted (table full).
const (
	maxJoinFlows = 4 * 65536
	maxJoinHeld  = 1 << 17
)

// joinKey is a flow's 5-tuple with the ends in a fixed order, so both
// directions of a flow find the same entry.
type joinKey struct {
	a, b  netip.AddrPort
	proto uint8
}

func (k joinKey) String() string {
	return fmt.Sprintf("%v %v proto %d", k.a, k.b, k.proto)
}

func makeJoinKey(src, dst netip.Addr, sport, dport uint16, proto uint8) joinKey {
	a, b := netip.AddrPortFrom(src, sport), netip.AddrPortFrom(dst, dport)
	if b.Compare(a) < 0 {
		a, b = b, a
	}
	return joinKey{a: a, b: b, proto: proto}
}

// maxJoinStrings bounds the strings kept for one 5-tuple until its flow
// record comes: the first string of each kind in a flow is kept, and a
// few more for flows that follow on the same 5-tuple before the first is
// reported.
const maxJoinStrings = 4

// joinItem is one string an event gave, with the capture time of its
// packet.
type joinItem struct {
	s    string
	ts   int64
	kind uint8
}

// joined is what the events said about one 5-tuple, in event order.
type joined struct {
	items []joinItem
}

// stringJoin keeps the HTTP host, DNS query name and TLS server name of
// flows whose record has not been exported yet, keyed by the "flow" member
// the host adds to events (wasm.Config.WithEventFlows), and attaches them
// to the flow's records when the flow analyzer reports it. A string
// belongs to a flow record when its packet's time lies between the
// record's first and last packet; a string after the record's last packet
// waits for the next flow on the same 5-tuple. The first string of a kind
// in a flow wins; later ones are counted (others), as are strings past
// maxJoinStrings for one 5-tuple.
type stringJoin struct {
	prefixes [][]byte // `{"analyzer":"<instance>","event":"<event>",` per source
	kinds    []int
	members  []string
	flows    map[joinKey]*joined
	held     int // strings in flows

	seen      [nStrings]uint64 // strings read from events
	attached  [nStrings]uint64 // strings that went into a flow record
	others    uint64           // strings of a kind the flow already had
	noFlow    uint64           // events without a flow member (not IP)
	unread    uint64           // events that could not be read
	tableFull uint64           // strings dropped: maxJoinFlows flows waiting
	stale     uint64           // strings older than their flow's record, never attached
}

// newStringJoin returns the joiner for the bundled http, dns, tls and quic
// analyzer instances among names (the --analyzer list) with their instance
// names specs, or nil when there are none.
func newStringJoin(names, specs []string) *stringJoin {
	j := &stringJoin{flows: map[joinKey]*joined{}}
	for i, a := range names {
		if i >= len(specs) {
			break
		}
		for _, s := range stringSources {
			if a == s.analyzer {
				j.prefixes = append(j.prefixes, []byte(`{"analyzer":`+strconv.Quote(specs[i])+`,"event":`+strconv.Quote(s.event)+`,`))
				j.kinds = append(j.kinds, s.kind)
				j.members = append(j.members, s.member)
			}
		}
	}
	if len(j.prefixes) == 0 {
		return nil
	}
	return j
}

// stringEvent is what the joiner reads from an event line.
type stringEvent struct {
	TS   int64 `json:"ts"`
	Flow *struct {
		Src   netip.Addr `json:"src"`
		Dst   netip.Addr `json:"dst"`
		Sport uint16     `json:"sport"`
		Dport uint16     `json:"dport"`
		Proto uint8      `json:"proto"`
	} `json:"flow"`
	Host string `json:"host"`
	Name string `json:"name"`
	SNI  string `json:"sni"`
}

// note reads line when it is an event the joiner wants, and keeps its
// string for the flow's record.
func (j *stringJoin) note(line []byte) {
	src := -1
	for i, p := range j.prefixes {
		if bytes.HasPrefix(line, p) {
			src = i
			break
		}
	}
	if src < 0 {
		return
	}
	var ev stringEvent
	if err := json.Unmarshal(line, &ev); err != nil {
		j.unread++
		return
	}
	var s string
	switch j.members[src] {
	case "host":
		s = ev.Host
	case "name":
		s = ev.Name
	case "sni":
		s = ev.SNI
	}
	if s == "" {
		return // a request without a Host header, a hello without SNI
	}
	kind := j.kinds[src]
	j.seen[kind]++
	if ev.Flow == nil || !ev.Flow.Src.IsValid() || !ev.Flow.Dst.IsValid() {
		j.noFlow++
		return
	}
	k := makeJoinKey(ev.Flow.Src, ev.Flow.Dst, ev.Flow.Sport, ev.Flow.Dport, ev.Flow.Proto)
	e := j.flows[k]
	if e == nil {
		if len(j.flows) >= maxJoinFlows {
			j.tableFull++
			return
		}
		e = &joined{}
		j.flows[k] = e
	}
	if len(e.items) >= maxJoinStrings {
		j.others++
		return
	}
	if j.held >= maxJoinHeld {
		j.tableFull++
		if len(e.items) == 0 {
			delete(j.flows, k)
		}
		return
	}
	e.items = append(e.items, joinItem{s: s, ts: ev.TS, kind: uint8(kind)})
	j.held++
}

// attach fills the strings of the flow whose directions are fwd and rev
// (rev may carry no packets) and forgets them.
func (j *stringJoin) attach(fwd, rev *ipfix.Record) {
	if len(j.flows) == 0 {
		return
	}
	k := makeJoinKey(fwd.Src, fwd.Dst, fwd.SrcPort, fwd.DstPort, fwd.Proto)
	e := j.flows[k]
	if e == nil {
		return
	}
	var done [nStrings]bool
	keep := e.items[:0]
	for _, it := range e.items {
		switch {
		case it.ts > fwd.Last:
			keep = append(keep, it) // a later flow's
		case it.ts < fwd.First:
			j.stale++ // its flow was reported without it (an event lost)
		case done[it.kind]:
			j.others++ // the flow had one of this kind
		default:
			done[it.kind] = true
			j.attached[it.kind]++
			for _, r := range []*ipfix.Record{fwd, rev} {
				switch it.kind {
				case strHost:
					r.Host = it.s
				case strQName:
					r.QName = it.s
				case strSNI:
					r.SNI = it.s
				}
			}
		}
	}
	j.held -= len(e.items) - len(keep)
	clear(e.items[len(keep):])
	e.items = keep
	if len(keep) == 0 {
		delete(j.flows, k)
	}
}

// String reports the counters: strings read, attached and why the others
// were not.
func (j *stringJoin) String() string {
	var waiting uint64
	for _, e := range j.flows {
		waiting += uint64(len(e.items))
	}
	return fmt.Sprintf("strings attached to flow records: host %d of %d, dns query name %d of %d, tls server name %d of %d; "+
		"not attached: %d a flow's later ones, %d without a flow member, %d unreadable events, %d flow table full, %d older than their flow's record, %d whose flow was never reported",
		j.attached[strHost], j.seen[strHost], j.attached[strQName], j.seen[strQName], j.attached[strSNI], j.seen[strSNI],
		j.others, j.noFlow, j.unread, j.tableFull, j.stale, waiting)
}
