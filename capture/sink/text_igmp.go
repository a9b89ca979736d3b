package sink

import "strconv"

// igmp decodes an IGMP message at off (igmp_print): queries, reports and
// leaves; DVMRP, PIMv1 and mtrace are not decoded.
func (p *printer) igmp(off, length int) {
	p.proto = "igmp"
	if p.o.Quiet {
		p.s("igmp")
		return
	}
	// addr prints text and the address at a, all or nothing.
	addr := func(text string, a int) {
		if p.check(a, 4) {
			p.s(text)
			p.ipv4(a)
		}
	}
	switch t := p.u8(off); t {
	case 0x11:
		p.s("igmp query")
		if length >= 12 {
			p.igmpV3Query(off, length)
			break
		}
		if mrt := p.u8(off + 1); mrt != 0 {
			p.s(" v2")
			if mrt != 100 {
				p.s(" [max resp time ")
				p.u(uint64(mrt))
				p.c(']')
			}
		} else {
			p.s(" v1")
		}
		if p.be32(off+4) != 0 {
			addr(" [gaddr ", off+4)
			p.c(']')
		}
		if length != 8 {
			p.s(" [len ")
			p.u(uint64(length))
			p.c(']')
		}
	case 0x12:
		addr("igmp v1 report ", off+4)
		if length != 8 {
			p.s(" [len ")
			p.u(uint64(length))
			p.c(']')
		}
	case 0x16:
		addr("igmp v2 report ", off+4)
	case 0x22:
		p.s("igmp v3 report")
		if length < 16 || length&3 != 0 {
			p.s(" [invalid len ")
			p.u(uint64(length))
			p.c(']')
			break
		}
		p.s(", ")
		p.u(uint64(p.be16(off + 6)))
		p.s(" group record(s)")
		if p.o.Verbose > 0 {
			p.skip("igmp v3 records")
			return
		}
	case 0x17:
		addr("igmp leave ", off+4)
	case 0x13, 0x14, 0x1e, 0x1f:
		p.skip("igmp dvmrp, pimv1, mtrace")
		if t == 0x14 {
			p.pimv1Reads(off)
		}
		return
	default:
		if !p.jumped {
			p.s("igmp-")
			p.u(uint64(t))
		}
	}
	if p.o.Verbose > 0 && length >= 4 && p.has(off, length) {
		if p.cksum(0, off, length) != 0 {
			p.s(" bad igmp cksum ")
			p.hexN(uint64(p.be16(off+2)), 1)
			p.c('!')
		}
	}
}

// igmpV3Query prints the rest of an IGMPv3 query (print_igmpv3_query).
func (p *printer) igmpV3Query(off, length int) {
	p.s(" v3")
	if length < 12 || length&3 != 0 {
		p.s(" [invalid len ")
		p.u(uint64(length))
		p.c(']')
		return
	}
	mrc := uint(p.u8(off + 1))
	mrt := mrc
	if mrc >= 128 {
		mrt = ((mrc & 0x0f) | 0x10) << (((mrc & 0x70) >> 4) + 3)
	}
	if mrc != 100 {
		p.s(" [max resp time ")
		if mrt < 600 {
			// %.1f of a tenth: the integer and the one decimal.
			if !p.jumped {
				p.b = strconv.AppendUint(p.b, uint64(mrt/10), 10)
			}
			p.c('.')
			p.u(uint64(mrt % 10))
			p.c('s')
		} else {
			p.skip("igmp long response time")
		}
		p.c(']')
	}
	if p.be32(off+4) == 0 {
		return
	}
	if !p.check(off+4, 4) {
		return
	}
	p.s(" [gaddr ")
	p.ipv4(off + 4)
	if n := int(p.be16(off + 10)); n > 0 {
		switch {
		case length < 12+n*4:
			p.s(" [invalid number of sources]")
		case p.o.Verbose > 1:
			p.s(" {")
			for i := 0; i < n && !p.jumped; i++ {
				if p.check(off+12+4*i, 4) {
					p.c(' ')
					p.ipv4(off + 12 + 4*i)
				}
			}
			p.s(" }")
		default:
			p.s(", ")
			p.u(uint64(n))
			p.s(" source(s)")
		}
	}
	p.c(']')
}
