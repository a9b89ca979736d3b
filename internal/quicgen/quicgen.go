// Package quicgen builds QUIC client Initial packets for tests: real
// ClientHellos written by crypto/tls's QUIC API, protected with the
// standard library's HKDF, AES and GCM (a code path independent of the
// bundled QUIC analyzer's own), and written to pcap files that tshark
// decrypts on its own.
package quicgen

import (
	"bytes"
	"context"
	"crypto/aes"
	"crypto/cipher"
	"crypto/hkdf"
	"crypto/sha256"
	"crypto/tls"
	"encoding/binary"
	"fmt"
)

// Versions.
const (
	Version1 = 0x00000001
	Version2 = 0x6b3343cf
)

// ClientHello returns the ClientHello message (handshake header included)
// crypto/tls writes at the Initial level as a QUIC client for server name
// sni ("" for none) offering alpn; small leaves out the post-quantum key
// share, so the message fits one Initial packet.
func ClientHello(sni string, alpn []string, small bool) ([]byte, error) {
	cfg := &tls.Config{ServerName: sni, NextProtos: alpn, MinVersion: tls.VersionTLS13, InsecureSkipVerify: sni == ""}
	if small {
		cfg.CurvePreferences = []tls.CurveID{tls.X25519}
	}
	q := tls.QUICClient(&tls.QUICConfig{TLSConfig: cfg})
	q.SetTransportParameters([]byte{0x04, 0x04, 0x80, 0x10, 0x00, 0x00}) // initial_max_data
	if err := q.Start(context.Background()); err != nil {
		return nil, err
	}
	defer q.Close()
	var out []byte
	for {
		e := q.NextEvent()
		if e.Kind == tls.QUICNoEvent {
			break
		}
		if e.Kind == tls.QUICWriteData && e.Level == tls.QUICEncryptionLevelInitial {
			out = append(out, e.Data...)
		}
	}
	if len(out) < 4 || out[0] != 1 {
		return nil, fmt.Errorf("crypto/tls wrote no ClientHello")
	}
	return out, nil
}

// Keys are one side's Initial packet protection keys.
type Keys struct {
	AEAD cipher.AEAD
	IV   []byte
	HP   cipher.Block
}

// ClientKeys derives the client's Initial keys (RFC 9001 §5.2, RFC 9369
// §3.3) with crypto/hkdf.
func ClientKeys(version uint32, dcid []byte) (*Keys, error) {
	salt, prefix := []byte("\x38\x76\x2c\xf7\xf5\x59\x34\xb3\x4d\x17\x9a\xe6\xa4\xc8\x0c\xad\xcc\xbb\x7f\x0a"), "quic "
	if version == Version2 {
		salt, prefix = []byte("\x0d\xed\xe3\xde\xf7\x00\xa6\xdb\x81\x93\x81\xbe\x6e\x26\x9d\xcb\xf9\xbd\x2e\xd9"), "quicv2 "
	}
	initial, err := hkdf.Extract(sha256.New, dcid, salt)
	if err != nil {
		return nil, err
	}
	client, err := expandLabel(initial, "client in", 32)
	if err != nil {
		return nil, err
	}
	key, err := expandLabel(client, prefix+"key", 16)
	if err != nil {
		return nil, err
	}
	iv, err := expandLabel(client, prefix+"iv", 12)
	if err != nil {
		return nil, err
	}
	hp, err := expandLabel(client, prefix+"hp", 16)
	if err != nil {
		return nil, err
	}
	b, err := aes.NewCipher(key)
	if err != nil {
		return nil, err
	}
	aead, err := cipher.NewGCM(b)
	if err != nil {
		return nil, err
	}
	hb, err := aes.NewCipher(hp)
	if err != nil {
		return nil, err
	}
	return &Keys{AEAD: aead, IV: iv, HP: hb}, nil
}

func expandLabel(secret []byte, label string, n int) ([]byte, error) {
	full := "tls13 " + label
	info := append([]byte{byte(n >> 8), byte(n), byte(len(full))}, full...)
	info = append(info, 0)
	return hkdf.Expand(sha256.New, secret, string(info), n)
}

// Frame is a CRYPTO frame's data at an offset of the stream.
type Frame struct {
	Offset int
	Data   []byte
}

// Packet describes one client Initial packet.
type Packet struct {
	Version    uint32
	DCID, SCID []byte
	Token      []byte
	PN         uint64
	PNLen      int  // 1..4
	Ping, Ack  bool // add a PING frame, an ACK frame
	Frames     []Frame
	AckRanges  int  // add an ACK frame with this many ranges after the first
	MinSize    int  // pad the packet to at least this many bytes
	PadWith    byte // the padding frame: 0 (PADDING) or 1 (PING)
}

// Build returns the protected packet.
func (p *Packet) Build() ([]byte, error) {
	k, err := ClientKeys(p.Version, p.DCID)
	if err != nil {
		return nil, err
	}
	var payload []byte
	if p.Ack {
		payload = append(payload, 0x02, 0x00, 0x00, 0x00, 0x00) // largest 0, delay 0, no ranges, first 0
	}
	if p.AckRanges > 0 {
		payload = append(payload, 0x02)
		payload = appendVarint(payload, uint64(4*p.AckRanges+8)) // largest acknowledged
		payload = append(payload, 0x00)                          // delay
		payload = appendVarint(payload, uint64(p.AckRanges))
		payload = append(payload, 0x00) // first range
		for range p.AckRanges {
			payload = append(payload, 0x00, 0x00) // gap, range length
		}
	}
	if p.Ping {
		payload = append(payload, 0x01)
	}
	for _, f := range p.Frames {
		payload = append(payload, 0x06)
		payload = appendVarint(payload, uint64(f.Offset))
		payload = appendVarint(payload, uint64(len(f.Data)))
		payload = append(payload, f.Data...)
	}
	pnLen := max(p.PNLen, 1)
	typeBits := byte(0) // Initial
	if p.Version == Version2 {
		typeBits = 1
	}
	hdr := []byte{0xc0 | typeBits<<4 | byte(pnLen-1)}
	hdr = binary.BigEndian.AppendUint32(hdr, p.Version)
	hdr = append(hdr, byte(len(p.DCID)))
	hdr = append(hdr, p.DCID...)
	hdr = append(hdr, byte(len(p.SCID)))
	hdr = append(hdr, p.SCID...)
	hdr = appendVarint(hdr, uint64(len(p.Token)))
	hdr = append(hdr, p.Token...)
	// Pad: the length field takes 2 bytes, the tag 16.
	for len(hdr)+2+pnLen+len(payload)+16 < p.MinSize || pnLen+len(payload) < 4 {
		payload = append(payload, p.PadWith)
	}
	length := pnLen + len(payload) + 16
	if length >= 1<<14 {
		return nil, fmt.Errorf("packet too long")
	}
	hdr = append(hdr, 0x40|byte(length>>8), byte(length))
	pnOff := len(hdr)
	for i := pnLen - 1; i >= 0; i-- {
		hdr = append(hdr, byte(p.PN>>(8*i)))
	}
	nonce := bytes.Clone(k.IV)
	for i := 0; i < 8; i++ {
		nonce[11-i] ^= byte(p.PN >> (8 * i))
	}
	pkt := k.AEAD.Seal(bytes.Clone(hdr), nonce, payload, hdr)
	mask := make([]byte, 16)
	k.HP.Encrypt(mask, pkt[pnOff+4:pnOff+20])
	pkt[0] ^= mask[0] & 0x0f
	for i := 0; i < pnLen; i++ {
		pkt[pnOff+i] ^= mask[1+i]
	}
	return pkt, nil
}

func appendVarint(b []byte, v uint64) []byte {
	switch {
	case v < 1<<6:
		return append(b, byte(v))
	case v < 1<<14:
		return append(b, 0x40|byte(v>>8), byte(v))
	case v < 1<<30:
		return binary.BigEndian.AppendUint32(b, 0x80000000|uint32(v))
	}
	return binary.BigEndian.AppendUint64(b, 0xc000000000000000|v)
}

// Pcap writes Ethernet/IPv4/UDP frames to a pcap file in memory.
type Pcap struct {
	buf bytes.Buffer
	n   int
}

// NewPcap starts a pcap file (Ethernet, microseconds).
func NewPcap() *Pcap {
	w := &Pcap{}
	h := make([]byte, 24)
	binary.LittleEndian.PutUint32(h[0:], 0xa1b2c3d4)
	binary.LittleEndian.PutUint16(h[4:], 2)
	binary.LittleEndian.PutUint16(h[6:], 4)
	binary.LittleEndian.PutUint32(h[16:], 65535)
	binary.LittleEndian.PutUint32(h[20:], 1)
	w.buf.Write(h)
	return w
}

// UDP appends a datagram from src:sport to dst:dport.
func (w *Pcap) UDP(src, dst [4]byte, sport, dport uint16, payload []byte) {
	f := make([]byte, 14+20+8, 14+20+8+len(payload))
	copy(f[0:], []byte{2, 0, 0, 0, 0, 2, 2, 0, 0, 0, 0, 1, 0x08, 0x00})
	ip := f[14:34]
	ip[0] = 0x45
	binary.BigEndian.PutUint16(ip[2:], uint16(20+8+len(payload)))
	ip[8] = 64
	ip[9] = 17
	copy(ip[12:], src[:])
	copy(ip[16:], dst[:])
	var sum uint32
	for i := 0; i < 20; i += 2 {
		sum += uint32(binary.BigEndian.Uint16(ip[i:]))
	}
	for sum > 0xffff {
		sum = sum&0xffff + sum>>16
	}
	binary.BigEndian.PutUint16(ip[10:], ^uint16(sum))
	u := f[34:42]
	binary.BigEndian.PutUint16(u[0:], sport)
	binary.BigEndian.PutUint16(u[2:], dport)
	binary.BigEndian.PutUint16(u[4:], uint16(8+len(payload)))
	f = append(f, payload...)
	w.n++
	rec := make([]byte, 16)
	binary.LittleEndian.PutUint32(rec[0:], uint32(1_700_000_000+w.n))
	binary.LittleEndian.PutUint32(rec[8:], uint32(len(f)))
	binary.LittleEndian.PutUint32(rec[12:], uint32(len(f)))
	w.buf.Write(rec)
	w.buf.Write(f)
}

// Bytes returns the file.
func (w *Pcap) Bytes() []byte { return w.buf.Bytes() }

// Frames returns the number of frames written.
func (w *Pcap) Frames() int { return w.n }

// Open decrypts the first packet of a datagram, a client Initial, with the
// standard library: it returns the plaintext frames. It is the anchor the
// analyzer's own decryption is measured against.
func Open(d []byte) ([]byte, error) {
	if len(d) < 7 || d[0]&0x80 == 0 {
		return nil, fmt.Errorf("not a long header packet")
	}
	v := binary.BigEndian.Uint32(d[1:])
	off := 5
	dcid := d[off+1 : off+1+int(d[off])]
	off += 1 + int(d[off])
	off += 1 + int(d[off])
	tl, n := readVarint(d[off:])
	off += n + int(tl)
	length, n := readVarint(d[off:])
	off += n
	if off+int(length) > len(d) || length < 20 {
		return nil, fmt.Errorf("bad length")
	}
	k, err := ClientKeys(v, dcid)
	if err != nil {
		return nil, err
	}
	var mask [16]byte
	k.HP.Encrypt(mask[:], d[off+4:off+20])
	hdr := bytes.Clone(d[:off+4])
	hdr[0] ^= mask[0] & 0x0f
	pnLen := int(hdr[0]&3) + 1
	var pn uint64
	for i := 0; i < pnLen; i++ {
		hdr[off+i] ^= mask[1+i]
		pn = pn<<8 | uint64(hdr[off+i])
	}
	nonce := bytes.Clone(k.IV)
	for i := 0; i < 8; i++ {
		nonce[11-i] ^= byte(pn >> (8 * i))
	}
	return k.AEAD.Open(nil, nonce, d[off+pnLen:off+int(length)], hdr[:off+pnLen])
}

func readVarint(b []byte) (uint64, int) {
	if len(b) == 0 {
		return 0, 1
	}
	n := 1 << (b[0] >> 6)
	if len(b) < n {
		return 0, 1
	}
	v := uint64(b[0] & 0x3f)
	for _, c := range b[1:n] {
		v = v<<8 | uint64(c)
	}
	return v, n
}
