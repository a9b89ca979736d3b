package sink

var mplsLabelNames = [16]string{"IPv4 explicit NULL", "router alert", "IPv6 explicit NULL", "implicit NULL",
	"rsvd", "rsvd", "rsvd", "rsvd", "rsvd", "rsvd", "rsvd", "rsvd", "rsvd", "rsvd", "rsvd", "rsvd"}

// mpls decodes an MPLS label stack at off and what it carries, guessed
// from the last label or the first byte as tcpdump guesses (mpls_print).
func (p *printer) mpls(off, length int) {
	p.proto = "mpls"
	p.s("MPLS")
	var e uint32
	for depth := 0; ; depth++ {
		if length < 4 {
			p.s(" (invalid)")
			p.check(off, length)
			return
		}
		e = p.be32(off)
		if p.jumped {
			return
		}
		if depth > 0 && p.o.Verbose > 0 {
			p.s("\n\t(label ")
		} else {
			p.s(" (label ")
		}
		label := e >> 12
		p.u(uint64(label))
		if p.o.Verbose > 0 && label < 16 {
			p.s(" (")
			p.s(mplsLabelNames[label])
			p.c(')')
		}
		p.s(", tc ")
		p.u(uint64(e >> 9 & 7))
		if e&0x100 != 0 {
			p.s(", [S]")
		}
		p.s(", ttl ")
		p.u(uint64(e & 0xff))
		p.c(')')
		off += 4
		length -= 4
		if e&0x100 != 0 {
			break
		}
	}
	const (
		unknown = iota
		v4
		v6
		osi
	)
	pt := unknown
	switch e >> 12 {
	case 0, 3:
		pt = v4
	case 2:
		pt = v6
	default:
		if length < 1 {
			return
		}
		switch first := p.u8(off); {
		case first >= 0x45 && first <= 0x4f:
			pt = v4
		case first >= 0x60 && first <= 0x6f:
			pt = v6
		case first >= 0x81 && first <= 0x83:
			pt = osi
		}
	}
	if pt == unknown {
		p.defaultPrint(off, min(length, max(p.end-off, 0)))
		return
	}
	if p.o.Verbose > 0 {
		p.s("\n\t")
	} else {
		p.c(' ')
	}
	switch pt {
	case v4:
		p.ip(off, length)
	case v6:
		p.ip6(off, length)
	default:
		p.skip("OSI over MPLS")
	}
}
