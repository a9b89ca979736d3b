package wasm

import (
	"encoding/binary"
	"fmt"
	"net/netip"
	"strconv"
	"unicode/utf8"

	"github.com/wringcap/wring/spec"
)

// appendEvents validates the event area ev (its header included) and appends
// one JSON line per event to dst, at most maxEvents events and maxBytes
// bytes of lines. ts holds the capture times of the call's packets, now is
// the time of events without a packet. It returns the events written and
// the events over a cap (not written: only their sizes are checked). keys,
// when not nil, holds the 5-tuples of the call's packets, for the "flow"
// member (WithEventFlows). On error dst is returned unchanged in length, so
// nothing of a bad area is written.
func appendEvents(dst, ev []byte, analyzer string, ts []int64, keys []flowKey, now int64, maxEvents, maxBytes int) ([]byte, int, int, error) {
	if len(ev) < spec.EventsHeaderSize {
		return dst, 0, 0, fmt.Errorf("event area of %d bytes", len(ev))
	}
	used := binary.LittleEndian.Uint32(ev[spec.EventsUsed:])
	if uint64(used) > uint64(len(ev)-spec.EventsHeaderSize) {
		return dst, 0, 0, fmt.Errorf("event area: %d bytes used of %d", used, len(ev)-spec.EventsHeaderSize)
	}
	body := ev[spec.EventsHeaderSize : spec.EventsHeaderSize+used]
	start := len(dst)
	count, over := 0, 0
	for off := 0; off < len(body); {
		if count >= maxEvents || len(dst)-start >= maxBytes {
			// Over a cap: count the rest by their sizes.
			size, err := eventSize(body[off:])
			if err != nil {
				return dst[:start], 0, 0, fmt.Errorf("event %d at offset %d: %w", count+over, off, err)
			}
			off += size
			over++
			continue
		}
		mark := len(dst)
		var err error
		var size int
		dst, size, err = appendEvent(dst, body[off:], analyzer, ts, keys, now)
		if err != nil {
			return dst[:start], 0, 0, fmt.Errorf("event %d at offset %d: %w", count, off, err)
		}
		off += size
		if len(dst)-start > maxBytes {
			dst = dst[:mark] // this line crossed the byte cap
			over++
			continue
		}
		count++
	}
	return dst, count, over, nil
}

// eventSize checks an event's size field and returns it.
func eventSize(b []byte) (int, error) {
	if len(b) < spec.EventHeaderSize {
		return 0, fmt.Errorf("%d bytes left, header needs %d", len(b), spec.EventHeaderSize)
	}
	size := int(binary.LittleEndian.Uint16(b[spec.EventSize:]))
	if size < spec.EventHeaderSize+1 || size > len(b) {
		return 0, fmt.Errorf("size %d outside %d..%d", size, spec.EventHeaderSize+1, len(b))
	}
	return size, nil
}

func appendEvent(dst, b []byte, analyzer string, ts []int64, keys []flowKey, now int64) ([]byte, int, error) {
	if len(b) < spec.EventHeaderSize {
		return dst, 0, fmt.Errorf("%d bytes left, header needs %d", len(b), spec.EventHeaderSize)
	}
	size := int(binary.LittleEndian.Uint16(b[spec.EventSize:]))
	if size < spec.EventHeaderSize+1 || size > len(b) {
		return dst, 0, fmt.Errorf("size %d outside %d..%d", size, spec.EventHeaderSize+1, len(b))
	}
	fields := int(binary.LittleEndian.Uint16(b[spec.EventFields:]))
	pkt := binary.LittleEndian.Uint32(b[spec.EventPacket:])
	t := now
	if pkt != spec.EventNoPacket {
		if uint64(pkt) >= uint64(len(ts)) {
			return dst, 0, fmt.Errorf("packet index %d, the call had %d packets", pkt, len(ts))
		}
		t = ts[pkt]
	}
	r := b[spec.EventHeaderSize:size]
	kl := int(r[0])
	if 1+kl > len(r) {
		return dst, 0, fmt.Errorf("kind name of %d bytes overruns the event", kl)
	}
	kind := r[1 : 1+kl]
	if err := checkName(kind); err != nil {
		return dst, 0, fmt.Errorf("kind name: %w", err)
	}
	r = r[1+kl:]
	dst = append(dst, `{"analyzer":`...)
	dst = appendJSONString(dst, []byte(analyzer))
	dst = append(dst, `,"event":`...)
	dst = appendJSONString(dst, kind)
	// The capture time in nanoseconds since the Unix epoch, the one form
	// of every timestamp in wring's JSON (spec/JSON.md).
	dst = append(dst, `,"ts":`...)
	dst = strconv.AppendInt(dst, t, 10)
	if keys != nil && pkt != spec.EventNoPacket {
		dst = appendFlowMember(dst, &keys[pkt])
	}
	for i := 0; i < fields; i++ {
		if len(r) < 2 {
			return dst, 0, fmt.Errorf("field %d: truncated", i)
		}
		typ, keyLen := r[0], int(r[1])
		if 2+keyLen > len(r) {
			return dst, 0, fmt.Errorf("field %d: key of %d bytes overruns the event", i, keyLen)
		}
		key := r[2 : 2+keyLen]
		if err := checkName(key); err != nil {
			return dst, 0, fmt.Errorf("field %d key: %w", i, err)
		}
		if reservedKey(key) {
			return dst, 0, fmt.Errorf("field %d: key %q is reserved", i, key)
		}
		r = r[2+keyLen:]
		dst = append(dst, ',')
		dst = appendJSONString(dst, key)
		dst = append(dst, ':')
		switch typ {
		case spec.FieldString:
			if len(r) < 2 {
				return dst, 0, fmt.Errorf("field %d: truncated string length", i)
			}
			l := int(binary.LittleEndian.Uint16(r))
			if 2+l > len(r) {
				return dst, 0, fmt.Errorf("field %d: string of %d bytes overruns the event", i, l)
			}
			dst = appendJSONString(dst, r[2:2+l])
			r = r[2+l:]
		case spec.FieldUint, spec.FieldInt:
			if len(r) < 8 {
				return dst, 0, fmt.Errorf("field %d: truncated integer", i)
			}
			v := binary.LittleEndian.Uint64(r)
			if typ == spec.FieldUint {
				dst = strconv.AppendUint(dst, v, 10)
			} else {
				dst = strconv.AppendInt(dst, int64(v), 10)
			}
			r = r[8:]
		case spec.FieldBool:
			if len(r) < 1 || r[0] > 1 {
				return dst, 0, fmt.Errorf("field %d: bad boolean", i)
			}
			dst = strconv.AppendBool(dst, r[0] == 1)
			r = r[1:]
		case spec.FieldAddr:
			if len(r) < 1 {
				return dst, 0, fmt.Errorf("field %d: truncated address", i)
			}
			l := int(r[0])
			if (l != 4 && l != 16) || 1+l > len(r) {
				return dst, 0, fmt.Errorf("field %d: address of %d bytes", i, l)
			}
			var a netip.Addr
			if l == 4 {
				a = netip.AddrFrom4([4]byte(r[1:5]))
			} else {
				a = netip.AddrFrom16([16]byte(r[1:17]))
			}
			dst = append(dst, '"')
			dst = a.AppendTo(dst)
			dst = append(dst, '"')
			r = r[1+l:]
		default:
			return dst, 0, fmt.Errorf("field %d: unknown type %d", i, typ)
		}
	}
	if len(r) != 0 {
		return dst, 0, fmt.Errorf("%d bytes after the last field", len(r))
	}
	dst = append(dst, "}\n"...)
	return dst, size, nil
}

const hexDigits = "0123456789abcdef"

// appendJSONString appends s as a JSON string, escaping control characters
// and replacing invalid UTF-8 with U+FFFD.
func appendJSONString(dst, s []byte) []byte {
	dst = append(dst, '"')
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			switch {
			case c == '"' || c == '\\':
				dst = append(dst, '\\', c)
			case c < 0x20 || c == 0x7f:
				dst = append(dst, '\\', 'u', '0', '0', hexDigits[c>>4], hexDigits[c&0xf])
			default:
				dst = append(dst, c)
			}
			i++
			continue
		}
		r, size := utf8.DecodeRune(s[i:])
		if r == utf8.RuneError && size == 1 {
			dst = append(dst, `\ufffd`...)
		} else {
			dst = append(dst, s[i:i+size]...)
		}
		i += size
	}
	return append(dst, '"')
}

// reservedKey reports whether a field key collides with the host's own
// (comparisons of string(b) with constants do not allocate).
func reservedKey(b []byte) bool {
	return string(b) == "analyzer" || string(b) == "event" || string(b) == "ts" || string(b) == "flow"
}
