package sink

// udpPrint decodes a UDP header at off (udp_print).
func (p *printer) udpPrint(off, length, ver, ipOff int, fragmented bool) {
	p.proto = "udp"
	withPorts := p.l4Next(ver, ipOff) == 17
	addrs := func(sport, dport uint16, ports bool) {
		if withPorts {
			p.endpoints(ver, ipOff, sport, dport, ports)
			p.s(": ")
		} else if ports {
			p.u(uint64(sport))
			p.s(" > ")
			p.u(uint64(dport))
			p.s(": ")
		}
	}
	if !p.has(off+2, 2) {
		addrs(0, 0, false)
		p.trunc()
		return
	}
	sport, dport := p.be16(off), p.be16(off+2)
	if length < 8 {
		addrs(sport, dport, true)
		p.s("truncated-udp ")
		p.u(uint64(length))
		return
	}
	if !p.has(off+4, 2) {
		addrs(sport, dport, true)
		p.trunc()
		return
	}
	ulen := int(p.be16(off + 4))
	if ulen == 0 && length > 65535 {
		ulen = length
	}
	if ulen < 8 {
		addrs(sport, dport, true)
		p.s("truncated-udplength ")
		p.u(uint64(ulen))
		return
	}
	ulen -= 8
	length -= 8
	if ulen < length {
		length = ulen
	}
	cp := off + 8
	if cp > p.end {
		addrs(sport, dport, true)
		p.trunc()
		return
	}
	addrs(sport, dport, true)
	if p.o.Verbose > 0 && !fragmented {
		if ver == 4 && p.o.Verbose > 1 {
			field := p.be16(off + 6)
			if field == 0 {
				p.s("[no cksum] ")
			} else if p.has(cp, length) {
				p.udpSum(ver, ipOff, off, length, field)
			}
		} else if ver == 6 && p.has(cp, length) {
			p.udpSum(ver, ipOff, off, length, p.be16(off+6))
		}
	}
	if !p.o.Quiet {
		switch {
		case sport == 53 || dport == 53:
			p.dnsPrint(cp, length, false)
			return
		case udpDecodedPort(sport, dport):
			p.skip("udp payload")
		}
	}
	if ulen > length && !fragmented {
		p.s("UDP, bad length ")
		p.u(uint64(ulen))
		p.s(" > ")
		p.u(uint64(length))
	} else {
		p.s("UDP, length ")
		p.u(uint64(ulen))
	}
}

func (p *printer) udpSum(ver, ipOff, off, length int, field uint16) {
	sum := p.cksum(p.pseudoSum(ver, ipOff, 17, length+8), off, length+8)
	if sum != 0 {
		p.s("[bad udp cksum 0x")
		p.hexN(uint64(field), 4)
		p.s(" -> 0x")
		p.hexN(uint64(shouldbe(field, sum)), 4)
		p.s("!] ")
	} else {
		p.s("[udp sum ok] ")
	}
}

// udpDecodedPort reports whether tcpdump decodes the payload of a UDP
// datagram between these ports as some protocol not decoded here.
func udpDecodedPort(sport, dport uint16) bool {
	either := func(ports ...uint16) bool {
		for _, x := range ports {
			if sport == x || dport == x {
				return true
			}
		}
		return false
	}
	if either(5353, 137, 138, 69, 161, 162, 123, 67, 68, 520, 521, 496, 500, 4500, 1645, 1646, 1812, 1813, 1700, 3799,
		1701, 5060, 2123, 2152, 3386, 1985, 3784, 3785, 4784, 6784, 5246, 5247, 12222, 12223, 6081, 4789, 8472, 4341, 4342,
		6343, 9995, 2055, 4739, 514, 547, 546, 111, 2049, 5355, 5678, 7000, 1812, 3503, 1645, 319, 320, 30490, 646, 4754,
		1935, 1293, 8467, 4342, 5000, 2154, 6696, 8805, 3868, 6632, 3222, 1719, 1720, 5351, 5004, 5005, 6363, 2443, 1027,
		2000, 4500, 5059) {
		return true
	}
	return (sport >= 7000 && sport <= 7009) || (dport >= 7000 && dport <= 7009)
}
