package expr

import "github.com/wringcap/wring/spec"

// Parsing: relations and arithmetic (proto[expr:size], len, constants).

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
