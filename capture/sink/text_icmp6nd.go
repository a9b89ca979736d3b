package sink

// bitNames prints the names of the bits set in v in table order, joined
// by ", ", or none (bittok2str).
func (p *printer) bitNames(v uint32, table []bitName, none string) {
	first := true
	for _, b := range table {
		if v&b.bit != 0 {
			if !first {
				p.s(", ")
			}
			p.s(b.name)
			first = false
		}
	}
	if first {
		p.s(none)
	}
}

type bitName struct {
	bit  uint32
	name string
}

var (
	raFlags   = []bitName{{0x80, "managed"}, {0x40, "other stateful"}, {0x20, "home agent"}, {0x02, "ipv6 only"}}
	naFlags   = []bitName{{0x80000000, "router"}, {0x40000000, "solicited"}, {0x20000000, "override"}}
	piFlags   = []bitName{{0x80, "onlink"}, {0x40, "auto"}, {0x20, "router"}}
	ndOptName = map[uint8]string{1: "source link-address", 2: "destination link-address", 3: "prefix info",
		4: "redirected header", 5: "mtu", 25: "rdnss", 31: "dnssl", 7: "advertisement interval",
		8: "homeagent information", 24: "route info"}
	mldv2RecordTypes = map[uint8]string{1: "is_in", 2: "is_ex", 3: "to_in", 4: "to_ex", 5: "allow", 6: "block"}
)

// rtpref is get_rtpref: the two preference bits of an RA or route
// information option.
func rtpref(v uint8) string {
	return [...]string{"medium", "high", "rsv", "low"}[(v&0x18)>>3]
}

// lifetime is get_lifetime: seconds, or infinity for all ones.
func (p *printer) lifetime(v uint32) {
	if v == 0xffffffff {
		p.s("infinity")
		return
	}
	p.u(uint64(v))
	p.c('s')
}

// icmp6Opts prints the neighbor discovery options from off
// (icmp6_opt_print); false is its truncation return, after which the
// caller prints the truncation mark.
func (p *printer) icmp6Opts(off, resid int) bool {
	cp := off
	for cp < p.end {
		if !p.has(cp+1, 1) {
			return false
		}
		if resid <= 0 {
			return true
		}
		typ, olen := p.pkt[cp], int(p.pkt[cp+1])
		if olen == 0 || cp+olen*8 > p.end {
			return false
		}
		p.s("\n\t  ")
		if n, ok := ndOptName[typ]; ok {
			p.s(n)
		} else {
			p.s("unknown")
		}
		p.s(" option (")
		p.u(uint64(typ))
		p.s("), length ")
		p.u(uint64(olen * 8))
		p.s(" (")
		p.u(uint64(olen))
		p.s("): ")
		switch typ {
		case 1, 2:
			p.mac(cp+2, olen*8-2)
		case 3:
			if !p.check(cp, 32) {
				return false
			}
			p.ipv6(cp + 16)
			p.c('/')
			p.u(uint64(p.pkt[cp+2]))
			if olen != 4 {
				p.s("badlen")
			}
			p.s(", Flags [")
			p.bitNames(uint32(p.pkt[cp+3]), piFlags, "none")
			p.s("], valid time ")
			p.lifetime(p.be32(cp + 4))
			p.s(", pref. time ")
			p.lifetime(p.be32(cp + 8))
		case 4:
			p.hexOnly("\n\t    ", off, min(olen*8, max(p.end-off, 0)))
		case 5:
			if !p.check(cp+4, 4) {
				return false
			}
			p.c(' ')
			p.u(uint64(p.be32(cp + 4)))
			if olen != 1 {
				p.s("bad option length")
			}
		case 25:
			if !p.check(cp+4, 4) {
				return false
			}
			p.s(" lifetime ")
			p.u(uint64(p.be32(cp + 4)))
			p.s("s,")
			for i := 0; i < (olen-1)/2; i++ {
				if !p.check(cp+8+16*i, 16) {
					return false
				}
				p.s(" addr: ")
				p.ipv6(cp + 8 + 16*i)
			}
		case 31:
			if !p.check(cp+4, 4) {
				return false
			}
			p.s(" lifetime ")
			p.u(uint64(p.be32(cp + 4)))
			p.s("s, domain(s):")
			d := cp + 8
			for d < cp+olen*8 {
				c := p.u8(d)
				if p.jumped || c == 0 {
					break
				}
				p.c(' ')
				if d = p.name(d, off); d < 0 {
					p.trunc()
					return true // the caller's mark, printed here: tcpdump's goto trunc
				}
			}
		case 7:
			if !p.check(cp+4, 4) {
				return false
			}
			p.c(' ')
			p.u(uint64(p.be32(cp + 4)))
			p.s("ms")
		case 8:
			if !p.check(cp+4, 4) {
				return false
			}
			p.s(" preference ")
			p.u(uint64(p.be16(cp + 4)))
			p.s(", lifetime ")
			p.u(uint64(p.be16(cp + 6)))
		case 24:
			if !p.has(cp+4, 4) {
				return false
			}
			var a [16]byte
			switch olen {
			case 1:
			case 2, 3:
				n := 8 * (olen - 1)
				if !p.check(cp+8, n) {
					return false
				}
				copy(a[:], p.pkt[cp+8:cp+8+n])
			default:
				return false
			}
			p.c(' ')
			p.appendIPv6(a[:])
			p.c('/')
			p.u(uint64(p.pkt[cp+2]))
			p.s(", pref=")
			p.s(rtpref(p.pkt[cp+3]))
			p.s(", lifetime=")
			p.lifetime(p.be32(cp + 4))
		default:
			if p.o.Verbose <= 1 {
				p.hexOnly("\n\t  ", cp+2, olen*8-2)
				return true
			}
		}
		if p.jumped {
			return true
		}
		if p.o.Verbose > 1 {
			p.hexOnly("\n\t    ", cp+2, olen*8-2)
		}
		cp += olen * 8
		resid -= olen * 8
	}
	return true
}

// mldv2Query prints an MLDv2 query (mldv2_query_print).
func (p *printer) mldv2Query(off, length int) {
	if length < 28 {
		p.s(" [invalid len ")
		p.u(uint64(length))
		p.c(']')
		return
	}
	mrc := uint32(p.be16(off + 4))
	if p.jumped {
		return
	}
	mrt := mrc
	if mrc >= 32768 {
		mrt = ((mrc & 0x0fff) | 0x1000) << (((mrc & 0x7000) >> 12) + 3)
	}
	v := p.o.Verbose
	if v > 0 {
		p.s(" [max resp delay=")
		p.u(uint64(mrt))
		p.c(']')
	}
	if !p.check(off+8, 16) {
		return
	}
	p.s(" [gaddr ")
	p.ipv6(off + 8)
	if v > 0 {
		f := p.u8(off + 24)
		if p.jumped {
			return
		}
		if f&0x08 != 0 {
			p.s(" sflag")
		}
		if f&0x07 != 0 {
			p.s(" robustness=")
			p.u(uint64(f & 7))
		}
		q := uint32(p.u8(off + 25))
		if p.jumped {
			return
		}
		if q >= 128 {
			q = ((q & 0x0f) | 0x10) << (((q & 0x70) >> 4) + 3)
		}
		p.s(" qqi=")
		p.u(uint64(q))
	}
	n := int(p.be16(off + 26))
	if p.jumped {
		return
	}
	if n > 0 {
		switch {
		case length < 28+n*16:
			p.s(" [invalid number of sources]")
		case v > 1:
			p.s(" {")
			for i := 0; i < n; i++ {
				if !p.check(off+28+16*i, 16) {
					return
				}
				p.c(' ')
				p.ipv6(off + 28 + 16*i)
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

// mldv2Records prints the group records of an MLDv2 report under -v
// (the loop of mldv2_report_print).
func (p *printer) mldv2Records(off, length, ngroups int) {
	group := 8
	for i := 0; i < ngroups; i++ {
		if length < group+20 {
			p.s(" [invalid number of groups]")
			return
		}
		if !p.check(off+group+4, 16) {
			return
		}
		p.s(" [gaddr ")
		p.ipv6(off + group + 4)
		typ := p.u8(off + group)
		if p.jumped {
			return
		}
		p.c(' ')
		if n, ok := mldv2RecordTypes[typ]; ok {
			p.s(n)
		} else {
			p.s(" [v2-report-#")
			p.u(uint64(typ))
			p.c(']')
		}
		nsrcs := int(p.be16(off + group + 2))
		if p.jumped {
			return
		}
		if length < group+20+nsrcs*16 {
			p.s(" [invalid number of sources ")
			p.u(uint64(nsrcs))
			p.c(']')
			return
		}
		if p.o.Verbose == 1 {
			p.s(", ")
			p.u(uint64(nsrcs))
			p.s(" source(s)")
		} else {
			p.s(" {")
			for j := 0; j < nsrcs; j++ {
				if !p.check(off+group+20+16*j, 16) {
					return
				}
				p.c(' ')
				p.ipv6(off + group + 20 + 16*j)
			}
			p.s(" }")
		}
		group += 20 + nsrcs*16
		p.c(']')
	}
}
