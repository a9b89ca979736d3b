package sink

import "github.com/wringcap/wring/spec"

// ltMFR is DLT_MFR: multilink frame relay (FRF.16).
const ltMFR spec.LinkType = 182

// frelay decodes a frame relay frame as tcpdump's fr_print does where its
// NLPID is one tcpdump does not decode either: the Q.922 header line and
// the payload's bytes, which fr_print dumps itself unless -x is given. It
// reports false, having printed nothing, for every other frame.
func (p *printer) frelay(length int) (hdrlen int, ok bool) {
	if p.o.LinkHeader || p.o.Quiet {
		return 0, false
	}
	b, caplen := p.pkt, p.end
	if caplen < 4 {
		return 0, false
	}
	// parse_q922_header; the frame is at least four bytes.
	if b[0]&1 != 0 {
		return 0, false
	}
	addrLen := 2
	dlci := uint32(b[0]&0xfc)<<2 | uint32(b[1]&0xf0)>>4
	flags := uint32(b[0]&0x02)<<24 | uint32(b[1]&0x0e)<<16
	if b[1]&1 == 0 {
		addrLen = 3
		i := 2
		if b[2]&1 == 0 {
			dlci = dlci<<7 | uint32(b[2]>>1)
			addrLen, i = 4, 3
		}
		if b[i]&1 == 0 {
			return 0, false
		}
		flags |= uint32(b[i] & 0x02)
		dlci = dlci<<6 | uint32(b[i]>>2)
	}
	if length < addrLen+2 || caplen < addrLen+2 {
		return 0, false
	}
	mark := len(p.b)
	if b[addrLen] != 0x03 && dlci != 0 {
		if etherTypePrinted(uint16(b[addrLen])<<8 | uint16(b[addrLen+1])) {
			return 0, false // a Cisco EtherType: not reproduced
		}
		p.s("UI ")
		p.hexN(uint64(b[addrLen]), 2)
		p.s("! ")
	}
	hdr := addrLen + 2
	if b[addrLen+1] == 0 {
		if addrLen != 3 {
			p.s("Pad! ")
		}
		hdr++
	} else if addrLen == 3 {
		p.s("No pad! ")
	}
	if caplen < hdr || length < hdr {
		p.b = p.b[:mark]
		return 0, false
	}
	nlpid := b[hdr-1]
	switch nlpid {
	case 0xcc, 0x8e, 0x81, 0x82, 0x83, 0x80, 0x08, 0xb1, 0xcf:
		p.b = p.b[:mark]
		return 0, false
	}
	p.s("Q.922, hdr-len ")
	p.u(uint64(addrLen))
	p.s(", DLCI ")
	p.u(uint64(dlci))
	p.s(", Flags [")
	none := true
	for _, f := range frFlags {
		if flags&f.bit != 0 {
			if !none {
				p.s(", ")
			}
			p.s(f.name)
			none = false
		}
	}
	if none {
		p.s("none")
	}
	p.s("], NLPID ")
	p.s(nlpidName(nlpid))
	p.s(" (0x")
	p.hexN(uint64(nlpid), 2)
	p.s("), length ")
	p.u(uint64(length))
	p.s(": ")
	if !(p.o.Hex > 0 && !p.o.HexASCII) {
		// ND_DEFAULTPRINT, suppressed by -x only; a dump past the
		// capture longjmps.
		saved := p.proto
		p.proto = "fr"
		p.hexASCII("\n\t", hdr, length-hdr)
		if !p.jumped {
			p.proto = saved
		}
	}
	return hdr, true
}

// frFlags are the Q.922 flags in tcpdump's order (fr_header_flag_values).
var frFlags = [...]struct {
	bit  uint32
	name string
}{{0x02000000, "C!"}, {0x00020000, "DE"}, {0x00040000, "BECN"}, {0x00080000, "FECN"}, {0x00000002, "sdlcore"}}

// nlpidName is tok2str(nlpid_values, "unknown", nlpid).
func nlpidName(n uint8) string {
	switch n {
	case 0x00:
		return "NULL"
	case 0x08:
		return "Q.933"
	case 0x09:
		return "LMI"
	case 0x80:
		return "SNAP"
	case 0x81:
		return "CLNP"
	case 0x82:
		return "ES-IS"
	case 0x83:
		return "IS-IS"
	case 0x84:
		return "CONS"
	case 0x85:
		return "IDRP"
	case 0xc1:
		return "ISIS_SPB"
	case 0xb1:
		return "FRF.15"
	case 0xcc:
		return "IPv4"
	case 0xcf:
		return "PPP"
	case 0x8a:
		return "X25 ES-IS"
	case 0x8e:
		return "IPv6"
	}
	return "unknown"
}

// etherTypePrinted reports whether tcpdump's ethertype_print decodes t
// (its switch's cases).
func etherTypePrinted(t uint16) bool {
	switch t {
	case 0x80f3, 0x88a2, 0x0806, 0x809b, 0x1111, 0x8902, 0xabcd, 0x6003, 0x888e, 0x8947, 0x0707, 0x893a,
		0x0800, 0x86dd, 0x8137, 0xfefe, 0x6004, 0x88cc, 0x9000, 0x6001, 0x6002, 0x8808, 0x8847, 0x8848,
		0x886f, 0x894f, 0x880b, 0x8863, 0x3c12, 0x8864, 0x3c13, 0x88f7, 0x8899, 0x8035, 0x6007, 0x8809, 0x88ca:
		return true
	}
	return false
}

// mfr decodes an FRF.16 frame (mfr_if_print and mfr_print) as far as its
// own header: a control message's type (its -v elements are not decoded)
// or a fragment's sequence and flags (the frame relay frame a first
// fragment carries is not decoded). It returns tcpdump's header length,
// or 0 where that is not known.
func (p *printer) mfr(length int) int {
	p.proto = "mfr"
	if p.end < 2 {
		p.trunc()
		return p.end
	}
	if length < 4 {
		p.s("[length ")
		p.u(uint64(length))
		p.s(" < 4] (invalid)")
		return length
	}
	if p.end < 4 {
		p.trunc()
		return length
	}
	b0, b1 := p.pkt[0], p.pkt[1]
	flags := func() {
		p.s("Flags [")
		none := true
		for _, f := range [...]struct {
			bit  uint8
			name string
		}{{0x80, "Begin"}, {0x40, "End"}, {0x20, "Control"}} {
			if b0&f.bit != 0 {
				if !none {
					p.s(", ")
				}
				p.s(f.name)
				none = false
			}
		}
		if none {
			p.s("none")
		}
		p.c(']')
	}
	if b0&0xe0 == 0xe0 && b1 == 0 {
		p.s("FRF.16 Control, ")
		flags()
		p.s(", ")
		if m := p.pkt[2]; m >= 1 && m <= 7 {
			p.s(mfrMessages[m-1])
		} else {
			p.s("Unknown Message (0x")
			p.hexN(uint64(m), 2)
			p.c(')')
		}
		p.s(", length ")
		p.u(uint64(length))
		if p.o.Verbose > 0 {
			p.skip("link type")
		}
		return 3
	}
	p.s("FRF.16 Frag, seq ")
	p.u(uint64(b0&0x1e)<<7 | uint64(b1))
	p.s(", ")
	flags()
	if b0&0xe0 == 0xc0 || b0&0xe0 == 0x80 {
		// A first fragment: a frame relay frame follows, which is not
		// decoded. tcpdump's header length is 2 unless that frame's
		// decoding runs out of captured bytes, which its reads replay
		// tells. Where the frame carries a protocol whose decoder is not
		// modelled, the whole frame is dumped, as for a link type that
		// is not decoded.
		p.s(", ")
		p.skip("link type")
		if !p.frReads(2, uint32(length)-2) {
			return 0
		}
		return 2
	}
	p.unknownData("\n\t", 0, length)
	return 0
}

// mfrMessages are FRF.16's control message types 1 to 7.
var mfrMessages = [...]string{"Add Link", "Add Link ACK", "Add Link Reject", "Hello", "Hello ACK", "Remove Link", "Remove Link ACK"}
