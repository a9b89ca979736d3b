package sink

// rt6Print prints an IPv6 routing header at cp, type 0 and 2 (addresses)
// and 4 (segment routing), and returns its length, -1 when the header is
// invalid or cut short (rt6_print).
func (p *printer) rt6Print(cp int) int {
	p.proto = "rt6"
	p.s("RT6")
	l := p.u8(cp + 1)
	if p.jumped {
		return -1
	}
	p.s(" (len=")
	p.u(uint64(l))
	t := p.u8(cp + 2)
	if p.jumped {
		return -1
	}
	p.s(", type=")
	p.u(uint64(t))
	if t == 0 {
		p.s(" [Deprecated]")
	}
	sl := p.u8(cp + 3)
	if p.jumped {
		return -1
	}
	p.s(", segleft=")
	p.u(uint64(sl))
	v := p.o.Verbose > 0
	switch t {
	case 0, 2:
		r := p.be32(cp + 4)
		if p.jumped {
			return -1
		}
		if r != 0 || v {
			p.s(", rsv=0x")
			p.hexN(uint64(r), 1)
		}
	case 4:
		last := p.u8(cp + 4)
		if p.jumped {
			return -1
		}
		p.s(", last-entry=")
		p.u(uint64(last))
		f := p.u8(cp + 5)
		if p.jumped {
			return -1
		}
		if f != 0 || v {
			p.s(", flags=0x")
			p.hexN(uint64(f), 1)
		}
		tag := p.be16(cp + 6)
		if p.jumped {
			return -1
		}
		p.s(", tag=")
		p.hexN(uint64(tag), 1)
	default:
		p.s(" (unknown type) (invalid)")
		return -1
	}
	if l%2 == 1 {
		p.s(" (invalid length ")
		p.u(uint64(l))
		p.s(") (invalid)")
		return -1
	}
	for i := 0; i < int(l)/2; i++ {
		if !p.check(cp+8+16*i, 16) {
			return -1
		}
		p.s(", [")
		p.u(uint64(i))
		p.c(']')
		p.ipv6(cp + 8 + 16*i)
	}
	p.s(") ")
	return (int(l) + 1) << 3
}

// mobilityHdrLen is the least length of each mobility header type.
var mobilityHdrLen = [...]int{8, 16, 16, 24, 24, 12, 12, 24}

var mobilityTypes = [...]string{"BRR", "HoTI", "CoTI", "HoT", "CoT", "BU", "BA", "BE"}

// mobilityPrint prints a Mobile IPv6 mobility header at cp and returns
// its length, -1 on truncation (mobility_print).
func (p *printer) mobilityPrint(cp int) int {
	p.proto = "mobility"
	if !p.has(cp+1, 1) {
		p.trunc()
		return -1
	}
	mhlen := (int(p.pkt[cp+1]) + 1) << 3
	typ := p.u8(cp + 2)
	if p.jumped {
		return -1
	}
	if int(typ) < len(mobilityHdrLen) && mhlen < mobilityHdrLen[typ] {
		p.s("(header length ")
		p.u(uint64(mhlen))
		p.s(" is too small for type ")
		p.u(uint64(typ))
		p.c(')')
		p.trunc()
		return -1
	}
	p.s("mobility: ")
	if int(typ) < len(mobilityTypes) {
		p.s(mobilityTypes[typ])
	} else {
		p.s("type-#")
		p.u(uint64(typ))
	}
	v := p.o.Verbose > 0
	cookie := func(name, what string, at int) bool {
		a, b := p.be32(at), p.be32(at+4)
		if p.jumped {
			return false
		}
		p.c(' ')
		p.s(name)
		p.c(' ')
		p.s(what)
		p.hexN(uint64(a), 8)
		p.c(':')
		p.hexN(uint64(b), 8)
		return true
	}
	name := "Home"
	if typ == 2 || typ == 4 {
		name = "Care-of"
	}
	hlen := 8
	switch typ {
	case 0:
	case 1, 2:
		if v && !cookie(name, "Init Cookie=", cp+8) {
			return -1
		}
		hlen = 16
	case 3, 4:
		id := p.be16(cp + 6)
		if p.jumped {
			return -1
		}
		p.s(" nonce id=0x")
		p.hexN(uint64(id), 1)
		if v && (!cookie(name, "Init Cookie=", cp+8) || !cookie(name, "Keygen Token=", cp+16)) {
			return -1
		}
		hlen = 24
	case 5:
		seq := p.be16(cp + 6)
		if p.jumped {
			return -1
		}
		p.s(" seq#=")
		p.u(uint64(seq))
		if !p.has(cp+8, 2) {
			p.trunc()
			return -1
		}
		if bits := p.pkt[cp+8] >> 4; bits != 0 {
			p.c(' ')
			for _, b := range [...]struct {
				bit uint8
				c   byte
			}{{8, 'A'}, {4, 'H'}, {2, 'L'}, {1, 'K'}} {
				if bits&b.bit != 0 {
					p.c(b.c)
				}
			}
		}
		lt := p.be16(cp + 10)
		if p.jumped {
			return -1
		}
		p.s(" lifetime=")
		p.u(uint64(lt) << 2)
		hlen = 12
	case 6:
		st := p.u8(cp + 6)
		if p.jumped {
			return -1
		}
		p.s(" status=")
		p.u(uint64(st))
		k := p.u8(cp + 7)
		if p.jumped {
			return -1
		}
		if k&0x80 != 0 {
			p.s(" K")
		}
		seq := p.be16(cp + 8)
		if p.jumped {
			return -1
		}
		p.s(" seq#=")
		p.u(uint64(seq))
		lt := p.be16(cp + 10)
		if p.jumped {
			return -1
		}
		p.s(" lifetime=")
		p.u(uint64(lt) << 2)
		hlen = 12
	case 7:
		st := p.u8(cp + 6)
		if p.jumped {
			return -1
		}
		p.s(" status=")
		p.u(uint64(st))
		if !p.check(cp+8, 16) {
			return -1
		}
		p.s(" homeaddr ")
		p.ipv6(cp + 8)
		hlen = 24
	default:
		p.s(" len=")
		p.u(uint64(p.pkt[cp+1]))
		return mhlen
	}
	if v && !p.mobilityOpts(cp+hlen, mhlen-hlen) {
		if !p.jumped {
			p.trunc()
		}
		return -1
	}
	return mhlen
}

// mobilityOpts prints the options of a mobility header; false is
// mobility_opt_print's truncation.
func (p *printer) mobilityOpts(bp, n int) bool {
	optlen := 0
	for i := 0; i < n; i += optlen {
		t := p.u8(bp + i)
		if p.jumped {
			return false
		}
		if t == 0 {
			optlen = 1
		} else if i+1 < n {
			optlen = int(p.u8(bp+i+1)) + 2
			if p.jumped {
				return false
			}
		} else {
			return false
		}
		if i+optlen > n || !p.has(bp+i+optlen, 1) {
			return false
		}
		short := func(min int, what string) bool {
			if n-i < min {
				p.s(what)
				return true
			}
			return false
		}
		switch t {
		case 0:
			p.s("(pad1)")
		case 1:
			if short(2, "(padn: trunc)") {
				return false
			}
			p.s("(padn)")
		case 2:
			if short(4, "(refresh: trunc)") {
				return false
			}
			r := p.be16(bp + i + 2)
			if p.jumped {
				return false
			}
			p.s("(refresh: ")
			p.u(uint64(r) << 2)
			p.c(')')
		case 3:
			if short(18, "(altcoa: trunc)") {
				return false
			}
			if !p.check(bp+i+2, 16) {
				return false
			}
			p.s("(alt-CoA: ")
			p.ipv6(bp + i + 2)
			p.c(')')
		case 4:
			if short(6, "(ni: trunc)") {
				return false
			}
			ho, co := p.be16(bp+i+2), p.be16(bp+i+4)
			if p.jumped {
				return false
			}
			p.s("(ni: ho=0x")
			p.hexN(uint64(ho), 4)
			p.s(" co=0x")
			p.hexN(uint64(co), 4)
			p.c(')')
		case 5:
			if short(12, "(auth: trunc)") {
				return false
			}
			p.s("(auth)")
		default:
			if n-i < 2 {
				p.s("(sopt_type ")
				p.u(uint64(t))
				p.s(": trunc)")
				return false
			}
			l := p.u8(bp + i + 1)
			if p.jumped {
				return false
			}
			p.s("(type-0x")
			p.hexN(uint64(t), 2)
			p.s(": len=")
			p.u(uint64(l))
			p.c(')')
		}
	}
	return true
}

// ip6FinalDst returns the offset of the address an upper-layer checksum
// of the IPv6 packet at off covers: the destination, or the final one a
// routing header names (ip6_finddst).
func (p *printer) ip6FinalDst(off int) int {
	dst := off + 24
	nh := p.pkt[off+6]
	cp, advance := off, 40
	for cp < p.end {
		cp += advance
		switch nh {
		case 0, 60, 135, 62:
			if !p.has(cp, 2) {
				return dst
			}
			advance = (int(p.pkt[cp+1]) + 1) << 3
			nh = p.pkt[cp]
		case 44:
			if !p.has(cp, 1) {
				return dst
			}
			advance = 8
			nh = p.pkt[cp]
		case 43:
			if !p.has(cp, 4) {
				return dst
			}
			l := int(p.pkt[cp+1])
			switch p.pkt[cp+2] {
			case 0, 2:
				if l%2 == 1 {
					return dst
				}
				for i := 0; i < l/2; i++ {
					if !p.has(cp+8+16*i, 16) {
						return dst
					}
					dst = cp + 8 + 16*i
				}
			case 4:
				if l%2 == 0 && p.has(cp+8, 16) {
					dst = cp + 8
				}
			}
			return dst
		default:
			return dst
		}
	}
	return dst
}
