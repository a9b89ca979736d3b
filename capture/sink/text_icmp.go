package sink

// icmpPrint decodes an ICMP message at off (icmp_print).
func (p *printer) icmpPrint(off, plen, ipOff int, fragmented bool) {
	p.proto = "icmp"
	typ, code := p.u8(off), p.u8(off+1)
	if p.jumped {
		return
	}
	start := len(p.b)
	p.s("ICMP ")
	ipdst := off + 8 + 16
	switch typ {
	case 0, 8:
		id, seq := p.be16(off+4), p.be16(off+6)
		if typ == 8 {
			p.s("echo request, id ")
		} else {
			p.s("echo reply, id ")
		}
		p.u(uint64(id))
		p.s(", seq ")
		p.u(uint64(seq))
	case 3:
		if !p.icmpUnreach(off, code, ipdst) {
			return
		}
	case 11:
		if !p.has(ipdst, 4) {
			p.b = p.b[:start]
			p.trunc()
			return
		}
		switch code {
		case 0:
			p.s("time exceeded in-transit")
		case 1:
			p.s("ip reassembly time exceeded")
		default:
			p.s("time exceeded-#")
			p.u(uint64(code))
		}
	case 5:
		switch code {
		case 0:
			p.s("redirect ")
			p.ipv4(ipdst)
			p.s(" to net ")
		case 1:
			p.s("redirect ")
			p.ipv4(ipdst)
			p.s(" to host ")
		case 2:
			p.s("redirect-tos ")
			p.ipv4(ipdst)
			p.s(" to net ")
		case 3:
			p.s("redirect-tos ")
			p.ipv4(ipdst)
			p.s(" to host ")
		default:
			p.s("redirect-#")
			p.u(uint64(code))
			p.c(' ')
			p.ipv4(ipdst)
			p.s(" to ")
		}
		p.ipv4(off + 4)
	case 12:
		if code != 0 {
			p.s("parameter problem - code ")
			p.u(uint64(code))
		} else {
			p.s("parameter problem - octet ")
			p.u(uint64(p.u8(off + 4)))
		}
	case 18:
		p.s("address mask is 0x")
		p.hexN(uint64(p.be32(off+12)), 8)
	case 13:
		p.s("time stamp query id ")
		p.u(uint64(p.be16(off + 4)))
		p.s(" seq ")
		p.u(uint64(p.be16(off + 6)))
	case 9, 14:
		p.skip("icmp type")
	default:
		if n, ok := icmpTypeNames[uint32(typ)]; ok {
			p.s(n)
		} else {
			p.s("type-#")
			p.u(uint64(typ))
		}
	}
	if p.jumped {
		// tcpdump formats the message into a buffer first: a read past
		// the data prints none of it.
		p.b = p.b[:start]
		return
	}
	p.s(", length ")
	p.u(uint64(plen))
	if p.o.Verbose > 0 && !fragmented && p.has(off, plen) {
		if sum := p.cksum(0, off, plen); sum != 0 {
			f := p.be16(off + 2)
			p.s(" (wrong icmp cksum ")
			p.hexN(uint64(f), 1)
			p.s(" (->")
			p.hexN(uint64(shouldbe(f, sum)), 1)
			p.s(")!)")
		}
	}
	if p.o.Verbose > 0 && (typ == 3 || typ == 4 || typ == 5 || typ == 11 || typ == 12) {
		in := off + 8
		p.s("\n\t")
		ln := int(p.be16(in + 2))
		saved := p.end
		p.end = min(p.end, in+ln)
		p.ip(in, ln)
		p.end = saved
		p.proto = "icmp"
		if plen > 8+128 && typ != 4 && typ != 5 {
			p.skip("icmp extensions")
		}
	}
}

// icmpUnreach prints the text of a destination unreachable message.
func (p *printer) icmpUnreach(off int, code uint8, ipdst int) bool {
	text := func(pre, post string) {
		p.s(pre)
		p.ipv4(ipdst)
		p.s(post)
	}
	switch code {
	case 0:
		text("net ", " unreachable")
	case 1:
		text("host ", " unreachable")
	case 2:
		proto := p.u8(off + 8 + 9)
		text("", " protocol ")
		p.u(uint64(proto))
		p.s(" unreachable")
	case 3:
		if !p.has(off+8+9, 1) {
			p.b = p.b[:len(p.b)-len("ICMP ")]
			p.trunc()
			return false
		}
		oip := off + 8
		hlen := int(p.pkt[oip]&0xf) * 4
		dport := p.be16(oip + hlen + 2)
		proto := p.u8(oip + 9)
		p.ipv4(oip + 16)
		switch proto {
		case 6:
			p.s(" tcp port ")
			p.u(uint64(dport))
		case 17:
			p.s(" udp port ")
			p.u(uint64(dport))
		default:
			p.s(" protocol ")
			p.u(uint64(proto))
			p.s(" port ")
			p.u(uint64(dport))
		}
		p.s(" unreachable")
	case 4:
		mtu := p.be16(off + 6)
		if mtu != 0 {
			text("", " unreachable - need to frag (mtu ")
			p.u(uint64(mtu))
			p.c(')')
		} else {
			text("", " unreachable - need to frag")
		}
	case 5:
		text("", " unreachable - source route failed")
	case 6:
		text("net ", " unreachable - unknown")
	case 7:
		text("host ", " unreachable - unknown")
	case 8:
		text("", " unreachable - source host isolated")
	case 9:
		text("net ", " unreachable - admin prohibited")
	case 10:
		text("host ", " unreachable - admin prohibited")
	case 11:
		text("net ", " unreachable - tos prohibited")
	case 12:
		text("host ", " unreachable - tos prohibited")
	case 13:
		text("host ", " unreachable - admin prohibited filter")
	case 14:
		text("host ", " unreachable - host precedence violation")
	case 15:
		text("host ", " unreachable - precedence cutoff")
	default:
		text("", " unreachable - #")
		p.u(uint64(code))
	}
	return true
}

// icmp6Print decodes an ICMPv6 message at off (icmp6_print). Under -v
// only the messages without options or multi-line details are decoded.
func (p *printer) icmp6Print(off, length, ipOff int, fragmented bool) {
	p.proto = "icmp6"
	if length == 0 {
		p.s("ICMP6, length 0 (invalid)")
		return
	}
	v := p.o.Verbose > 0
	if v && !fragmented && p.has(off, length) {
		sum := p.cksum(p.pseudoSum(6, ipOff, 58, length), off, length)
		field := p.be16(off + 2)
		if sum != 0 {
			p.s("[bad icmp6 cksum 0x")
			p.hexN(uint64(field), 4)
			p.s(" -> 0x")
			p.hexN(uint64(shouldbe(field, sum)), 4)
			p.s("!] ")
		} else {
			p.s("[icmp6 sum ok] ")
		}
	}
	typ := p.u8(off)
	p.s("ICMP6, ")
	if n, ok := icmp6TypeNames[uint32(typ)]; ok {
		p.s(n)
	} else {
		p.s("unknown icmp6 type (")
		p.u(uint64(typ))
		p.c(')')
	}
	if v {
		switch typ {
		case 133, 134, 135, 136, 137, 145, 147:
			// The messages whose -v text runs on print the length first.
			p.s(", length ")
			p.u(uint64(length))
		}
	}
	code := p.u8(off + 1)
	oip := off + 8
	// Each ND_PRINT of tcpdump's prints all or nothing: a field past the
	// data drops the text printed since mark.
	mark := len(p.b)
	defer func() {
		if p.jumped {
			p.b = p.b[:mark]
		}
	}()
	switch typ {
	case 1:
		names := [...]string{", unreachable route", ",  unreachable prohibited", ", beyond scope", ", unreachable address"}
		if code > 3 {
			p.skip("icmp6 unreachable")
			return
		}
		p.s(names[code])
		mark = len(p.b)
		p.c(' ')
		p.ipv6(oip + 24)
		if code == 2 {
			p.s(", source address ")
			p.ipv6(oip + 8)
		}
	case 2:
		p.s(", mtu ")
		p.u(uint64(p.be32(off + 4)))
	case 3:
		switch code {
		case 0:
			p.s(" for ")
			p.ipv6(oip + 24)
		case 1:
			p.s(" (reassembly)")
		default:
			p.s(", unknown code (")
			p.u(uint64(code))
			p.c(')')
		}
	case 4:
		if !p.has(oip+24, 16) {
			p.trunc()
			return
		}
		switch code {
		case 0:
			p.s(", erroneous - octet ")
		case 1:
			p.s(", next header - octet ")
		case 2:
			p.s(", option - octet ")
		case 3:
			p.s(", incomplete header chain - octet ")
		default:
			p.s(", code-#")
			p.u(uint64(code))
		}
		if code <= 3 {
			p.u(uint64(p.be32(off + 4)))
		}
	case 128, 129:
		p.s(", id ")
		p.u(uint64(p.be16(off + 4)))
		p.s(", seq ")
		p.u(uint64(p.be16(off + 6)))
	case 130:
		switch {
		case length == 24:
			p.mld6(off)
		case length >= 28:
			p.s(" v2")
			p.mldv2Query(off, length)
		default:
			p.s(" unknown-version (len ")
			p.u(uint64(length))
			p.s(") ")
		}
	case 131, 132:
		p.mld6(off)
	case 143:
		if length < 8 {
			p.s(" [invalid len ")
			p.u(uint64(length))
			p.c(']')
			break
		}
		n := p.be16(off + 6)
		if p.jumped {
			return
		}
		p.s(", ")
		p.u(uint64(n))
		p.s(" group record(s)")
		if v {
			mark = len(p.b)
			p.mldv2Records(off, length, int(n))
		}
	case 135:
		p.s(", who has ")
		p.ipv6(off + 8)
		if v && !p.opts(&mark, off+24, length-24) {
			return
		}
	case 136:
		p.s(", tgt is ")
		p.ipv6(off + 8)
		if v {
			f := p.be32(off + 4)
			if p.jumped {
				return
			}
			p.s(", Flags [")
			p.bitNames(f, naFlags, "none")
			p.c(']')
			if !p.opts(&mark, off+24, length-24) {
				return
			}
		}
	case 133:
		if v && !p.opts(&mark, off+8, length-8) {
			return
		}
	case 134:
		if v {
			if !p.check(off, 16) {
				return
			}
			fl := p.pkt[off+5]
			p.s("\n\thop limit ")
			p.u(uint64(p.pkt[off+4]))
			p.s(", Flags [")
			p.bitNames(uint32(fl), raFlags, "none")
			p.s("], pref ")
			p.s(rtpref(fl))
			p.s(", router lifetime ")
			p.u(uint64(p.be16(off + 6)))
			p.s("s, reachable time ")
			p.u(uint64(p.be32(off + 8)))
			p.s("ms, retrans timer ")
			p.u(uint64(p.be32(off + 12)))
			p.s("ms")
			if !p.opts(&mark, off+16, length-16) {
				return
			}
		}
	case 137:
		p.s(", ")
		p.ipv6(off + 24)
		p.s(" to ")
		p.ipv6(off + 8)
		if v && !p.opts(&mark, off+40, length-40) {
			return
		}
	case 147:
		if v {
			id := p.be16(off + 4)
			if p.jumped {
				return
			}
			p.s(", id 0x")
			p.hexN(uint64(id), 4)
			mark = len(p.b)
			fl := p.be16(off + 6)
			if p.jumped {
				return
			}
			if fl&0xc000 != 0 {
				p.c(' ')
			}
			if fl&0x8000 != 0 {
				p.c('M')
			}
			if fl&0x4000 != 0 {
				p.c('O')
			}
			if !p.opts(&mark, off+8, length-8) {
				return
			}
		}
	case 138:
		mark = len(p.b)
		p.icmp6RRenum(off)
	case 139, 140:
		mark = len(p.b)
		p.icmp6NodeInfo(off, length)
	case 155:
		mark = len(p.b)
		p.rplPrint(code, off+4, length-4)
	case 141, 142:
	case 145:
		if v {
			id := p.be16(off + 4)
			if p.jumped {
				return
			}
			p.s(", id 0x")
			p.hexN(uint64(id), 4)
			end := off + min(length, max(p.end-off, 0))
			for a := off + 8; a < end; a += 16 {
				if !p.check(a, 16) {
					return
				}
				p.s(", ")
				p.ipv6(a)
			}
		}
	case 146, 144:
		p.s(", id 0x")
		p.hexN(uint64(p.be16(off+4)), 4)
	default:
		if _, ok := icmp6TypeNames[uint32(typ)]; ok {
			p.skip("icmp6 type")
		}
		p.s(", length ")
		p.u(uint64(length))
		if p.o.Verbose <= 1 && !p.jumped {
			// print_unknown_data: the message in hex, as much as was
			// captured.
			p.hexOnly("\n\t", off, min(length, max(p.end-off, 0)))
		}
		return
	}
	if !v {
		p.s(", length ")
		p.u(uint64(length))
	}
}

// opts prints the ND options after the fixed part of a message; on
// their truncation it prints the mark and reports false (goto trunc).
func (p *printer) opts(mark *int, off, resid int) bool {
	if p.jumped {
		return false
	}
	*mark = len(p.b)
	ok := p.icmp6Opts(off, resid)
	if p.jumped {
		// What the options printed stays, as after tcpdump's longjmp.
		*mark = len(p.b)
		return false
	}
	if ok {
		return true
	}
	p.trunc()
	return false
}

// mld6 prints an MLDv1 message (mld6_print).
func (p *printer) mld6(off int) {
	if !p.has(off, 24) {
		return
	}
	p.s("max resp delay: ")
	p.u(uint64(p.be16(off + 4)))
	p.s(" addr: ")
	p.ipv6(off + 8)
}

// arp decodes an ARP or RARP packet at off (arp_print).
func (p *printer) arp(off, length, caplen int) {
	p.proto = "arp"
	if !p.check(off, 8) {
		return
	}
	hrd, pro, op := p.be16(off), p.be16(off+2), p.be16(off+6)
	hln, pln := int(p.pkt[off+4]), int(p.pkt[off+5])
	if hrd == 19 {
		p.skip("atm arp")
		p.atmarpReads(off)
		return
	}
	if hrd == 15 {
		// tcpdump prints frame relay DLCIs for the link addresses.
		p.skip("frame relay arp")
	}
	sha := off + 8
	spa := sha + hln
	tha := spa + pln
	tpa := tha + hln
	if !p.check(tpa, pln) {
		return
	}
	if !p.o.LinkHeader {
		p.s("ARP, ")
	}
	v := p.o.Verbose > 0
	if (pro != 0x0800 && pro != 0x1000) || pln != 4 || hln == 0 || v {
		if n, ok := arphrdNames[uint32(hrd)]; ok {
			p.s(n)
		} else {
			p.s("Unknown Hardware (")
			p.u(uint64(hrd))
			p.c(')')
		}
		p.s(" (len ")
		p.u(uint64(hln))
		p.s("), ")
		if n, ok := ethertypeNames[uint32(pro)]; ok {
			p.s(n)
		} else {
			p.s("Unknown Protocol (0x")
			p.hexN(uint64(pro), 4)
			p.c(')')
		}
		p.s(" (len ")
		p.u(uint64(pln))
		p.c(')')
		if !v {
			p.s(", length ")
			p.u(uint64(length))
			return
		}
		p.s(", ")
	}
	if n, ok := arpopNames[uint32(op)]; ok {
		p.s(n)
	} else {
		p.s("Unknown (")
		p.u(uint64(op))
		p.c(')')
	}
	p.c(' ')
	paddr := func(a int) {
		switch {
		case pro != 0x0800 && pro != 0x1000:
			p.s("<wrong proto type>")
		case pln != 4:
			p.s("<wrong len>")
		default:
			p.ipv4(a)
		}
	}
	switch op {
	case 1:
		p.s("who-has ")
		paddr(tpa)
		nonzero := false
		for i := 0; i < hln; i++ {
			if p.u8(tha+i) != 0 {
				nonzero = true
				break
			}
		}
		if nonzero {
			p.s(" (")
			p.mac(tha, hln)
			p.c(')')
		}
		p.s(" tell ")
		paddr(spa)
	case 2:
		paddr(spa)
		p.s(" is-at ")
		p.mac(sha, hln)
	case 3, 8:
		p.s("who-is ")
		p.mac(tha, hln)
		p.s(" tell ")
		p.mac(sha, hln)
	case 4:
		p.mac(tha, hln)
		p.s(" at ")
		paddr(tpa)
	case 9:
		p.mac(sha, hln)
		p.s(" at ")
		paddr(spa)
	default:
		// arp_print dumps an unknown operation even with -x/-X/-A.
		p.hexASCII("\n\t", off, caplen)
		return
	}
	p.s(", length ")
	p.u(uint64(length))
}

var httpMethods = [...]string{"GET", "PUT", "COPY", "HEAD", "LOCK", "MOVE", "POLL", "POST", "BCOPY", "BMOVE", "MKCOL", "TRACE", "LABEL", "MERGE", "DELETE", "SEARCH", "UNLOCK", "REPORT", "UPDATE", "NOTIFY", "BDELETE", "CONNECT", "OPTIONS", "CHECKIN", "PROPFIND", "CHECKOUT", "CCM_POST", "SUBSCRIBE", "PROPPATCH", "BPROPFIND", "BPROPPATCH", "UNCHECKOUT", "MKACTIVITY", "MKWORKSPACE", "UNSUBSCRIBE", "RPC_CONNECT", "VERSION-CONTROL", "BASELINE-CONTROL"}

// httpPrint prints "HTTP" and, for a request or status line, the line
// (http_print, txtproto_print).
func (p *printer) httpPrint(off, n int) {
	p.txtProto(off, n, "http", "HTTP", httpMethods[:])
}

var sipMethods = [...]string{"ACK", "BYE", "CANCEL", "DO", "INFO", "INVITE", "MESSAGE", "NOTIFY", "OPTIONS", "PRACK",
	"QAUTH", "REFER", "REGISTER", "SPRACK", "SUBSCRIBE", "UPDATE", "PUBLISH"}

// sipPrint prints "SIP" and, for a request or status line, the line
// (sip_print).
func (p *printer) sipPrint(off, n int) {
	p.txtProto(off, n, "sip", "SIP", sipMethods[:])
}

// txtProto prints a text protocol whose response code is its second
// token (txtproto_print with RESP_CODE_SECOND_TOKEN, or with no request
// names when methods is nil): the name and, for a request or response,
// its first line, or under -v its length and every text line.
func (p *printer) txtProto(off, n int, proto, name string, methods []string) {
	p.proto = proto
	var tok [129]byte
	// Without request names (FTP, SMTP, WHOIS) every segment is taken
	// for a request or response.
	show := methods == nil
	idx, tl := 0, 0
	if methods != nil {
		idx, tl = p.fetchToken(off, 0, n, tok[:])
	}
	if idx != 0 {
		for _, m := range methods {
			if len(m) == tl && equalFoldASCII(m, tok[:tl]) {
				show = true
				break
			}
		}
		idx, tl = p.fetchToken(off, idx, n, tok[:])
		if idx != 0 && tl == 3 && isDigit(tok[0]) && isDigit(tok[1]) && isDigit(tok[2]) {
			show = true
		}
	}
	p.s(name)
	if !show {
		return
	}
	if p.o.Verbose > 0 {
		p.s(", length: ")
		p.u(uint64(n))
		for i := 0; i < n; {
			eol := p.txtLine("\n\t", off, i, n)
			if eol == 0 {
				break
			}
			i = eol
		}
		return
	}
	p.txtLine(": ", off, 0, n)
}

func isDigit(c byte) bool { return c >= '0' && c <= '9' }

func equalFoldASCII(a string, b []byte) bool {
	for i := range b {
		c := b[i]
		if c >= 'a' && c <= 'z' {
			c -= 'a' - 'A'
		}
		if a[i] != c {
			return false
		}
	}
	return true
}

// fetchToken is tcpdump's fetch_token: the token at idx and the index
// after it and the blanks that follow (0 when there is none).
func (p *printer) fetchToken(off, idx, n int, tok []byte) (int, int) {
	tl := 0
	for ; idx < n; idx++ {
		if !p.has(off+idx, 1) {
			return 0, 0
		}
		c := p.pkt[off+idx]
		if c >= 0x80 {
			return 0, 0
		}
		if c == ' ' || c == '\t' || c == '\r' || c == '\n' {
			break
		}
		if c < 0x20 || c > 0x7e {
			return 0, 0
		}
		if tl+2 > len(tok) {
			return 0, 0
		}
		tok[tl] = c
		tl++
	}
	if tl == 0 {
		return 0, 0
	}
	for ; idx < n; idx++ {
		if !p.has(off+idx, 1) {
			break
		}
		c := p.pkt[off+idx]
		if c == '\r' || c == '\n' || c < 0x20 || c > 0x7e || (c != ' ' && c != '\t') {
			break
		}
	}
	return idx, tl
}

// txtLine prints one line of a text protocol (print_txt_line) and returns
// the index after it, 0 when it ended the output.
func (p *printer) txtLine(prefix string, off, idx, n int) int {
	start := idx
	for idx < n {
		c := p.u8(off + idx)
		if p.jumped {
			return 0
		}
		switch {
		case c == '\n':
			p.s(prefix)
			p.b = append(p.b, p.pkt[off+start:off+idx]...)
			return idx + 1
		case c == '\r':
			if idx+1 >= n {
				return 0
			}
			nx := p.u8(off + idx + 1)
			if p.jumped {
				return 0
			}
			if nx == '\n' {
				p.s(prefix)
				p.b = append(p.b, p.pkt[off+start:off+idx]...)
				return idx + 2
			}
			return 0
		case (c < 0x20 || c > 0x7e) && c != '\t':
			return 0
		}
		idx++
	}
	p.s(prefix)
	p.b = append(p.b, p.pkt[off+start:off+idx]...)
	p.trunc()
	return 0
}
