package main

import "errors"

// maxPorts bounds the ports=... list (analyzers/bundled.MaxList).
const maxPorts = 16

// parsePorts reads a comma-separated list of port numbers from 1 to 65535.
func parsePorts(v string) ([]uint16, error) {
	var out []uint16
	n, digits := 0, 0
	for i := 0; i <= len(v); i++ {
		if i == len(v) || v[i] == ',' {
			if digits == 0 || n < 1 || n > 65535 {
				return nil, errors.New("ports: want comma-separated port numbers from 1 to 65535, got " + quote(v))
			}
			if len(out) == maxPorts {
				return nil, errors.New("ports: more than 16 ports in " + quote(v))
			}
			out = append(out, uint16(n))
			n, digits = 0, 0
			continue
		}
		c := v[i]
		if c < '0' || c > '9' || digits == 5 {
			return nil, errors.New("ports: want comma-separated port numbers from 1 to 65535, got " + quote(v))
		}
		n = n*10 + int(c-'0')
		digits++
	}
	return out, nil
}

func quote(s string) string {
	if len(s) > 64 {
		s = s[:64] + "..."
	}
	return `"` + s + `"`
}
