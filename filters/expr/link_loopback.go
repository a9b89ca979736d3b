package expr

import "github.com/wringcap/wring/spec"

// Link-layer families: BSD loopback and address-family headers.

func swap32(v uint32) uint32 { return v>>24 | v>>8&0xff00 | v<<8&0xff0000 | v<<24 }

// bsdAFOffline matches the BSD address-family values that savefiles carry
// for IPv4 and IPv6 (libpcap's offline AF handling).
func (g *gen) bsdAFOffline(off uint32, size uint16, p uint32, swapped bool, rel offrel) pred {
	c := func(v uint32) pred {
		if swapped {
			v = swap32(v)
		}
		return g.cmp(rel, off, size, v)
	}
	switch p {
	case etIP:
		return c(2)
	case etIPv6:
		b0 := c(24)
		b1 := c(28)
		b1 = or(b0, b1)
		b0 = c(30)
		return or(b0, b1)
	}
	return g.gfalse()
}

// afLive is the Linux AF_ value for an EtherType, as libpcap uses for
// loopback headers of live captures (AF_INET 2, AF_INET6 10).
func afLive(p uint32) (uint32, bool) {
	switch p {
	case etIP:
		return 2, true
	case etIPv6:
		return 10, true
	}
	return 0, false
}

func (g *gen) loopbackLinktype(p uint32) pred {
	if !g.opts.OfflineAF {
		af, ok := afLive(p)
		if !ok {
			return g.gfalse()
		}
		if g.linktype == ltLoop {
			return g.cmp(orLinkHdr, 0, spec.SizeW, af)
		}
		// NULL and ENC headers hold the AF in the capturing host's byte
		// order; like libpcap on a little-endian host, compare htonl(af).
		return g.cmp(orLinkHdr, 0, spec.SizeW, swap32(af))
	}
	if g.linktype == ltLoop {
		return g.bsdAFOffline(0, spec.SizeW, p, false, orLinkHdr)
	}
	if g.opts.Libpcap110 {
		// libpcap 1.10 reads the AF in the savefile's byte order only (a
		// word load of a little-endian file's value sees it swapped).
		return g.bsdAFOffline(0, spec.SizeW, p, !g.opts.SavefileBigEndian, orLinkHdr)
	}
	b0 := g.bsdAFOffline(0, spec.SizeW, p, false, orLinkHdr)
	b1 := g.bsdAFOffline(0, spec.SizeW, p, true, orLinkHdr)
	return or(b0, b1)
}
