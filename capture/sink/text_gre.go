package sink

var greFlags = [...]struct {
	bit  uint16
	name string
}{{0x8000, "checksum present"}, {0x4000, "routing present"}, {0x2000, "key present"},
	{0x1000, "sequence# present"}, {0x0800, "source routing present"}, {0x0080, "ack present"}}

// gre decodes a GRE header at off (gre_print); version 0 with its common
// fields and the payloads decoded here, version 1 (PPTP) not.
func (p *printer) gre(off, length int) {
	p.proto = "gre"
	if !p.has(off, 2) || length < 2 {
		p.trunc()
		return
	}
	flags := p.be16(off)
	vers := flags & 7
	p.s("GREv")
	p.u(uint64(vers))
	switch vers {
	case 0:
	case 1:
		p.skip("GRE version 1")
		return
	default:
		p.s(" ERROR: unknown-version")
		return
	}
	if p.o.Verbose > 0 {
		p.s(", Flags [")
		sep := ""
		for _, f := range greFlags {
			if flags&f.bit != 0 {
				p.s(sep)
				p.s(f.name)
				sep = ", "
			}
		}
		if sep == "" {
			p.s("none")
		}
		p.c(']')
	}
	bp, ln := off+2, length-2
	need := func(n int) bool {
		if !p.has(bp, n) || ln < n {
			p.trunc()
			return false
		}
		return true
	}
	if !need(2) {
		return
	}
	prot := p.be16(bp)
	bp, ln = bp+2, ln-2
	if flags&0xc000 != 0 {
		if !need(2) {
			return
		}
		if p.o.Verbose > 0 {
			p.s(", sum 0x")
			p.hexN(uint64(p.be16(bp)), 1)
		}
		bp, ln = bp+2, ln-2
		if !need(2) {
			return
		}
		p.s(", off 0x")
		p.hexN(uint64(p.be16(bp)), 1)
		bp, ln = bp+2, ln-2
	}
	if flags&0x2000 != 0 {
		if !need(4) {
			return
		}
		p.s(", key=0x")
		p.hexN(uint64(p.be32(bp)), 1)
		bp, ln = bp+4, ln-4
	}
	if flags&0x1000 != 0 {
		if !need(4) {
			return
		}
		p.s(", seq ")
		p.u(uint64(p.be32(bp)))
		bp, ln = bp+4, ln-4
	}
	if flags&0x4000 != 0 {
		p.skip("GRE source routes")
		return
	}
	if p.o.LinkHeader {
		p.s(", proto ")
		if n, ok := ethertypeNames[uint32(prot)]; ok {
			p.s(n)
		} else {
			p.s("unknown")
		}
		p.s(" (0x")
		p.hexN(uint64(prot), 4)
		p.c(')')
	}
	p.s(", length ")
	p.u(uint64(length))
	if p.o.Verbose < 1 {
		p.s(": ")
	} else {
		p.s("\n\t")
	}
	switch prot {
	case 0x0800:
		p.ip(bp, ln)
	case 0x86dd:
		p.ip6(bp, ln)
	case 0x6558:
		p.proto = "ether"
		p.ether(bp, ln, max(p.end-bp, 0))
	case 0x8847:
		p.mpls(bp, ln)
	case 0x8137, 0x809b, 0x00fe:
		p.skip("GRE payload")
	default:
		p.s("gre-proto-0x")
		p.hexN(uint64(prot), 1)
	}
}
