package sink

import "github.com/wringcap/wring/spec"

// Where tcpdump's -x/-X/-A dump starts depends on how its decoders end:
// one that reads past the captured bytes longjmps, and tcpdump then dumps
// the whole packet instead of what follows the link header. For protocols
// this printer does not decode, the functions here replay only the reads
// tcpdump's decoder makes (its GET_ macros and the checks that longjmp)
// through u8/be16/be32/check, so a read past the snapshot end jumps here
// as it does there. They print nothing; a protocol or message type with
// no model is taken to end without a jump.

// udpDecoder is one entry of tcpdump's UDP port dispatch (udp_print):
// the first entry whose ports match decodes the payload.
type udpDecoder struct {
	src, dst []uint16 // ports matched as source or destination
	dstOnly  []uint16 // ports matched as destination only
	lo, hi   uint16   // a port range matched either way (hi 0: none)
	proto    string   // ndo_protocol while it decodes
	reads    func(p *printer, cp, length int)
}

func (d *udpDecoder) match(sport, dport uint16) bool {
	for _, x := range d.src {
		if sport == x || dport == x {
			return true
		}
	}
	for _, x := range d.dstOnly {
		if dport == x {
			return true
		}
	}
	return d.hi != 0 && ((sport >= d.lo && sport <= d.hi) || (dport >= d.lo && dport <= d.hi))
}

// udpDecoders follows udp_print's order up to the last modelled protocol,
// so a port that an earlier decoder takes is not given to a later one.
var udpDecoders = [...]udpDecoder{
	{src: []uint16{525}, proto: "timed", reads: (*printer).timedReads},
	{src: []uint16{69}},
	{src: []uint16{67, 68}},
	{src: []uint16{520}},
	{src: []uint16{654}},
	{src: []uint16{500}},
	{src: []uint16{4500}},
	{src: []uint16{7500, 8500}},
	{src: []uint16{161, 162}},
	{src: []uint16{123}},
	{src: []uint16{88, 750}, proto: "krb", reads: (*printer).krbReads},
	{src: []uint16{1701}, proto: "l2tp", reads: (*printer).l2tpReads},
	{src: []uint16{137}},
	{src: []uint16{138}},
	{dstOnly: []uint16{3456}},
	{src: []uint16{2103, 2104}, proto: "zephyr", reads: (*printer).zephyrReads},
	{lo: 7000, hi: 7009, proto: "rx", reads: (*printer).rxReads},
	{src: []uint16{521}},
	{src: []uint16{546, 547}},
	{src: []uint16{5359}},
	{src: []uint16{6696, 6697}},
	{src: []uint16{8231}},
	{dstOnly: []uint16{4567}, proto: "wb", reads: (*printer).wbReads},
	{src: []uint16{496}, proto: "cisco_autorp", reads: (*printer).autorpReads},
	{src: []uint16{1645, 1812, 1646, 1813, 1700, 3799}},
	{dstOnly: []uint16{1985}},
	{src: []uint16{921}},
	{src: []uint16{646}},
	{src: []uint16{698}},
	{src: []uint16{3503}, proto: "lspping", reads: (*printer).lsppingReads},
}

// udpPayloadReads replays the reads of tcpdump's decoder for a UDP
// payload of length bytes at cp between these ports, in the IP header at
// ipOff.
func (p *printer) udpPayloadReads(cp, length int, sport, dport uint16, ipOff int) {
	p.rd.sport, p.rd.dport, p.rd.ipOff = sport, dport, ipOff
	for i := range udpDecoders {
		d := &udpDecoders[i]
		if !d.match(sport, dport) {
			continue
		}
		if d.reads != nil {
			saved := p.proto
			p.proto = d.proto
			d.reads(p, cp, length)
			p.proto = saved
		}
		return
	}
}

// cstring skips a NUL-terminated string at s read up to the snapshot end
// without a jump (krb's c_print): ok is false when no NUL is captured.
func (p *printer) cstring(s int) (next int, ok bool) {
	for ; s >= 0 && s < p.end; s++ {
		if p.pkt[s] == 0 {
			return s + 1, true
		}
	}
	return 0, false
}

// printjnp reads a string of at most n bytes at s up to its NUL, each
// byte with a jumping read (nd_printjnp).
func (p *printer) printjnp(s, n int) {
	for ; n > 0 && !p.jumped; n-- {
		if p.u8(s) == 0 {
			return
		}
		s++
	}
}

// timedReads: timed_print.
func (p *printer) timedReads(cp, _ int) {
	typ := p.u8(cp)
	p.u8(cp + 1)
	p.be16(cp + 2)
	switch typ {
	case 24: // TSP_LOOP
		p.u8(cp + 4)
	case 1, 5, 22, 23: // TSP_ADJTIME, TSP_SETTIME, TSP_SETDATE, TSP_SETDATEREQ
		p.be32(cp + 4)
		if int32(p.be32(cp+8)) < 0 {
			return
		}
	}
	p.printjnp(cp+12, 256)
}

// krbReads: krb_print and krb4_print.
func (p *printer) krbReads(cp, _ int) {
	if cp >= p.end || p.u8(cp) != 4 {
		return
	}
	typ := p.u8(cp+1) &^ 1
	hdr := func() (int, bool) {
		c := cp + 2
		for k := 0; k < 3; k++ {
			var ok bool
			if c, ok = p.cstring(c); !ok {
				return 0, false
			}
		}
		return c, true
	}
	switch typ {
	case 2: // AUTH_MSG_KDC_REQUEST
		c, ok := hdr()
		if !ok {
			return
		}
		c += 4
		p.u8(c)
		if c, ok = p.cstring(c + 1); ok {
			p.cstring(c)
		}
	case 6: // AUTH_MSG_APPL_REQUEST
		p.u8(cp + 2)
		if c, ok := p.cstring(cp + 3); ok {
			p.u8(c)
			p.u8(c + 1)
		}
	case 4: // AUTH_MSG_KDC_REPLY
		if c, ok := hdr(); ok {
			p.be16(c + 10)
		}
	case 10: // AUTH_MSG_ERR_REPLY
		if c, ok := hdr(); ok {
			p.be16(c + 4)
			p.cstring(c + 8)
		}
	}
}

// l2tpReads: l2tp_print and the header of l2tp_avp_print (an AVP's body
// is read only after the whole AVP is checked to be captured). Data
// messages carry PPP, which is not modelled.
func (p *printer) l2tpReads(cp, length int) {
	w := p.be16(cp)
	if w&0x000f != 2 || p.jumped { // not L2TP
		return
	}
	ptr, cnt, l2tpLen := cp+2, 2, 0
	if w&0x4000 != 0 { // length
		l2tpLen = int(p.be16(ptr))
		ptr += 2
		cnt += 2
	}
	p.be16(ptr)
	p.be16(ptr + 2)
	ptr += 4
	cnt += 4
	if w&0x0800 != 0 { // sequence
		p.be16(ptr)
		p.be16(ptr + 2)
		ptr += 4
		cnt += 4
	}
	if w&0x0200 != 0 { // offset
		pad := int(p.be16(ptr))
		if p.jumped || !p.has(ptr+2, pad) {
			return
		}
		ptr += 2 + pad
		cnt += 2 + pad
	}
	if w&0x4000 != 0 {
		if length < l2tpLen {
			return
		}
		length = l2tpLen
	}
	if length < cnt || w&0x8000 == 0 || w&0x4000 == 0 {
		return
	}
	for length-cnt != 0 && !p.jumped {
		n := int(p.be16(ptr) & 0x03ff)
		if n < 6 || n > length-cnt || !p.has(ptr, n) {
			return
		}
		cnt += n
		ptr += n
	}
}

// wbReads: wb_print; of the message bodies only wb_prep is modelled.
func (p *printer) wbReads(cp, length int) {
	if length < 12 || !p.check(cp, 12) {
		return
	}
	p.u8(cp + 11)
	if p.u8(cp+10) != 7 || length-12 < 4 { // PT_PREP
		return
	}
	n := p.be32(cp + 12)
	ps := cp + 16
	for ; n != 0 && !p.jumped; n-- {
		p.be32(ps)
		p.check(ps+4, 4)
		p.be32(ps + 8)
		p.check(ps, 16)
		io := ps + 16
		for k := int(p.u8(ps + 12)); k > 0 && !p.jumped; k-- {
			p.check(io, 4)
			p.be32(io + 4)
			io += 8
		}
		ps = io
	}
}

// autorpReads: cisco_autorp_print.
func (p *printer) autorpReads(bp, length int) {
	if length < 8 {
		return
	}
	p.u8(bp)
	numrps := p.u8(bp + 1)
	p.be16(bp + 2)
	bp += 8
	length -= 8
	for ; numrps != 0 && !p.jumped; numrps-- {
		if length < 4 {
			return
		}
		p.check(bp, 4)
		bp += 4
		length -= 4
		if length < 1 {
			return
		}
		p.u8(bp)
		bp++
		length--
		if length < 1 {
			return
		}
		n := p.u8(bp)
		bp++
		length--
		for ; n != 0 && !p.jumped; n-- {
			if length < 6 {
				return
			}
			p.check(bp, 6)
			bp += 6
			length -= 6
		}
	}
}

// zephyrReads: zephyr_print's scan of its seventeen NUL-terminated header
// fields (parse_field), after a first field that starts "ZEPH"; what
// follows them is not modelled.
func (p *printer) zephyrReads(cp, length int) {
	start := cp
	for field := 0; field < 17; field++ {
		for {
			if length == 0 {
				return
			}
			c := p.u8(cp)
			if p.jumped {
				return
			}
			cp++
			length--
			if c == 0 {
				break
			}
		}
		if v := p.pkt[start : cp-1]; field == 0 && (len(v) < 4 || string(v[:4]) != "ZEPH") {
			return
		}
	}
}

// lsppingReads: lspping_print's common header (its TLVs are decoded with
// -v only, which is not modelled).
func (p *printer) lsppingReads(cp, length int) {
	if length < 32 || !p.check(cp, 32) || p.be16(cp) != 1 || p.o.Verbose > 0 {
		return
	}
}

// tcpDecoders follows tcp_print's port dispatch in the same way.
var tcpDecoders = [...]udpDecoder{
	{src: []uint16{23}, proto: "telnet", reads: (*printer).telnetReads},
	{src: []uint16{25}},
	{src: []uint16{43}},
	{src: []uint16{179}},
	{src: []uint16{1723}},
	{src: []uint16{6379}, proto: "resp", reads: (*printer).respReads},
	{src: []uint16{22}, proto: "ssh", reads: (*printer).sshReads},
	{src: []uint16{10288}},
	{src: []uint16{6633, 6653}, proto: "openflow", reads: (*printer).openflowReads},
	{src: []uint16{21}},
	{src: []uint16{554, 8554}},
	{src: []uint16{639}},
	{src: []uint16{323}},
	{src: []uint16{646}},
	{src: []uint16{2049}, proto: "nfs", reads: (*printer).nfsTCPReads},
}

// tcpPayloadReads replays the reads of tcpdump's decoder for a TCP
// payload of length bytes at cp between these ports, in the IP header at
// ipOff.
func (p *printer) tcpPayloadReads(cp, length int, sport, dport uint16, ipOff int) {
	p.rd.sport, p.rd.dport, p.rd.ipOff = sport, dport, ipOff
	for i := range tcpDecoders {
		d := &tcpDecoders[i]
		if !d.match(sport, dport) {
			continue
		}
		if d.reads != nil {
			saved := p.proto
			p.proto = d.proto
			d.reads(p, cp, length)
			p.proto = saved
		}
		return
	}
}

// sshReads: ssh_print_version, which looks for an "SSH-" line.
func (p *printer) sshReads(cp, length int) {
	for k := 0; k < 4; k++ {
		if p.u8(cp+k) != "SSH-"[k] || p.jumped {
			return
		}
	}
	for idx := 4; idx < length && !p.jumped; idx++ {
		switch c := p.u8(cp + idx); {
		case c == '\n':
			return
		case c == '\r':
			if idx+1 < length {
				p.u8(cp + idx + 1)
			}
			return
		case c < 0x20 || c > 0x7e:
			return
		}
	}
}

// openflowReads: openflow_print without -v, which checks that each
// message body is captured (with -v the bodies are decoded, which is not
// modelled).
func (p *printer) openflowReads(cp, length int) {
	for length > 0 && !p.jumped {
		p.u8(cp)
		cp++
		length--
		if length < 1 {
			p.check(cp, length)
			return
		}
		p.u8(cp)
		cp++
		length--
		if length < 2 {
			p.check(cp, length)
			return
		}
		n := int(p.be16(cp))
		cp += 2
		length -= 2
		if length < 4 {
			p.check(cp, length)
			return
		}
		p.be32(cp)
		cp += 4
		length -= 4
		if n < 8 {
			p.check(cp, length)
			return
		}
		if p.o.Verbose > 0 {
			return
		}
		p.check(cp, n-8)
		if n-8 > length {
			return
		}
		cp += n - 8
		length -= n - 8
	}
}

// ah prints an IPsec AH header at off as tcpdump does (ah_print) and
// returns its length.
func (p *printer) ah(off int) int {
	saved := p.proto
	p.proto = "ah"
	defer func() { p.proto = saved }()
	p.s("AH(")
	ahLen := int(p.u8(off + 1))
	n := (ahLen + 2) * 4
	if p.o.Verbose > 0 {
		p.s("length=")
		p.u(uint64(ahLen))
		p.c('(')
		p.u(uint64(n))
		p.s("-bytes),")
	}
	if r := p.be16(off + 2); r != 0 {
		p.s("reserved=0x")
		p.hexN(uint64(r), 1)
		p.s("[MustBeZero],")
	}
	p.s("spi=0x")
	p.hexN(uint64(p.be32(off+4)), 8)
	p.s(",seq=0x")
	p.hexN(uint64(p.be32(off+8)), 1)
	p.s(",icv=0x")
	for k := off + 12; k < off+n && !p.jumped; k++ {
		p.hexN(uint64(p.u8(k)), 2)
	}
	p.s("): ")
	return n
}

// ipProtoReads replays the reads of tcpdump's decoder for an IP protocol
// this printer does not decode (IPComp and IGRP are modelled).
func (p *printer) ipProtoReads(nh uint8, off, length int) {
	saved := p.proto
	switch nh {
	case 108: // ipcomp_print
		p.proto = "ipcomp"
		p.be16(off + 2)
	case 9:
		p.proto = "igrp"
		p.igrpReads(off, length)
	}
	if !p.jumped {
		p.proto = saved
	}
}

// igrpReads: igrp_print, its 12-byte header and 14-byte routes.
func (p *printer) igrpReads(off, length int) {
	if !p.check(off, 12) {
		return
	}
	nint, nsys, next := p.be16(off+4), p.be16(off+6), p.be16(off+8)
	rest := uint32(length) - 12 // tcpdump's u_int
	for cp := off + 12; rest >= 14 && !p.jumped; cp += 14 {
		p.check(cp, 3)
		switch {
		case nint > 0:
			nint--
		case nsys > 0:
			nsys--
		case next > 0:
			next--
		default:
			return
		}
		p.check(cp+3, 11)
		rest -= 14
	}
}

// etherTypeReads replays the reads of tcpdump's decoder for an EtherType
// this printer does not decode (ethertype_print); DECnet, OSI, MS NLB and
// GeoNetworking are modelled, as far as their first headers.
func (p *printer) etherTypeReads(t uint16, off, length int) {
	saved := p.proto
	switch t {
	case 0x6003:
		p.proto = "decnet"
		p.decnetReads(off, length)
	case 0xfefe:
		// One byte (checked with a jump), then isoclns_print.
		if length > 0 && p.end > off && p.check(off, 1) {
			p.isoclnsReads(off+1, uint32(length)-1)
		}
	case 0x886f: // msnlb_print: priority and two addresses
		p.proto = "msnlb"
		p.check(off+8, 12)
	case 0x0707, 0x8947: // geonet_print: the 36-byte common header
		p.proto = "geonet"
		if length >= 36 {
			p.check(off, 36)
		}
	}
	if !p.jumped {
		p.proto = saved
	}
}

// decnetReads: decnet_print as far as its routing flags, after any
// padding.
func (p *printer) decnetReads(ap, length int) {
	if length < 6 {
		return
	}
	pktlen := int(p.u8(ap)) | int(p.u8(ap+1))<<8
	if p.jumped || pktlen < 6 || pktlen > length {
		return
	}
	length = pktlen
	flags := p.u8(ap + 2)
	if flags&0x80 != 0 && !p.jumped { // RMF_PAD
		pad := int(flags & 0x7f)
		if length < pad+2 || !p.check(ap+2, pad) {
			return
		}
		p.u8(ap + pad + 2)
	}
}

// isoclns decodes the OSI NLPID at off as tcpdump does (isoclns_print)
// where it is an unknown one, a null one, IPv4 or IPv6; for the OSI
// protocols, Q.933 and PPP it notes reason as not decoded (PPP's reads,
// and those of OSI inside it, are replayed).
func (p *printer) isoclns(off, length int, reason string) {
	saved := p.proto
	p.proto = "isoclns"
	nlpid := p.u8(off)
	if p.jumped {
		return
	}
	p.proto = saved
	if p.o.LinkHeader {
		// The NLPID's name is printed first, which is not reproduced.
		p.skip(reason)
	}
	sep := ", "
	if p.o.LinkHeader {
		sep = ""
	}
	switch nlpid {
	case 0x00:
		p.s(sep)
		p.s("length: ")
		p.u(uint64(length))
	case 0xcc:
		p.ip(off+1, length-1)
	case 0x8e:
		p.ip6(off+1, length-1)
	case 0x81, 0x82, 0x83, 0x08:
		p.skip(reason)
	case 0xcf:
		p.skip(reason)
		if next, n, proto, ok := p.pppReads(off+1, uint32(length)-1); ok && proto == 0x0023 {
			p.isoclnsReads(next, n)
		}
		if !p.jumped {
			p.proto = saved
		}
	default:
		if !p.o.LinkHeader {
			p.s("OSI NLPID 0x")
			p.hexN(uint64(nlpid), 2)
			p.s(" unknown")
		}
		p.s(sep)
		p.s("length: ")
		p.u(uint64(length))
		if length > 1 {
			p.unknownData("\n\t", off, length)
		}
	}
}

// slip decodes a SLIP frame (sl_if_print): a 16-byte pseudo-header, whose
// -e form is not decoded, then IPv4 or IPv6.
func (p *printer) slip(length int) int {
	p.proto = "slip"
	if p.end < 16 {
		p.skip("link type")
		p.trunc()
		return p.end
	}
	if p.o.LinkHeader {
		p.skip("link type")
	}
	switch v := p.u8(16) >> 4; v {
	case 4:
		p.ip(16, length-16)
	case 6:
		p.ip6(16, length-16)
	default:
		p.s("ip v")
		p.u(uint64(v))
	}
	return 16
}

// atmarpReads: atmarp_print's checks of its fixed header and of the
// target protocol address after the variable-length fields.
func (p *printer) atmarpReads(off int) {
	saved := p.proto
	if !p.check(off, 12) {
		return
	}
	l := func(k int) int { return int(p.pkt[off+k] & 0x3f) }
	tpa := off + 12 + l(4) + l(5) + int(p.pkt[off+8]) + l(9) + l(10)
	p.check(tpa, int(p.pkt[off+11]))
	if !p.jumped {
		p.proto = saved
	}
}

// pimv1Reads: pimv1_print for a message type it does not know, which
// reads only the version byte.
func (p *printer) pimv1Reads(bp int) {
	saved := p.proto
	p.proto = "pimv1"
	if t := p.u8(bp + 1); t > 7 && !p.jumped {
		p.u8(bp + 4)
	}
	if !p.jumped {
		p.proto = saved
	}
}

// juniperEther decodes a JUNIPER_ETHER record (juniper_ether_if_print)
// and returns tcpdump's link-header length.
func (p *printer) juniperEther(length int) int {
	p.proto = "juniper_ether"
	hl, more := p.juniperHeader(length, -1)
	if !more {
		return hl
	}
	p.proto = "ether"
	return hl + p.ether(hl, length-hl, p.end-hl)
}

// ltJuniperMonitor is DLT_JUNIPER_MONITOR.
const ltJuniperMonitor spec.LinkType = 164

// juniperMonitor decodes a JUNIPER_MONITOR record
// (juniper_monitor_if_print): the pseudo-header with an 8-byte cookie, an
// 8-byte monitor header, and IPv4 or IPv6 guessed from the byte where
// that header starts.
func (p *printer) juniperMonitor(length int) int {
	p.proto = "juniper_monitor"
	hl, more := p.juniperHeader(length, 8)
	if !more || !p.check(hl, 8) {
		return hl
	}
	p.ipGuess(hl, length-hl)
	return hl
}

// ipGuess decodes IPv4 or IPv6 at off when its first byte says so
// (ip_heuristic_guess) and reports whether it did.
func (p *printer) ipGuess(off, length int) bool {
	switch b := p.u8(off); {
	case p.jumped:
	case b >= 0x45 && b <= 0x4f:
		p.ip(off, length)
		return true
	case b >= 0x60 && b <= 0x6f:
		p.ip6(off, length)
		return true
	}
	return false
}

// juniperHeader decodes Juniper's pseudo-header (juniper_parse_header)
// for a link type whose cookie is cookie bytes long (-1: it has none).
// With more false tcpdump's decoding ends there; hl is the header length
// tcpdump counts. Its -e form is printed in part only.
func (p *printer) juniperHeader(length, cookie int) (hl int, more bool) {
	p.skip("link type")
	flags := p.u8(3)
	if p.jumped {
		return 0, false
	}
	if uint32(p.pkt[0])<<16|uint32(p.pkt[1])<<8|uint32(p.pkt[2]) != 0x4d4743 { // "MGC"
		p.s("no magic-number found!")
		return 0, false
	}
	if p.o.LinkHeader {
		if flags&1 != 0 {
			p.s(" In ")
		} else {
			p.s("Out ")
		}
	}
	hl = 4
	if flags&0x80 != 0 { // extension TLVs
		ext := int(p.be16(4))
		hl = 6 + ext
		if p.jumped || !p.check(6, ext) {
			return 0, false
		}
		for t := 6; ext > 2; {
			typ, l := p.pkt[t], int(p.pkt[t+1])
			t += 2
			if typ == 0 || l == 0 {
				break
			}
			if ext < l+2 {
				p.s(" (invalid)")
				return 0, false
			}
			t += l
			ext -= l + 2
		}
	}
	if flags&0x02 != 0 { // no link-layer header: IPv4 or IPv6 follows
		if p.o.LinkHeader {
			p.s("no-L2-hdr, ")
		}
		if !p.check(hl+4, 1) {
			return 0, false
		}
		if !p.ipGuess(hl+4, length-hl-4) {
			p.s("no IP-hdr found!")
		}
		return hl + 4, false
	}
	proto := 0
	if cookie >= 0 {
		n := cookie
		switch p.u8(hl) {
		case 0x54: // LS_COOKIE_ID
			n += 2
		case 0x47: // AS_COOKIE_ID
			n = 8
		}
		if p.jumped {
			return 0, false
		}
		if n > 8 {
			p.s(" (invalid)")
			return hl + n, false
		}
		if n > 0 && !p.check(hl, n) {
			return 0, false
		}
		proto = int(p.be16(hl + n))
		if p.jumped {
			return 0, false
		}
		hl += n
	}
	if p.o.LinkHeader {
		p.s("hlen ")
		p.u(uint64(hl))
		p.s(", proto 0x")
		p.hexN(uint64(proto), 4)
		p.s(", ")
	}
	return hl, true
}

// telnetReads: telnet_print, which parses each leading IAC command
// (telnet_parse).
func (p *printer) telnetReads(sp, length int) {
	for length > 0 && !p.jumped && p.u8(sp) == 255 {
		n := p.telnetParse(sp, length)
		if n < 0 || p.jumped {
			return
		}
		sp += n
		length -= n
	}
}

// telnetParse returns the length of the IAC command at sp, or -1 where
// telnet_parse gives up.
func (p *printer) telnetParse(sp, length int) int {
	osp := sp
	fetch := func() (uint8, bool) {
		if length < 1 || p.jumped {
			return 0, false
		}
		c := p.u8(sp)
		sp++
		length--
		return c, !p.jumped
	}
	if c, ok := fetch(); !ok || c != 255 {
		return -1
	}
	c, ok := fetch()
	if !ok {
		return -1
	}
	if c == 255 {
		return sp - osp
	}
	if c < 236 {
		return -1
	}
	switch c {
	case 254, 253, 252, 251, 250: // DONT, DO, WONT, WILL, SB
		x, ok := fetch()
		if !ok {
			return -1
		}
		if c != 250 {
			return sp - osp
		}
		q := sp
		for length > q+1-sp && !p.jumped {
			if p.u8(q) == 255 && p.u8(q+1) == 240 { // IAC SE
				break
			}
			q++
		}
		if p.u8(q) != 255 || p.jumped {
			return -1
		}
		n := 1
		if x == 37 || x == 38 { // authentication, encryption
			n = 2
		}
		for ; n > 0 && q > sp; n-- {
			if _, ok := fetch(); !ok {
				return -1
			}
		}
		for q > sp {
			if _, ok := fetch(); !ok {
				return -1
			}
		}
		sp += 2
	}
	return sp - osp
}

// respReads: resp_print, which parses RESP values until the payload ends
// or a value is cut short.
func (p *printer) respReads(bp, length int) {
	for length > 0 && !p.jumped {
		n := p.respParse(bp, length)
		if n < 0 {
			return
		}
		bp += n
		length -= n
	}
}

// respParse returns the length of the RESP value at bp, or -1 where
// resp_parse gives up.
func (p *printer) respParse(bp, length int) int {
	if length < 1 {
		return -1
	}
	op := p.u8(bp)
	if p.jumped {
		return -1
	}
	q, cur := bp+1, length-1
	switch op {
	case '+', '-', ':':
		end, ok := p.respFindCRLF(q, cur)
		if !ok {
			return -1
		}
		return 1 + end - q + 2
	case '$':
		n, q, cur := p.respLength(q, cur)
		switch {
		case n > 0:
			if cur < n || !p.has(q, n) {
				return -1
			}
			q += n
			cur -= n
			fallthrough
		case n == 0:
			end, ok := p.respFindCRLF(q, cur)
			if !ok {
				return -1
			}
			cur -= end - q + 2
		case n == -2:
			return -1
		}
		return length - cur
	case '*':
		n, q, cur := p.respLength(q, cur)
		if n == -2 {
			return -1
		}
		for i := 0; i < n; i++ {
			k := p.respParse(q, cur)
			if k < 0 {
				return -1
			}
			q += k
			cur -= k
		}
		return length - cur
	}
	// An inline command: line ends skipped, the line, its end.
	q, cur = bp, length
	if !p.respSkipCRLF(&q, &cur) {
		return -1
	}
	for {
		if cur < 1 {
			return -1
		}
		c := p.u8(q)
		if p.jumped {
			return -1
		}
		if c == '\r' || c == '\n' {
			break
		}
		q++
		cur--
	}
	if !p.respSkipCRLF(&q, &cur) {
		return -1
	}
	return length - cur
}

// respFindCRLF finds the CR LF from q within cur bytes without a jump
// (FIND_CRLF); ok is false where resp_parse gives up.
func (p *printer) respFindCRLF(q, cur int) (end int, ok bool) {
	for {
		if cur < 2 || !p.has(q, 2) {
			return 0, false
		}
		if p.pkt[q] == '\r' && p.pkt[q+1] == '\n' {
			return q, true
		}
		q++
		cur--
	}
}

// respSkipCRLF skips CRs and LFs (CONSUME_CR_OR_LF): false when the data
// ends before one is found.
func (p *printer) respSkipCRLF(q, cur *int) bool {
	found := false
	for {
		if *cur == 0 || !p.has(*q, 1) {
			return found
		}
		if c := p.pkt[*q]; c != '\r' && c != '\n' {
			return true
		}
		found = true
		*q++
		*cur--
	}
}

// respLength reads a bulk string's or an array's length
// (resp_get_length): -1 null, -2 cut short, -3 too large, -4 negative,
// -5 invalid; q and cur move past what it read.
func (p *printer) respLength(q, cur int) (n, nq, ncur int) {
	const maxInt = 1<<31 - 1
	if cur == 0 {
		return -2, q, cur
	}
	neg := p.u8(q) == '-'
	if neg {
		q++
		cur--
	}
	result, saw, tooLarge := 0, false, false
	for {
		if cur == 0 || p.jumped {
			return -2, q, cur
		}
		c := p.u8(q)
		if c < '0' || c > '9' {
			if !saw {
				return -5, q + 1, cur
			}
			break
		}
		d := int(c - '0')
		if result > maxInt/10 {
			tooLarge = true
		} else {
			result *= 10
			if result == maxInt/10*10 && d > maxInt%10 {
				tooLarge = true
			} else {
				result += d
			}
		}
		q++
		cur--
		saw = true
	}
	if p.u8(q) != '\r' || p.jumped {
		return -5, q + 1, cur
	}
	q++
	cur--
	if cur == 0 {
		return -2, q, cur
	}
	if p.u8(q) != '\n' || p.jumped {
		return -5, q + 1, cur
	}
	q++
	cur--
	switch {
	case neg && (tooLarge || result != 1):
		return -4, q, cur
	case neg:
		return -1, q, cur
	case tooLarge:
		return -3, q, cur
	}
	return result, q, cur
}
