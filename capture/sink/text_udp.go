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
	if !p.o.Quiet && p.has(cp+4, 4) {
		// Sun RPC to or from NFS, which tcpdump decodes.
		if d := p.be32(cp + 4); (dport == 2049 && d == 0) || (sport == 2049 && d == 1) {
			p.skip("nfs")
			p.nfsReads(d == 0, cp, uint32(length), ipOff)
			return
		}
	}
	if !p.o.Quiet {
		switch {
		case sport == 53 || dport == 53:
			p.dnsPrint(cp, length, false, false)
			return
		case sport == 5353 || dport == 5353:
			p.dnsPrint(cp, length, false, true)
			return
		case (sport == 67 || sport == 68 || dport == 67 || dport == 68) && sport != 525 && dport != 525 &&
			sport != 69 && dport != 69:
			if p.bootpPrint(cp, length) {
				return
			}
		case (sport == 5060 || dport == 5060) && sipOnly(sport, dport):
			p.sipPrint(cp, length)
			return
		case (sport == 4500 || dport == 4500) && nattOnly(sport, dport):
			if p.nattPrint(cp, length) {
				return
			}
		case (dport == 3784 || dport == 4784 || dport == 6784) && !udpDecodedPort(sport, sport):
			if p.bfdPrint(cp, length, dport) {
				return
			}
		case (sport == 4789 || dport == 4789) && vxlanOnly(sport, dport):
			p.vxlanPrint(cp, length)
			return
		case sport == 1985 && dport == 1985:
			// HSRP; tcpdump takes any source port, after the ports of
			// protocols not decoded here.
			p.hsrpPrint(cp, length)
			return
		case p.has(cp+2, 1) && p.pkt[cp+2] == 2 && (atalkPort(sport) || atalkPort(dport)):
			p.skip("appletalk")
		case udpDecodedPort(sport, dport):
			p.skip("udp payload")
			p.udpPayloadReads(cp, length, sport, dport, ipOff)
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
	switch dport {
	case 3784, 3785, 6784, 4784, 1985, 12223, 3456, 4567:
		return true
	}
	if sport == 49152 || sport == 12223 {
		return true
	}
	for _, x := range [...]uint16{5359, 654, 6696, 6697, 68, 67, 496, 547, 546, 6081, 8231, 500, 4500, 7500, 8500, 88,
		750, 1701, 646, 4342, 701, 12222, 921, 3503, 6635, 5353, 138, 137, 123, 698, 8472, 319, 320, 1646, 1700, 3799,
		1813, 1812, 1645, 521, 520, 6343, 5060, 162, 161, 30490, 514, 69, 525, 1589, 4790, 4789, 2104, 2103, 17754} {
		if sport == x || dport == x {
			return true
		}
	}
	return (sport >= 7000 && sport <= 7009) || (dport >= 7000 && dport <= 7009)
}

// atalkPort reports the ports tcpdump takes for AppleTalk over UDP.
func atalkPort(port uint16) bool {
	return port-16512 < 128 || port-200 < 128 || port-768 < 128
}

// sipOnly reports whether a datagram to or from the SIP port has no
// other port tcpdump's UDP dispatch takes for another protocol first.
func sipOnly(sport, dport uint16) bool {
	other := dport
	if sport != 5060 {
		other = sport
	}
	return other == 5060 || !udpDecodedPort(other, other)
}
