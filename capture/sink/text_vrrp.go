package sink

// vrrp decodes a VRRP message at off (vrrp_print).
func (p *printer) vrrp(off, length, ver, ipOff int) {
	p.proto = "vrrp"
	ttl := p.u8(ipOff + 8)
	if ver == 6 {
		ttl = p.u8(ipOff + 7)
	}
	p.s("VRRP")
	b := p.u8(off)
	if p.jumped {
		return
	}
	version, typ := b>>4, b&0xf
	p.c('v')
	p.u(uint64(version))
	p.s(", ")
	if typ == 1 {
		p.s("Advertisement")
	} else {
		p.s("unknown type (")
		p.u(uint64(typ))
		p.c(')')
	}
	if ttl != 255 {
		p.s(", (ttl ")
		p.u(uint64(ttl))
		p.c(')')
	}
	if version < 2 || version > 3 || typ != 1 {
		return
	}
	p.s(", vrid ")
	p.u(uint64(p.u8(off + 1)))
	p.s(", prio ")
	p.u(uint64(p.u8(off + 2)))
	var auth uint8
	if version == 2 {
		auth = p.u8(off + 4)
		p.s(", authtype ")
		switch auth {
		case 0:
			p.s("none")
		case 1:
			p.s("simple")
		case 2:
			p.s("ah")
		default:
			p.c('#')
			p.u(uint64(auth))
		}
		p.s(", intvl ")
		p.u(uint64(p.u8(off + 5)))
		p.s("s, length ")
	} else {
		intvl := uint64(p.u8(off+4)&0x0f)<<8 | uint64(p.u8(off+5))
		p.s(", intvl ")
		p.u(intvl)
		p.s("cs, length ")
	}
	p.u(uint64(length))
	if p.o.Verbose == 0 {
		return
	}
	naddrs := int(p.u8(off + 3))
	if p.has(off, length) {
		var sum uint16
		if version == 2 {
			sum = p.cksum(0, off, length)
		} else {
			sum = p.cksum(p.pseudoSum(ver, ipOff, 112, length), off, length)
		}
		if sum != 0 {
			if f := p.be16(off + 6); !p.jumped {
				p.s(", (bad vrrp cksum ")
				p.hexN(uint64(f), 1)
				p.c(')')
			}
		}
	}
	p.s(", addrs")
	if naddrs > 1 {
		p.c('(')
		p.u(uint64(naddrs))
		p.c(')')
	}
	p.c(':')
	c := byte(' ')
	q := off + 8
	for i := 0; i < naddrs && !p.jumped; i++ {
		if ver == 4 {
			if !p.check(q, 4) {
				return
			}
			p.c(c)
			p.ipv4(q)
			q += 4
		} else {
			if !p.check(q, 16) {
				return
			}
			p.c(c)
			p.ipv6(q)
			q += 16
		}
		c = ','
	}
	if version == 2 && auth == 1 {
		p.s(" auth \"")
		for k := 0; k < 8; k++ {
			ch := p.u8(q + k)
			if p.jumped || ch == 0 {
				break
			}
			p.nameChar(ch)
		}
		p.c('"')
	}
}
