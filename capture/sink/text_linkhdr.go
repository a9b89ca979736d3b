package sink

import "github.com/wringcap/wring/spec"

// Link types whose headers the printer does not decode but whose length
// it knows: -x/-X/-A (one x) dump what follows tcpdump's link-layer
// header, so the dump needs the length tcpdump's printer counts even
// where the printer prints the link type's name only.
const (
	ltDSABrcm        spec.LinkType = 281 // DSA_TAG_BRCM: a 4-byte tag after the addresses
	ltDSABrcmPrepend spec.LinkType = 282 // DSA_TAG_BRCM_PREPEND: a 4-byte tag before the frame
	ltDSA            spec.LinkType = 284 // DSA_TAG_DSA: a 4-byte tag after the addresses
	ltEDSA           spec.LinkType = 285 // DSA_TAG_EDSA: an 8-byte tag after the addresses
	ltIPNet          spec.LinkType = 226 // IPNET (Solaris): a 24-byte header
	ltIPoIB          spec.LinkType = 242 // IPOIB: a 44-byte header
	ltVSock          spec.LinkType = 271 // VSOCK: a 32-byte af_vsockmon header
	ltPKTAP          spec.LinkType = 258 // PKTAP (Apple)
	ltUser2          spec.LinkType = 149 // USER2, which tcpdump prints as PKTAP
)

// linkHdrLen returns the link-layer header length tcpdump's printer for lt
// counts (its ndo_ll_hdr_len), reading the bytes where the length depends
// on them; 0 where it is not known. It prints nothing.
func (p *printer) linkHdrLen(lt spec.LinkType, wirelen int) int {
	caplen := p.end
	fixed := func(n int) int {
		if caplen < n {
			return 0 // tcpdump's bounds check ends the packet's decoding
		}
		return n
	}
	switch lt {
	case spec.LinkSLIP:
		return fixed(16)
	case ltIPNet:
		return fixed(24)
	case ltIPoIB:
		return fixed(44)
	case ltVSock:
		return fixed(32)
	case spec.LinkATMRFC1483:
		return p.atmHdrLen(wirelen)
	case spec.LinkSunATM:
		if caplen < 5 {
			return 0 // the ATM printer reads past the header
		}
		return 4
	case ltDSABrcm, ltDSA:
		return fixed(18)
	case ltEDSA:
		return fixed(22)
	case ltDSABrcmPrepend:
		return fixed(18)
	case spec.LinkPPPHDLC:
		if caplen < 4 {
			return caplen
		}
		switch p.pkt[0] {
		case 0xff, 0x0f, 0x8f:
			return 4
		}
	case spec.LinkArcnetLinux:
		return p.arcnetLinuxHdrLen()
	case spec.LinkFrelay:
		return p.frelayHdrLen(wirelen)
	case spec.LinkNFLog:
		return p.nflogHdrLen()
	case ltPKTAP, ltUser2:
		return p.pktapHdrLen(wirelen)
	case spec.LinkIEEE802_11:
		return p.ieee80211HdrLen(0, wirelen, caplen, false, 0)
	case spec.LinkIEEE802_11Radio:
		return p.radiotapHdrLen(wirelen)
	}
	return 0
}

// arcnetLinuxHdrLen: a 5-byte header for the RFC 1051 protocol types and
// the diagnostic type, 8 bytes (with the RFC 1201 split flag and
// sequence) otherwise.
func (p *printer) arcnetLinuxHdrLen() int {
	caplen := p.end
	if caplen < 5 {
		return caplen
	}
	switch p.pkt[4] {
	case 0xf0, 0xf1, 0x80: // IP and ARP (RFC 1051), diagnostics
		return 5
	}
	return min(8, caplen)
}

// frelayHdrLen is the length of the Q.922 address and, for the NLPID
// encapsulation, the control byte, the optional pad and the NLPID; Cisco's
// EtherType encapsulation counts the address and the EtherType.
func (p *printer) frelayHdrLen(length int) int {
	caplen := p.end
	if caplen < 4 {
		return caplen
	}
	b := p.pkt
	if b[0]&1 != 0 {
		return 0 // an invalid address
	}
	if length < 2 {
		return 0
	}
	alen := 2
	dlci := uint32(b[0]&0xfc)<<2 | uint32(b[1]&0xf0)>>4
	if b[1]&1 == 0 {
		alen = 3
		if caplen < 3 || length < 3 {
			return 0
		}
		i := 2
		if b[2]&1 == 0 {
			dlci = dlci<<7 | uint32(b[2]>>1)
			alen, i = 4, 3
			if caplen < 4 || length < 4 {
				return 0
			}
		}
		if b[i]&1 == 0 {
			return 0 // more than four bytes of address
		}
		dlci = dlci<<6 | uint32(b[i]>>2)
	}
	if caplen < alen+1 || length < alen+1 {
		return 0
	}
	if b[alen] != 0x03 && dlci != 0 && caplen >= alen+2 && length >= alen+2 {
		// Cisco encapsulation: an EtherType follows the address.
		if _, ok := ethertypeNames[uint32(b[alen])<<8|uint32(b[alen+1])]; ok {
			return alen + 2
		}
	}
	if caplen < alen+2 || length < alen+2 {
		return 0
	}
	hdr := alen + 2
	if b[alen+1] == 0 {
		hdr++ // a pad byte
	}
	if caplen < hdr || length < hdr {
		return 0
	}
	// fr_print goes on with the NLPID; where what it does next reads past
	// the capture it longjmps, and tcpdump dumps from 0.
	rest, avail := length-hdr, caplen-hdr
	switch b[hdr-1] {
	case 0xb1: // FRF.15 (frf15_print): two bytes
		if rest >= 2 && avail < 2 {
			return 0
		}
	case 0x08:
		if p.q933Jumps(hdr, rest) {
			return 0
		}
	case 0xcc, 0x8e, 0x81, 0x82, 0x83, 0x80, 0xcf:
		// IP, IPv6, OSI, SNAP and PPP: not modelled.
	default:
		// An unknown NLPID: the rest is dumped in hex and ASCII unless
		// -x is given, and a dump past the capture longjmps.
		if !(p.o.Hex > 0 && !p.o.HexASCII) && rest > avail {
			return 0
		}
	}
	return hdr
}

// nflogHdrLen: the 4-byte NFLOG header and the TLVs up to and including
// the header of the payload TLV.
func (p *printer) nflogHdrLen() int {
	caplen := p.end
	if caplen < 4 {
		return caplen
	}
	off := 4
	for caplen-off >= 4 {
		n := int(p.pkt[off]) | int(p.pkt[off+1])<<8
		typ := int(p.pkt[off+2]) | int(p.pkt[off+3])<<8
		if typ == 9 { // NFULA_PAYLOAD
			return off + 4
		}
		if n < 4 {
			break
		}
		n = (n + 3) &^ 3
		if n > caplen-off {
			break
		}
		off += n
	}
	return off
}

// pktapHdrLen: the PKTAP header (its own length field) and the Ethernet
// header of the frame it wraps, which tcpdump 4.99 counts twice (once in
// the Ethernet printer, once in the PKTAP printer's sum).
func (p *printer) pktapHdrLen(length int) int {
	caplen := p.end
	if caplen < 4 {
		return caplen
	}
	hl := int(uint32(p.pkt[0]) | uint32(p.pkt[1])<<8 | uint32(p.pkt[2])<<16 | uint32(p.pkt[3])<<24)
	if hl < 108 {
		return 0 // invalid: tcpdump prints that and counts nothing
	}
	if caplen < hl || length < hl {
		return caplen
	}
	dlt := uint32(p.pkt[8]) | uint32(p.pkt[9])<<8 | uint32(p.pkt[10])<<16 | uint32(p.pkt[11])<<24
	if dlt == 1 && caplen-hl >= 14 {
		return hl + 2*14
	}
	return hl
}

// radiotapHdrLen: the radiotap header (its length field) and the 802.11
// header after it, with the FCS and data-pad flags the radiotap Flags
// field carries.
func (p *printer) radiotapHdrLen(length int) int {
	caplen := p.end
	if caplen < 8 {
		return caplen
	}
	b := p.pkt
	rlen := int(b[2]) | int(b[3])<<8
	if rlen < 8 || caplen < rlen {
		return caplen
	}
	// The presence words, each continuing while bit 31 is set.
	off := 4
	present := uint32(b[4]) | uint32(b[5])<<8 | uint32(b[6])<<16 | uint32(b[7])<<24
	for w := present; w&0x80000000 != 0; {
		off += 4
		if off+4 > rlen {
			return caplen
		}
		w = uint32(b[off]) | uint32(b[off+1])<<8 | uint32(b[off+2])<<16 | uint32(b[off+3])<<24
	}
	off += 4
	var flags byte
	if present&2 != 0 {
		if present&1 != 0 { // TSFT: 8 bytes aligned to 8
			off = (off+7)&^7 + 8
		}
		if off < rlen {
			flags = b[off]
		}
	}
	fcs := 0
	if flags&0x10 != 0 {
		fcs = 4
	}
	return rlen + p.ieee80211HdrLen(rlen, length-rlen, caplen-rlen, flags&0x20 != 0, fcs)
}

// ieee80211HdrLen is tcpdump's 802.11 header length for the frame at off:
// the MAC header (padded to four bytes with pad) and, for unprotected
// data frames, the LLC (and SNAP) header.
func (p *printer) ieee80211HdrLen(off, length, caplen int, pad bool, fcs int) int {
	orig := caplen
	if length < fcs {
		return caplen
	}
	length -= fcs
	if caplen > length {
		caplen = length
	}
	if caplen < 2 {
		return orig
	}
	fc := uint16(p.pkt[off]) | uint16(p.pkt[off+1])<<8
	typ, sub := (fc>>2)&3, (fc>>4)&0xf
	hdr := 0
	switch typ {
	case 0:
		hdr = 24
	case 1:
		switch sub {
		case 0x7, 0x9, 0xa, 0xb, 0xe, 0xf:
			hdr = 16
		case 0x8:
			hdr = 20
		case 0xc, 0xd:
			hdr = 10
		default:
			return 0
		}
	case 2:
		hdr = 24
		if fc&0x0300 == 0x0300 {
			hdr = 30
		}
		if sub&0x08 != 0 {
			hdr += 2
		}
	default:
		return 0
	}
	if pad {
		hdr = (hdr + 3) &^ 3
	}
	if caplen < hdr || typ != 2 || sub&0x04 != 0 || fc&0x4000 != 0 {
		return hdr
	}
	saved := p.end
	p.end = off + caplen
	n := p.llcLen(off+hdr, length-hdr, caplen-hdr)
	p.end = saved
	return hdr + n
}

// llcLen is the header length llc returns, computed without printing.
func (p *printer) llcLen(off, length, caplen int) int {
	if caplen < 3 || length < 3 {
		return min(caplen, length)
	}
	b := p.pkt[off:p.end]
	hdr := 3
	if b[2]&3 != 3 {
		if caplen < 4 || length < 4 {
			return min(caplen, length)
		}
		hdr = 4
	}
	switch {
	case b[0] == 0xff && b[1] == 0xff:
		return 0
	case b[0]&^1 == 0xaa && b[1]&^1 == 0xaa && hdr == 3 && b[2] == 0x03:
		return hdr + 5
	}
	return hdr
}

// tcpdumpPrintsLinkType reports whether tcpdump 4.99 has a printer for
// the link type (print.c's printers table, in file link-type numbers:
// libpcap maps 100-103 and 106 to the DLT values the table names).
func tcpdumpPrintsLinkType(lt spec.LinkType) bool {
	switch {
	case lt <= 12 && lt != 2 && lt != 3 && lt != 4 && lt != 5,
		lt >= 99 && lt <= 109, lt >= 112 && lt <= 114, lt >= 129 && lt <= 138,
		lt >= 178 && lt <= 182, lt >= 166 && lt <= 168, lt >= 228 && lt <= 230,
		lt >= 239 && lt <= 242, lt >= 281 && lt <= 285:
		return true
	}
	switch lt {
	case 15, 16, 19, 50, 51, 117, 119, 122, 123, 127, 149, 163, 164, 189, 192, 195, 201, 220, 226, 258, 271, 276:
		return true
	}
	return false
}

// q933Jumps reports whether q933_print's reads of the Q.933 message of
// length bytes at off run past the capture: its header is read with
// checks that stop without a jump, except for one byte after the message
// type (and any shift) when the call reference is one byte long. The
// information elements after it are not modelled.
func (p *printer) q933Jumps(off, length int) bool {
	if length == 0 || !p.has(off, 1) {
		return false
	}
	crl := int(p.pkt[off] & 0x0f)
	off++
	length--
	for i := 0; i < crl; i++ {
		if length == 0 || !p.has(off, 1) {
			return false
		}
		off++
		length--
	}
	if length == 0 || !p.has(off, 1) {
		return false
	}
	off++ // the message type
	length--
	if length != 0 {
		if !p.has(off, 1) {
			return false
		}
		if p.pkt[off]&0xf0 == 0x90 { // a shift
			off++
		}
	}
	return crl == 1 && !p.has(off, 1)
}
