package sink

// nodeAddrFlags prints the node-address flags of a node information
// message (a G S L C A, and T in replies).
func (p *printer) nodeAddrFlags(f uint16, reply bool) {
	p.s(" [")
	for _, b := range [...]struct {
		bit uint16
		c   byte
	}{{0x40, 'a'}, {0x20, 'G'}, {0x10, 'S'}, {0x08, 'L'}, {0x04, 'C'}, {0x02, 'A'}} {
		if f&b.bit != 0 {
			p.c(b.c)
		}
	}
	if reply && f&0x01 != 0 {
		p.c('T')
	}
	p.c(']')
}

// niName prints the name of a node information message from cp to the
// captured end: a length-prefixed string (the 03 draft) or DNS labels
// without compression (dnsname_print).
func (p *printer) niName(cp int) {
	ep := p.end
	if p.u8(cp) == uint8(ep-cp-1) && !p.jumped {
		if p.o.Verbose > 0 {
			p.s(", 03 draft")
		}
		p.s(", \"")
		for cp++; cp < ep; cp++ {
			p.nameChar(p.pkt[cp])
		}
		p.c('"')
		return
	}
	if p.jumped {
		return
	}
	p.s(", \"")
	for cp < ep {
		i := int(p.pkt[cp])
		cp++
		if i == 0 {
			switch {
			case cp == ep:
				p.c('.')
			case cp+1 == ep && p.pkt[cp] == 0:
			default:
				p.s("???")
			}
			break
		}
		if i > ep-cp {
			p.s("???")
			break
		}
		for ; i > 0 && cp < ep; i-- {
			p.nameChar(p.pkt[cp])
			cp++
		}
		if cp+1 < ep && p.pkt[cp] != 0 {
			p.c('.')
		}
	}
	p.c('"')
}

// icmp6NodeInfo prints a node information query or reply
// (icmp6_nodeinfo_print); its sizes are those of the captured message.
func (p *printer) icmp6NodeInfo(off, length int) {
	siz := p.end - off
	if siz < 0 {
		return
	}
	v := p.o.Verbose > 0
	typ := p.u8(off)
	if p.jumped {
		return
	}
	if typ == 139 {
		if siz == 12 {
			p.s(" who-are-you request")
			return
		}
		p.s(" node information query")
		if !p.has(off, 16) {
			p.trunc()
			return
		}
		qtype, flags := p.be16(off+4), p.be16(off+6)
		p.s(" (")
		switch qtype {
		case 0:
			p.s("noop")
		case 1:
			p.s("supported qtypes")
			if flags != 0 {
				p.s(" [")
				if flags&1 != 0 {
					p.c('C')
				}
				p.c(']')
			}
		case 2:
			p.s("DNS name")
		case 3:
			p.s("node addresses")
			if flags != 0 {
				p.nodeAddrFlags(flags, false)
			}
		default:
			p.s("unknown")
		}
		if qtype == 0 || qtype == 1 {
			if siz != 16 && v {
				p.s(", invalid len")
			}
			p.c(')')
			return
		}
		if siz == 16 {
			p.s(", 03 draft)")
			return
		}
		cp := off + 16
		switch p.pkt[off+1] {
		case 0:
			if !p.has(off, 32) {
				break
			}
			if siz != 32 {
				if v {
					p.s(", invalid subject len")
				}
				break
			}
			p.s(", subject=")
			p.ipv6(cp)
		case 1:
			p.s(", subject=DNS name")
			p.niName(cp)
		case 2:
			if !p.has(off, 20) {
				break
			}
			if siz != 20 {
				if v {
					p.s(", invalid subject len")
				}
				break
			}
			p.s(", subject=")
			p.ipv4(cp)
		default:
			p.s(", unknown subject")
		}
		p.c(')')
		return
	}
	// A reply.
	if length > siz || !p.has(off, 16) {
		p.trunc()
		return
	}
	code, qtype, flags := p.pkt[off+1], p.be16(off+4), p.be16(off+6)
	p.s(" node information reply (")
	comma := false
	switch code {
	case 0:
		if v {
			p.s("success")
			comma = true
		}
	case 1, 2:
		if code == 1 {
			p.s("refused")
		} else {
			p.s("unknown")
		}
		comma = true
		if siz != 16 && v {
			p.s(", invalid length")
		}
	}
	if code != 0 {
		p.c(')')
		return
	}
	if comma {
		p.s(", ")
	}
	switch qtype {
	case 0:
		p.s("noop")
		if siz != 16 && v {
			p.s(", invalid length")
		}
	case 1:
		p.s("supported qtypes")
		if flags != 0 {
			p.s(" [")
			if flags&1 != 0 {
				p.c('C')
			}
			p.c(']')
		}
	case 2:
		p.s("DNS name")
		p.niName(off + 20)
		if p.jumped {
			return
		}
		if flags&1 != 0 {
			p.s(" [TTL=")
			p.u(uint64(p.be32(off + 16)))
			p.c(']')
		}
	case 3:
		p.s("node addresses")
		for i := 16; i+20 <= siz; i += 20 {
			p.c(' ')
			p.ipv6(off + i + 4)
			p.c('(')
			p.u(uint64(p.be32(off + i)))
			p.c(')')
		}
		if flags != 0 {
			p.nodeAddrFlags(flags, true)
		}
	default:
		p.s("unknown")
	}
	p.c(')')
}

// icmp6RRenum prints a router renumbering message (icmp6_rrenum_print).
func (p *printer) icmp6RRenum(off int) {
	if !p.has(off+12, 4) {
		p.trunc()
		return
	}
	v := p.o.Verbose
	code := p.pkt[off+1]
	switch code {
	case 0:
		p.s(", command")
	case 1:
		p.s(", result")
	case 255:
		p.s(", sequence number reset")
	default:
		p.s(", code-#")
		p.u(uint64(code))
	}
	p.s(", seq=")
	p.u(uint64(p.be32(off + 4)))
	if v > 0 {
		fl := p.pkt[off+9]
		p.c('[')
		if fl != 0 {
			for _, b := range [...]struct {
				bit uint8
				c   byte
			}{{0x80, 'T'}, {0x40, 'R'}, {0x20, 'A'}, {0x10, 'S'}, {0x08, 'P'}} {
				if fl&b.bit != 0 {
					p.c(b.c)
				}
			}
			p.c(',')
		}
		p.s("seg=")
		p.u(uint64(p.pkt[off+8]))
		p.s(",maxdelay=")
		p.u(uint64(p.be16(off + 10)))
		if r := p.be32(off + 12); r != 0 {
			p.s("rsvd=0x")
			p.hexN(uint64(r), 1)
		}
		p.c(']')
	}
	if code != 0 {
		return
	}
	sep := func() {
		if v > 1 {
			p.s("\n\t")
		} else {
			p.c(' ')
		}
	}
	m := off + 16
	if !p.has(m+8, 16) {
		p.trunc()
		return
	}
	sep()
	p.s("match(")
	switch c := p.pkt[m]; c {
	case 1:
		p.s("add")
	case 2:
		p.s("change")
	case 3:
		p.s("setglobal")
	default:
		p.c('#')
		p.u(uint64(c))
	}
	if v > 0 {
		p.s(",ord=")
		p.u(uint64(p.pkt[m+2]))
		p.s(",min=")
		p.u(uint64(p.pkt[m+4]))
		p.s(",max=")
		p.u(uint64(p.pkt[m+5]))
	}
	p.c(',')
	p.ipv6(m + 8)
	p.c('/')
	p.u(uint64(p.pkt[m+3]))
	p.c(')')
	n := int(p.pkt[m+1]) - 3
	if n%4 != 0 {
		p.trunc()
		return
	}
	use := m + 24
	for n /= 4; n > 0; n-- {
		if !p.has(use+16, 16) {
			p.trunc()
			return
		}
		sep()
		p.s("use(")
		if f := p.pkt[use+12]; f != 0 {
			if f&0x80 != 0 {
				p.c('V')
			}
			if f&0x40 != 0 {
				p.c('P')
			}
			p.c(',')
		}
		if v > 0 {
			p.s("mask=0x")
			p.hexN(uint64(p.pkt[use+2]), 1)
			p.s(",raflags=0x")
			p.hexN(uint64(p.pkt[use+3]), 1)
			p.c(',')
			for _, t := range [...]struct {
				name string
				at   int
			}{{"vltime=", 4}, {"pltime=", 8}} {
				p.s(t.name)
				if x := p.be32(use + t.at); x == 0xffffffff {
					p.s("infty,")
				} else {
					p.u(uint64(x))
					p.c(',')
				}
			}
		}
		p.ipv6(use + 16)
		p.c('/')
		p.u(uint64(p.pkt[use]))
		p.c('/')
		p.u(uint64(p.pkt[use+1]))
		p.c(')')
		use += 32
	}
}

var (
	rplMOP     = [...]string{"nonstoring", "storing", "nonstoring-multicast", "storing-multicast"}
	rplSubopts = map[uint8]string{0: "pad1", 1: "padN", 2: "metrics", 3: "routinginfo", 4: "config",
		5: "rpltarget", 6: "transitinfo", 8: "destprefix", 9: "rpltargetdesc"}
)

// rplPrint prints an RPL control message whose body starts at off
// (rpl_print): its kind and, with -v, the DIO, DAO or DAO-ACK fields.
func (p *printer) rplPrint(code uint8, off, length int) {
	if code&0x80 != 0 {
		p.s(", (SEC) [worktodo]")
		return
	}
	p.s(", (CLR)")
	v := p.o.Verbose > 0
	switch code {
	case 0:
		p.s("DODAG Information Solicitation")
	case 1:
		p.s("DODAG Information Object")
		if !v {
			return
		}
		if length < 24 {
			p.s(" (invalid)")
			return
		}
		if !p.check(off, 24) {
			return
		}
		m := p.pkt[off+4]
		p.s(" [dagid:")
		p.ipv6(off + 8)
		p.s(",seq:")
		p.u(uint64(p.pkt[off+5]))
		p.s(",instance:")
		p.u(uint64(p.pkt[off]))
		p.s(",rank:")
		p.u(uint64(p.be16(off + 2)))
		p.c(',')
		if m&0x80 != 0 {
			p.s("grounded,")
		}
		p.s("mop:")
		if mop := (m & 0x38) >> 3; int(mop) < len(rplMOP) {
			p.s(rplMOP[mop])
		} else {
			p.s("mop")
			p.u(uint64(mop))
		}
		p.s(",prf:")
		p.u(uint64(m & 7))
		p.c(']')
		if p.o.Verbose > 1 {
			p.rplOpts(off+24, length-24)
		}
	case 2:
		p.s("Destination Advertisement Object")
		if !v {
			return
		}
		if !p.has(off, 20) {
			p.trunc()
			return
		}
		if length < 4 {
			p.s(" [|length too short]")
			return
		}
		fl := p.pkt[off+1]
		body, blen := off+4, length-4
		p.s(" [dagid:")
		if fl&0x40 != 0 {
			if blen < 16 {
				p.b = p.b[:len(p.b)-len(" [dagid:")]
				p.s(" [|length too short]")
				return
			}
			p.ipv6(off + 4)
			body, blen = body+16, blen-16
		} else {
			p.s("<elided>")
		}
		p.s(",seq:")
		p.u(uint64(p.pkt[off+3]))
		p.s(",instance:")
		p.u(uint64(p.pkt[off]))
		if fl&0x80 != 0 {
			p.s(",acK")
		}
		if fl&0x40 != 0 {
			p.s(",Dagid")
		}
		p.c(',') // tcpdump 4.99 prints the flags without a name
		p.hexN(uint64(fl), 2)
		p.c(']')
		if p.o.Verbose > 1 {
			p.rplOpts(body, blen)
		}
	case 3:
		p.s("Destination Advertisement Object Ack")
		if !v {
			return
		}
		if !p.has(off, 4) {
			p.trunc()
			return
		}
		if length < 4 {
			p.s(" [|dao-length too short]")
			return
		}
		body, blen := off+4, length-4
		d := p.pkt[off+1]&0x80 != 0
		if d {
			if !p.has(off+4, 16) {
				p.trunc()
				return
			}
			if blen < 16 {
				p.s(" [|dao-length too short]")
				return
			}
			body, blen = body+16, blen-16
		}
		p.s(" [dagid:")
		if d {
			p.ipv6(off + 4)
		} else {
			p.s("<elided>")
		}
		p.s(",seq:")
		p.u(uint64(p.pkt[off+2]))
		p.s(",instance:")
		p.u(uint64(p.pkt[off]))
		p.s(",status:")
		p.u(uint64(p.pkt[off+3]))
		p.c(']')
		if p.o.Verbose > 1 {
			p.rplOpts(body, blen)
		}
	default:
		p.s("RPL message, unknown code ")
		p.u(uint64(code))
	}
}

// rplOpts lists the options of an RPL message under -vv
// (rpl_printopts).
func (p *printer) rplOpts(off, length int) {
	for length > 0 {
		typ := p.u8(off)
		if p.jumped {
			return
		}
		n := 1
		if typ == 0 {
			p.s(" opt:pad1")
		} else {
			if length < 2 || !p.has(off+1, 1) {
				p.trunc()
				return
			}
			n = int(p.pkt[off+1]) + 2
			p.s(" opt:")
			if name, ok := rplSubopts[typ]; ok {
				p.s(name)
			} else {
				p.s("subopt:")
				p.u(uint64(typ))
			}
			p.s(" len:")
			p.u(uint64(n))
			p.c(' ')
			if !p.has(off, n) || length < n {
				p.trunc()
				return
			}
		}
		off += n
		length -= n
	}
}
