package rules

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"net/netip"
	"time"
)

// The JSON form (spec/RULES.md, "JSON"): an object with "rules" and
// "flows" arrays. Absent fields do not match; actions are written as in
// the text format.
type fileJSON struct {
	Rules []ruleJSON `json:"rules"`
	Flows []flowJSON `json:"flows"`
}

type ruleJSON struct {
	ID        uint32  `json:"id"`
	Priority  uint32  `json:"priority"`
	Queue     *uint16 `json:"queue,omitempty"`
	VLAN      *uint16 `json:"vlan,omitempty"`
	EtherType *uint16 `json:"ethertype,omitempty"`
	IP        *uint8  `json:"ip,omitempty"`
	Proto     *uint8  `json:"proto,omitempty"`
	Src       string  `json:"src,omitempty"`
	Dst       string  `json:"dst,omitempty"`
	SrcPort   string  `json:"sport,omitempty"`
	DstPort   string  `json:"dport,omitempty"`
	Flags     string  `json:"flags,omitempty"`
	Either    bool    `json:"either,omitempty"`
	Action    string  `json:"action"`
}

type flowJSON struct {
	ID     uint32  `json:"id"`
	Proto  uint8   `json:"proto"`
	Src    string  `json:"src"`
	Dst    string  `json:"dst"`
	VLAN   *uint16 `json:"vlan,omitempty"`
	Both   bool    `json:"both,omitempty"`
	Idle   string  `json:"idle,omitempty"`
	Action string  `json:"action"`
}

func ptr[T any](v T) *T { return &v }

// JSON formats the file as JSON (one object, no trailing newline).
func (f *File) JSON() ([]byte, error) {
	fj := fileJSON{Rules: []ruleJSON{}, Flows: []flowJSON{}}
	for i := range f.Rules {
		r := &f.Rules[i]
		m := &r.Match
		rj := ruleJSON{ID: r.ID, Priority: r.Priority, Either: m.Either, Action: r.Action.String()}
		if m.Fields&FieldQueue != 0 {
			rj.Queue = ptr(m.Queue)
		}
		if m.Fields&FieldVLAN != 0 {
			rj.VLAN = ptr(m.VLAN)
		}
		if m.Fields&FieldEtherType != 0 {
			rj.EtherType = ptr(m.EtherType)
		}
		if m.Fields&FieldIPVersion != 0 {
			rj.IP = ptr(m.IPVersion)
		}
		if m.Fields&FieldProto != 0 {
			rj.Proto = ptr(m.Proto)
		}
		if m.Fields&FieldSrc != 0 {
			rj.Src = m.Src.String()
		}
		if m.Fields&FieldDst != 0 {
			rj.Dst = m.Dst.String()
		}
		if m.Fields&FieldSrcPort != 0 {
			rj.SrcPort = m.SrcPort.String()
		}
		if m.Fields&FieldDstPort != 0 {
			rj.DstPort = m.DstPort.String()
		}
		if m.Fields&FieldTCPFlags != 0 {
			rj.Flags = formatFlags(m.Flags) + "/" + formatFlags(m.FlagMask)
		}
		fj.Rules = append(fj.Rules, rj)
	}
	for i := range f.Flows {
		fl := &f.Flows[i]
		flj := flowJSON{ID: fl.ID, Proto: fl.Proto, Src: fl.Src.String(), Dst: fl.Dst.String(), Both: fl.Both, Action: fl.Action.String()}
		if fl.Tagged {
			flj.VLAN = ptr(fl.VLAN)
		}
		if fl.Idle != 0 {
			flj.Idle = fl.Idle.String()
		}
		fj.Flows = append(fj.Flows, flj)
	}
	return json.Marshal(fj)
}

// ParseJSON parses the JSON form. Syntax errors are *SyntaxError with the
// byte offset; errors in a rule name it as rules[i] or flows[i] with the
// field.
func ParseJSON(src []byte) (*File, error) {
	if len(src) > MaxInput {
		return nil, &SyntaxError{Msg: fmt.Sprintf("%d bytes of rules, at most %d", len(src), MaxInput), Err: ErrLimit}
	}
	d := json.NewDecoder(bytes.NewReader(src))
	d.DisallowUnknownFields()
	var fj fileJSON
	if err := d.Decode(&fj); err != nil {
		var se *json.SyntaxError
		var te *json.UnmarshalTypeError
		switch {
		case errors.As(err, &se):
			return nil, &SyntaxError{Offset: se.Offset, Msg: se.Error()}
		case errors.As(err, &te):
			return nil, &SyntaxError{Offset: te.Offset, Msg: fmt.Sprintf("%s: %s does not fit %s", te.Field, te.Value, te.Type)}
		}
		return nil, &SyntaxError{Offset: d.InputOffset(), Msg: err.Error()}
	}
	if d.More() {
		return nil, &SyntaxError{Offset: d.InputOffset(), Msg: "data after the rules object"}
	}
	if len(fj.Rules) > MaxRules {
		return nil, fmt.Errorf("%d rules, at most %d: %w", len(fj.Rules), MaxRules, ErrLimit)
	}
	if len(fj.Flows) > MaxFlows {
		return nil, fmt.Errorf("%d flows, at most %d: %w", len(fj.Flows), MaxFlows, ErrLimit)
	}
	f := &File{}
	for i, rj := range fj.Rules {
		r, err := rj.rule()
		if err != nil {
			return nil, fmt.Errorf("rules[%d]: %w", i, err)
		}
		f.Rules = append(f.Rules, r)
	}
	for i, flj := range fj.Flows {
		fl, err := flj.flow()
		if err != nil {
			return nil, fmt.Errorf("flows[%d]: %w", i, err)
		}
		f.Flows = append(f.Flows, fl)
	}
	if err := f.Check(); err != nil {
		return nil, err
	}
	return f, nil
}

// parseAction parses an action in the text format's words.
func parseAction(s string) (Action, error) {
	p := &lineParser{line: 1, toks: tokenize([]byte(s)), end: len(s) + 1}
	a, err := p.action()
	if err != nil {
		var se *SyntaxError
		if errors.As(err, &se) {
			return a, fmt.Errorf("action %q: %s", s, se.Msg)
		}
		return a, err
	}
	return a, nil
}

func (rj *ruleJSON) rule() (Rule, error) {
	r := Rule{ID: rj.ID, Priority: rj.Priority}
	m := &r.Match
	m.Either = rj.Either
	if rj.Queue != nil {
		m.Fields |= FieldQueue
		m.Queue = *rj.Queue
	}
	if rj.VLAN != nil {
		m.Fields |= FieldVLAN
		m.VLAN = *rj.VLAN
	}
	if rj.EtherType != nil {
		m.Fields |= FieldEtherType
		m.EtherType = *rj.EtherType
	}
	if rj.IP != nil {
		m.Fields |= FieldIPVersion
		m.IPVersion = *rj.IP
	}
	if rj.Proto != nil {
		m.Fields |= FieldProto
		m.Proto = *rj.Proto
	}
	for _, pf := range []struct {
		s    string
		name string
		f    Field
		p    *netip.Prefix
	}{{rj.Src, "src", FieldSrc, &m.Src}, {rj.Dst, "dst", FieldDst, &m.Dst}} {
		if pf.s == "" {
			continue
		}
		p := &lineParser{line: 1, toks: []token{{s: pf.s, col: 1}}, end: len(pf.s) + 1}
		v, err := p.prefix(pf.name)
		if err != nil {
			return r, fmt.Errorf("%s: %s", pf.name, err.(*SyntaxError).Msg)
		}
		m.Fields |= pf.f
		*pf.p = v
	}
	for _, pr := range []struct {
		s    string
		name string
		f    Field
		r    *PortRange
	}{{rj.SrcPort, "sport", FieldSrcPort, &m.SrcPort}, {rj.DstPort, "dport", FieldDstPort, &m.DstPort}} {
		if pr.s == "" {
			continue
		}
		p := &lineParser{line: 1, toks: []token{{s: pr.s, col: 1}}, end: len(pr.s) + 1}
		v, err := p.ports(pr.name)
		if err != nil {
			return r, fmt.Errorf("%s", err.(*SyntaxError).Msg)
		}
		m.Fields |= pr.f
		*pr.r = v
	}
	if rj.Flags != "" {
		val, mask, ok := bytes.Cut([]byte(rj.Flags), []byte("/"))
		if !ok {
			return r, fmt.Errorf("flags %q: want VALUE/MASK, as in S/SA", rj.Flags)
		}
		var err error
		if m.Flags, err = parseFlags(string(val)); err != nil {
			return r, fmt.Errorf("flags: %v", err)
		}
		if m.FlagMask, err = parseFlags(string(mask)); err != nil {
			return r, fmt.Errorf("flags: %v", err)
		}
		m.Fields |= FieldTCPFlags
	}
	var err error
	if r.Action, err = parseAction(rj.Action); err != nil {
		return r, err
	}
	return r, r.Check()
}

func (flj *flowJSON) flow() (Flow, error) {
	fl := Flow{ID: flj.ID, Proto: flj.Proto, Both: flj.Both}
	var err error
	if fl.Src, err = netip.ParseAddrPort(flj.Src); err != nil {
		return fl, fmt.Errorf("src %q: want address:port ([v6]:port)", flj.Src)
	}
	if fl.Dst, err = netip.ParseAddrPort(flj.Dst); err != nil {
		return fl, fmt.Errorf("dst %q: want address:port ([v6]:port)", flj.Dst)
	}
	if flj.VLAN != nil {
		fl.VLAN, fl.Tagged = *flj.VLAN, true
	}
	if flj.Idle != "" {
		if fl.Idle, err = time.ParseDuration(flj.Idle); err != nil || fl.Idle <= 0 {
			return fl, fmt.Errorf("idle %q: want a positive duration, as in 30s", flj.Idle)
		}
	}
	if fl.Action, err = parseAction(flj.Action); err != nil {
		return fl, err
	}
	return fl, fl.Check()
}
