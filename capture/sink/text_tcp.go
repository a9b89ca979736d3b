package sink

// tcpSeqWays and tcpSeqSets bound the per-connection state kept for
// relative sequence numbers: a set-associative table of 4096 connections,
// the least recently used one in a set replaced by a new connection.
const (
	tcpSeqWays = 4
	tcpSeqSets = 1024
)

type tcpSeqKey struct {
	src, dst [16]byte
	port     uint32
}

type tcpSeqEntry struct {
	key      tcpSeqKey
	seq, ack uint32
	used     uint64 // last use; 0 for an empty slot
}

// tcpSeqTable holds, per connection, the initial sequence numbers tcpdump
// subtracts to print relative ones (its tcp_seq_hash), in a fixed amount
// of memory allocated once.
type tcpSeqTable struct {
	sets  *[tcpSeqSets][tcpSeqWays]tcpSeqEntry
	clock uint64
}

// lookup returns the entry for k, and whether it already existed; a new
// entry replaces the least recently used one of its set.
func (t *tcpSeqTable) lookup(k *tcpSeqKey) (*tcpSeqEntry, bool) {
	if t.sets == nil {
		t.sets = new([tcpSeqSets][tcpSeqWays]tcpSeqEntry)
	}
	t.clock++
	h := uint32(2166136261)
	for _, b := range k.src {
		h = (h ^ uint32(b)) * 16777619
	}
	for _, b := range k.dst {
		h = (h ^ uint32(b)) * 16777619
	}
	h = (h ^ k.port) * 16777619
	set := &t.sets[h%tcpSeqSets]
	victim := &set[0]
	for i := range set {
		e := &set[i]
		if e.used != 0 && e.key == *k {
			e.used = t.clock
			return e, true
		}
		if e.used < victim.used {
			victim = e
		}
	}
	victim.key, victim.used = *k, t.clock
	return victim, false
}

// tcpPorts prints "src.port > dst.port: " for the IP header at ipOff.
func (p *printer) endpoints(ver, ipOff int, sport, dport uint16, withPorts bool) {
	if ver == 6 {
		p.ipv6(ipOff + 8)
	} else {
		p.ipv4(ipOff + 12)
	}
	if withPorts {
		p.c('.')
		p.u(uint64(sport))
	}
	p.s(" > ")
	if ver == 6 {
		p.ipv6(ipOff + 24)
	} else {
		p.ipv4(ipOff + 16)
	}
	if withPorts {
		p.c('.')
		p.u(uint64(dport))
	}
}

// l4Next is the protocol field that named the transport header: the IPv4
// protocol, or the IPv6 header's next header (tcpdump prints addresses
// with the ports only when it is the transport protocol itself).
func (p *printer) l4Next(ver, ipOff int) uint8 {
	if ver == 6 {
		return p.u8(ipOff + 6)
	}
	return p.u8(ipOff + 9)
}

// pseudoSum is the checksum of the IP pseudo-header for a transport
// protocol, not yet complemented.
func (p *printer) pseudoSum(ver, ipOff int, proto uint8, length int) uint32 {
	var sum uint32
	add := func(a, n int) {
		for i := 0; i < n; i += 2 {
			sum += uint32(p.pkt[a+i])<<8 | uint32(p.pkt[a+i+1])
		}
	}
	if ver == 6 {
		add(ipOff+8, 16)
		add(p.ip6FinalDst(ipOff), 16)
	} else {
		add(ipOff+12, 8)
	}
	sum += uint32(proto) + uint32(length)&0xffff + uint32(length)>>16
	return sum
}

var tcpFlagOrder = [8]struct {
	bit  uint8
	name byte
}{{0x01, 'F'}, {0x02, 'S'}, {0x04, 'R'}, {0x08, 'P'}, {0x10, '.'}, {0x20, 'U'}, {0x40, 'E'}, {0x80, 'W'}}

// tcpPrint decodes a TCP header at off (tcp_print).
func (p *printer) tcpPrint(off, length, ver, ipOff int, fragmented bool) {
	p.proto = "tcp"
	if !p.has(off+2, 2) {
		p.endpoints(ver, ipOff, 0, 0, false)
		p.c(':')
		p.trunc()
		return
	}
	sport, dport := p.be16(off), p.be16(off+2)
	if p.l4Next(ver, ipOff) == 6 {
		p.endpoints(ver, ipOff, sport, dport, true)
		p.s(": ")
	} else {
		p.u(uint64(sport))
		p.s(" > ")
		p.u(uint64(dport))
		p.s(": ")
	}
	if !p.has(off, 20) {
		p.trunc()
		return
	}
	hlen := int(p.pkt[off+12]>>4) * 4
	if hlen < 20 {
		p.s(" tcp ")
		p.u(uint64(uint32(length - hlen)))
		p.s(" [bad hdr length ")
		p.u(uint64(hlen))
		p.s(" - too short, < 20]")
		return
	}
	seq, ack := p.be32(off+4), p.be32(off+8)
	win, urp := p.be16(off+14), p.be16(off+18)
	if p.o.Quiet {
		p.s("tcp ")
		p.u(uint64(uint32(length - hlen)))
		if hlen > length {
			p.s(" [bad hdr length ")
			p.u(uint64(hlen))
			p.s(" - too long, > ")
			p.u(uint64(length))
			p.c(']')
		}
		return
	}
	flags := p.pkt[off+13]
	p.s("Flags [")
	if flags == 0 {
		p.s("none")
	}
	for _, f := range tcpFlagOrder {
		if flags&f.bit != 0 {
			p.c(f.name)
		}
	}
	p.c(']')
	var thseq, thack uint32
	rev := false
	if flags&0x10 != 0 {
		var k tcpSeqKey
		a, n := ipOff+12, 4
		if ver == 6 {
			a, n = ipOff+8, 16
		}
		src, dst := p.pkt[a:a+n], p.pkt[a+n:a+2*n]
		if sport > dport {
			rev = true
		} else if sport == dport && string(src) > string(dst) {
			rev = true
		}
		if rev {
			copy(k.src[:], dst)
			copy(k.dst[:], src)
			k.port = uint32(dport)<<16 | uint32(sport)
		} else {
			copy(k.src[:], src)
			copy(k.dst[:], dst)
			k.port = uint32(sport)<<16 | uint32(dport)
		}
		e, found := p.tcp.lookup(&k)
		if !found || flags&0x02 != 0 {
			if rev {
				e.ack, e.seq = seq, ack-1
			} else {
				e.seq, e.ack = seq, ack-1
			}
		} else if rev {
			seq -= e.ack
			ack -= e.seq
		} else {
			seq -= e.seq
			ack -= e.ack
		}
		thseq, thack = e.seq, e.ack
	}
	if hlen > length {
		p.s(" [bad hdr length ")
		p.u(uint64(hlen))
		p.s(" - too long, > ")
		p.u(uint64(length))
		p.c(']')
		return
	}
	if p.o.Verbose > 0 && !fragmented && p.has(off, length) {
		sum := p.cksum(p.pseudoSum(ver, ipOff, 6, length), off, length)
		field := p.be16(off + 16)
		p.s(", cksum 0x")
		p.hexN(uint64(field), 4)
		if sum != 0 {
			p.s(" (incorrect -> 0x")
			p.hexN(uint64(shouldbe(field, sum)), 4)
			p.c(')')
		} else {
			p.s(" (correct)")
		}
	}
	length -= hlen
	if p.o.Verbose > 1 || length > 0 || flags&0x07 != 0 {
		p.s(", seq ")
		p.u(uint64(seq))
		if length > 0 {
			p.c(':')
			p.u(uint64(seq + uint32(length)))
		}
	}
	if flags&0x10 != 0 {
		p.s(", ack ")
		p.u(uint64(ack))
	}
	p.s(", win ")
	p.u(uint64(win))
	if flags&0x20 != 0 {
		p.s(", urg ")
		p.u(uint64(urp))
	}
	if hlen > 20 {
		if !p.tcpOptions(off+20, hlen-20, rev, thseq, thack, flags) {
			return
		}
	}
	p.s(", length ")
	p.u(uint64(length))
	if length == 0 || p.jumped {
		return
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
	body := off + hlen
	if flags&0x04 != 0 && p.o.Verbose > 0 {
		p.skip("tcp rst data")
		return
	}
	either := func(ports ...uint16) bool {
		for _, q := range ports {
			if sport == q || dport == q {
				return true
			}
		}
		return false
	}
	// tcp_print tries the ports in this order, so a segment between two
	// known ports goes to the first decoder of the list, not the one of
	// its destination.
	switch {
	case either(23, 179, 1723, 6379, 22, 10288, 6633, 6653):
		// telnet, BGP, PPTP, RESP, SSH, BEEP, OpenFlow (tcpdump built
		// without ENABLE_SMB, as Debian's is, has no NetBIOS or SMB here).
		p.skip("tcp payload")
		p.tcpPayloadReads(body, length, sport, dport, ipOff)
	case either(25):
		p.s(": ")
		p.txtProto(body, length, "smtp", "SMTP", nil)
	case either(43):
		p.s(": ")
		p.txtProto(body, length, "whois", "WHOIS", nil)
	case either(21):
		p.s(": ")
		p.txtProto(body, length, "ftp", "FTP", nil)
	case either(80, 8080):
		p.s(": ")
		p.httpPrint(body, length)
	case either(554, 8554):
		p.s(": ")
		p.txtProto(body, length, "rtsp", "RTSP", rtspMethods[:])
	case either(53):
		p.dnsPrint(body, length, true, false)
	case either(639, 323, 646, 2049):
		// MSDP, RPKI-RTR, LDP, NFS.
		p.skip("tcp payload")
		p.tcpPayloadReads(body, length, sport, dport, ipOff)
	}
}

// rtspMethods are the request names rtsp_print accepts.
var rtspMethods = [...]string{"DESCRIBE", "ANNOUNCE", "GET_PARAMETER", "OPTIONS", "PAUSE", "PLAY", "RECORD", "REDIRECT", "SETUP", "SET_PARAMETER", "TEARDOWN"}

// tcpOptions prints ", options [...]"; false means tcpdump stopped the line
// there (a bad or truncated option).
func (p *printer) tcpOptions(cp, hlen int, rev bool, thseq, thack uint32, flags uint8) bool {
	p.s(", options [")
	ch := byte(0)
	bad := func() bool {
		p.s("[bad opt]")
		if ch != 0 {
			p.c(']')
		}
		return false
	}
	truncd := func() bool {
		p.trunc()
		if ch != 0 {
			p.c('>')
		}
		return false
	}
	for hlen > 0 {
		if ch != 0 {
			p.c(ch)
		}
		opt := p.u8(cp)
		cp++
		ln := 1
		if opt > 1 {
			ln = int(p.u8(cp))
			cp++
			if ln < 2 || ln > hlen {
				return bad()
			}
			hlen--
		}
		hlen--
		if p.jumped {
			return false
		}
		if n, ok := tcpOptionNames[uint32(opt)]; ok {
			p.s(n)
		} else {
			p.s("unknown-")
			p.u(uint64(opt))
		}
		datalen := 0
		lencheck := func(l int) int {
			if l > hlen {
				return 1
			}
			if !p.has(cp, l) {
				return 2
			}
			return 0
		}
		switch opt {
		case 2:
			datalen = 2
			switch lencheck(2) {
			case 1:
				return bad()
			case 2:
				return truncd()
			}
			p.c(' ')
			p.u(uint64(p.be16(cp)))
		case 3:
			datalen = 1
			switch lencheck(1) {
			case 1:
				return bad()
			case 2:
				return truncd()
			}
			p.c(' ')
			p.u(uint64(p.u8(cp)))
		case 5:
			datalen = ln - 2
			if datalen%8 != 0 {
				p.s(" invalid sack")
				break
			}
			p.c(' ')
			p.u(uint64(datalen / 8))
			p.c(' ')
			for i := 0; i < datalen; i += 8 {
				switch lencheck(i + 4) {
				case 1:
					return bad()
				case 2:
					return truncd()
				}
				s := p.be32(cp + i)
				switch lencheck(i + 8) {
				case 1:
					return bad()
				case 2:
					return truncd()
				}
				e := p.be32(cp + i + 4)
				if rev {
					s -= thseq
					e -= thseq
				} else {
					s -= thack
					e -= thack
				}
				p.c('{')
				p.u(uint64(s))
				p.c(':')
				p.u(uint64(e))
				p.c('}')
			}
		case 11, 12, 13, 6, 7:
			datalen = 4
			switch lencheck(4) {
			case 1:
				return bad()
			case 2:
				return truncd()
			}
			p.c(' ')
			p.u(uint64(p.be32(cp)))
		case 8:
			datalen = 8
			switch lencheck(8) {
			case 1:
				return bad()
			case 2:
				return truncd()
			}
			p.s(" val ")
			p.u(uint64(p.be32(cp)))
			p.s(" ecr ")
			p.u(uint64(p.be32(cp + 4)))
		case 0, 1, 4:
		case 20:
			datalen = 2
			switch lencheck(2) {
			case 1:
				return bad()
			case 2:
				return truncd()
			}
			p.s(" cap ")
			p.hexN(uint64(p.u8(cp)), 2)
			p.s(" id ")
			p.u(uint64(p.u8(cp + 1)))
		case 28:
			datalen = 2
			switch lencheck(2) {
			case 1:
				return bad()
			case 2:
				return truncd()
			}
			v := uint64(p.be16(cp))
			p.s(" 0x")
			p.hexN(v, 1)
			if v&1 != 0 {
				v = (v >> 1) * 60
			} else {
				v >>= 1
			}
			p.c(' ')
			p.u(v)
		case 254:
			datalen = ln - 2
			switch lencheck(datalen) {
			case 1:
				return bad()
			case 2:
				return truncd()
			}
			if datalen < 2 {
				return bad()
			}
			magic := p.be16(cp)
			p.c('-')
			if magic == 0xf989 {
				p.tfo(cp+2, datalen-2, true)
			} else {
				p.hexN(uint64(magic), 4)
			}
		case 19:
			datalen = 16
			switch lencheck(16) {
			case 1:
				return bad()
			case 2:
				return truncd()
			}
			// Without a secret (-M) tcpdump cannot check the signature.
			p.s(" can't check - ")
			for i := 0; i < 16; i++ {
				p.hexN(uint64(p.pkt[cp+i]), 2)
			}
		case 29:
			datalen = ln - 2
			if datalen < 2 {
				p.s(" (invalid)")
				break
			}
			for i, label := range [2]string{" keyid ", " rnextkeyid "} {
				switch lencheck(i + 1) {
				case 1:
					return bad()
				case 2:
					return truncd()
				}
				p.s(label)
				p.u(uint64(p.pkt[cp+i]))
			}
			if datalen > 2 {
				p.s(" mac 0x")
				for i := 2; i < datalen; i++ {
					switch lencheck(i + 1) {
					case 1:
						return bad()
					case 2:
						return truncd()
					}
					p.hexN(uint64(p.pkt[cp+i]), 2)
				}
			}
		case 30:
			datalen = ln - 2
			switch lencheck(datalen) {
			case 1:
				return bad()
			case 2:
				return truncd()
			}
			if !p.mptcp(cp-2, ln, flags) {
				return bad()
			}
			p.proto = "tcp"
		case 34:
			datalen = ln - 2
			switch lencheck(datalen) {
			case 1:
				return bad()
			case 2:
				return truncd()
			}
			p.c(' ')
			p.tfo(cp, datalen, false)
		default:
			datalen = ln - 2
			if datalen != 0 {
				p.s(" 0x")
			}
			for i := 0; i < datalen; i++ {
				switch lencheck(i + 1) {
				case 1:
					return bad()
				case 2:
					return truncd()
				}
				p.hexN(uint64(p.u8(cp+i)), 2)
			}
		}
		cp += datalen
		hlen -= datalen
		datalen++
		if opt > 1 {
			datalen++
		}
		if datalen != ln {
			p.s("[len ")
			p.u(uint64(ln))
			p.c(']')
		}
		ch = ','
		if opt == 0 {
			break
		}
	}
	p.c(']')
	return true
}

// tfo prints a TCP Fast Open option's cookie (print_tcp_fastopen_option);
// exp marks the experimental option kind.
func (p *printer) tfo(cp, n int, exp bool) {
	if exp {
		p.s("tfo")
	}
	switch {
	case n == 0:
		p.s(" cookiereq")
	case n%2 != 0 || n < 4 || n > 16:
		p.s(" (invalid)")
	default:
		p.s(" cookie ")
		for i := 0; i < n; i++ {
			p.hexN(uint64(p.u8(cp+i)), 2)
		}
	}
}
