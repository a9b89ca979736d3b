package ipfix

import (
	"encoding/binary"
	"fmt"
	"net/netip"
)

// This file is a small IPFIX decoder written from RFC 7011 for the tests:
// it knows nothing of the encoder's layout beyond what the templates in
// the messages say.

type tmplField struct {
	id     uint16
	length uint16
	pen    uint32
}

// decoder keeps the templates it has seen, per observation domain.
type decoder struct {
	templates map[uint32]map[uint16][]tmplField
}

func newDecoder() *decoder { return &decoder{templates: map[uint32]map[uint16][]tmplField{}} }

// decodedMessage is one message's header and data records.
type decodedMessage struct {
	length     int
	exportTime uint32
	seq        uint32
	domain     uint32
	templates  int
	records    []Record
}

// decode parses one message.
func (d *decoder) decode(b []byte) (*decodedMessage, error) {
	if len(b) < 16 {
		return nil, fmt.Errorf("message of %d bytes: shorter than the header", len(b))
	}
	if v := binary.BigEndian.Uint16(b); v != 10 {
		return nil, fmt.Errorf("version %d, want 10", v)
	}
	n := int(binary.BigEndian.Uint16(b[2:]))
	if n != len(b) {
		return nil, fmt.Errorf("length field %d, message is %d bytes", n, len(b))
	}
	m := &decodedMessage{length: n, exportTime: binary.BigEndian.Uint32(b[4:]), seq: binary.BigEndian.Uint32(b[8:]), domain: binary.BigEndian.Uint32(b[12:])}
	if d.templates[m.domain] == nil {
		d.templates[m.domain] = map[uint16][]tmplField{}
	}
	tm := d.templates[m.domain]
	for off := 16; off < n; {
		if n-off < 4 {
			return nil, fmt.Errorf("offset %d: %d bytes left, less than a set header", off, n-off)
		}
		id := binary.BigEndian.Uint16(b[off:])
		sl := int(binary.BigEndian.Uint16(b[off+2:]))
		if sl < 4 || off+sl > n {
			return nil, fmt.Errorf("offset %d: set length %d out of range", off, sl)
		}
		body := b[off+4 : off+sl]
		switch {
		case id == 2:
			for len(body) > 0 {
				if len(body) < 4 {
					return nil, fmt.Errorf("offset %d: template record header cut", off)
				}
				tid, cnt := binary.BigEndian.Uint16(body), int(binary.BigEndian.Uint16(body[2:]))
				body = body[4:]
				if tid < 256 {
					return nil, fmt.Errorf("template id %d below 256", tid)
				}
				var fs []tmplField
				for range cnt {
					if len(body) < 4 {
						return nil, fmt.Errorf("template %d: field specifier cut", tid)
					}
					f := tmplField{id: binary.BigEndian.Uint16(body), length: binary.BigEndian.Uint16(body[2:])}
					body = body[4:]
					if f.id&0x8000 != 0 {
						if len(body) < 4 {
							return nil, fmt.Errorf("template %d: enterprise number cut", tid)
						}
						f.id &^= 0x8000
						f.pen = binary.BigEndian.Uint32(body)
						body = body[4:]
					}
					fs = append(fs, f)
				}
				tm[tid] = fs
				m.templates++
			}
		case id >= 256:
			fs, ok := tm[id]
			if !ok {
				return nil, fmt.Errorf("offset %d: data set for unknown template %d", off, id)
			}
			for len(body) > 0 {
				var r Record
				var err error
				body, err = decodeRecord(body, fs, &r)
				if err != nil {
					return nil, fmt.Errorf("offset %d: template %d: %w", off, id, err)
				}
				m.records = append(m.records, r)
			}
		default:
			return nil, fmt.Errorf("offset %d: set id %d", off, id)
		}
		off += sl
	}
	return m, nil
}

func decodeRecord(b []byte, fs []tmplField, r *Record) ([]byte, error) {
	for _, f := range fs {
		l := int(f.length)
		if f.length == 65535 {
			if len(b) < 1 {
				return nil, fmt.Errorf("element %d: length cut", f.id)
			}
			l, b = int(b[0]), b[1:]
			if l == 255 {
				if len(b) < 2 {
					return nil, fmt.Errorf("element %d: long length cut", f.id)
				}
				l, b = int(binary.BigEndian.Uint16(b)), b[2:]
			}
		}
		if len(b) < l {
			return nil, fmt.Errorf("element %d: %d bytes wanted, %d left", f.id, l, len(b))
		}
		v := b[:l]
		b = b[l:]
		if f.pen != 0 {
			if f.pen != PEN {
				return nil, fmt.Errorf("enterprise %d", f.pen)
			}
			switch f.id {
			case IEHTTPHost:
				r.Host = string(v)
			case IEDNSQName:
				r.QName = string(v)
			case IETLSServer:
				r.SNI = string(v)
			default:
				return nil, fmt.Errorf("enterprise element %d", f.id)
			}
			continue
		}
		u := uint64(0)
		for _, c := range v {
			u = u<<8 | uint64(c)
		}
		switch f.id {
		case 8, 12, 27, 28:
			a, ok := netip.AddrFromSlice(v)
			if !ok {
				return nil, fmt.Errorf("element %d: address of %d bytes", f.id, l)
			}
			switch f.id {
			case 8, 27:
				r.Src = a
			default:
				r.Dst = a
			}
		case 7:
			r.SrcPort = uint16(u)
		case 11:
			r.DstPort = uint16(u)
		case 4:
			r.Proto = uint8(u)
		case 6:
			r.TCPFlags = uint8(u)
		case 58:
			r.VLAN = uint16(u)
		case 10:
			r.IfIndex = uint32(u)
		case 152:
			r.First = int64(u) * 1e6
		case 153:
			r.Last = int64(u) * 1e6
		case 2:
			r.Packets = u
		case 1:
			r.Bytes = u
		case 136:
			r.EndReason = EndReason(u)
		default:
			return nil, fmt.Errorf("unexpected element %d", f.id)
		}
	}
	return b, nil
}
