package passive

import (
	"encoding/binary"
	"errors"
	"fmt"
	"maps"

	"github.com/cilium/ebpf/btf"
)

// scanBTFEnums reads the enumerators named in want from raw BTF (the
// format of /sys/kernel/btf/vmlinux, little-endian), storing each value
// below 64 (the first of duplicates), and returns how many it stored. It
// stops as soon as it has them all.
//
// cilium/ebpf finds an enumerator only by decoding every type in front of
// its enum (btf.Spec.All), and the kernel's NETIF_F_* bits sit in an
// anonymous enum some 35,000 types in: 58-67 ms of a capture's start went into
// decoding types nobody reads (RATIONALE.md, "Why does the passive path
// scan the kernel's BTF for the feature bits itself?"). This walks the
// type section with fixed per-kind sizes and looks at enums only.
func scanBTFEnums(raw []byte, want map[string]*uint32) (int, error) {
	le := binary.LittleEndian
	if len(raw) < 24 || le.Uint16(raw) != 0xeb9f {
		return 0, errors.New("btf: not little-endian BTF")
	}
	hdrLen := uint64(le.Uint32(raw[4:]))
	typeOff, typeLen := uint64(le.Uint32(raw[8:])), uint64(le.Uint32(raw[12:]))
	strOff, strLen := uint64(le.Uint32(raw[16:])), uint64(le.Uint32(raw[20:]))
	if hdrLen < 24 || hdrLen+typeOff+typeLen > uint64(len(raw)) || hdrLen+strOff+strLen > uint64(len(raw)) {
		return 0, errors.New("btf: sections outside the data")
	}
	types := raw[hdrLen+typeOff : hdrLen+typeOff+typeLen]
	strs := raw[hdrLen+strOff : hdrLen+strOff+strLen]
	name := func(off uint32) []byte {
		if uint64(off) >= uint64(len(strs)) {
			return nil
		}
		s := strs[off:]
		for i, c := range s {
			if c == 0 {
				return s[:i]
			}
		}
		return nil
	}
	left := maps.Clone(want)
	found := 0
	for pos := 0; pos < len(types); {
		if len(types)-pos < 12 {
			return found, fmt.Errorf("btf: type at offset %d cut short", pos)
		}
		info := le.Uint32(types[pos+4:])
		vlen, kind := int(info&0xffff), (info>>24)&0x1f
		pos += 12
		var extra int
		switch kind {
		case 2, 7, 8, 9, 10, 11, 12, 16, 18: // ptr, fwd, typedef, volatile, const, restrict, func, float, type tag
		case 1, 14, 17: // int, var, decl tag
			extra = 4
		case 3: // array
			extra = 12
		case 4, 5, 15, 19: // struct, union, datasec: 12 per member; enum64: 12 per value
			extra = 12 * vlen
		case 6, 13: // enum: 8 per value; func proto: 8 per parameter
			extra = 8 * vlen
		default:
			return found, fmt.Errorf("btf: unknown kind %d at type offset %d", kind, pos-12)
		}
		if len(types)-pos < extra {
			return found, fmt.Errorf("btf: type at offset %d cut short", pos-12)
		}
		if kind == 6 || kind == 19 {
			step := 8
			if kind == 19 {
				step = 12
			}
			for v := types[pos : pos+extra]; len(v) >= step; v = v[step:] {
				n := name(le.Uint32(v))
				p, ok := left[string(n)]
				if !ok {
					continue
				}
				val := uint64(le.Uint32(v[4:]))
				if kind == 19 {
					val |= uint64(le.Uint32(v[8:])) << 32
				}
				if val < 64 {
					*p = uint32(val)
					delete(left, string(n))
					found++
					if found == len(want) {
						return found, nil
					}
				}
			}
		}
		pos += extra
	}
	return found, nil
}

// enumBitsFromSpec finds the enumerators named in want by decoding the
// spec's types in order, as cilium/ebpf offers it.
func enumBitsFromSpec(spec *btf.Spec, want map[string]*uint32) error {
	left := maps.Clone(want)
	for typ, err := range spec.All() {
		if err != nil {
			return fmt.Errorf("btf: %w", err)
		}
		e, ok := typ.(*btf.Enum)
		if !ok {
			continue
		}
		for _, v := range e.Values {
			if p, ok := left[v.Name]; ok && v.Value < 64 {
				*p = uint32(v.Value)
				delete(left, v.Name)
			}
		}
		if len(left) == 0 {
			return nil
		}
	}
	return errors.New("btf: the NETIF_F_*_CSUM_BIT and NETIF_F_*_TSO*_BIT values are missing")
}
