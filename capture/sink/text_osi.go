package sink

// Read replays (see text_reads.go) for OSI, PPP, frame relay and ATM
// LLC: where tcpdump's decoders for these run out of captured bytes, and
// so where its -x/-X/-A dump starts. print-isoclns.c, print-ppp.c,
// print-fr.c and print-llc.c bound their reads with ND_TCHECK, which in
// those files ends the decoding without a jump; only their GET_ reads
// (u8/be16 here) and the decoders they call jump.

// isoclnsReads replays isoclns_print for the NLPID at off with length
// bytes (tcpdump's u_int) where this printer does not decode what
// follows: PPP (ppp_print) is followed, and OSI inside PPP again. IS-IS
// without -v reads only what its own checks found captured and cannot
// jump; its -v TLVs, CLNP, ES-IS and Q.933 are not modelled.
func (p *printer) isoclnsReads(off int, length uint32) {
	for !p.jumped {
		p.proto = "isoclns"
		nlpid := p.u8(off)
		if p.jumped || nlpid != 0xcf { // NLPID_PPP
			return
		}
		next, rest, proto, ok := p.pppReads(off+1, length-1)
		if !ok || proto != 0x0023 { // PPP_OSI
			return
		}
		off, length = next, rest
	}
}

// pppReads replays ppp_print's header reads for a PPP frame at off with
// length bytes: the optional address and control bytes and the protocol
// field, one byte when its low bit is set. It returns where the payload
// starts, its length and the protocol; ok is false where ppp_print ends
// (a short frame is marked truncated without a jump) or handle_ppp is
// not reached.
func (p *printer) pppReads(off int, length uint32) (next int, rest uint32, proto uint16, ok bool) {
	p.proto = "ppp"
	if length < 2 {
		return 0, 0, 0, false
	}
	switch p.be16(off) {
	case 0x0003, 0x0103, 0xff03: // PPPD in, PPPD out, address and control
		off += 2
		length -= 2
	}
	if p.jumped || length < 2 {
		return 0, 0, 0, false
	}
	if b := p.u8(off); b&1 != 0 {
		proto = uint16(b)
		off++
		length--
	} else {
		proto = p.be16(off)
		off += 2
		length -= 2
	}
	if p.jumped || proto&0xff00 == 0x7e00 { // an HDLC escape: ppp_hdlc, not modelled
		return 0, 0, 0, false
	}
	// With -e a protocol ppptype2str does not name ends the frame; PPP_OSI
	// is named, and no other protocol is followed here.
	return off, length, proto, true
}

// quietly runs decode for its reads alone: the text it appends is
// dropped, a jump it makes is kept.
func (p *printer) quietly(decode func(p *printer, off, length int), off, length int) {
	mark, saved := len(p.b), p.proto
	decode(p, off, length)
	p.b = p.b[:mark]
	if !p.jumped {
		p.proto = saved
	}
}

// frReads replays fr_print for a frame relay frame at off with length
// bytes (what an FRF.16 first fragment carries): the Q.922 address, the
// control byte, the pad and the NLPID, then the decoders this printer
// has for what follows (IPv4, IPv6, Cisco's EtherType encapsulation, OSI
// and PPP) and the raw dump of an unknown NLPID. SNAP, Q.933 and FRF.15
// are not modelled: for them modelled is false.
func (p *printer) frReads(off int, length uint32) (modelled bool) {
	p.proto = "fr"
	addrLen, dlci, ok := p.q922(off, length)
	if !ok {
		return true
	}
	a := off + addrLen
	if !p.has(a, 1) || length < uint32(addrLen)+1 {
		return true
	}
	if p.pkt[a] != 0x03 && dlci != 0 && p.has(a, 2) && length >= uint32(addrLen)+2 {
		if et := p.be16(a); etherTypePrinted(et) {
			mark, saved := len(p.b), p.proto
			p.etherTypeBody(et, a+2, int(length)-addrLen-2, p.end-a-2)
			p.b = p.b[:mark]
			if !p.jumped {
				p.proto = saved
			}
			return true
		}
	}
	if !p.has(a+1, 1) || length < uint32(addrLen)+2 {
		return true
	}
	hdr := addrLen + 2
	if p.pkt[a+1] == 0 {
		hdr++ // a pad byte after the control byte
	}
	if !p.has(off+hdr-1, 1) || length < uint32(hdr) {
		return true
	}
	q, rest := off+hdr, int(length)-hdr
	switch p.pkt[off+hdr-1] {
	case 0xcc: // NLPID_IP
		p.quietly((*printer).ip, q, rest)
	case 0x8e: // NLPID_IP6
		p.quietly((*printer).ip6, q, rest)
	case 0x81, 0x82, 0x83: // CLNP, ES-IS, IS-IS: the NLPID is theirs
		p.isoclnsReads(q-1, uint32(rest)+1)
	case 0xcf: // NLPID_PPP
		if next, n, proto, ok := p.pppReads(q, uint32(rest)); ok && proto == 0x0023 {
			p.isoclnsReads(next, n)
		}
	case 0x80, 0x08, 0xb1: // SNAP, Q.933, FRF.15
		return false
	default:
		// ND_DEFAULTPRINT unless -x: a dump past the capture jumps.
		if !(p.o.Hex > 0 && !p.o.HexASCII) && !p.has(q, rest) {
			p.jump()
		}
	}
	return true
}

// q922 parses a Q.922 address at off as parse_q922_header does, which
// reads only bytes it found captured: ok is false for an invalid or a
// truncated address.
func (p *printer) q922(off int, length uint32) (addrLen int, dlci uint32, ok bool) {
	if !p.has(off, 2) || length < 2 || p.pkt[off]&1 != 0 {
		return 0, 0, false
	}
	b0, b1 := p.pkt[off], p.pkt[off+1]
	dlci = uint32(b0&0xfc)<<2 | uint32(b1&0xf0)>>4
	if b1&1 != 0 {
		return 2, dlci, true
	}
	q, rest := off+2, length-2
	if !p.has(q, 1) || rest < 1 {
		return 0, 0, false
	}
	addrLen = 3
	if p.pkt[q]&1 == 0 {
		dlci = dlci<<7 | uint32(p.pkt[q]>>1)
		addrLen = 4
		q++
		rest--
	}
	if !p.has(q, 1) || rest < 1 || p.pkt[q]&1 == 0 {
		return 0, 0, false
	}
	return addrLen, dlci<<6 | uint32(p.pkt[q]>>2), true
}

// atmHdrLen replays atm_if_print and returns the link-layer header
// length it counts: one byte before a Cisco-style NLPID, else the LLC
// header llc_print counts after a 20-byte 802.6 header where the frame
// does not start with one of the three LLC headers atm_if_print knows.
func (p *printer) atmHdrLen(length int) int {
	p.proto = "atm"
	if p.u8(0) == 0x03 && !p.jumped { // LLC_UI: Cisco-style NLPID
		p.isoclnsReads(1, uint32(length)-1)
		return 1
	}
	if !p.check(0, 3) {
		return 0
	}
	hdr, caplen := 0, p.end
	switch uint32(p.pkt[0])<<16 | uint32(p.pkt[1])<<8 | uint32(p.pkt[2]) {
	case 0xaaaa03, 0xfefe03, 0x060603: // SNAP, ISO NS, IP
	default:
		// An 802.6 MAC header; with -e its first sixteen bytes are
		// printed.
		if p.o.LinkHeader && !p.check(0, 16) {
			return 0
		}
		if !p.check(0, 20) {
			return 0
		}
		hdr, length, caplen = 20, length-20, caplen-20
	}
	return hdr + p.llcReads(hdr, length, caplen)
}

// llcReads replays llc_print for an LLC header at off and returns the
// header length it counts (atm_llc_print's, which takes the magnitude of
// a negative one). SNAP is followed as far as its own check, IPv4 and
// OSI into their decoders; the other SAPs' decoders (STP, IPX, NetBEUI)
// are not modelled.
func (p *printer) llcReads(off, length, caplen int) int {
	p.proto = "llc"
	switch {
	case caplen < 3:
		return caplen
	case length < 3:
		return length
	}
	dsapField, ssapField, control := p.pkt[off], p.pkt[off+1], uint16(p.pkt[off+2])
	hdr := 3
	if control&3 != 3 {
		switch {
		case caplen < 4:
			return caplen
		case length < 4:
			return length
		}
		control = uint16(p.pkt[off+2]) | uint16(p.pkt[off+3])<<8
		hdr = 4
	}
	if dsapField == 0xff && ssapField == 0xff {
		return 0 // Novell's raw 802.3 IPX: no LLC header
	}
	dsap, ssap := dsapField&^1, ssapField&^1
	q, rest := off+hdr, length-hdr
	if control == 0x03 && dsap == ssap {
		switch dsap {
		case 0xaa: // SNAP: its five bytes checked without a jump
			return hdr + 5
		case 0x06: // IP
			p.quietly((*printer).ip, q, rest)
		case 0xfe: // ISO network layer
			p.isoclnsReads(q, uint32(rest))
		}
	}
	// The rest of llc_print reads only bytes it checked: an XID's format
	// identifier and its two bytes after caplen and length checks.
	return hdr
}
