package sink

import (
	"strconv"
	"time"

	"github.com/wringcap/wring/capture/packet"
	"github.com/wringcap/wring/spec"
)

// maxSnaplen is libpcap's MAXIMUM_SNAPLEN: tcpdump refuses to decode a
// record claiming more.
const maxSnaplen = 262144

// printer renders packets as tcpdump -n does. It reads untrusted bytes:
// every read goes through u8/be16/be32, which never index past end. A read
// past end is tcpdump's longjmp on truncation: it sets jumped, after which
// nothing more is printed for the packet, and the caller appends
// " [|proto]" with the protocol being decoded when it happened.
type printer struct {
	o   TextOptions
	loc *time.Location
	b   []byte
	pkt []byte // the captured bytes
	end int    // the current snapshot end (tcpdump's ndo_snapend), <= len(pkt)

	proto     string // protocol being decoded (ndo_protocol)
	jumped    bool
	undecoded string        // what tcpdump decodes in this packet that is not decoded here
	lt        spec.LinkType // the link type ltName names
	ltName    string
	jumbo     bool // the last options header held a valid jumbo payload option
	dumpStart int  // where the -x/-X/-A dump of the last packet begins in b
	dumpOff   int  // the packet offset the last packet's dump begins at
	jproto    string

	// rd is what a replayed payload decoder sees besides its bytes (see
	// text_reads.go): the ports and the IP header's offset.
	rd struct {
		sport, dport uint16
		ipOff        int
	}
	nfsXids nfsXidMap // tcpdump's NFS call cache, across packets

	tcp   tcpSeqTable
	tsRef struct {
		sec  int64
		frac int64
		set  bool
	}
}

// jump records a truncation the way tcpdump's longjmp does.
func (p *printer) jump() {
	if !p.jumped {
		p.jumped = true
		p.jproto = p.proto
	}
}

// has reports whether n bytes from off are captured (ND_TTEST_LEN).
func (p *printer) has(off, n int) bool {
	return off >= 0 && n >= 0 && off <= p.end && n <= p.end-off
}

func (p *printer) u8(off int) uint8 {
	if !p.has(off, 1) {
		p.jump()
		return 0
	}
	return p.pkt[off]
}

func (p *printer) be16(off int) uint16 {
	if !p.has(off, 2) {
		p.jump()
		return 0
	}
	return uint16(p.pkt[off])<<8 | uint16(p.pkt[off+1])
}

func (p *printer) be32(off int) uint32 {
	if !p.has(off, 4) {
		p.jump()
		return 0
	}
	return uint32(p.pkt[off])<<24 | uint32(p.pkt[off+1])<<16 | uint32(p.pkt[off+2])<<8 | uint32(p.pkt[off+3])
}

// check is a bounds check that longjmps (GET_* without printing).
func (p *printer) check(off, n int) bool {
	if !p.has(off, n) {
		p.jump()
		return false
	}
	return true
}

// Output: nothing is appended once the packet's decoding has jumped.

func (p *printer) s(v string) {
	if !p.jumped {
		p.b = append(p.b, v...)
	}
}

func (p *printer) c(v byte) {
	if !p.jumped {
		p.b = append(p.b, v)
	}
}

func (p *printer) u(v uint64) {
	if !p.jumped {
		p.b = strconv.AppendUint(p.b, v, 10)
	}
}

// hexN appends v in lower-case hex with at least width digits (%0*x).
func (p *printer) hexN(v uint64, width int) {
	if p.jumped {
		return
	}
	var t [16]byte
	i := len(t)
	for v != 0 || len(t)-i < width {
		i--
		t[i] = hexDigits[v&0xf]
		v >>= 4
	}
	if i == len(t) {
		i--
		t[i] = '0'
	}
	p.b = append(p.b, t[i:]...)
}

const hexDigits = "0123456789abcdef"

// trunc prints tcpdump's truncation mark for the current protocol
// (nd_print_trunc) without jumping.
func (p *printer) trunc() {
	p.s(" [|")
	p.s(p.proto)
	p.c(']')
}

// ipv4 prints the address at off (GET_IPADDR_STRING).
func (p *printer) ipv4(off int) {
	if !p.check(off, 4) {
		return
	}
	p.appendIPv4(p.pkt[off : off+4])
}

func (p *printer) appendIPv4(a []byte) {
	for i := 0; i < 4; i++ {
		if i > 0 {
			p.c('.')
		}
		p.u(uint64(a[i]))
	}
}

// ipv6 prints the address at off as tcpdump's addrtostr6 does: the longest
// run of two or more zero words compressed, the first one on a tie, and
// IPv4-compatible and -mapped addresses with a dotted quad.
func (p *printer) ipv6(off int) {
	if !p.check(off, 16) {
		return
	}
	p.appendIPv6(p.pkt[off : off+16])
}

// appendIPv6 prints the 16-byte address a (addrtostr6).
func (p *printer) appendIPv6(a []byte) {
	var w [8]uint16
	for i := range w {
		w[i] = uint16(a[2*i])<<8 | uint16(a[2*i+1])
	}
	bestBase, bestLen, curBase, curLen := -1, 0, -1, 0
	for i := 0; i < 8; i++ {
		if w[i] == 0 {
			if curBase == -1 {
				curBase, curLen = i, 1
			} else {
				curLen++
			}
		} else if curBase != -1 {
			if bestBase == -1 || curLen > bestLen {
				bestBase, bestLen = curBase, curLen
			}
			curBase = -1
		}
	}
	if curBase != -1 && (bestBase == -1 || curLen > bestLen) {
		bestBase, bestLen = curBase, curLen
	}
	if bestBase != -1 && bestLen < 2 {
		bestBase = -1
	}
	for i := 0; i < 8; i++ {
		if bestBase != -1 && i >= bestBase && i < bestBase+bestLen {
			if i == bestBase {
				p.c(':')
			}
			continue
		}
		if i != 0 {
			p.c(':')
		}
		if i == 6 && bestBase == 0 && (bestLen == 6 || (bestLen == 5 && w[5] == 0xffff)) {
			p.appendIPv4(a[12:16])
			break
		}
		p.hexN(uint64(w[i]), 1)
	}
	if bestBase != -1 && bestBase+bestLen == 8 {
		p.c(':')
	}
}

// mac prints n bytes at off as colon-separated hex (a MAC address when n
// is 6; GET_LINKADDR_STRING otherwise).
func (p *printer) mac(off, n int) {
	if !p.check(off, n) {
		return
	}
	if n == 0 {
		p.s("<empty>")
		return
	}
	for i := 0; i < n; i++ {
		if i > 0 {
			p.c(':')
		}
		p.hexN(uint64(p.pkt[off+i]), 2)
	}
}

// packet appends the whole text of one packet, with its newline.
func (p *printer) packet(info *packet.Info, data []byte) {
	p.dumpStart = len(p.b)
	caplen, wirelen := uint64(len(data)), uint64(info.WireLen)
	bad := false
	if caplen == 0 {
		bad = true
		p.s("[Invalid header: caplen==0")
	}
	sep := func() {
		if !bad {
			bad = true
			p.s("[Invalid header:")
		} else {
			p.c(',')
		}
	}
	if wirelen == 0 {
		sep()
		p.s(" len==0")
	} else if wirelen < caplen {
		sep()
		p.s(" len(")
		p.u(wirelen)
		p.s(") < caplen(")
		p.u(caplen)
		p.c(')')
	}
	if caplen > maxSnaplen {
		sep()
		p.s(" caplen(")
		p.u(caplen)
		p.s(") > 262144")
	}
	if wirelen > maxSnaplen {
		sep()
		p.s(" len(")
		p.u(wirelen)
		p.s(") > 262144")
	}
	if bad {
		p.s("]\n")
		return
	}
	p.timestamp(info)

	p.pkt, p.end = data, len(data)
	p.proto, p.jumped, p.undecoded = "", false, ""
	hdrlen := p.link(info.LinkType, int(info.WireLen))
	if p.jumped {
		p.jumped = false
		p.s(" [|")
		p.s(p.jproto)
		p.c(']')
		hdrlen = 0
	}
	p.end = len(data)
	p.dumpStart = len(p.b)
	p.dumpOff = hdrlen
	o := &p.o
	if o.Hex > 1 || o.ASCII > 1 {
		p.dumpOff = 0
	}
	switch {
	case o.Hex > 0 && o.HexASCII:
		if o.Hex > 1 {
			p.hexASCII("\n\t", 0, len(data))
		} else if len(data) > hdrlen {
			p.hexASCII("\n\t", hdrlen, len(data)-hdrlen)
		}
	case o.Hex > 0:
		if o.Hex > 1 {
			p.hexOnly("\n\t", 0, len(data))
		} else if len(data) > hdrlen {
			p.hexOnly("\n\t", hdrlen, len(data)-hdrlen)
		}
	case o.ASCII > 0:
		if o.ASCII > 1 {
			p.ascii(0, len(data))
		} else if len(data) > hdrlen {
			p.ascii(hdrlen, len(data)-hdrlen)
		}
	}
	p.jumped = false
	p.c('\n')
	p.pkt = nil
}

// suppressDefault is tcpdump's ndo_suppress_default_print: with a hex dump
// requested (-x/-X, not -A), undecoded data is not also dumped by the
// decoders.
func (p *printer) suppressDefault() bool {
	return p.o.Hex > 0
}

// defaultPrint is ND_DEFAULTPRINT: hex and ASCII of undecoded bytes.
func (p *printer) defaultPrint(off, n int) {
	if !p.suppressDefault() {
		p.hexASCII("\n\t", off, n)
	}
}

// link decodes the link layer and returns tcpdump's link-header length
// (what -x leaves out).
func (p *printer) link(lt spec.LinkType, wirelen int) int {
	switch lt {
	case spec.LinkEthernet:
		p.proto = "ether"
		return p.ether(0, wirelen, p.end)
	case spec.LinkNull, spec.LinkLoop:
		return p.null(lt, wirelen)
	case spec.LinkRaw, spec.LinkIPv4, spec.LinkIPv6:
		p.proto = "raw"
		p.raw(lt, wirelen)
		return 0
	case spec.LinkLinuxSLL:
		return p.sll(wirelen)
	case spec.LinkCHDLC:
		return p.chdlc(wirelen)
	case spec.LinkPPP:
		return p.ppp(wirelen)
	case spec.LinkSLIP:
		return p.slip(wirelen)
	case spec.LinkJuniperEther:
		return p.juniperEther(wirelen)
	case ltJuniperMonitor:
		return p.juniperMonitor(wirelen)
	case ltMFR:
		return p.mfr(wirelen)
	case spec.LinkFrelay:
		p.proto = "fr"
		if n, ok := p.frelay(wirelen); ok {
			return n
		}
	}
	p.skip("link type")
	if !tcpdumpPrintsLinkType(lt) {
		// tcpdump has no printer for it (unsupported_if_print): the
		// bytes follow, even with -x, and the dump starts at 0.
		p.s("UNSUPPORTED")
		p.hexASCII("\n\t", 0, p.end)
		return 0
	}
	// Not decoded: tcpdump's decoder for the link type is not reproduced;
	// its name, the length and the bytes are printed instead.
	if p.ltName == "" || p.lt != lt {
		// Named once per link type: String formats unnamed numbers.
		p.lt, p.ltName = lt, lt.String()
	}
	p.s(p.ltName)
	p.s(", length ")
	p.u(uint64(wirelen))
	p.s(": ")
	p.defaultPrint(0, p.end)
	return p.linkHdrLen(lt, wirelen)
}

// skip notes that tcpdump decodes something here that this printer does
// not; the first reason is kept for the comparison with tcpdump.
func (p *printer) skip(reason string) {
	if p.undecoded == "" {
		p.undecoded = reason
	}
}
