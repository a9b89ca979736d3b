package rules

import (
	"encoding/binary"
	"net/netip"

	"github.com/wringcap/wring/spec"
)

// Key is the part of a packet the rules look at, in a fixed layout of six
// 64-bit words that is also the key of the kernel's hash maps
// (spec/RULES.md, "Key layout"):
//
//	word 0, 1  source address, big-endian (IPv4 in the top 32 bits of word 0)
//	word 2, 3  destination address
//	word 4     source port<<48 | destination port<<32 | VLAN<<16 | EtherType
//	word 5     queue<<48 | IP version<<40 | protocol<<32 | TCP flags<<24
//
// VLAN is 0x8000|id for a packet with an outer VLAN tag and 0 without one.
// Ports are zero when the packet has no transport header; protocol and TCP
// flags are zero when it has no IP header.
type Key [6]uint64

const vlanTagged = 0x8000

func (k *Key) and(m *Key) Key {
	return Key{k[0] & m[0], k[1] & m[1], k[2] & m[2], k[3] & m[3], k[4] & m[4], k[5] & m[5]}
}

// KeyFromRecord builds the Key of a packet from its parse record
// (spec/RECORD.md).
func KeyFromRecord(rec *[spec.RecordSize]byte) Key {
	le := binary.LittleEndian
	be := binary.BigEndian
	var k Key
	ver := rec[spec.RecIPVersion]
	var proto, flags uint64
	if ver == 4 || ver == 6 {
		k[0] = be.Uint64(rec[spec.RecSrcAddr:])
		k[1] = be.Uint64(rec[spec.RecSrcAddr+8:])
		k[2] = be.Uint64(rec[spec.RecDstAddr:])
		k[3] = be.Uint64(rec[spec.RecDstAddr+8:])
		if ver == 4 {
			// The record leaves bytes 4 to 15 zero for IPv4; do not rely on it.
			k[0] &^= 0xffffffff
			k[1], k[3] = 0, 0
			k[2] &^= 0xffffffff
		}
		proto = uint64(rec[spec.RecIPProto])
		if proto == ProtoTCP {
			flags = uint64(rec[spec.RecTCPFlags])
		}
	} else {
		ver = 0
	}
	var sport, dport uint64
	if le.Uint16(rec[spec.RecL4Off:]) != spec.NoOffset && hasPorts(uint8(proto)) {
		sport = uint64(le.Uint16(rec[spec.RecSrcPort:]))
		dport = uint64(le.Uint16(rec[spec.RecDstPort:]))
	}
	var vlan uint64
	if rec[spec.RecVLANCount] != 0 {
		vlan = vlanTagged | uint64(le.Uint16(rec[spec.RecVLANOuter:])&0xfff)
	}
	k[4] = sport<<48 | dport<<32 | vlan<<16 | uint64(le.Uint16(rec[spec.RecEtherType:]))
	k[5] = uint64(le.Uint16(rec[spec.RecQueue:]))<<48 | uint64(ver)<<40 | proto<<32 | flags<<24
	return k
}

// Fields of a Key, for tests and tools.
func (k *Key) IPVersion() uint8  { return uint8(k[5] >> 40) }
func (k *Key) Proto() uint8      { return uint8(k[5] >> 32) }
func (k *Key) TCPFlags() uint8   { return uint8(k[5] >> 24) }
func (k *Key) Queue() uint16     { return uint16(k[5] >> 48) }
func (k *Key) SrcPort() uint16   { return uint16(k[4] >> 48) }
func (k *Key) DstPort() uint16   { return uint16(k[4] >> 32) }
func (k *Key) EtherType() uint16 { return uint16(k[4]) }

// VLAN returns the outer VLAN id and whether the packet is tagged.
func (k *Key) VLAN() (id uint16, tagged bool) {
	v := uint16(k[4] >> 16)
	return v & 0xfff, v&vlanTagged != 0
}

// Src returns the source address (invalid when the packet has no IP header).
func (k *Key) Src() netip.Addr { return k.addr(0) }

// Dst returns the destination address.
func (k *Key) Dst() netip.Addr { return k.addr(2) }

func (k *Key) addr(w int) netip.Addr {
	var b [16]byte
	binary.BigEndian.PutUint64(b[:], k[w])
	binary.BigEndian.PutUint64(b[8:], k[w+1])
	switch k.IPVersion() {
	case 4:
		return netip.AddrFrom4([4]byte(b[:4]))
	case 6:
		return netip.AddrFrom16(b)
	}
	return netip.Addr{}
}

// setAddr puts a (prefix) address and its mask into words w, w+1.
func setAddr(val, mask *Key, w int, p netip.Prefix) {
	var b [16]byte
	if p.Addr().Is4() {
		a := p.Addr().As4()
		copy(b[:], a[:])
	} else {
		b = p.Addr().As16()
	}
	val[w] = binary.BigEndian.Uint64(b[:])
	val[w+1] = binary.BigEndian.Uint64(b[8:])
	bits := p.Bits()
	mask[w] = prefixMask64(bits)
	mask[w+1] = prefixMask64(bits - 64)
}

// prefixMask64 is a mask of the top n bits of a word (n clamped to 0..64).
func prefixMask64(n int) uint64 {
	switch {
	case n <= 0:
		return 0
	case n >= 64:
		return ^uint64(0)
	}
	return ^uint64(0) << (64 - n)
}

// portPrefix is a port value with its mask.
type portPrefix struct{ val, mask uint16 }

// rangePrefixes splits the inclusive range lo..hi into the fewest prefixes
// (at most 30 for 16-bit ports) and calls fn for each.
func rangePrefixes(lo, hi uint16, fn func(portPrefix)) {
	l, h := uint32(lo), uint32(hi)
	for l <= h {
		// The largest aligned block starting at l that fits in l..h.
		size := uint32(1)
		for l&(size*2-1) == 0 && l+size*2-1 <= h && size < 1<<16 {
			size *= 2
		}
		fn(portPrefix{val: uint16(l), mask: uint16(^(size - 1))})
		l += size
	}
}

func rangeCount(r PortRange) int {
	n := 0
	rangePrefixes(r.Lo, r.Hi, func(portPrefix) { n++ })
	return n
}

// versions returns the IP versions a match's entries cover: its own, or
// both 4 and 6 when it matches on a protocol but names no version, or none
// (version wildcarded).
func (m *Match) versions() []uint8 {
	switch {
	case m.Fields&FieldIPVersion != 0:
		return []uint8{m.IPVersion}
	case m.Fields&FieldSrc != 0:
		return []uint8{ipVersion(m.Src.Addr())}
	case m.Fields&FieldDst != 0:
		return []uint8{ipVersion(m.Dst.Addr())}
	case m.Fields&FieldProto != 0:
		return []uint8{4, 6}
	}
	return []uint8{0}
}

// entryCount is how many hash entries the rule expands to.
func (r *Rule) entryCount() int {
	m := &r.Match
	n := len(m.versions())
	if m.Fields&FieldSrcPort != 0 {
		n *= rangeCount(m.SrcPort)
	}
	if m.Fields&FieldDstPort != 0 {
		n *= rangeCount(m.DstPort)
	}
	if m.Either {
		n *= 2
	}
	return n
}

// entries calls fn with the mask and masked value of each hash entry the
// rule expands to: one per IP version it covers, per prefix of its port
// ranges and, for Either, per direction.
func (r *Rule) entries(fn func(mask, val Key)) {
	m := &r.Match
	type pp = portPrefix
	sports, dports := []pp{{}}, []pp{{}}
	if m.Fields&FieldSrcPort != 0 {
		sports = sports[:0]
		rangePrefixes(m.SrcPort.Lo, m.SrcPort.Hi, func(p pp) { sports = append(sports, p) })
	}
	if m.Fields&FieldDstPort != 0 {
		dports = dports[:0]
		rangePrefixes(m.DstPort.Lo, m.DstPort.Hi, func(p pp) { dports = append(dports, p) })
	}
	for _, ver := range m.versions() {
		var base, bmask Key
		if ver != 0 {
			base[5] |= uint64(ver) << 40
			bmask[5] |= 0xff << 40
		}
		if m.Fields&FieldQueue != 0 {
			base[5] |= uint64(m.Queue) << 48
			bmask[5] |= 0xffff << 48
		}
		if m.Fields&FieldProto != 0 {
			base[5] |= uint64(m.Proto) << 32
			bmask[5] |= 0xff << 32
		}
		if m.Fields&FieldTCPFlags != 0 {
			base[5] |= uint64(m.Flags) << 24
			bmask[5] |= uint64(m.FlagMask) << 24
		}
		if m.Fields&FieldVLAN != 0 {
			base[4] |= uint64(vlanTagged|m.VLAN) << 16
			bmask[4] |= 0xffff << 16
		}
		if m.Fields&FieldEtherType != 0 {
			base[4] |= uint64(m.EtherType)
			bmask[4] |= 0xffff
		}
		dirs := 1
		if m.Either {
			dirs = 2
		}
		for dir := 0; dir < dirs; dir++ {
			sw, dw := 0, 2 // words of the rule's src and dst in the key
			sshift, dshift := 48, 32
			if dir == 1 {
				sw, dw, sshift, dshift = 2, 0, 32, 48
			}
			for _, sp := range sports {
				for _, dp := range dports {
					val, mask := base, bmask
					if m.Fields&FieldSrc != 0 {
						setAddr(&val, &mask, sw, m.Src)
					}
					if m.Fields&FieldDst != 0 {
						setAddr(&val, &mask, dw, m.Dst)
					}
					val[4] |= uint64(sp.val)<<sshift | uint64(dp.val)<<dshift
					mask[4] |= uint64(sp.mask)<<sshift | uint64(dp.mask)<<dshift
					fn(mask, val.and(&mask))
				}
			}
		}
	}
}

// flowKey is the Key of a flow rule's forward direction and its mask.
func (fl *Flow) key(reverse bool) Key {
	src, dst := fl.Src, fl.Dst
	if reverse {
		src, dst = dst, src
	}
	var k, m Key
	setAddr(&k, &m, 0, netip.PrefixFrom(src.Addr(), src.Addr().BitLen()))
	setAddr(&k, &m, 2, netip.PrefixFrom(dst.Addr(), dst.Addr().BitLen()))
	var vlan uint64
	if fl.Tagged {
		vlan = uint64(vlanTagged | fl.VLAN)
	}
	k[4] = uint64(src.Port())<<48 | uint64(dst.Port())<<32 | vlan<<16
	k[5] = uint64(ipVersion(src.Addr()))<<40 | uint64(fl.Proto)<<32
	return k
}

// flowMask selects the fields of a Key that an exact flow rule compares:
// addresses, ports, VLAN, IP version and protocol.
var flowMask = Key{^uint64(0), ^uint64(0), ^uint64(0), ^uint64(0), 0xffff_ffff_ffff_0000, 0x0000_ffff_0000_0000}
