package expr

import "fmt"

// Parsing: the expression grammar (libpcap's grammar.y) over the tokens:
// expressions, terms, identifiers with their qualifiers.

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
	terms, prefix := 1, 0
	for i, t := range toks {
		p.match[i] = -1
		if t.is("and") || t.is("or") {
			if terms++; terms > MaxTerms {
				return nil, &Error{Pos: t.pos, Len: t.end - t.pos, Msg: fmt.Sprintf("more than %d terms joined by and/or", MaxTerms), Err: ErrTooComplex}
			}
		}
		if t.is("not") || t.isOp("-") {
			prefix++
		} else {
			prefix = 0
		}
		depth := len(open) + prefix
		if t.isOp("(") {
			depth++
		}
		if depth > MaxNesting {
			return nil, &Error{Pos: t.pos, Len: t.end - t.pos, Msg: fmt.Sprintf("nested more than %d deep", MaxNesting), Err: ErrTooComplex}
		}
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
	n, _, err := p.expr(qualError)
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

func (t token) is(kw string) bool { return t.kind == tKW && t.text == kw }

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

// id: nid | parenNumber | '(' idGroup ')'.
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
		n, err := p.idGroup(q)
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

// idGroup: a list of identifiers joined by and/or inside parentheses, all with
// the same qualifiers (grammar.y's pid).
func (p *parser) idGroup(q qual) (node, *Error) {
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

// term: not term | simpleTerm.
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
	return p.simpleTerm(q)
}

func isPname(t token) (int, bool) {
	if t.kind != tKW {
		return 0, false
	}
	v, ok := protoNames[t.text]
	return v, ok
}

// simpleTerm: an identifier with qualifiers, a parenthesised expression,
// a protocol name, a relation or a keyword primitive (grammar.y's rterm).
func (p *parser) simpleTerm(q qual) (node, qual, *Error) {
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
		return n, qualError, nil
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
		return &nOther{span: sp(), what: c.text, proto: pq}, qualError, nil
	case c.is("type"), c.is("subtype"), c.is("dir"):
		n, err := p.wlanPrimitive(pq, start)
		return n, qualError, err
	}
	if pq != qDefault {
		return &nAbbrev{sp(), pq}, qualError, nil
	}
	n, err := p.other()
	return n, qualError, err
}
