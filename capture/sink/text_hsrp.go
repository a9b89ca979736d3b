package sink

// hsrpStates are HSRP's state names (RFC 2281) as tcpdump prints them.
var hsrpStates = map[uint8]string{0: "initial", 1: "learn", 2: "listen", 4: "speak", 8: "standby", 16: "active"}

// hsrpPrint decodes a Cisco HSRP message at off (hsrp_print): version,
// op code, state, group and virtual address, with -v the times, priority
// and authentication data.
func (p *printer) hsrpPrint(off, length int) {
	p.proto = "hsrp"
	ver := p.u8(off)
	p.s("HSRPv")
	p.u(uint64(ver))
	if ver != 0 || p.jumped {
		return
	}
	p.c('-')
	op := p.u8(off + 1)
	if p.jumped {
		return
	}
	switch op {
	case 0:
		p.s("hello ")
	case 1:
		p.s("coup ")
	case 2:
		p.s("resign ")
	default:
		p.s("unknown (")
		p.u(uint64(op))
		p.s(") ")
	}
	p.u(uint64(length))
	p.s(": ")
	st := p.u8(off + 2)
	if p.jumped {
		return
	}
	p.s("state=")
	if n, ok := hsrpStates[st]; ok {
		p.s(n)
	} else {
		p.s("Unknown (")
		p.u(uint64(st))
		p.c(')')
	}
	p.c(' ')
	g := p.u8(off + 6)
	if p.jumped {
		return
	}
	p.s("group=")
	p.u(uint64(g))
	p.c(' ')
	if r := p.u8(off + 7); r != 0 {
		p.s("[reserved=")
		p.u(uint64(r))
		p.s("!] ")
	}
	if !p.check(off+16, 4) {
		return
	}
	p.s("addr=")
	p.ipv4(off + 16)
	if p.o.Verbose == 0 {
		return
	}
	p.s(" hellotime=")
	p.relts(uint32(p.u8(off + 3)))
	p.s(" holdtime=")
	p.relts(uint32(p.u8(off + 4)))
	p.s(" priority=")
	p.u(uint64(p.u8(off + 5)))
	p.s(" auth=\"")
	for i := 0; i < 8; i++ {
		c := p.u8(off + 8 + i)
		if p.jumped || c == 0 {
			break
		}
		p.nameChar(c)
	}
	p.c('"')
}

// relts prints a number of seconds as tcpdump's unsigned_relts_print
// does: years, weeks, days, hours, minutes and seconds, each when not
// zero ("1m40s"), or "0s".
func (p *printer) relts(secs uint32) {
	if secs == 0 {
		p.s("0s")
		return
	}
	units := [...]struct {
		n    uint32
		name byte
	}{{31536000, 'y'}, {604800, 'w'}, {86400, 'd'}, {3600, 'h'}, {60, 'm'}, {1, 's'}}
	for _, u := range units {
		if secs >= u.n {
			p.u(uint64(secs / u.n))
			p.c(u.name)
			secs %= u.n
		}
	}
}
