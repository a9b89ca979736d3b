package sink

var stpFlags = []bitName{{0x01, "Topology change"}, {0x02, "Proposal"}, {0x10, "Learn"}, {0x20, "Forward"},
	{0x40, "Agreement"}, {0x80, "Topology change ACK"}}

// stpTime prints an STP time (1/256 s) as tcpdump's "%.2fs" of the
// quotient does, ties to even.
func (p *printer) stpTime(v uint16) {
	n := uint32(v) * 25
	q, r := n/64, n%64
	if r > 32 || (r == 32 && q&1 == 1) {
		q++
	}
	p.u(uint64(q / 100))
	p.c('.')
	p.c(byte('0' + q%100/10))
	p.c(byte('0' + q%10))
	p.c('s')
}

// stpBridgeID prints a bridge identifier: priority and MAC address.
func (p *printer) stpBridgeID(off int) {
	p.hexN(uint64(p.pkt[off]), 2)
	p.hexN(uint64(p.pkt[off+1]), 2)
	p.c('.')
	p.mac(off+2, 6)
}

// stpPrint prints a spanning tree BPDU of 802.1D or 802.1w at off
// (stp_print); false means an MSTP or SPB BPDU, which is not decoded.
func (p *printer) stpPrint(off, length int) bool {
	p.proto = "stp"
	if length < 4 {
		p.s(" (invalid)")
		return true
	}
	if p.has(off, 4) && (p.pkt[off+2] == 3 || p.pkt[off+2] == 4) && p.pkt[off+3] == 2 {
		return false
	}
	if id := p.be16(off); p.jumped {
		return true
	} else if id != 0 {
		p.s("unknown STP version, length ")
		p.u(uint64(length))
		return true
	}
	ver := p.u8(off + 2)
	if p.jumped {
		return true
	}
	p.s("STP ")
	switch ver {
	case 0:
		p.s("802.1d")
	case 2:
		p.s("802.1w")
	case 3:
		p.s("802.1s")
	case 4:
		p.s("802.1aq")
	default:
		p.s("Unknown STP protocol (0x")
		p.hexN(uint64(ver), 2)
		p.c(')')
		return true
	}
	typ := p.u8(off + 3)
	if p.jumped {
		return true
	}
	p.s(", ")
	switch typ {
	case 0:
		p.s("Config")
	case 2:
		p.s("Rapid STP")
	case 0x80:
		p.s("Topology Change")
	default:
		p.s("Unknown BPDU Type (0x")
		p.hexN(uint64(typ), 2)
		p.c(')')
	}
	switch {
	case typ == 0 && length < 35, typ == 2 && length < 36:
		p.s(" (invalid)")
	case typ == 0, typ == 2 && ver == 2:
		p.stpConfig(off, length, ver)
	}
	return true
}

// stpConfig prints a configuration or RST BPDU (stp_print_config_bpdu).
func (p *printer) stpConfig(off, length int, ver uint8) {
	if !p.check(off+4, 1) {
		return
	}
	fl := p.pkt[off+4]
	p.s(", Flags [")
	p.bitNames(uint32(fl), stpFlags, "none")
	p.c(']')
	if !p.check(off+17, 10) {
		return
	}
	p.s(", bridge-id ")
	p.stpBridgeID(off + 17)
	p.c('.')
	p.hexN(uint64(p.be16(off+25)), 4)
	p.s(", length ")
	p.u(uint64(length))
	if p.o.Verbose == 0 {
		return
	}
	if !p.check(off+27, 8) {
		return
	}
	p.s("\n\tmessage-age ")
	p.stpTime(p.be16(off + 27))
	p.s(", max-age ")
	p.stpTime(p.be16(off + 29))
	p.s(", hello-time ")
	p.stpTime(p.be16(off + 31))
	p.s(", forwarding-delay ")
	p.stpTime(p.be16(off + 33))
	if !p.check(off+5, 12) {
		return
	}
	p.s("\n\troot-id ")
	p.stpBridgeID(off + 5)
	p.s(", root-pathcost ")
	p.u(uint64(p.be32(off + 13)))
	if ver == 2 {
		p.s(", port-role ")
		p.s([...]string{"Unknown", "Alternate", "Root", "Designated"}[(fl&0x0c)>>2])
	}
}
