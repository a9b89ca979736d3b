package sink

var dnsOps = [16]string{"", " inv_q", " stat", " op3", " notify", " update", " op6", " op7",
	" op8", " updateA", " updateD", " updateDA", " updateM", " updateMA", " zoneInit", " zoneRef"}

var dnsRcodes = [...]string{"", " FormErr", " ServFail", " NXDomain", " NotImp", " Refused", " YXDomain", " YXRRSet",
	" NXRRSet", " NotAuth", " NotZone", " Resp11", " Resp12", " Resp13", " Resp14", " NoChange",
	" BadVers", "Resp17", " Resp18", " Resp19", " Resp20", "Resp21", " Resp22", " BadCookie"}

// dnsPrint decodes a DNS message at off (domain_print): a query's id,
// flags and questions, a response's id, flags, counts and answers.
func (p *printer) dnsPrint(off, length int, overTCP, mdns bool) {
	p.proto = "domain"
	if overTCP {
		if length < 2 {
			p.s(" [DNS over TCP: length ")
			p.u(uint64(length))
			p.s(" < 2] (invalid)")
			return
		}
		length -= 2
		if pl := int(p.be16(off)); pl != length {
			p.s(" [prefix length(")
			p.u(uint64(pl))
			p.s(") != length(")
			p.u(uint64(length))
			p.s(")] (invalid)")
			return
		}
		off += 2
		p.c(' ')
	}
	if length < 12 {
		p.s("domain [length ")
		p.u(uint64(length))
		p.s(" < 12] (invalid)")
		return
	}
	if !p.has(off, 12) {
		p.trunc()
		return
	}
	flags := p.be16(off + 2)
	qd, an, ns, ar := int(p.be16(off+4)), int(p.be16(off+6)), int(p.be16(off+8)), int(p.be16(off+10))
	rcode := uint(flags & 0xf)
	opcode := flags >> 11 & 0xf
	// Find the EDNS extended rcode as tcpdump does, skipping the sections.
	cp := off + 12
	func() {
		for i := 0; i < qd; i++ {
			if cp = p.nskip(cp); cp < 0 {
				return
			}
			if cp += 4; cp >= p.end {
				return
			}
		}
		for i := 0; i < an+ns; i++ {
			if cp = p.nskip(cp); cp < 0 {
				return
			}
			cp += 8
			if cp+2 > p.end {
				return
			}
			cp += 2 + int(p.be16(cp))
			if cp >= p.end {
				return
			}
		}
		for i := 0; i < ar; i++ {
			if cp = p.nskip(cp); cp < 0 {
				return
			}
			if cp+2 > p.end {
				return
			}
			typ := p.be16(cp)
			if cp += 4; cp+1 > p.end {
				return
			}
			if typ == 41 {
				rcode |= uint(p.u8(cp)) << 4
				return
			}
			if cp += 4; cp+2 > p.end {
				return
			}
			cp += 2 + int(p.be16(cp))
			if cp >= p.end {
				return
			}
		}
	}()
	if p.jumped {
		return
	}
	id := uint64(p.be16(off))
	if flags&0x8000 != 0 {
		p.u(id)
		p.s(dnsOps[opcode])
		if rcode < uint(len(dnsRcodes)) {
			p.s(dnsRcodes[rcode])
		} else {
			p.s(" Resp")
			p.u(uint64(rcode & 0xfff))
		}
		if flags&0x0400 != 0 {
			p.c('*')
		}
		if flags&0x0080 == 0 {
			p.c('-')
		}
		if flags&0x0200 != 0 {
			p.c('|')
		}
		if flags&0x0020 != 0 {
			p.c('$')
		}
		if qd != 1 {
			p.s(" [")
			p.u(uint64(qd))
			p.s("q]")
		}
		cp = off + 12
		for i := 0; i < qd; i++ {
			if i != 0 {
				p.c(',')
			}
			if p.o.Verbose > 1 {
				p.s(" q:")
				if cp = p.qprint(cp, off, mdns); cp < 0 {
					p.trunc()
					return
				}
			} else {
				if cp = p.nskip(cp); cp < 0 {
					p.trunc()
					return
				}
				cp += 4
			}
		}
		p.c(' ')
		p.u(uint64(an))
		p.c('/')
		p.u(uint64(ns))
		p.c('/')
		p.u(uint64(ar))
		if !p.rrList(&cp, off, &an, "", mdns) {
			return
		}
		if p.o.Verbose > 1 {
			if !p.rrList(&cp, off, &ns, " ns:", mdns) || !p.rrList(&cp, off, &ar, " ar:", mdns) {
				return
			}
		}
	} else {
		p.u(id)
		p.s(dnsOps[opcode])
		if flags&0x0100 != 0 {
			p.c('+')
		}
		if flags&0x0010 != 0 {
			p.c('%')
		}
		if b2 := flags; b2&0x6cf != 0 {
			p.s(" [b2&3=0x")
			p.hexN(uint64(b2), 1)
			p.c(']')
		}
		if opcode == 1 {
			if qd != 0 {
				p.s(" [")
				p.u(uint64(qd))
				p.s("q]")
			}
			if an != 1 {
				p.s(" [")
				p.u(uint64(an))
				p.s("a]")
			}
		} else {
			if an != 0 {
				p.s(" [")
				p.u(uint64(an))
				p.s("a]")
			}
			if qd != 1 {
				p.s(" [")
				p.u(uint64(qd))
				p.s("q]")
			}
		}
		if ns != 0 {
			p.s(" [")
			p.u(uint64(ns))
			p.s("n]")
		}
		if ar != 0 {
			p.s(" [")
			p.u(uint64(ar))
			p.s("au]")
		}
		cp = off + 12
		if qd > 0 {
			if cp = p.qprint(cp, off, mdns); cp < 0 {
				p.trunc()
				return
			}
			qd--
			for cp < p.end && qd > 0 {
				if cp = p.qprint(cp, off, mdns); cp < 0 {
					p.trunc()
					return
				}
				qd--
			}
		}
		if qd > 0 {
			p.trunc()
			return
		}
		if p.o.Verbose > 1 {
			if !p.rrList(&cp, off, &an, "", mdns) || !p.rrList(&cp, off, &ns, " ns:", mdns) || !p.rrList(&cp, off, &ar, " ar:", mdns) {
				return
			}
		}
	}
	if p.jumped {
		return
	}
	p.s(" (")
	p.u(uint64(length))
	p.c(')')
}

// rrList prints *n resource records from *cp separated by commas, after
// prefix when there are any (the answer list has none and prints even at
// the end of the data); false means the output ended truncated.
func (p *printer) rrList(cp *int, msg int, n *int, prefix string, mdns bool) bool {
	if *n > 0 && (prefix == "" || *cp < p.end) {
		p.s(prefix)
		if *cp = p.rprint(*cp, msg, mdns); *cp < 0 {
			p.trunc()
			return false
		}
		*n--
		for *cp < p.end && *n > 0 {
			p.c(',')
			if *cp = p.rprint(*cp, msg, mdns); *cp < 0 {
				p.trunc()
				return false
			}
			*n--
		}
	}
	if *n > 0 {
		p.trunc()
		return false
	}
	return !p.jumped
}

// nskip returns the offset after the name at cp, -1 if it runs out of
// data (ns_nskip).
func (p *printer) nskip(cp int) int {
	if !p.has(cp, 1) {
		return -1
	}
	i := p.pkt[cp]
	cp++
	for i != 0 {
		switch i & 0xc0 {
		case 0xc0:
			return cp + 1
		case 0x40:
			if i&0x3f != 1 || !p.has(cp, 1) {
				return -1
			}
			bits := int(p.pkt[cp])
			if bits == 0 {
				bits = 256
			}
			cp += 1 + (bits+7)/8
		case 0x80:
			return -1
		default:
			cp += int(i)
		}
		if !p.has(cp, 1) {
			return -1
		}
		i = p.pkt[cp]
		cp++
	}
	return cp
}

// labelLen is labellen: the length of the label at cp, -1 on error.
func (p *printer) labelLen(cp int) int {
	if !p.has(cp, 1) {
		return -1
	}
	i := p.pkt[cp]
	switch i & 0xc0 {
	case 0x40:
		if e := i & 0x3f; e != 1 {
			p.s("<ELT ")
			p.u(uint64(e))
			p.c('>')
			return -1
		}
		if !p.has(cp+1, 1) {
			return -1
		}
		bits := int(p.pkt[cp+1])
		if bits == 0 {
			bits = 256
		}
		return (bits+7)/8 + 1
	case 0x80:
		p.s("<BAD LABEL TYPE>")
		return -1
	}
	return int(i)
}

// nameChar prints one byte of a name as tcpdump's fn_print_char does.
func (p *printer) nameChar(c byte) {
	if c >= 0x80 {
		c &= 0x7f
		p.s("M-")
	}
	if c < 0x20 || c == 0x7f {
		c ^= 0x40
		p.c('^')
	}
	p.c(c)
}

// name prints the domain name at cp, following compression pointers
// within the message at msg, and returns the offset after it in the
// record, -1 on error (fqdn_print).
func (p *printer) name(cp, msg int) int {
	l := p.labelLen(cp)
	if l < 0 || !p.has(cp, 1) {
		return -1
	}
	maxOff := cp - msg
	i := p.pkt[cp]
	cp++
	compress := false
	rp := -1
	if i&0xc0 != 0xc0 {
		rp = cp + l
	}
	if i == 0 {
		p.c('.')
		return rp
	}
	chars := 0
	for i != 0 && cp < p.end {
		switch i & 0xc0 {
		case 0xc0:
			if !compress {
				rp = cp + 1
				compress = true
			}
			if !p.has(cp, 1) {
				return -1
			}
			o := (int(i)<<8 | int(p.pkt[cp])) & 0x3fff
			if o >= maxOff {
				p.s("<BAD PTR>")
				return -1
			}
			maxOff = o
			cp = msg + o
			if !p.has(cp, 1) {
				return -1
			}
			i = p.pkt[cp]
			if l = p.labelLen(cp); l < 0 {
				return -1
			}
			cp++
			continue
		case 0x40:
			if !p.bitLabel(cp) {
				return -1
			}
		case 0x80:
			p.s("<BAD LABEL TYPE>")
			return -1
		default:
			n := l
			if chars+l > 255 {
				n = max(255-chars, 0)
			}
			for k := 0; k < n; k++ {
				if cp+k >= p.end {
					return -1
				}
				p.nameChar(p.pkt[cp+k])
			}
			chars += l
		}
		cp += l
		if chars <= 255 {
			p.c('.')
		}
		chars++
		if !p.has(cp, 1) {
			return -1
		}
		i = p.pkt[cp]
		if l = p.labelLen(cp); l < 0 {
			return -1
		}
		cp++
		if !compress {
			rp += l + 1
		}
	}
	if chars > 255 {
		p.s("<DOMAIN NAME TOO LONG>")
	}
	return rp
}

// bitLabel prints an EDNS0 bit-string label (blabel_print).
func (p *printer) bitLabel(cp int) bool {
	if !p.has(cp, 1) {
		return false
	}
	bits := int(p.pkt[cp])
	if bits == 0 {
		bits = 256
	}
	lim := cp + 1 + (bits+3)/4
	p.s("\\[x")
	b, q := bits, cp+1
	for ; q < lim && b > 7; b, q = b-8, q+1 {
		p.hexN(uint64(p.u8(q)), 2)
	}
	if b > 4 {
		p.hexN(uint64(p.u8(q)&(0xff<<(8-b))), 2)
	} else if b > 0 {
		p.hexN(uint64((p.u8(q)>>4)&(0x0f<<(4-b))), 1)
	}
	p.c('/')
	p.u(uint64(bits))
	p.c(']')
	return !p.jumped
}

func dnsTypeName(p *printer, t uint16) {
	if n, ok := dnsTypeNames[uint32(t)]; ok {
		p.s(n)
		return
	}
	p.s("Type")
	p.u(uint64(t))
}

func dnsClass(p *printer, c uint16) {
	if n, ok := dnsClassNames[uint32(c)]; ok {
		p.s(n)
		return
	}
	p.s("(Class ")
	p.u(uint64(c))
	p.c(')')
}

// qprint prints a question (ns_qprint) and returns the offset after it.
func (p *printer) qprint(cp, msg int, mdns bool) int {
	np := cp
	cp = p.nskip(cp)
	if cp < 0 || !p.has(cp, 4) {
		return -1
	}
	p.c(' ')
	dnsTypeName(p, p.be16(cp))
	i := p.be16(cp + 2)
	class := i
	if mdns {
		class &^= 0x8000
	}
	if class != 1 {
		p.c(' ')
		dnsClass(p, class)
	}
	if mdns {
		if i&0x8000 != 0 {
			p.s(" (QU)")
		} else {
			p.s(" (QM)")
		}
	}
	p.s("? ")
	if cp = p.name(np, msg); cp < 0 {
		return -1
	}
	return cp + 4
}

// rprint prints a resource record (ns_rprint) and returns the offset after
// it: p.end when the record is cut short, -1 on error.
func (p *printer) rprint(cp, msg int, mdns bool) int {
	if p.o.Verbose > 0 {
		p.c(' ')
		if cp = p.name(cp, msg); cp < 0 {
			return -1
		}
	} else {
		cp = p.nskip(cp)
	}
	if cp < 0 || !p.has(cp, 10) {
		return p.end
	}
	typ := p.be16(cp)
	i := p.be16(cp + 2)
	cp += 4
	class := i
	if mdns {
		class &^= 0x8000
	}
	if class != 1 && typ != 41 {
		p.c(' ')
		dnsClass(p, class)
	}
	if mdns && i&0x8000 != 0 {
		p.s(" (Cache flush)")
	}
	var optFlags uint16
	if typ == 41 {
		optFlags = p.be16(cp + 2)
	} else if p.o.Verbose > 2 {
		p.skip("dns ttl")
	}
	cp += 4
	ln := int(p.be16(cp))
	cp += 2
	rp := cp + ln
	p.c(' ')
	dnsTypeName(p, typ)
	if rp > p.end {
		return -1
	}
	switch typ {
	case 1:
		if !p.has(cp, 4) {
			return -1
		}
		p.c(' ')
		p.ipv4(cp)
	case 2, 5, 12, 39:
		p.c(' ')
		if p.name(cp, msg) < 0 {
			return -1
		}
	case 6:
		if p.o.Verbose == 0 {
			break
		}
		p.c(' ')
		if cp = p.name(cp, msg); cp < 0 {
			return -1
		}
		p.c(' ')
		if cp = p.name(cp, msg); cp < 0 {
			return -1
		}
		if !p.has(cp, 20) {
			return -1
		}
		for k := 0; k < 5; k++ {
			p.c(' ')
			p.u(uint64(p.be32(cp + 4*k)))
		}
	case 15:
		p.c(' ')
		if !p.has(cp, 2) {
			return -1
		}
		if p.name(cp+2, msg) < 0 {
			return -1
		}
		p.c(' ')
		p.u(uint64(p.be16(cp)))
	case 16:
		for cp < rp {
			p.s(" \"")
			n := int(p.u8(cp))
			cp++
			if p.jumped {
				return -1
			}
			for k := 0; k < n; k++ {
				if cp+k >= p.end {
					return -1
				}
				p.nameChar(p.u8(cp + k))
			}
			cp += n
			p.c('"')
		}
	case 33:
		p.c(' ')
		if !p.has(cp, 6) {
			return -1
		}
		if p.name(cp+6, msg) < 0 {
			return -1
		}
		p.c(':')
		p.u(uint64(p.be16(cp + 4)))
		p.c(' ')
		p.u(uint64(p.be16(cp)))
		p.c(' ')
		p.u(uint64(p.be16(cp + 2)))
	case 28:
		if !p.has(cp, 16) {
			return -1
		}
		p.c(' ')
		p.ipv6(cp)
	case 41:
		p.s(" UDPsize=")
		p.u(uint64(class))
		if optFlags&0x8000 != 0 {
			p.s(" DO")
		}
		if cp < rp {
			p.skip("edns options")
		}
	case 256: // URI: priority, weight and target
		if !p.has(cp, ln) || !p.has(cp, 4) {
			return -1
		}
		p.c(' ')
		p.u(uint64(p.be16(cp)))
		p.c(' ')
		p.u(uint64(p.be16(cp + 2)))
		p.c(' ')
		n := ln - 4
		k := cp + 4
		for ; n > 0 && k < p.end; n, k = n-1, k+1 {
			p.nameChar(p.pkt[k])
		}
		if n != 0 {
			return -1
		}
	case 38: // A6: prefix length, address suffix, prefix name
		if !p.has(cp, 1) {
			return -1
		}
		pbit := int(p.pkt[cp])
		pbyte := (pbit &^ 7) / 8
		if pbit > 128 {
			p.c(' ')
			p.u(uint64(pbit))
			p.s("(bad plen)")
			break
		}
		if pbit < 128 {
			if !p.check(cp+1, 16-pbyte) {
				return -1
			}
			var a [16]byte
			copy(a[pbyte:], p.pkt[cp+1:cp+1+16-pbyte])
			p.c(' ')
			p.u(uint64(pbit))
			p.c(' ')
			p.appendIPv6(a[:])
		}
		if pbit > 0 {
			p.c(' ')
			if p.name(cp+1+16-pbyte, msg) < 0 {
				return -1
			}
		}
	case 103, 250:
		p.skip("dns record data")
	}
	return rp
}
