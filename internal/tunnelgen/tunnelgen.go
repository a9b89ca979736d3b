// Package tunnelgen writes small captures of tunnelled TCP flows, one per
// tunnel type capture/packet's ParseInner enters (spec/TUNNEL.md), for the
// tests that compare wring with tshark on them.
package tunnelgen

import (
	"bytes"
	"encoding/binary"
	"os"
	"path/filepath"

	"github.com/wringcap/wring/capture/packet"
	"github.com/wringcap/wring/capture/pcapfile"
	"github.com/wringcap/wring/spec"
)

func csum(b []byte) uint16 {
	var s uint32
	for i := 0; i+1 < len(b); i += 2 {
		s += uint32(binary.BigEndian.Uint16(b[i:]))
	}
	if len(b)%2 == 1 {
		s += uint32(b[len(b)-1]) << 8
	}
	for s > 0xffff {
		s = s&0xffff + s>>16
	}
	return ^uint16(s)
}

// ip4 wraps payload in an IPv4 header.
func ip4(proto byte, src, dst [4]byte, payload []byte) []byte {
	h := make([]byte, 20, 20+len(payload))
	h[0], h[8], h[9] = 0x45, 64, proto
	binary.BigEndian.PutUint16(h[2:], uint16(20+len(payload)))
	copy(h[12:], src[:])
	copy(h[16:], dst[:])
	binary.BigEndian.PutUint16(h[10:], csum(h))
	return append(h, payload...)
}

// ip6 wraps payload in an IPv6 header.
func ip6(next byte, src, dst byte, payload []byte) []byte {
	h := make([]byte, 40, 40+len(payload))
	h[0], h[6], h[7] = 0x60, next, 64
	binary.BigEndian.PutUint16(h[4:], uint16(len(payload)))
	h[8], h[9], h[23] = 0x20, 0x01, src
	h[24], h[25], h[39] = 0x20, 0x01, dst
	return append(h, payload...)
}

func tcpSeg(sp, dp uint16, flags byte, n int) []byte {
	h := make([]byte, 20+n)
	binary.BigEndian.PutUint16(h[0:], sp)
	binary.BigEndian.PutUint16(h[2:], dp)
	h[12], h[13] = 0x50, flags
	binary.BigEndian.PutUint16(h[14:], 8192)
	return h
}

func udpDgram(sp, dp uint16, payload []byte) []byte {
	h := make([]byte, 8, 8+len(payload))
	binary.BigEndian.PutUint16(h[0:], sp)
	binary.BigEndian.PutUint16(h[2:], dp)
	binary.BigEndian.PutUint16(h[4:], uint16(8+len(payload)))
	return append(h, payload...)
}

func ether(et uint16, payload []byte) []byte {
	h := []byte{2, 0, 0, 0, 0, 2, 2, 0, 0, 0, 0, 1, byte(et >> 8), byte(et)}
	return append(h, payload...)
}

// Case builds the capture of one tunnel type: inner TCP flows (six of
// them, several ports, both directions) in the tunnel, outer Ethernet.
type Case struct {
	Name  string
	Type  spec.TunnelType
	ID    uint32
	Field string // tshark's field for the tunnel id, or ""
	wrap  func(inner []byte, v6 bool, i int) []byte
}

// Cases returns one case per tunnel type ParseInner enters (GRE twice:
// with a key and IP inside, and with Ethernet inside).
func Cases() []Case {
	outer4 := func(proto byte, payload []byte) []byte {
		return ether(0x0800, ip4(proto, [4]byte{203, 0, 113, 1}, [4]byte{203, 0, 113, 2}, payload))
	}
	return []Case{
		{"gre_key", spec.TunnelGRE, 0x1234, "gre.key", func(in []byte, v6 bool, _ int) []byte {
			et := uint16(0x0800)
			if v6 {
				et = 0x86dd
			}
			h := []byte{0x20, 0, byte(et >> 8), byte(et), 0, 0, 0x12, 0x34}
			return outer4(47, append(h, in...))
		}},
		{"gre_eth", spec.TunnelGRE, 0, "", func(in []byte, v6 bool, _ int) []byte {
			et := uint16(0x0800)
			if v6 {
				et = 0x86dd
			}
			return outer4(47, append([]byte{0x90, 0, 0x65, 0x58, 0, 0, 0, 0, 0, 0, 0, 7}, ether(et, in)...))
		}},
		{"vxlan", spec.TunnelVXLAN, 0x123456, "vxlan.vni", func(in []byte, v6 bool, i int) []byte {
			et := uint16(0x0800)
			if v6 {
				et = 0x86dd
			}
			h := []byte{0x08, 0, 0, 0, 0x12, 0x34, 0x56, 0}
			return outer4(17, udpDgram(uint16(49152+i%7), 4789, append(h, ether(et, in)...)))
		}},
		{"geneve", spec.TunnelGeneve, 0xabcdef, "geneve.vni", func(in []byte, v6 bool, i int) []byte {
			et := uint16(0x0800)
			if v6 {
				et = 0x86dd
			}
			// One 8-byte option (class 0x0102, type 3, 4 bytes of data).
			h := []byte{0x02, 0, 0x65, 0x58, 0xab, 0xcd, 0xef, 0, 0x01, 0x02, 0x03, 0x01, 1, 2, 3, 4}
			return outer4(17, udpDgram(uint16(49152+i%5), 6081, append(h, ether(et, in)...)))
		}},
		{"ipip", spec.TunnelIPIP, 0, "", nil},
		{"6in4", spec.TunnelIP6IP, 0, "", nil},
		{"gtpu", spec.TunnelGTPU, 0x01020304, "gtp.teid", func(in []byte, _ bool, i int) []byte {
			h := []byte{0x30, 0xff, byte(len(in) >> 8), byte(len(in)), 1, 2, 3, 4}
			if i%2 == 1 { // sequence number and a PDU session container extension
				h = []byte{0x34, 0xff, 0, 0, 1, 2, 3, 4, 0, byte(i), 0, 0x85, 1, 0x10, 0x01, 0}
				binary.BigEndian.PutUint16(h[2:], uint16(len(in)+8))
			}
			return outer4(17, udpDgram(2152, 2152, append(h, in...)))
		}},
		{"erspan_ii", spec.TunnelERSPAN, 0x12a, "erspan.spanid", func(in []byte, v6 bool, i int) []byte {
			// GRE with a sequence number, then version 1, VLAN 0x064,
			// COS 0, En 0, T 0, session 0x12a, and the index.
			h := []byte{0x10, 0, 0x88, 0xbe, 0, 0, 0, byte(i), 0x10, 0x64, 0x01, 0x2a, 0, 0, 0, 1}
			return outer4(47, append(h, ether(etherType(v6), in)...))
		}},
		{"erspan_iii", spec.TunnelERSPAN, 0x123, "erspan.spanid", func(in []byte, v6 bool, i int) []byte {
			// Version 2, VLAN 0, session 0x123, timestamp, SGT, frame
			// type 0 (Ethernet), no platform subheader on even packets, an
			// 8-byte one (O bit) on odd ones.
			h := []byte{0x10, 0, 0x22, 0xeb, 0, 0, 0, byte(i), 0x20, 0, 0x01, 0x23, 0, 0, 0, byte(i), 0, 0, 0, 0}
			if i%2 == 1 {
				h[19] = 1
				h = append(h, 0x08, 0, 0, 0, 0, 0, 0, 0) // platform id 1, then its data
			}
			return outer4(47, append(h, ether(etherType(v6), in)...))
		}},
		{"vxlan_gpe", spec.TunnelVXLANGPE, 0x4242, "vxlan.vni", func(in []byte, v6 bool, i int) []byte {
			next := byte(1)
			if v6 {
				next = 2
			}
			h := []byte{0x0c, 0, 0, next, 0, 0x42, 0x42, 0}
			return outer4(17, udpDgram(uint16(49152+i%3), 4790, append(h, in...)))
		}},
		{"nsh", spec.TunnelNSH, 0x000305<<8 | 0xfe, "", func(in []byte, v6 bool, _ int) []byte {
			// MD type 2 without metadata: two words; service path 0x305,
			// index 254.
			next := byte(1)
			if v6 {
				next = 2
			}
			return ether(0x894f, append([]byte{0x00, 0x02, 0x02, next, 0x00, 0x03, 0x05, 0xfe}, in...))
		}},
		{"pim_register", spec.TunnelPIM, 0, "", func(in []byte, _ bool, _ int) []byte {
			return outer4(103, append([]byte{0x21, 0, 0, 0, 0, 0, 0, 0}, in...))
		}},
		{"macsec", spec.TunnelMACsec, 0, "", func(in []byte, v6 bool, i int) []byte {
			// Integrity only (neither E nor C), SC set with an SCI,
			// packet number i+1, short length when under 48 bytes, then
			// the EtherType, the packet and a 16-byte ICV.
			body := append([]byte{byte(etherType(v6) >> 8), byte(etherType(v6))}, in...)
			sl := byte(0)
			if len(body) < 48 {
				sl = byte(len(body))
			}
			h := []byte{0x20, sl, 0, 0, 0, byte(i + 1), 2, 0, 0, 0, 0, 1, 0, 1}
			icv := bytes.Repeat([]byte{0xcc}, 16)
			return ether(0x88e5, append(append(h, body...), icv...))
		}},
	}
}

func etherType(v6 bool) uint16 {
	if v6 {
		return 0x86dd
	}
	return 0x0800
}

// Write writes the capture of c (60 packets, six inner flows, IPv4 and
// IPv6 inside where the tunnel carries both) into dir and returns its path
// and the packets.
func Write(dir string, c Case) (string, [][]byte, error) {
	var pkts [][]byte
	for i := 0; i < 60; i++ {
		flow := i % 6
		v6 := flow >= 4 && c.Type != spec.TunnelIPIP || c.Type == spec.TunnelIP6IP
		if c.Type == spec.TunnelIPIP {
			v6 = false
		}
		sp, dp := uint16(40000+flow), uint16(80+flow)
		if i%3 == 1 {
			sp, dp = dp, sp
		}
		seg := tcpSeg(sp, dp, 0x18, 10+i%4)
		var in []byte
		if v6 {
			a, b := byte(1+flow), byte(100)
			if i%3 == 1 {
				a, b = b, a
			}
			in = ip6(6, a, b, seg)
		} else {
			a, b := [4]byte{10, 0, 0, byte(1 + flow)}, [4]byte{10, 0, 1, 100}
			if i%3 == 1 {
				a, b = b, a
			}
			in = ip4(6, a, b, seg)
		}
		var frame []byte
		switch c.Type {
		case spec.TunnelIPIP:
			frame = ether(0x0800, ip4(4, [4]byte{203, 0, 113, 1}, [4]byte{203, 0, 113, 2}, in))
		case spec.TunnelIP6IP:
			frame = ether(0x0800, ip4(41, [4]byte{203, 0, 113, 1}, [4]byte{203, 0, 113, 2}, in))
		default:
			frame = c.wrap(in, v6, i)
		}
		pkts = append(pkts, frame)
	}
	var buf bytes.Buffer
	w, err := pcapfile.NewWriter(&buf, pcapfile.Header{LinkType: uint32(spec.LinkEthernet), Snaplen: 65535})
	if err != nil {
		return "", nil, err
	}
	for i, p := range pkts {
		info := packet.Info{Timestamp: int64(i+1) * 1e6, CapLen: uint32(len(p)), WireLen: uint32(len(p)), LinkType: spec.LinkEthernet}
		if err := w.WritePacket(&info, p); err != nil {
			return "", nil, err
		}
	}
	if err := w.Flush(); err != nil {
		return "", nil, err
	}
	f := filepath.Join(dir, c.Name+".pcap")
	if err := os.WriteFile(f, buf.Bytes(), 0o644); err != nil {
		return "", nil, err
	}
	return f, pkts, nil
}
