package rules

import (
	"bytes"
	"errors"
	"fmt"
	"net/netip"
	"strconv"
	"strings"
	"time"
)

// SyntaxError is an error in rule text at a line and column (both from 1;
// the column counts bytes), or in JSON at a byte offset (Line 0).
type SyntaxError struct {
	Line, Col int
	Offset    int64 // JSON: byte offset of the error
	Msg       string
	Err       error // a sentinel such as ErrLimit, or nil
}

func (e *SyntaxError) Error() string {
	if e.Line == 0 {
		return fmt.Sprintf("offset %d: %s", e.Offset, e.Msg)
	}
	return fmt.Sprintf("line %d col %d: %s", e.Line, e.Col, e.Msg)
}

func (e *SyntaxError) Unwrap() error { return e.Err }

type token struct {
	s   string
	col int
}

// lineParser parses the tokens of one line.
type lineParser struct {
	line int
	toks []token
	i    int
	end  int // column just past the line, for errors at its end
}

// wrapAt reports err at a column, keeping it for errors.Is.
func (p *lineParser) wrapAt(col int, err error) error {
	return &SyntaxError{Line: p.line, Col: col, Msg: err.Error(), Err: err}
}

func (p *lineParser) errAt(col int, format string, args ...any) error {
	return &SyntaxError{Line: p.line, Col: col, Msg: fmt.Sprintf(format, args...)}
}

// next returns the next token, or an error naming what was expected.
func (p *lineParser) next(what string) (token, error) {
	if p.i >= len(p.toks) {
		return token{}, p.errAt(p.end, "expected %s at the end of the line", what)
	}
	t := p.toks[p.i]
	p.i++
	return t, nil
}

func (p *lineParser) number(what string, max uint64) (uint64, token, error) {
	t, err := p.next(what)
	if err != nil {
		return 0, t, err
	}
	v, err := parseNumber(t.s, max)
	if err != nil {
		return 0, t, p.errAt(t.col, "%s: %v", what, err)
	}
	return v, t, nil
}

func parseNumber(s string, max uint64) (uint64, error) {
	base := 10
	digits := s
	if len(s) > 2 && (s[:2] == "0x" || s[:2] == "0X") {
		base, digits = 16, s[2:]
	}
	v, err := strconv.ParseUint(digits, base, 64)
	if err != nil || digits[0] == '+' {
		return 0, fmt.Errorf("%q is not a number", s)
	}
	if v > max {
		return 0, fmt.Errorf("%s is over %d", s, max)
	}
	return v, nil
}

func tokenize(line []byte) []token {
	var toks []token
	i := 0
	for i < len(line) {
		c := line[i]
		if c == '#' {
			break
		}
		if c == ' ' || c == '\t' || c == '\r' {
			i++
			continue
		}
		j := i
		for j < len(line) && line[j] != ' ' && line[j] != '\t' && line[j] != '\r' && line[j] != '#' {
			j++
		}
		toks = append(toks, token{s: string(line[i:j]), col: i + 1})
		i = j
	}
	return toks
}

// ParseText parses rule text: one rule or flow per line, '#' comments
// (spec/RULES.md, "Text format"). Errors are *SyntaxError with the line and
// column; the rule set is checked as a whole (ids unique) as well.
func ParseText(src []byte) (*File, error) {
	if len(src) > MaxInput {
		return nil, &SyntaxError{Line: 1, Col: 1, Msg: fmt.Sprintf("%d bytes of rules, at most %d", len(src), MaxInput), Err: ErrLimit}
	}
	f := &File{}
	ids := map[uint32]int{}
	for n := 1; len(src) > 0; n++ {
		line := src
		if i := bytes.IndexByte(src, '\n'); i >= 0 {
			line, src = src[:i], src[i+1:]
		} else {
			src = nil
		}
		if len(line) > MaxLine {
			return nil, &SyntaxError{Line: n, Col: MaxLine + 1, Msg: fmt.Sprintf("line of %d bytes, at most %d", len(line), MaxLine), Err: ErrLimit}
		}
		p := &lineParser{line: n, toks: tokenize(line), end: len(line) + 1}
		if len(p.toks) == 0 {
			continue
		}
		kw := p.toks[0]
		p.i = 1
		var id uint32
		switch kw.s {
		case "rule":
			r, err := p.rule()
			if err != nil {
				return nil, err
			}
			if len(f.Rules) == MaxRules {
				return nil, &SyntaxError{Line: n, Col: kw.col, Msg: fmt.Sprintf("more than %d rules", MaxRules), Err: ErrLimit}
			}
			f.Rules = append(f.Rules, r)
			id = r.ID
		case "flow":
			fl, err := p.flow()
			if err != nil {
				return nil, err
			}
			if len(f.Flows) == MaxFlows {
				return nil, &SyntaxError{Line: n, Col: kw.col, Msg: fmt.Sprintf("more than %d flows", MaxFlows), Err: ErrLimit}
			}
			f.Flows = append(f.Flows, fl)
			id = fl.ID
		default:
			return nil, p.errAt(kw.col, "expected rule or flow, found %q", kw.s)
		}
		if prev, ok := ids[id]; ok {
			return nil, p.errAt(p.toks[1].col, "id %d is already used on line %d", id, prev)
		}
		ids[id] = n
	}
	return f, nil
}

var protoNames = map[string]uint8{"icmp": ProtoICMP, "tcp": ProtoTCP, "udp": ProtoUDP, "icmp6": ProtoICMPv6, "sctp": ProtoSCTP}

func protoName(p uint8) string {
	for n, v := range protoNames {
		if v == p {
			return n
		}
	}
	return strconv.Itoa(int(p))
}

func (p *lineParser) proto() (uint8, error) {
	t, err := p.next("a protocol")
	if err != nil {
		return 0, err
	}
	if v, ok := protoNames[t.s]; ok {
		return v, nil
	}
	v, err := parseNumber(t.s, 255)
	if err != nil {
		return 0, p.errAt(t.col, "proto: want tcp, udp, icmp, icmp6, sctp or 0 to 255, found %q", t.s)
	}
	return uint8(v), nil
}

const flagLetters = "FSRPAUEC" // bit 0 (FIN) to bit 7 (CWR)

func parseFlags(s string) (uint8, error) {
	if s == "" {
		return 0, errors.New("empty flags")
	}
	if s[0] >= '0' && s[0] <= '9' {
		v, err := parseNumber(s, 255)
		return uint8(v), err
	}
	var v uint8
	for _, c := range s {
		i := strings.IndexRune(flagLetters, c)
		if i < 0 {
			return 0, fmt.Errorf("%q: flags are letters of %s or a number", s, flagLetters)
		}
		v |= 1 << i
	}
	return v, nil
}

func formatFlags(v uint8) string {
	if v == 0 {
		return "0"
	}
	var b []byte
	for i := range 8 {
		if v&(1<<i) != 0 {
			b = append(b, flagLetters[i])
		}
	}
	return string(b)
}

func (p *lineParser) ports(what string) (PortRange, error) {
	t, err := p.next(what)
	if err != nil {
		return PortRange{}, err
	}
	lo, hi, isRange := strings.Cut(t.s, "-")
	l, err := parseNumber(lo, 65535)
	if err != nil {
		return PortRange{}, p.errAt(t.col, "%s: %v", what, err)
	}
	h := l
	if isRange {
		if h, err = parseNumber(hi, 65535); err != nil {
			return PortRange{}, p.errAt(t.col+len(lo)+1, "%s: %v", what, err)
		}
		if h < l {
			return PortRange{}, p.errAt(t.col, "%s %s: the range is empty", what, t.s)
		}
	}
	return PortRange{uint16(l), uint16(h)}, nil
}

func (p *lineParser) prefix(what string) (netip.Prefix, error) {
	t, err := p.next(what)
	if err != nil {
		return netip.Prefix{}, err
	}
	var pf netip.Prefix
	if strings.Contains(t.s, "/") {
		pf, err = netip.ParsePrefix(t.s)
	} else {
		var a netip.Addr
		if a, err = netip.ParseAddr(t.s); err == nil {
			pf = netip.PrefixFrom(a, a.BitLen())
		}
	}
	if err != nil {
		return netip.Prefix{}, p.errAt(t.col, "%s: %q is not an address or CIDR prefix", what, t.s)
	}
	if err := checkPrefix(what, pf); err != nil {
		return netip.Prefix{}, p.errAt(t.col, "%v", err)
	}
	return pf, nil
}

func (p *lineParser) id() (uint32, error) {
	v, _, err := p.number("an id", 1<<32-1)
	return uint32(v), err
}

// once checks that a field is given at most once.
func (p *lineParser) once(seen *Field, f Field, t token) error {
	if *seen&f != 0 {
		return p.errAt(t.col, "%s is given twice", t.s)
	}
	*seen |= f
	return nil
}

func (p *lineParser) rule() (Rule, error) {
	start := p.toks[0].col
	var r Rule
	var err error
	if r.ID, err = p.id(); err != nil {
		return r, err
	}
	m := &r.Match
	var seenPrio, seenEither bool
	for {
		t, err := p.next("a match or ->")
		if err != nil {
			return r, err
		}
		var v uint64
		switch t.s {
		case "->":
			if r.Action, err = p.action(); err != nil {
				return r, err
			}
			if err := r.Check(); err != nil {
				return r, p.wrapAt(start, err)
			}
			return r, nil
		case "priority":
			if seenPrio {
				return r, p.errAt(t.col, "priority is given twice")
			}
			seenPrio = true
			v, _, err = p.number("a priority", 1<<32-1)
			r.Priority = uint32(v)
		case "either":
			if seenEither {
				return r, p.errAt(t.col, "either is given twice")
			}
			seenEither, m.Either = true, true
		case "queue":
			if err = p.once(&m.Fields, FieldQueue, t); err == nil {
				v, _, err = p.number("a queue", 65535)
				m.Queue = uint16(v)
			}
		case "vlan":
			if err = p.once(&m.Fields, FieldVLAN, t); err == nil {
				v, _, err = p.number("a VLAN id", 4095)
				m.VLAN = uint16(v)
			}
		case "ethertype":
			if err = p.once(&m.Fields, FieldEtherType, t); err == nil {
				v, _, err = p.number("an EtherType", 65535)
				m.EtherType = uint16(v)
			}
		case "ip":
			if err = p.once(&m.Fields, FieldIPVersion, t); err == nil {
				var vt token
				v, vt, err = p.number("4 or 6", 255)
				if err == nil && v != 4 && v != 6 {
					err = p.errAt(vt.col, "ip %d: want 4 or 6", v)
				}
				m.IPVersion = uint8(v)
			}
		case "proto":
			if err = p.once(&m.Fields, FieldProto, t); err == nil {
				m.Proto, err = p.proto()
			}
		case "src":
			if err = p.once(&m.Fields, FieldSrc, t); err == nil {
				m.Src, err = p.prefix("src")
			}
		case "dst":
			if err = p.once(&m.Fields, FieldDst, t); err == nil {
				m.Dst, err = p.prefix("dst")
			}
		case "sport":
			if err = p.once(&m.Fields, FieldSrcPort, t); err == nil {
				m.SrcPort, err = p.ports("sport")
			}
		case "dport":
			if err = p.once(&m.Fields, FieldDstPort, t); err == nil {
				m.DstPort, err = p.ports("dport")
			}
		case "flags":
			if err = p.once(&m.Fields, FieldTCPFlags, t); err == nil {
				var ft token
				if ft, err = p.next("flags VALUE/MASK"); err == nil {
					val, mask, ok := strings.Cut(ft.s, "/")
					if !ok {
						err = p.errAt(ft.col, "flags %q: want VALUE/MASK, as in S/SA", ft.s)
					} else if m.Flags, err = parseFlags(val); err != nil {
						err = p.errAt(ft.col, "flags: %v", err)
					} else if m.FlagMask, err = parseFlags(mask); err != nil {
						err = p.errAt(ft.col+len(val)+1, "flags: %v", err)
					}
				}
			}
		default:
			return r, p.errAt(t.col, "unknown match %q (want priority, queue, vlan, ethertype, ip, proto, src, dst, sport, dport, flags, either or ->)", t.s)
		}
		if err != nil {
			return r, err
		}
	}
}

func (p *lineParser) flow() (Flow, error) {
	start := p.toks[0].col
	var fl Flow
	var err error
	if fl.ID, err = p.id(); err != nil {
		return fl, err
	}
	var src, dst netip.Addr
	var sport, dport uint16
	var seen Field
	var seenBoth, seenIdle bool
	for {
		t, err := p.next("a flow field or ->")
		if err != nil {
			return fl, err
		}
		var v uint64
		switch t.s {
		case "->":
			for _, need := range []struct {
				f    Field
				name string
			}{{FieldProto, "proto"}, {FieldSrc, "src"}, {FieldDst, "dst"}} {
				if seen&need.f == 0 {
					return fl, p.errAt(t.col, "a flow needs %s", need.name)
				}
			}
			if hasPorts(fl.Proto) && seen&(FieldSrcPort|FieldDstPort) != FieldSrcPort|FieldDstPort {
				return fl, p.errAt(t.col, "a %s flow needs sport and dport", protoName(fl.Proto))
			}
			fl.Src, fl.Dst = netip.AddrPortFrom(src, sport), netip.AddrPortFrom(dst, dport)
			if fl.Action, err = p.action(); err != nil {
				return fl, err
			}
			if err := fl.Check(); err != nil {
				return fl, p.wrapAt(start, err)
			}
			return fl, nil
		case "proto":
			if err = p.once(&seen, FieldProto, t); err == nil {
				fl.Proto, err = p.proto()
			}
		case "src", "dst":
			f, a := FieldSrc, &src
			if t.s == "dst" {
				f, a = FieldDst, &dst
			}
			if err = p.once(&seen, f, t); err == nil {
				var at token
				if at, err = p.next("an address"); err == nil {
					if *a, err = netip.ParseAddr(at.s); err != nil {
						err = p.errAt(at.col, "%s: %q is not an IP address", t.s, at.s)
					}
				}
			}
		case "sport", "dport":
			f, port := FieldSrcPort, &sport
			if t.s == "dport" {
				f, port = FieldDstPort, &dport
			}
			if err = p.once(&seen, f, t); err == nil {
				v, _, err = p.number("a port", 65535)
				*port = uint16(v)
			}
		case "vlan":
			if err = p.once(&seen, FieldVLAN, t); err == nil {
				v, _, err = p.number("a VLAN id", 4095)
				fl.VLAN, fl.Tagged = uint16(v), true
			}
		case "both":
			if seenBoth {
				return fl, p.errAt(t.col, "both is given twice")
			}
			seenBoth, fl.Both = true, true
		case "idle":
			if seenIdle {
				return fl, p.errAt(t.col, "idle is given twice")
			}
			seenIdle = true
			var dt token
			if dt, err = p.next("a duration"); err == nil {
				if fl.Idle, err = time.ParseDuration(dt.s); err != nil || fl.Idle <= 0 || fl.Idle > MaxIdle {
					err = p.errAt(dt.col, "idle %q: want a duration from 1ns to %v, as in 30s", dt.s, MaxIdle)
				}
			}
		default:
			return fl, p.errAt(t.col, "unknown flow field %q (want proto, src, sport, dst, dport, vlan, both, idle or ->)", t.s)
		}
		if err != nil {
			return fl, err
		}
	}
}

func (p *lineParser) action() (Action, error) {
	t, err := p.next("an action")
	if err != nil {
		return Action{}, err
	}
	var a Action
	switch t.s {
	case "capture":
		a.Verb = VerbCapture
	case "drop":
		a.Verb = VerbDrop
	case "pass":
		a.Verb = VerbPass
	case "keep":
		a.Verb = VerbKeep
	case "sample":
		a.Verb = VerbSample
		v, nt, err := p.number("N", 1<<32-1)
		if err != nil {
			return a, err
		}
		if v == 0 {
			return a, p.errAt(nt.col, "sample 0: N must be at least 1")
		}
		a.N = uint32(v)
		mt, err := p.next("packet or flow")
		if err != nil {
			return a, err
		}
		switch mt.s {
		case "packet":
		case "flow":
			a.PerFlow = true
		default:
			return a, p.errAt(mt.col, "sample %d %q: want packet or flow", v, mt.s)
		}
	case "bypass":
		a.Verb = VerbBypass
		at, err := p.next("after")
		if err != nil {
			return a, err
		}
		if at.s != "after" {
			return a, p.errAt(at.col, "expected after, found %q", at.s)
		}
		v, _, err := p.number("N", 1<<32-1)
		if err != nil {
			return a, err
		}
		a.N = uint32(v)
	case "tag":
		a.Verb = VerbTag
		v, _, err := p.number("a tag", 1<<32-1)
		if err != nil {
			return a, err
		}
		a.Tag = uint32(v)
	case "forward":
		a.Verb = VerbForward
		st, err := p.next("a sink name")
		if err != nil {
			return a, err
		}
		if err := checkSink(st.s); err != nil {
			return a, p.errAt(st.col, "%v", err)
		}
		a.Sink = st.s
	default:
		return a, p.errAt(t.col, "unknown action %q (want capture, keep, drop, pass, sample, bypass, tag or forward)", t.s)
	}
	if p.i < len(p.toks) {
		return a, p.errAt(p.toks[p.i].col, "unexpected %q after the action", p.toks[p.i].s)
	}
	return a, nil
}

// String formats the action as the text format writes it.
func (a Action) String() string {
	switch a.Verb {
	case VerbSample:
		if a.PerFlow {
			return fmt.Sprintf("sample %d flow", a.N)
		}
		return fmt.Sprintf("sample %d packet", a.N)
	case VerbBypass:
		return fmt.Sprintf("bypass after %d", a.N)
	case VerbTag:
		return fmt.Sprintf("tag %d", a.Tag)
	case VerbForward:
		return "forward " + a.Sink
	}
	return a.Verb.String()
}

// String formats the rule as one line of the text format, in the
// normalized order.
func (r *Rule) String() string {
	var b strings.Builder
	m := &r.Match
	fmt.Fprintf(&b, "rule %d priority %d", r.ID, r.Priority)
	if m.Fields&FieldQueue != 0 {
		fmt.Fprintf(&b, " queue %d", m.Queue)
	}
	if m.Fields&FieldVLAN != 0 {
		fmt.Fprintf(&b, " vlan %d", m.VLAN)
	}
	if m.Fields&FieldEtherType != 0 {
		fmt.Fprintf(&b, " ethertype 0x%04x", m.EtherType)
	}
	if m.Fields&FieldIPVersion != 0 {
		fmt.Fprintf(&b, " ip %d", m.IPVersion)
	}
	if m.Fields&FieldProto != 0 {
		fmt.Fprintf(&b, " proto %s", protoName(m.Proto))
	}
	if m.Fields&FieldSrc != 0 {
		fmt.Fprintf(&b, " src %s", m.Src)
	}
	if m.Fields&FieldSrcPort != 0 {
		fmt.Fprintf(&b, " sport %s", m.SrcPort)
	}
	if m.Fields&FieldDst != 0 {
		fmt.Fprintf(&b, " dst %s", m.Dst)
	}
	if m.Fields&FieldDstPort != 0 {
		fmt.Fprintf(&b, " dport %s", m.DstPort)
	}
	if m.Fields&FieldTCPFlags != 0 {
		fmt.Fprintf(&b, " flags %s/%s", formatFlags(m.Flags), formatFlags(m.FlagMask))
	}
	if m.Either {
		b.WriteString(" either")
	}
	fmt.Fprintf(&b, " -> %s", r.Action)
	return b.String()
}

// String formats a port range: "80" or "1024-65535".
func (r PortRange) String() string {
	if r.Lo == r.Hi {
		return strconv.Itoa(int(r.Lo))
	}
	return fmt.Sprintf("%d-%d", r.Lo, r.Hi)
}

// String formats the flow as one line of the text format.
func (fl *Flow) String() string {
	var b strings.Builder
	fmt.Fprintf(&b, "flow %d proto %s src %s", fl.ID, protoName(fl.Proto), fl.Src.Addr())
	if hasPorts(fl.Proto) {
		fmt.Fprintf(&b, " sport %d", fl.Src.Port())
	}
	fmt.Fprintf(&b, " dst %s", fl.Dst.Addr())
	if hasPorts(fl.Proto) {
		fmt.Fprintf(&b, " dport %d", fl.Dst.Port())
	}
	if fl.Tagged {
		fmt.Fprintf(&b, " vlan %d", fl.VLAN)
	}
	if fl.Both {
		b.WriteString(" both")
	}
	if fl.Idle != 0 {
		fmt.Fprintf(&b, " idle %s", fl.Idle)
	}
	fmt.Fprintf(&b, " -> %s", fl.Action)
	return b.String()
}

// Text formats the file in the text format, rules then flows, one per
// line, in their order.
func (f *File) Text() []byte {
	var b bytes.Buffer
	for i := range f.Rules {
		b.WriteString(f.Rules[i].String())
		b.WriteByte('\n')
	}
	for i := range f.Flows {
		b.WriteString(f.Flows[i].String())
		b.WriteByte('\n')
	}
	return b.Bytes()
}
