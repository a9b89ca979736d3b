package sink

// cksum returns the Internet checksum of the bytes [off, off+n) folded into
// an initial sum, as a big-endian value (0 when the data sums correctly).
func (p *printer) cksum(sum uint32, off, n int) uint16 {
	for i := 0; i+1 < n; i += 2 {
		sum += uint32(p.pkt[off+i])<<8 | uint32(p.pkt[off+i+1])
	}
	if n&1 != 0 {
		sum += uint32(p.pkt[off+n-1]) << 8
	}
	for sum>>16 != 0 {
		sum = sum&0xffff + sum>>16
	}
	return ^uint16(sum)
}

// shouldbe is tcpdump's in_cksum_shouldbe: the checksum field value that
// would have been correct.
func shouldbe(field, computed uint16) uint16 {
	s := uint32(field) + uint32(computed)
	s = s&0xffff + s>>16
	s = s&0xffff + s>>16
	return uint16(s)
}

// ip decodes an IPv4 header at off (ip_print).
func (p *printer) ip(off, length int) {
	p.proto = "ip"
	v := p.u8(off) >> 4
	if p.jumped {
		return
	}
	if v != 4 {
		if v == 6 {
			p.s("IP6, wrong link-layer encapsulation")
		} else {
			p.s("IP")
			p.u(uint64(v))
		}
		p.s(" (invalid)")
		return
	}
	if !p.o.LinkHeader {
		p.s("IP ")
	}
	if !p.has(off, 20) {
		p.trunc()
		return
	}
	if length < 20 {
		p.s("truncated-ip ")
		p.u(uint64(length))
		return
	}
	hlen := int(p.pkt[off]&0xf) * 4
	if hlen < 20 {
		p.s("bad-hlen ")
		p.u(uint64(hlen))
		return
	}
	ln := int(p.be16(off + 2))
	if length < ln {
		p.s("truncated-ip - ")
		p.u(uint64(ln - length))
		p.s(" bytes missing! ")
	}
	if ln < hlen {
		p.s("bad-len ")
		p.u(uint64(ln))
		return
	}
	saved := p.end
	defer func() { p.end = saved }()
	p.end = min(p.end, off+ln)
	ln -= hlen
	frag := p.be16(off + 6)
	proto := p.pkt[off+9]
	if p.o.Verbose > 0 {
		tos := p.pkt[off+1]
		p.s("(tos 0x")
		p.hexN(uint64(tos), 1)
		switch tos & 3 {
		case 1:
			p.s(",ECT(1)")
		case 2:
			p.s(",ECT(0)")
		case 3:
			p.s(",CE")
		}
		if ttl := p.pkt[off+8]; ttl >= 1 {
			p.s(", ttl ")
			p.u(uint64(ttl))
		}
		p.s(", id ")
		p.u(uint64(p.be16(off + 4)))
		p.s(", offset ")
		p.u(uint64(frag&0x1fff) * 8)
		p.s(", flags [")
		fl := frag & 0xe000
		if fl == 0 {
			p.s("none")
		} else {
			sep := ""
			for _, f := range [...]struct {
				bit  uint16
				name string
			}{{0x2000, "+"}, {0x4000, "DF"}, {0x8000, "rsvd"}} {
				if fl&f.bit != 0 {
					p.s(sep)
					p.s(f.name)
					sep = ", "
				}
			}
		}
		p.s("], proto ")
		p.s(ipprotoName(proto))
		p.s(" (")
		p.u(uint64(proto))
		p.s("), length ")
		p.u(uint64(p.be16(off + 2)))
		truncated := false
		if hlen > 20 {
			p.s(", options (")
			if !p.ipOptions(off+20, hlen-20) {
				p.s(" [truncated-option]")
				truncated = true
			}
			p.c(')')
		}
		if off+hlen <= p.end {
			if sum := p.cksum(0, off, hlen); sum != 0 {
				f := p.be16(off + 10)
				p.s(", bad cksum ")
				p.hexN(uint64(f), 1)
				p.s(" (->")
				p.hexN(uint64(shouldbe(f, sum)), 1)
				p.s(")!")
			}
		}
		p.s(")\n    ")
		if truncated {
			p.ipv4(off + 12)
			p.s(" > ")
			p.ipv4(off + 16)
			p.s(": ")
			p.trunc()
			return
		}
	}
	if frag&0x1fff == 0 {
		// tcpdump's TCP, UDP, SCTP and DCCP printers print the addresses
		// with the ports; SCTP and DCCP are not decoded here.
		if proto != 6 && proto != 17 {
			p.ipv4(off + 12)
			p.s(" > ")
			p.ipv4(off + 16)
			p.s(": ")
		}
		if !p.has(off, hlen) {
			p.s(" [remaining caplen(")
			p.u(uint64(max(p.end-off, 0)))
			p.s(") < header length(")
			p.u(uint64(hlen))
			p.s(")]")
			p.jump()
			return
		}
		p.ipDemux(off+hlen, ln, 4, frag&0x2000 != 0, proto, off)
		return
	}
	p.ipv4(off + 12)
	p.s(" > ")
	p.ipv4(off + 16)
	p.s(": ip-proto-")
	p.u(uint64(proto))
}

func ipprotoName(proto uint8) string {
	if n, ok := ipprotoNames[uint32(proto)]; ok {
		return n
	}
	return "unknown"
}

// ipOptions prints IPv4 options (ip_optprint); false means truncated.
func (p *printer) ipOptions(off, length int) bool {
	sep := ""
	for length > 0 {
		p.s(sep)
		sep = ","
		code := p.u8(off)
		if p.jumped {
			return false
		}
		if n, ok := ipOptionNames[uint32(code)]; ok {
			p.s(n)
		} else {
			p.s("unknown ")
			p.u(uint64(code))
		}
		olen := 1
		if code > 1 {
			olen = int(p.u8(off + 1))
			if p.jumped {
				return false
			}
			if olen < 2 {
				p.s(" [bad length ")
				p.u(uint64(olen))
				p.c(']')
				return true
			}
		}
		if olen > length {
			p.s(" [bad length ")
			p.u(uint64(olen))
			p.c(']')
			return true
		}
		if !p.has(off, olen) {
			return false
		}
		switch code {
		case 0:
			return true
		case 68:
			if !p.ipTimestamps(off, olen) {
				return false
			}
		case 7, 137, 131:
			if olen < 3 {
				p.s(" [bad length ")
				p.u(uint64(olen))
				p.c(']')
				break
			}
			if (olen+1)&3 != 0 {
				p.s(" [bad length ")
				p.u(uint64(olen))
				p.c(']')
			}
			ptr := int(p.pkt[off+2]) - 1
			if ptr < 3 || (ptr+1)&3 != 0 || ptr > olen+1 {
				p.s(" [bad ptr ")
				p.u(uint64(p.pkt[off+2]))
				p.c(']')
			}
			for l := 3; l < olen; l += 4 {
				if !p.has(off+l, 4) {
					return false
				}
				p.c(' ')
				p.ipv4(off + l)
				if ptr > l {
					p.c(',')
				}
			}
		case 148:
			if olen < 4 {
				p.s(" [bad length ")
				p.u(uint64(olen))
				p.c(']')
				break
			}
			if v := p.be16(off + 2); v != 0 {
				p.s(" value ")
				p.u(uint64(v))
			}
		}
		off += olen
		length -= olen
	}
	return true
}

// ip6 decodes an IPv6 header and its extension headers at off (ip6_print).
func (p *printer) ip6(off, length int) {
	p.proto = "ip6"
	if !p.has(off, 40) {
		p.trunc()
		return
	}
	if length < 40 {
		p.s("truncated-ip6 ")
		p.u(uint64(length))
		return
	}
	if !p.o.LinkHeader {
		p.s("IP6 ")
	}
	if v := p.pkt[off] >> 4; v != 6 {
		p.s("version error: ")
		p.u(uint64(v))
		p.s(" != 6")
		return
	}
	plen := int(p.be16(off + 4))
	var ln int
	if plen != 0 {
		ln = plen + 40
		if length < ln {
			p.s("truncated-ip6 - ")
			p.u(uint64(ln - length))
			p.s(" bytes missing!")
		}
	} else {
		ln = length + 40
	}
	ph := uint8(255)
	nh := p.pkt[off+6]
	if p.o.Verbose > 0 {
		flow := p.be32(off)
		p.c('(')
		if flow&0x0ff00000 != 0 {
			p.s("class 0x")
			p.hexN(uint64(flow&0x0ff00000>>20), 2)
			p.s(", ")
		}
		if flow&0xfffff != 0 {
			p.s("flowlabel 0x")
			p.hexN(uint64(flow&0xfffff), 5)
			p.s(", ")
		}
		p.s("hlim ")
		p.u(uint64(p.pkt[off+7]))
		p.s(", next-header ")
		p.s(ipprotoName(nh))
		p.s(" (")
		p.u(uint64(nh))
		p.s(") payload length: ")
		p.u(uint64(plen))
		p.s(") ")
	}
	saved := p.end
	defer func() { p.end = saved }()
	p.end = min(p.end, off+ln)
	cp, advance, total := off, 40, 0
	fragmented, foundExt, foundHBH := false, false, false
	for cp < p.end && advance > 0 {
		if ln < advance {
			p.trunc()
			return
		}
		cp += advance
		ln -= advance
		total += advance
		if cp == off+40 && nh != 6 && nh != 17 {
			p.ipv6(off + 8)
			p.s(" > ")
			p.ipv6(off + 24)
			p.s(": ")
		}
		switch nh {
		case 0: // hop-by-hop options
			if foundHBH {
				p.s("[The Hop-by-Hop Options header was already found] (invalid)")
				return
			}
			if ph != 255 {
				p.s("[The Hop-by-Hop Options header don't follow the IPv6 header] (invalid)")
				return
			}
			p.proto = "hbhopt"
			advance = p.ip6Opts(cp, true, &plen)
			if plen == 0 && !p.jumbo {
				p.s("[No valid Jumbo Payload Hop-by-Hop option found] (invalid)")
				return
			}
			if advance < 0 {
				return
			}
			foundExt, foundHBH = true, true
			nh = p.u8(cp)
		case 60: // destination options
			p.proto = "dstopt"
			advance = p.ip6Opts(cp, false, nil)
			if advance < 0 {
				return
			}
			foundExt = true
			nh = p.u8(cp)
		case 44: // fragment
			p.proto = "frag6"
			offlg := p.be16(cp + 2)
			var ident uint32
			if p.o.Verbose > 0 {
				ident = p.be32(cp + 4)
			}
			size := uint64(40+int64(p.be16(off+4))) - uint64(cp-off) - 8
			if p.jumped {
				return
			}
			if p.o.Verbose > 0 {
				p.s("frag (0x")
				p.hexN(uint64(ident), 8)
				p.c(':')
			} else {
				p.s("frag (")
			}
			p.u(uint64(offlg & 0xfff8))
			p.c('|')
			p.u(size)
			p.c(')')
			if offlg&0xfff8 != 0 {
				return
			}
			p.c(' ')
			advance = 8
			if p.end <= cp+advance {
				return
			}
			foundExt = true
			nh = p.u8(cp)
			fragmented = true
		case 43: // routing
			advance = p.rt6Print(cp)
			if advance < 0 {
				return
			}
			foundExt = true
			nh = p.u8(cp)
		case 135, 62: // mobility: tcpdump stops after it
			p.mobilityPrint(cp)
			return
		default:
			if p.jumbo {
				ln = plen + 40
				if ln < total {
					p.trunc()
					return
				}
				if length < ln {
					p.s("truncated-ip6 - ")
					p.u(uint64(ln - length))
					p.s(" bytes missing!")
				}
				p.end = min(saved, off+ln)
				ln -= total
			} else if plen == 0 {
				if foundExt {
					p.trunc()
					return
				}
				ln = 40
				p.end = min(saved, off+ln)
				ln -= total
			}
			p.ipDemux(cp, ln, 6, fragmented, nh, off)
			return
		}
		if p.jumped {
			return
		}
		ph = nh
		p.proto = "ip6"
	}
}

// ip6Opts prints a hop-by-hop or destination options header and returns
// its length, -1 on truncation (hbhopt_process, dstopt_process).
func (p *printer) ip6Opts(cp int, hbh bool, plen *int) int {
	p.jumbo = false
	n := (int(p.u8(cp+1)) + 1) << 3
	if p.jumped {
		return -1
	}
	if !p.has(cp, n) {
		p.trunc()
		return -1
	}
	if hbh {
		p.s("HBH ")
	} else {
		p.s("DSTOPT ")
		if p.o.Verbose == 0 {
			return n
		}
	}
	if !p.ip6OptList(cp+2, n-2, plen) {
		p.trunc()
		return -1
	}
	return n
}

// ip6OptList prints the options of an options header (ip6_opt_process).
func (p *printer) ip6OptList(bp, n int, plen *int) bool {
	v := p.o.Verbose > 0
	if n == 0 {
		return true
	}
	optlen := 0
	found := false
	for i := 0; i < n; i += optlen {
		t := p.u8(bp + i)
		if t == 0 {
			optlen = 1
		} else if i+1 < n {
			optlen = int(p.u8(bp+i+1)) + 2
		} else {
			return false
		}
		if i+optlen > n {
			return false
		}
		switch t {
		case 0:
			if v {
				p.s("(pad1)")
			}
		case 1:
			if n-i < 2 {
				p.s("(padn: trunc)")
				return false
			}
			if v {
				p.s("(padn)")
			}
		case 5:
			if n-i < 4 {
				p.s("(rtalert: trunc)")
				return false
			}
			if l := p.u8(bp + i + 1); l != 2 {
				p.s("(rtalert: invalid len ")
				p.u(uint64(l))
				p.c(')')
				return false
			}
			if v {
				p.s("(rtalert: 0x")
				p.hexN(uint64(p.be16(bp+i+2)), 4)
				p.s(") ")
			}
		case 0xc2:
			if n-i < 6 {
				p.s("(jumbo: trunc)")
				return false
			}
			if l := p.u8(bp + i + 1); l != 4 {
				p.s("(jumbo: invalid len ")
				p.u(uint64(l))
				p.c(')')
				return false
			}
			jl := p.be32(bp + i + 2)
			if found {
				if v {
					p.s("(jumbo: ")
					p.u(uint64(jl))
					p.s(" - already seen) ")
				}
				break
			}
			found = true
			switch {
			case plen == nil:
				if v {
					p.s("(jumbo: ")
					p.u(uint64(jl))
					p.s(" - not a hop-by-hop option) ")
				}
			case *plen != 0:
				if v {
					p.s("(jumbo: ")
					p.u(uint64(jl))
					p.s(" - payload len != 0) ")
				}
			default:
				if v {
					p.s("(jumbo: ")
					p.u(uint64(jl))
					if jl < 65536 {
						p.s(" - < 65536) ")
					} else {
						p.s(") ")
					}
				}
				*plen = int(jl)
				p.jumbo = true
			}
		default:
			if n-i < 2 {
				p.s("(type ")
				p.u(uint64(t))
				p.s(": trunc)")
				return false
			}
			if v {
				p.s("(opt_type 0x")
				p.hexN(uint64(t), 2)
				p.s(": len=")
				p.u(uint64(p.u8(bp + i + 1)))
				p.c(')')
			}
		}
		if p.jumped {
			return true
		}
	}
	if v {
		p.c(' ')
	}
	return true
}

// ipDemux hands the transport header at off to its decoder
// (ip_demux_print); ipOff is the start of the IP header.
func (p *printer) ipDemux(off, length, ver int, fragmented bool, nh uint8, ipOff int) {
	switch nh {
	case 6:
		p.tcpPrint(off, length, ver, ipOff, fragmented)
	case 17:
		p.udpPrint(off, length, ver, ipOff, fragmented)
	case 1:
		if ver == 4 {
			p.icmpPrint(off, length, ipOff, fragmented)
		} else {
			p.s("[ICMP requires IPv4] (invalid)")
		}
	case 58:
		if ver == 6 {
			p.icmp6Print(off, length, ipOff, fragmented)
		} else {
			p.s("[ICMPv6 requires IPv6] (invalid)")
		}
	case 4:
		p.ip(off, length)
	case 41:
		p.ip6(off, length)
	case 59:
		p.s("no next header")
	case 143:
		if ver == 6 {
			p.proto = "ether"
			p.ether(off, length, max(p.end-off, 0))
		} else {
			p.s("[Ethernet requires IPv6] (invalid)")
		}
	case 47:
		p.gre(off, length)
	case 112:
		p.vrrp(off, length, ver, ipOff)
	case 2:
		if ver == 6 {
			p.s("[IGMP requires IPv4] (invalid)")
		} else {
			p.igmp(off, length)
		}
	case 50:
		p.espPrint(off, length)
	case 51:
		// AH: its header is printed as tcpdump prints it, then the
		// protocol it protects.
		p.skip(ipprotoName(nh))
		if !p.has(off, 1) {
			saved := p.proto
			p.proto = "ah"
			p.trunc()
			p.proto = saved
			return
		}
		next := p.u8(off)
		if n := p.ah(off); n > 0 && !p.jumped {
			p.ipDemux(off+n, length-n, ver, fragmented, next, ipOff)
		}
	case 108, 132, 33, 9, 88, 77, 8, 89, 46, 55, 103, 113, 97:
		// Decoded by tcpdump; printed here as tcpdump prints a protocol
		// it does not know.
		p.skip(ipprotoName(nh))
		p.ipProtoReads(nh, off, length)
		fallthrough
	default:
		p.s(" ip-proto-")
		p.u(uint64(nh))
		p.c(' ')
		p.u(uint64(length))
	}
}

// ipTimestamps prints an IPv4 timestamp option (ip_printts); false means
// truncated.
func (p *printer) ipTimestamps(cp, length int) bool {
	if length < 4 {
		p.s("[bad length ")
		p.u(uint64(length))
		p.c(']')
		return true
	}
	p.s(" TS{")
	flg := p.u8(cp + 3)
	hoplen := 8
	if flg&0xf == 0 {
		hoplen = 4
	}
	if (length-4)&(hoplen-1) != 0 {
		p.s("[bad length ")
		p.u(uint64(length))
		p.c(']')
	}
	ptr := int(p.u8(cp+2)) - 1
	if ptr < 4 || (ptr-4)&(hoplen-1) != 0 || ptr > length+1 {
		p.s("[bad ptr ")
		p.u(uint64(p.u8(cp + 2)))
		p.c(']')
	}
	l := 0
	switch flg & 0xf {
	case 0:
		p.s("TSONLY")
	case 1:
		p.s("TS+ADDR")
	case 3:
		p.s("PRESPEC")
	default:
		p.s("[bad ts type ")
		p.u(uint64(flg & 0xf))
		p.c(']')
		goto done
	}
	for l = 4; l < length; l += hoplen {
		typ := " "
		if ptr == l {
			typ = " ^ "
		}
		if !p.has(cp+l, hoplen) {
			return false
		}
		p.s(typ)
		p.u(uint64(p.be32(cp + l + hoplen - 4)))
		p.c('@')
		if hoplen == 8 {
			p.ipv4(cp + l)
		}
	}
done:
	if ptr == l {
		p.s(" ^ ")
	}
	if flg>>4 != 0 {
		p.s(" [")
		p.u(uint64(flg >> 4))
		p.s(" hops not recorded]} ")
	} else {
		p.c('}')
	}
	return true
}
