package sink

// be64 reads a big-endian 64-bit value (GET_BE_U_8).
func (p *printer) be64(off int) uint64 {
	return uint64(p.be32(off))<<32 | uint64(p.be32(off+4))
}

var mptcpSubtypes = [...]string{"capable", "join", "dss", "add-addr", "rem-addr", "prio", "fail", "fast-close", "unknown"}

// mptcp prints a Multipath TCP option of ln bytes at cp, the kind and
// length bytes included (mptcp_print); false means tcpdump's "[bad opt]".
func (p *printer) mptcp(cp, ln int, flags uint8) bool {
	p.proto = "mptcp"
	if ln < 3 {
		return false
	}
	saved := p.end
	p.end = min(p.end, cp+ln)
	defer func() { p.end = saved }()
	sub := min(int(p.u8(cp+2)>>4), 8)
	p.c(' ')
	p.u(uint64(ln))
	p.c(' ')
	p.s(mptcpSubtypes[sub])
	const syn, ack = 0x02, 0x10
	switch sub {
	case 0: // capable
		if !((ln == 12 || ln == 4) && flags&syn != 0) && !((ln == 20 || ln == 22) && flags&(syn|ack) == ack) {
			return false
		}
		v := p.u8(cp+2) & 0xf
		if v > 1 {
			p.s(" Unknown Version (")
			p.u(uint64(v))
			p.c(')')
			return true
		}
		p.s(" v")
		p.u(uint64(v))
		if p.u8(cp+3)&0x80 != 0 {
			p.s(" csum")
		}
		if ln == 12 || ln >= 20 {
			p.s(" {0x")
			p.hexN(p.be64(cp+4), 1)
			if ln >= 20 {
				p.s(",0x")
				p.hexN(p.be64(cp+12), 1)
			}
			p.c('}')
		}
	case 1: // join
		if !(ln == 12 && flags&syn != 0) && !(ln == 16 && flags&(syn|ack) == syn|ack) && !(ln == 24 && flags&ack != 0) {
			return false
		}
		if ln != 24 {
			if p.u8(cp+2)&1 != 0 {
				p.s(" backup")
			}
			p.s(" id ")
			p.u(uint64(p.u8(cp + 3)))
		}
		switch ln {
		case 12:
			p.s(" token 0x")
			p.hexN(uint64(p.be32(cp+4)), 1)
			p.s(" nonce 0x")
			p.hexN(uint64(p.be32(cp+8)), 1)
		case 16:
			p.s(" hmac 0x")
			p.hexN(p.be64(cp+4), 1)
			p.s(" nonce 0x")
			p.hexN(uint64(p.be32(cp+12)), 1)
		case 24:
			// tcpdump reads these 20 bytes without a bounds check; the
			// option length guarantees them here.
			p.s(" hmac 0x")
			for i := 0; i < 20; i++ {
				p.hexN(uint64(p.u8(cp+4+i)), 2)
			}
		}
	case 2: // dss
		if ln < 4 || flags&syn != 0 {
			return false
		}
		f := p.u8(cp + 3)
		if f&0x10 != 0 {
			p.s(" fin")
		}
		o, n := cp+4, ln-4
		num := func(wide bool) bool {
			if wide {
				if n < 8 {
					return false
				}
				p.u(p.be64(o))
				o, n = o+8, n-8
				return true
			}
			if n < 4 {
				return false
			}
			p.u(uint64(p.be32(o)))
			o, n = o+4, n-4
			return true
		}
		if f&0x01 != 0 {
			p.s(" ack ")
			if !num(f&0x02 != 0) {
				return false
			}
		}
		if f&0x04 != 0 {
			p.s(" seq ")
			if !num(f&0x08 != 0) {
				return false
			}
			if n < 4 {
				return false
			}
			p.s(" subseq ")
			p.u(uint64(p.be32(o)))
			o, n = o+4, n-4
			if n < 2 {
				return false
			}
			p.s(" len ")
			p.u(uint64(p.be16(o)))
			o, n = o+2, n-2
			if n >= 2 {
				p.s(" csum 0x")
				p.hexN(uint64(p.be16(o)), 1)
				n -= 2
			}
		}
		if n != 0 {
			return false
		}
	case 3: // add-addr
		switch ln {
		case 8, 10, 16, 18, 20, 22, 28, 30:
		default:
			return false
		}
		p.c(' ')
		switch p.u8(cp+2) & 0xf {
		case 6:
			p.s("v0-ip6")
		case 4:
			p.s("v0-ip4")
		case 1:
			p.s("v1-echo")
		case 0:
			p.s("v1")
		default:
			p.s("[bad version/echo]")
		}
		p.s(" id ")
		p.u(uint64(p.u8(cp + 3)))
		if ln <= 18 {
			p.c(' ')
			p.ipv4(cp + 4)
			if ln == 10 || ln == 18 {
				p.c(':')
				p.u(uint64(p.be16(cp + 8)))
			}
			if ln == 16 {
				p.s(" hmac 0x")
				p.hexN(p.be64(cp+8), 1)
			}
			if ln == 18 {
				p.s(" hmac 0x")
				p.hexN(p.be64(cp+10), 1)
			}
		} else {
			p.c(' ')
			p.ipv6(cp + 4)
			if ln == 22 || ln == 30 {
				p.c(':')
				p.u(uint64(p.be16(cp + 20)))
			}
			if ln == 28 {
				p.s(" hmac 0x")
				p.hexN(p.be64(cp+20), 1)
			}
			if ln == 30 {
				p.s(" hmac 0x")
				p.hexN(p.be64(cp+22), 1)
			}
		}
	case 4: // rem-addr
		if ln < 4 {
			return false
		}
		p.s(" id")
		for i := 0; i < ln-3; i++ {
			p.c(' ')
			p.u(uint64(p.u8(cp + 3 + i)))
		}
	case 5: // prio
		if ln != 3 && ln != 4 {
			return false
		}
		if p.u8(cp+2)&1 != 0 {
			p.s(" backup")
		} else {
			p.s(" non-backup")
		}
		if ln == 4 {
			p.s(" id ")
			p.u(uint64(p.u8(cp + 3)))
		}
	case 6: // fail
		if ln != 12 {
			return false
		}
		p.s(" seq ")
		p.u(p.be64(cp + 4))
	case 7: // fast-close
		if ln != 12 {
			return false
		}
		p.s(" key 0x")
		p.hexN(p.be64(cp+4), 1)
	}
	return true
}
