package sink

// slowPrint decodes IEEE 802.3 Slow Protocols at off as tcpdump does
// without -v (slow_print): the subtype, its version and the length, and
// the bytes of a subtype tcpdump does not know. The -v details are not
// decoded.
func (p *printer) slowPrint(off, length int) {
	saved := p.proto
	p.proto = "slow"
	defer func() {
		if !p.jumped {
			p.proto = saved
		}
	}()
	tooShort := func() {
		if p.o.Verbose == 0 {
			p.s(" (packet is too short)")
		} else {
			p.s("\n\t\t packet is too short")
		}
	}
	if length < 1 {
		tooShort()
		return
	}
	sub := p.u8(off)
	name := ""
	switch sub {
	case 1:
		name = "LACP"
	case 2:
		name = "MARKER"
	case 3:
		name = "OAM"
	}
	switch sub {
	case 1, 2:
		if length < 2 {
			tooShort()
			return
		}
		if v := p.u8(off + 1); v != 1 {
			p.s(name)
			p.s(" version ")
			p.u(uint64(v))
			p.s(" packet not supported")
			return
		}
		p.s(name)
		p.s("v1")
	case 3:
		p.s(name)
	default:
		p.s("unknown (")
		p.u(uint64(sub))
		p.c(')')
	}
	p.s(", length ")
	p.u(uint64(length))
	if name == "" {
		p.unknownData("\n\t", off, length)
		return
	}
	if p.o.Verbose > 0 {
		p.skip("ethertype")
	}
}

// unknownData prints up to n bytes at off in hex, as many as are
// captured (print_unknown_data: printed even with -x).
func (p *printer) unknownData(ident string, off, n int) {
	if off > p.end {
		p.s(ident)
		p.s("Dissector error: print_unknown_data called with pointer past end of packet")
		return
	}
	p.hexOnly(ident, off, min(n, p.end-off))
}
