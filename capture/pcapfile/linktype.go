package pcapfile

import "github.com/wringcap/wring/spec"

// MaximumSnaplen is libpcap's largest snapshot length for most link types.
const MaximumSnaplen = 262144

// MaxSnaplen returns the largest snapshot length libpcap accepts for a link
// type (max_snaplen_for_dlt).
func MaxSnaplen(lt spec.LinkType) uint32 {
	switch lt {
	case spec.LinkDBus:
		return 128 << 20
	case 279: // EBHSCR
		return 8 << 20
	case spec.LinkUSBPcap:
		return 1 << 20
	}
	return MaximumSnaplen
}

// AdjustSnaplen returns the snapshot length libpcap 1.10 uses for a file
// header that says snaplen: the link type's maximum when it is 0 or does not
// fit a C int. (Larger values that fit are kept: libpcap 1.10 does not clamp
// them, and tcpdump -w writes them back unchanged.)
func AdjustSnaplen(lt spec.LinkType, snaplen uint32) uint32 {
	if snaplen == 0 || snaplen > 0x7fffffff {
		return MaxSnaplen(lt)
	}
	return snaplen
}
