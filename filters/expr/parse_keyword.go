package expr

import "github.com/wringcap/wring/spec"

// Parsing: the keyword primitives (libpcap's "other" rule) and 802.11
// type, subtype and direction.

// parenNumber: NUM or a parenthesised parenNumber (grammar.y's pnum). It
// reports whether one was there.
func (p *parser) parenNumber() (uint32, bool) {
	depth := 0
	for p.peek(depth).isOp("(") {
		depth++
	}
	if p.peek(depth).kind != tNum {
		return 0, false
	}
	for k := 1; k <= depth; k++ {
		if !p.peek(depth + k).isOp(")") {
			return 0, false
		}
	}
	v := p.peek(depth).num
	p.i += 2*depth + 1
	return v, true
}

// wlanPrimitive parses the 802.11 type, subtype and direction primitives
// after the protocol qualifier pq (grammar.y's p80211).
func (p *parser) wlanPrimitive(pq int, start int) (node, *Error) {
	c := p.next()
	sp := func() span { return span{p.toks[start].pos, p.toks[p.i-1].end} }
	switch c.text {
	case "type":
		t := p.next()
		var typ uint32
		switch t.kind {
		case tNum:
			if t.num&^0x0c != 0 {
				return nil, spanOf(t).errf("invalid 802.11 type value 0x%02x", t.num)
			}
			typ = t.num
		case tID:
			v, ok := wlanTypes[t.text]
			if !ok {
				return nil, spanOf(t).errf("unknown 802.11 type name %q", t.text)
			}
			typ = v
		default:
			return nil, p.unexpected(t)
		}
		if p.cur().is("subtype") {
			p.i++
			s := p.next()
			var st uint32
			switch s.kind {
			case tNum:
				if s.num&^0xf0 != 0 {
					return nil, spanOf(s).errf("invalid 802.11 subtype value 0x%02x", s.num)
				}
				st = s.num
			case tID:
				tab := wlanSubtypes[typ]
				if tab == nil {
					return nil, spanOf(t).errf("unknown 802.11 type")
				}
				v, ok := tab[s.text]
				if !ok {
					return nil, spanOf(s).errf("unknown 802.11 subtype name %q", s.text)
				}
				st = v
			default:
				return nil, p.unexpected(s)
			}
			return &nOther{span: sp(), what: "wlantype", proto: pq, num: typ | st, num2: 0xfc}, nil
		}
		return &nOther{span: sp(), what: "wlantype", proto: pq, num: typ, num2: 0x0c}, nil
	case "subtype":
		s := p.next()
		if s.kind != tID {
			return nil, p.unexpected(s)
		}
		for _, typ := range []uint32{0x00, 0x04, 0x08} {
			if v, ok := wlanSubtypes[typ][s.text]; ok {
				return &nOther{span: sp(), what: "wlantype", proto: pq, num: typ | v, num2: 0xfc}, nil
			}
		}
		return nil, spanOf(s).errf("unknown 802.11 type name")
	default: // dir
		d := p.next()
		switch d.kind {
		case tNum:
			if d.num&^3 != 0 {
				return nil, spanOf(d).errf("invalid 802.11 direction value 0x%x", d.num)
			}
			return &nOther{span: sp(), what: "wlandir", proto: pq, num: d.num}, nil
		case tID:
			v, ok := map[string]uint32{"nods": 0, "tods": 1, "fromds": 2, "dstods": 3}[lower(d.text)]
			if !ok {
				return nil, spanOf(d).errf("unknown 802.11 direction")
			}
			return &nOther{span: sp(), what: "wlandir", proto: pq, num: v}, nil
		}
		return nil, p.unexpected(d)
	}
}

func lower(s string) string {
	b := []byte(s)
	for i, c := range b {
		if c >= 'A' && c <= 'Z' {
			b[i] = c + 32
		}
	}
	return string(b)
}

// other parses the keyword primitives that take no qualifier.
func (p *parser) other() (node, *Error) {
	t := p.cur()
	start := p.i
	sp := func() span { return span{p.toks[start].pos, p.toks[p.i-1].end} }
	needNum := func() (uint32, *Error) {
		n := p.cur()
		if n.kind != tNum {
			return 0, p.unexpected(n)
		}
		p.i++
		return n.num, nil
	}
	if t.kind != tKW {
		return nil, p.unexpected(t)
	}
	switch t.text {
	case "less", "greater", "ifindex", "rnr", "srnr":
		p.i++
		v, err := needNum()
		if err != nil {
			return nil, err
		}
		return &nOther{span: sp(), what: t.text, num: v, hasNum: true}, nil
	case "byte":
		p.i++
		a, err := needNum()
		if err != nil {
			return nil, err
		}
		o := p.cur()
		if !(o.isOp("&") || o.isOp("|") || o.isOp("<") || o.isOp(">") || o.isOp("=")) {
			return nil, p.unexpected(o)
		}
		p.i++
		b, err := needNum()
		if err != nil {
			return nil, err
		}
		return &nOther{span: sp(), what: "byte", num: a, num2: b, s: o.text}, nil
	case "inbound", "outbound", "pppoed",
		"lane", "metac", "bcc", "oamf4ec", "oamf4sc", "sc", "ilmic", "oam", "oamf4", "connectmsg", "metaconnect",
		"fisu", "lssu", "msu", "hfisu", "hlssu", "hmsu":
		p.i++
		return &nOther{span: sp(), what: t.text}, nil
	case "vlan", "mpls", "pppoes", "geneve", "vxlan":
		p.i++
		v, ok := p.parenNumber()
		return &nOther{span: sp(), what: t.text, num: v, hasNum: ok}, nil
	case "ifname", "ruleset", "action":
		p.i++
		n := p.cur()
		if n.kind != tID {
			return nil, p.unexpected(n)
		}
		p.i++
		return &nOther{span: sp(), what: t.text, s: n.text}, nil
	case "reason":
		p.i++
		n := p.cur()
		switch n.kind {
		case tNum:
			p.i++
			return &nOther{span: sp(), what: "reason", num: n.num, hasNum: true}, nil
		case tID:
			p.i++
			return &nOther{span: sp(), what: "reason", s: n.text}, nil
		}
		return nil, p.unexpected(n)
	case "llc":
		p.i++
		n := p.cur()
		if n.kind == tID {
			p.i++
			return &nOther{span: sp(), what: "llc", s: n.text}, nil
		}
		if n.is("rnr") {
			p.i++
			return &nOther{span: sp(), what: "llc", s: "rnr"}, nil
		}
		return &nOther{span: sp(), what: "llc"}, nil
	case "vpi", "vci", "sio", "opc", "dpc", "sls", "hsio", "hopc", "hdpc", "hsls":
		p.i++
		return p.fieldValue(t.text, start)
	}
	return nil, p.unexpected(t)
}

// fieldValue parses the value of an ATM or MTP3 field: NUM, relop NUM or a
// parenthesised list of numbers joined by or.
func (p *parser) fieldValue(what string, start int) (node, *Error) {
	sp := func() span { return span{p.toks[start].pos, p.toks[p.i-1].end} }
	n := p.cur()
	if n.kind == tNum {
		p.i++
		return &nOther{span: sp(), what: what, num: n.num, op: spec.JumpJEQ}, nil
	}
	ops := map[string]struct {
		op  uint16
		neg bool
	}{">": {spec.JumpJGT, false}, ">=": {spec.JumpJGE, false}, "=": {spec.JumpJEQ, false},
		"<=": {spec.JumpJGT, true}, "<": {spec.JumpJGE, true}, "!=": {spec.JumpJEQ, true}}
	if n.kind == tOp {
		if o, ok := ops[n.text]; ok {
			p.i++
			v := p.cur()
			if v.kind != tNum {
				return nil, p.unexpected(v)
			}
			p.i++
			return &nOther{span: sp(), what: what, num: v.num, op: o.op, negate: o.neg}, nil
		}
		if n.text == "(" {
			p.i++
			var list []uint32
			for {
				v := p.cur()
				if v.kind != tNum {
					return nil, p.unexpected(v)
				}
				p.i++
				list = append(list, v.num)
				if p.cur().is("or") {
					p.i++
					continue
				}
				break
			}
			if _, err := p.expect(")"); err != nil {
				return nil, err
			}
			return &nOther{span: sp(), what: what, list: list, op: spec.JumpJEQ}, nil
		}
	}
	return nil, p.unexpected(n)
}
