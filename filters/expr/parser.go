package expr

import "github.com/wringcap/wring/spec"

// parser is a recursive-descent parser for libpcap's grammar. Where the
// yacc grammar needs more than one token of lookahead to choose between an
// identifier list and a term, or between an arithmetic relation and a
// parenthesised expression, the parser tries one and backs up.
type parser struct {
	src   string
	toks  []token
	i     int
	match []int  // for each '(' token, the index of its ')' (-1 if none)
	idish []bool // for each '(' token, whether the group holds only identifiers, and/or/not, mask and '/'
}

// parse returns the syntax tree of src, or nil for an empty expression
// (which matches every packet).
func parse(src string) (node, *Error) { return parseWith(src, false) }

// parseWith is parse; with libpcap110 the words libpcap 1.10 did not
// reserve (vxlan) are names, as they were there.
func parseWith(src string, libpcap110 bool) (node, *Error) {
	toks, err := lex(src)
	if err != nil {
		return nil, err
	}
	if libpcap110 {
		for i := range toks {
			if toks[i].kind == tKW && toks[i].text == "vxlan" {
				toks[i].kind = tID
			}
		}
	}
	p := &parser{src: src, toks: toks, match: make([]int, len(toks)), idish: make([]bool, len(toks))}
	var open []int
	for i, t := range toks {
		p.match[i] = -1
		switch {
		case t.isOp("("):
			open = append(open, i)
			p.idish[i] = true
		case t.isOp(")") && len(open) > 0:
			o := open[len(open)-1]
			p.match[o] = i
			open = open[:len(open)-1]
			if len(open) > 0 && !p.idish[o] {
				p.idish[open[len(open)-1]] = false
			}
		case len(open) > 0:
			switch {
			case t.kind == tID, t.kind == tHID, t.kind == tHID6, t.kind == tEID, t.kind == tAID, t.kind == tNum,
				t.is("and"), t.is("or"), t.is("not"), t.is("mask"), t.isOp("/"):
			default:
				p.idish[open[len(open)-1]] = false
			}
		}
	}
	if p.cur().kind == tEOF {
		return nil, nil
	}
	n, _, err := p.expr(qerr)
	if err != nil {
		return nil, err
	}
	if t := p.cur(); t.kind != tEOF {
		return nil, p.unexpected(t)
	}
	return n, nil
}

func (p *parser) unexpected(t token) *Error {
	if t.kind == tEOF {
		return errAt(len(p.src), 0, "syntax error: unexpected end of expression")
	}
	return errAt(t.pos, t.end-t.pos, "syntax error: unexpected %q", p.src[t.pos:t.end])
}

func (p *parser) next() token { t := p.toks[p.i]; p.i++; return t }
func (p *parser) peek(k int) token {
	if p.i+k < len(p.toks) {
		return p.toks[p.i+k]
	}
	return p.toks[len(p.toks)-1]
}
func (t token) is(kw string) bool   { return t.kind == tKW && t.text == kw }
func (t token) isOp(op string) bool { return t.kind == tOp && t.text == op }

func (p *parser) expect(op string) (token, *Error) {
	t := p.cur()
	if !t.isOp(op) {
		return t, p.unexpected(t)
	}
	p.i++
	return t, nil
}

// expr: term { (and|or) (term | id) }, left-associative, and and or at the
// same precedence.
func (p *parser) expr(q qual) (node, qual, *Error) {
	n, q, err := p.term(q)
	if err != nil {
		return nil, q, err
	}
	for p.cur().is("and") || p.cur().is("or") {
		isAnd := p.next().is("and")
		save := p.i
		r, q2, ok := p.tryID(q)
		if !ok {
			p.i = save
			var err *Error
			r, q2, err = p.term(q)
			if err != nil {
				return nil, q, err
			}
		}
		sp := join(n.at(), r.at())
		if isAnd {
			n = &nAnd{sp, n, r}
		} else {
			n = &nOr{sp, n, r}
		}
		q = q2
	}
	return n, q, nil
}

// tryID parses an identifier that reuses the qualifiers q ("host a and b"),
// and succeeds only when what follows can follow an expression.
func (p *parser) tryID(q qual) (node, qual, bool) {
	n, err := p.id(q)
	if err != nil {
		return nil, q, false
	}
	t := p.cur()
	if t.kind == tEOF || t.is("and") || t.is("or") || t.isOp(")") {
		return n, q, true
	}
	return nil, q, false
}

// id: nid | pnum | '(' pid ')'.
func (p *parser) id(q qual) (node, *Error) {
	t := p.cur()
	switch {
	case t.is("not"):
		p.i++
		x, err := p.id(q)
		if err != nil {
			return nil, err
		}
		return &nNot{join(spanOf(t), x.at()), x}, nil
	case t.isOp("("):
		if !p.idish[p.i] {
			return nil, p.unexpected(t)
		}
		p.i++
		n, err := p.pid(q)
		if err != nil {
			return nil, err
		}
		e, err := p.expect(")")
		if err != nil {
			return nil, err
		}
		_ = e
		return n, nil
	case t.kind == tNum:
		p.i++
		return &nPrim{span: spanOf(t), id: spanOf(t), q: q, kind: tNum, num: t.num, s: t.text, plen: -1}, nil
	case t.kind == tID, t.kind == tEID, t.kind == tAID:
		p.i++
		return &nPrim{span: spanOf(t), id: spanOf(t), q: q, kind: t.kind, s: t.text, plen: -1}, nil
	case t.kind == tHID, t.kind == tHID6:
		p.i++
		n := &nPrim{span: spanOf(t), q: q, kind: t.kind, s: t.text, plen: -1}
		switch {
		case p.cur().isOp("/"):
			p.i++
			l := p.cur()
			if l.kind != tNum {
				return nil, p.unexpected(l)
			}
			p.i++
			n.plen = int(l.num)
			if l.num > 1<<16 {
				n.plen = 1 << 16
			}
			n.end = l.end
		case t.kind == tHID && p.cur().is("mask"):
			p.i++
			m := p.cur()
			if m.kind != tHID {
				return nil, p.unexpected(m)
			}
			p.i++
			n.mask = m.text
			n.end = m.end
		}
		n.id = n.span
		return n, nil
	}
	return nil, p.unexpected(t)
}

// pid: a list of identifiers joined by and/or inside parentheses, all with
// the same qualifiers.
func (p *parser) pid(q qual) (node, *Error) {
	n, err := p.id(q)
	if err != nil {
		return nil, err
	}
	for p.cur().is("and") || p.cur().is("or") {
		isAnd := p.next().is("and")
		r, err := p.id(q)
		if err != nil {
			return nil, err
		}
		if isAnd {
			n = &nAnd{join(n.at(), r.at()), n, r}
		} else {
			n = &nOr{join(n.at(), r.at()), n, r}
		}
	}
	return n, nil
}

// term: not term | rterm.
func (p *parser) term(q qual) (node, qual, *Error) {
	t := p.cur()
	if t.is("not") {
		p.i++
		x, q2, err := p.term(q)
		if err != nil {
			return nil, q, err
		}
		return &nNot{join(spanOf(t), x.at()), x}, q2, nil
	}
	return p.rterm(q)
}

func isPname(t token) (int, bool) {
	if t.kind != tKW {
		return 0, false
	}
	v, ok := protoNames[t.text]
	return v, ok
}

func (p *parser) rterm(q qual) (node, qual, *Error) {
	t := p.cur()
	_, pname := isPname(t)
	startsArith := t.kind == tNum || t.isOp("-") || t.is("len") || pname && p.peek(1).isOp("[")
	if t.isOp("(") {
		// A parenthesised group starts an arithmetic relation only when
		// an arithmetic or relational operator follows it. Deciding here
		// keeps parsing linear for deeply nested parentheses.
		if m := p.match[p.i]; m >= 0 && m+1 < len(p.toks) {
			if n := p.toks[m+1]; n.kind == tOp && n.text != "(" && n.text != ")" && n.text != "[" && n.text != "]" && n.text != ":" {
				startsArith = true
			}
		}
	}
	if startsArith {
		n, err := p.relation()
		if err != nil {
			return nil, q, err
		}
		return n, qerr, nil
	}
	if t.isOp("(") {
		p.i++
		x, _, err := p.expr(q)
		if err != nil {
			return nil, q, err
		}
		if _, err := p.expect(")"); err != nil {
			return nil, q, err
		}
		return x, q, nil
	}
	// head id, pname alone, pqual other.
	start := p.i
	pq := qDefault
	if v, ok := isPname(t); ok {
		pq = v
		p.i++
	}
	c := p.cur()
	dq, aq := qDefault, qDefault
	isHead := false
	switch {
	case c.is("src") || c.is("dst"):
		p.i++
		dq = dSrc
		other := "dst"
		if c.is("dst") {
			dq, other = dDst, "src"
		}
		if n := p.cur(); n.is("or") || n.is("and") {
			if !p.peek(1).is(other) {
				return nil, q, p.unexpected(p.peek(1))
			}
			p.i += 2
			if n.is("or") {
				dq = dOr
			} else {
				dq = dAnd
			}
		}
		isHead = true
		if a := p.cur(); a.kind == tKW {
			switch a.text {
			case "host":
				aq = aHost
			case "net":
				aq = aNet
			case "port":
				aq = aPort
			case "portrange":
				aq = aPortrange
			}
			if aq != qDefault {
				p.i++
			}
		}
	case c.is("addr1") || c.is("addr2") || c.is("addr3") || c.is("addr4") || c.is("ra") || c.is("ta"):
		p.i++
		dq = map[string]int{"addr1": dAddr1, "addr2": dAddr2, "addr3": dAddr3, "addr4": dAddr4, "ra": dRA, "ta": dTA}[c.text]
		isHead = true
		if a := p.cur(); a.kind == tKW {
			switch a.text {
			case "host":
				aq = aHost
			case "net":
				aq = aNet
			case "port":
				aq = aPort
			case "portrange":
				aq = aPortrange
			}
			if aq != qDefault {
				p.i++
			}
		}
	case c.is("host"), c.is("net"), c.is("port"), c.is("portrange"), c.is("proto"), c.is("protochain"), c.is("gateway"):
		p.i++
		aq = map[string]int{"host": aHost, "net": aNet, "port": aPort, "portrange": aPortrange,
			"proto": aProto, "protochain": aProtochain, "gateway": aGateway}[c.text]
		isHead = true
	}
	if isHead {
		hq := qual{pq, dq, aq}
		n, err := p.id(hq)
		if err != nil {
			return nil, q, err
		}
		if prim, ok := n.(*nPrim); ok {
			// Errors about the qualifiers point at them too; errors
			// about the value at the identifier (prim.id).
			prim.pos = p.toks[start].pos
		}
		return n, hq, nil
	}
	sp := func() span { return span{p.toks[start].pos, p.toks[p.i-1].end} }
	switch {
	case c.is("broadcast"), c.is("multicast"):
		p.i++
		return &nOther{span: sp(), what: c.text, proto: pq}, qerr, nil
	case c.is("type"), c.is("subtype"), c.is("dir"):
		n, err := p.p80211(pq, start)
		return n, qerr, err
	}
	if pq != qDefault {
		return &nAbbrev{sp(), pq}, qerr, nil
	}
	n, err := p.other()
	return n, qerr, err
}

// relation: arith relop arith.
func (p *parser) relation() (node, *Error) {
	l, err := p.arith(0)
	if err != nil {
		return nil, err
	}
	t := p.cur()
	var op uint16
	neg := false
	switch {
	case t.isOp(">"):
		op = spec.JumpJGT
	case t.isOp(">="):
		op = spec.JumpJGE
	case t.isOp("="):
		op = spec.JumpJEQ
	case t.isOp("<="):
		op, neg = spec.JumpJGT, true
	case t.isOp("<"):
		op, neg = spec.JumpJGE, true
	case t.isOp("!="):
		op, neg = spec.JumpJEQ, true
	default:
		return nil, p.unexpected(t)
	}
	p.i++
	r, err := p.arith(0)
	if err != nil {
		return nil, err
	}
	return &nRel{join(l.at(), r.at()), op, neg, l, r}, nil
}

var binPrec = map[string]int{"|": 1, "&": 2, "<<": 3, ">>": 3, "+": 4, "-": 4, "*": 5, "/": 5}
var binOp = map[string]uint16{"|": spec.ALUOr, "&": spec.ALUAnd, "<<": spec.ALULsh, ">>": spec.ALURsh,
	"+": spec.ALUAdd, "-": spec.ALUSub, "*": spec.ALUMul, "/": spec.ALUDiv, "%": spec.ALUMod, "^": spec.ALUXor}

// arith parses by precedence climbing. '%' and '^' have no precedence in
// libpcap's grammar, so yacc always shifts them: they bind the operand on
// their left and everything after them on the right.
func (p *parser) arith(minPrec int) (arith, *Error) {
	l, err := p.unary()
	if err != nil {
		return nil, err
	}
	for {
		t := p.cur()
		if t.kind != tOp {
			return l, nil
		}
		if t.text == "%" || t.text == "^" {
			p.i++
			r, err := p.arith(0)
			if err != nil {
				return nil, err
			}
			l = &aBin{join(l.at(), r.at()), binOp[t.text], l, r}
			continue
		}
		prec, ok := binPrec[t.text]
		if !ok || prec < minPrec {
			return l, nil
		}
		p.i++
		r, err := p.arith(prec + 1)
		if err != nil {
			return nil, err
		}
		l = &aBin{join(l.at(), r.at()), binOp[t.text], l, r}
	}
}

func (p *parser) unary() (arith, *Error) {
	t := p.cur()
	if t.isOp("-") {
		p.i++
		x, err := p.unary()
		if err != nil {
			return nil, err
		}
		if o := p.cur(); o.isOp("%") || o.isOp("^") {
			p.i++
			r, err := p.arith(0)
			if err != nil {
				return nil, err
			}
			x = &aBin{join(x.at(), r.at()), binOp[o.text], x, r}
		}
		return &aNeg{join(spanOf(t), x.at()), x}, nil
	}
	return p.primary()
}

func (p *parser) primary() (arith, *Error) {
	t := p.cur()
	switch {
	case t.kind == tNum:
		p.i++
		return &aNum{spanOf(t), t.num}, nil
	case t.is("len"):
		p.i++
		return &aLen{spanOf(t)}, nil
	case t.isOp("("):
		p.i++
		x, err := p.arith(0)
		if err != nil {
			return nil, err
		}
		if _, err := p.expect(")"); err != nil {
			return nil, err
		}
		return x, nil
	}
	if pr, ok := isPname(t); ok && p.peek(1).isOp("[") {
		p.i += 2
		idx, err := p.arith(0)
		if err != nil {
			return nil, err
		}
		size := uint32(1)
		if p.cur().isOp(":") {
			p.i++
			s := p.cur()
			if s.kind != tNum {
				return nil, p.unexpected(s)
			}
			p.i++
			if s.num != 1 && s.num != 2 && s.num != 4 {
				return nil, errAt(s.pos, s.end-s.pos, "data size must be 1, 2, or 4")
			}
			size = s.num
		}
		e, err := p.expect("]")
		if err != nil {
			return nil, err
		}
		return &aLoad{span{t.pos, e.end}, pr, idx, size}, nil
	}
	return nil, p.unexpected(t)
}

// pnum: NUM | '(' pnum ')'. It reports whether one was there.
func (p *parser) pnum() (uint32, bool) {
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

func (p *parser) p80211(pq int, start int) (node, *Error) {
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
		v, ok := p.pnum()
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
