// Command sip is wring's bundled SIP analyzer. Built for WASI (analyzers/bundled
// embeds the result), it parses SIP over UDP (requests and responses on any
// port: the capture's expression chooses them), reports each message as an
// event (call id, from, to, method or status) and reads the SDP of the offer
// and the answer (c= and m= lines). When a call is answered (the 200 OK to
// an INVITE, or the ACK of a late offer) it adds exact flow rules for the
// RTP and RTCP (port + 1) of each pair of offered and answered streams,
// both directions, with an idle timeout and the keep action, so their
// packets are captured whatever the expression says; it removes them at
// BYE or CANCEL. This needs the rules capability: --grant sip:rules.
//
// Configuration: idle=S (seconds a media flow may be idle before the table
// drops it, default 60), max_calls=N (dialogs tracked, default 4096; when
// full the least recently seen is forgotten and its flows removed).
package main

import (
	"strconv"

	"github.com/wringcap/wring/wasm/guest"
)

var (
	requests     = guest.NewCounter("requests")
	responses    = guest.NewCounter("responses")
	invites      = guest.NewCounter("invites")
	answered     = guest.NewCounter("answered")
	byes         = guest.NewCounter("byes")
	malformed    = guest.NewCounter("malformed")
	flowsAdded   = guest.NewCounter("flows_added")
	flowsRefused = guest.NewCounter("flows_refused")
	flowsRemoved = guest.NewCounter("flows_removed")
	callsEvicted = guest.NewCounter("calls_evicted")
)

type analyzer struct{}

// mediaBuf holds the media of the message being handled.
var mediaBuf [maxMedia]Media

var state = newCalls(4096, 60_000)

func (analyzer) Init(cfg guest.Config) error {
	if v, ok := cfg.Get("idle"); ok {
		n, err := strconv.ParseUint(v, 10, 32)
		if err == nil && n >= 1 && n <= 86400 {
			state.idleMs = uint32(n) * 1000
		}
	}
	if v, ok := cfg.Get("max_calls"); ok {
		n, err := strconv.Atoi(v)
		if err == nil && n >= 1 && n <= 65536 {
			state.maxCalls = n
		}
	}
	return nil
}

func (analyzer) Packet(p *guest.Packet, v *guest.Verdict) {
	if p.IPProto() != 17 {
		return
	}
	pl := p.Payload()
	if len(pl) < 8 || !looksSIP(pl) {
		return
	}
	m, ok := parse(pl, mediaBuf[:0])
	if !ok {
		malformed.Add(1)
		return
	}
	_, evicted := state.handle(&m, p.Timestamp())
	if evicted {
		callsEvicted.Add(1)
	}
	var e *guest.Event
	if m.Request {
		requests.Add(1)
		switch m.Method {
		case "INVITE":
			invites.Add(1)
		case "BYE":
			byes.Add(1)
		}
		e = p.Event("request").String("method", m.Method)
	} else {
		responses.Add(1)
		e = p.Event("response").Uint("status", uint64(m.Status)).String("cseq_method", m.CSeqMethod)
	}
	e.Bytes("call_id", m.CallID).Bytes("from", m.From).Bytes("to", m.To)
	for i, md := range m.Media {
		if i == 2 {
			break
		}
		k, ka, kp := "media", "media_addr", "media_port"
		if i == 1 {
			k, ka, kp = "media2", "media2_addr", "media2_port"
		}
		e.String(k, md.Kind).Uint(kp, uint64(md.Port))
		if md.Addr.Is4() {
			a := md.Addr.As4()
			e.Addr(ka, a[:])
		} else if md.Addr.Is6() {
			a := md.Addr.As16()
			e.Addr(ka, a[:])
		}
	}
	if state.opened > 0 || state.refused > 0 {
		answered.Add(1)
		e.Uint("flows_added", uint64(state.opened))
		if state.refused > 0 {
			e.Uint("flows_refused", uint64(state.refused))
		}
	}
	if state.closed > 0 {
		e.Uint("flows_removed", uint64(state.closed))
	}
	e.Done()
	flowsAdded.Add(uint64(state.opened))
	flowsRefused.Add(uint64(state.refused))
	flowsRemoved.Add(uint64(state.closed))
	v.Match(1)
}

// looksSIP is a cheap first check: "SIP/2.0 " or an upper-case method.
func looksSIP(b []byte) bool {
	if string(b[:8]) == "SIP/2.0 " {
		return true
	}
	return b[0] >= 'A' && b[0] <= 'Z'
}

func init() {
	guest.Register(analyzer{}, guest.Options{Need: guest.NeedPayload, PayloadMax: 4096, MaxPackets: 16})
}

func main() {}
