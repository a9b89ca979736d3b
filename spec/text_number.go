package spec

import (
	"errors"
	"strconv"
)

var errNumberRange = errors.New("out of the 32-bit range")

// parseNumber converts the text of a number to a 32-bit constant. It takes
// decimal with an optional sign (negative values wrap to two's complement,
// as C's printf("%d") of a u32 prints them), 0x hexadecimal and, when
// cstyle is set, 0b binary and 0-prefixed octal (bpf_asm's forms). The value
// must fit in 32 bits signed or unsigned.
func parseNumber(s string, cstyle bool) (uint32, error) {
	neg := false
	body := s
	if len(body) > 0 && (body[0] == '-' || body[0] == '+') {
		neg = body[0] == '-'
		body = body[1:]
	}
	if body == "" {
		return 0, errors.New("missing digits")
	}
	base := 10
	switch {
	case len(body) > 2 && body[0] == '0' && (body[1] == 'x' || body[1] == 'X'):
		base, body = 16, body[2:]
	case cstyle && len(body) > 2 && body[0] == '0' && (body[1] == 'b' || body[1] == 'B'):
		base, body = 2, body[2:]
	case cstyle && len(body) > 1 && body[0] == '0':
		base, body = 8, body[1:]
	}
	for _, c := range []byte(body) {
		if c == '_' {
			return 0, errors.New("invalid digit '_'")
		}
	}
	v, err := strconv.ParseUint(body, base, 64)
	if err != nil {
		var ne *strconv.NumError
		if errors.As(err, &ne) && errors.Is(ne.Err, strconv.ErrRange) {
			return 0, errNumberRange
		}
		return 0, errors.New("not a number")
	}
	if neg {
		if v > 1<<31 {
			return 0, errNumberRange
		}
		return uint32(-int64(v)), nil
	}
	if v > 1<<32-1 {
		return 0, errNumberRange
	}
	return uint32(v), nil
}
