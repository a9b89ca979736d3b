package shape

import "bytes"

// Helpers that build binary modules byte by byte: the hostile shapes are
// too large (or too wrong) for wat2wasm.

func leb(v uint64) []byte {
	var b []byte
	for {
		c := byte(v & 0x7f)
		v >>= 7
		if v != 0 {
			b = append(b, c|0x80)
			continue
		}
		return append(b, c)
	}
}

// sec encodes a section.
func sec(id byte, body []byte) []byte {
	return append(append([]byte{id}, leb(uint64(len(body)))...), body...)
}

// vec encodes n copies of elem, with its length.
func vec(n int, elem []byte) []byte {
	return append(leb(uint64(n)), bytes.Repeat(elem, n)...)
}

// cat concatenates byte slices.
func cat(parts ...[]byte) []byte { return bytes.Join(parts, nil) }

// module encodes a module from its sections.
func module(secs ...[]byte) []byte {
	return cat(append([][]byte{[]byte("\x00asm\x01\x00\x00\x00")}, secs...)...)
}

// typeSec declares one type, func() -> ().
var typeSec = sec(1, vec(1, []byte{0x60, 0, 0}))

// funcs returns a type section, a function section and a code section
// with one function per body (each body holds its locals and code, without
// the size).
func funcs(bodies ...[]byte) []byte {
	code := leb(uint64(len(bodies)))
	for _, b := range bodies {
		code = append(append(code, leb(uint64(len(b)))...), b...)
	}
	return cat(typeSec, sec(3, vec(len(bodies), []byte{0})), sec(10, code))
}

// nested returns a body of depth nested blocks (op 0x02) or loops (0x03).
func nested(depth int, op byte) []byte {
	return cat([]byte{0}, bytes.Repeat([]byte{op, 0x40}, depth), bytes.Repeat([]byte{0x0b}, depth+1))
}
