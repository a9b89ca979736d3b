package sink

import (
	"time"

	"github.com/wringcap/wring/capture/packet"
)

// hexOnly prints n bytes from off as tcpdump -x does (hex_print): lines of
// eight 16-bit groups, each line prefixed with ident and the offset.
func (p *printer) hexOnly(ident string, off, n int) {
	truncated := false
	if avail := p.end - off; n > avail {
		n, truncated = max(avail, 0), true
	}
	oset := 0
	i := 0
	for k := 0; k+1 < n; k += 2 {
		if i%8 == 0 {
			p.s(ident)
			p.s("0x")
			p.hexN(uint64(oset), 4)
			p.s(": ")
			oset += 16
		}
		i++
		p.c(' ')
		p.hexN(uint64(p.pkt[off+k]), 2)
		p.hexN(uint64(p.pkt[off+k+1]), 2)
	}
	if n&1 != 0 {
		if i%8 == 0 {
			p.s(ident)
			p.s("0x")
			p.hexN(uint64(oset), 4)
			p.s(": ")
		}
		p.c(' ')
		p.hexN(uint64(p.pkt[off+n-1]), 2)
	}
	if truncated {
		p.jump()
	}
}

// hexASCII prints n bytes from off as tcpdump -X does
// (hex_and_ascii_print): sixteen bytes a line, hex then the printable
// characters.
func (p *printer) hexASCII(ident string, off, n int) {
	truncated := false
	if avail := p.end - off; n > avail {
		n, truncated = max(avail, 0), true
	}
	for line := 0; line < n; line += 16 {
		k := min(16, n-line)
		p.s(ident)
		p.s("0x")
		p.hexN(uint64(line), 4)
		p.s(": ")
		// Hex: " xxxx" per pair, " xx" for a last odd byte, padded to 40.
		w := 0
		for j := 0; j < k; j += 2 {
			p.c(' ')
			p.hexN(uint64(p.pkt[off+line+j]), 2)
			w += 3
			if j+1 < k {
				p.hexN(uint64(p.pkt[off+line+j+1]), 2)
				w += 2
			}
		}
		for ; w < 40; w++ {
			p.c(' ')
		}
		p.s("  ")
		for j := 0; j < k; j++ {
			c := p.pkt[off+line+j]
			if c < 0x21 || c > 0x7e {
				c = '.'
			}
			p.c(c)
		}
	}
	if truncated {
		p.jump()
	}
}

// ascii prints n bytes from off as tcpdump -A does: printable characters,
// tabs, spaces and newlines as they are, carriage returns dropped before a
// newline, anything else as '.'.
func (p *printer) ascii(off, n int) {
	truncated := false
	if avail := p.end - off; n > avail {
		n, truncated = max(avail, 0), true
	}
	p.c('\n')
	for k := 0; k < n; k++ {
		c := p.pkt[off+k]
		left := n - k - 1
		switch {
		case c == '\r':
			if left > 1 && p.pkt[off+k+1] != '\n' {
				p.c('.')
			}
		case (c >= 0x21 && c <= 0x7e) || c == '\t' || c == ' ' || c == '\n':
			p.c(c)
		default:
			p.c('.')
		}
	}
	if truncated {
		p.jump()
	}
}

// timestamp prints the time stamp in the form TimeFormat selects, with a
// trailing space (tcpdump's ts_print).
func (p *printer) timestamp(info *packet.Info) {
	sec, frac := info.Stamp.Sec, uint64(0)
	res := uint64(1_000_000)
	if p.o.Nano {
		res = 1_000_000_000
	}
	if info.Stamp.Res != 0 {
		sec, frac = info.Stamp.Scaled(res)
	} else {
		sec = info.Timestamp / 1_000_000_000
		frac = uint64(info.Timestamp%1_000_000_000) / (1_000_000_000 / res)
	}
	// tcpdump refuses seconds with bit 31 set and prints the epoch form
	// and the fraction as C unsigned ints; the clock uses all the bits.
	f := uint32(frac)
	switch p.o.TimeFormat {
	case 0:
		p.clock(sec, f, false, p.loc)
		p.c(' ')
	case 1:
	case 2:
		if uint32(sec)&0x80000000 != 0 {
			p.s("[Error converting time]")
		} else {
			p.u(uint64(uint32(sec)))
			p.frac(f)
		}
		p.c(' ')
	case 3, 5:
		if !p.tsRef.set {
			p.tsRef.sec, p.tsRef.frac, p.tsRef.set = sec, int64(f), true
		}
		ds, df := sec-p.tsRef.sec, int64(f)-p.tsRef.frac
		neg := ds < 0 || (ds == 0 && df < 0)
		if neg {
			ds, df = -ds, -df
		}
		if df < 0 {
			ds--
			df += int64(res)
		}
		if neg {
			p.c('-')
		} else {
			p.c(' ')
		}
		p.clock(ds, uint32(df), false, time.UTC)
		p.c(' ')
		if p.o.TimeFormat == 3 {
			p.tsRef.sec, p.tsRef.frac = sec, int64(f)
		}
	case 4:
		p.clock(sec, f, true, p.loc)
		p.c(' ')
	}
}

// clock prints HH:MM:SS (with the date first if asked) and the fraction.
func (p *printer) clock(sec int64, f uint32, date bool, loc *time.Location) {
	if uint32(sec)&0x80000000 != 0 {
		p.s("[Error converting time]")
		return
	}
	if p.jumped {
		return
	}
	t := time.Unix(sec, 0).In(loc)
	if date {
		p.b = t.AppendFormat(p.b, "2006-01-02 15:04:05")
	} else {
		p.b = t.AppendFormat(p.b, "15:04:05")
	}
	p.frac(f)
}

func (p *printer) frac(f uint32) {
	if p.jumped {
		return
	}
	p.c('.')
	width := 6
	if p.o.Nano {
		width = 9
	}
	var t [10]byte
	i := len(t)
	for v := uint64(f); v != 0 || len(t)-i < width; v /= 10 {
		i--
		t[i] = byte('0' + v%10)
	}
	p.b = append(p.b, t[i:]...)
}
