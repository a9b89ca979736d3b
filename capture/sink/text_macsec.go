package sink

// IEEE 802.1AE SecTAG fields (tcpdump's print-macsec.c).
const (
	macsecTCIVersion = 0x80
	macsecTCISC      = 0x20 // a secure channel identifier follows
	macsecTCIConfid  = 0x0c // E or C: the payload is encrypted or changed
	macsecShortMask  = 0x3f
	macsecICVLen     = 16
)

// macsec handles the SecTAG at *q of the Ethernet frame at src
// (macsec_print). With more true the payload's EtherType follows at *q,
// the lengths and the snapshot end cut to the payload; otherwise tcpdump
// stops here and n is its link-header length.
func (p *printer) macsec(src int, q, length, caplen, hdrlen *int) (n int, more bool) {
	saved := p.proto
	p.proto = "macsec"
	defer func() { p.proto = saved }()
	whole := *hdrlen + *caplen
	if *caplen < 6 || *length < 6 {
		p.trunc()
		return whole, false
	}
	tci := p.u8(*q)
	tagLen := 6
	if tci&macsecTCISC != 0 {
		tagLen = 14
		if *caplen < 14 || *length < 14 {
			p.trunc()
			return whole, false
		}
	}
	short := p.u8(*q + 1)
	if short&^macsecShortMask != 0 || tci&macsecTCIVersion != 0 {
		p.s(" (invalid)")
		return whole, false
	}
	short &= macsecShortMask
	if p.o.LinkHeader {
		p.macsecHeader(*q, tci, short)
	}
	tag := *q
	*q += tagLen
	*hdrlen += tagLen
	*length -= tagLen
	*caplen -= tagLen
	if tci&macsecTCIConfid != 0 {
		if !p.o.LinkHeader {
			p.mac(src+6, 6)
			p.s(" > ")
			p.mac(src, 6)
			p.s(" 802.1AE MACsec, ")
			p.macsecHeader(tag, tci, short)
		}
		p.defaultPrint(*q, *caplen)
		return *hdrlen, false
	}
	if *length < macsecICVLen || *caplen < macsecICVLen {
		p.trunc()
		return whole, false
	}
	*length -= macsecICVLen
	*caplen -= macsecICVLen
	p.end -= macsecICVLen
	if short != 0 {
		if int(short) > *length || int(short) > *caplen {
			p.trunc()
			return whole, false
		}
		*length = min(*length, int(short))
		*caplen = min(*caplen, int(short))
	}
	return 0, true
}

// macsecFlags are the TCI flags in tcpdump's order.
var macsecFlags = [...]struct {
	bit  uint8
	name byte
}{{0x08, 'E'}, {0x04, 'C'}, {0x40, 'S'}, {0x10, 'B'}, {0x20, 'I'}}

// macsecHeader prints the SecTAG at off (macsec_print_header).
func (p *printer) macsecHeader(off int, tci, short uint8) {
	p.s("an ")
	p.u(uint64(tci & 3))
	p.s(", pn ")
	p.u(uint64(p.be32(off + 2)))
	p.s(", flags ")
	none := true
	for _, f := range macsecFlags {
		if tci&f.bit != 0 {
			p.c(f.name)
			none = false
		}
	}
	if none {
		p.s("none")
	}
	if short != 0 {
		p.s(", sl ")
		p.u(uint64(short))
	}
	if tci&macsecTCISC != 0 {
		p.s(", sci ")
		p.hexN(uint64(p.be32(off+6))<<32|uint64(p.be32(off+10)), 16)
	}
	p.s(", ")
}

// aristaLen returns the length of the Arista vendor header at off that
// tcpdump skips before the EtherType it carries, or 0 for one it does not
// know (arista_ethertype_print); a read past the capture jumps.
func (p *printer) aristaLen(off int) int {
	saved := p.proto
	p.proto = "arista"
	defer func() { p.proto = saved }()
	if p.be16(off) != 1 { // not the timestamp subtype
		return 0
	}
	p.u8(off + 2)
	switch p.u8(off+3) >> 4 {
	case 1: // 64-bit: seconds and nanoseconds
		p.be32(off + 4)
		p.be32(off + 8)
		return 12
	case 2: // 48-bit
		p.be16(off + 4)
		p.be32(off + 6)
		return 10
	}
	return 0
}
