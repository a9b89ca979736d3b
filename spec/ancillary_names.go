package spec

import "strings"

// listingAncillaryNames are the names libpcap's bpf_image (tcpdump -d)
// prints for the ancillary offsets. Two differ from bpf_asm's
// (AncillaryNames): vlanp for the tag-present flag and random.
var listingAncillaryNames = [AncMax / 4]string{
	AncProtocol / 4:       "proto",
	AncPktType / 4:        "type",
	AncIfindex / 4:        "ifidx",
	AncNLAttr / 4:         "nla",
	AncNLAttrNest / 4:     "nlan",
	AncMark / 4:           "mark",
	AncQueue / 4:          "queue",
	AncHaType / 4:         "hatype",
	AncRxHash / 4:         "rxhash",
	AncCPU / 4:            "cpu",
	AncAluXorX / 4:        "xor_x",
	AncVLANTag / 4:        "vlan_tci",
	AncVLANTagPresent / 4: "vlanp",
	AncPayOffset / 4:      "poff",
	AncRandom / 4:         "random",
	AncVLANTPID / 4:       "vlan_tpid",
}

// ancillaryAliases are accepted when reading, beside both tables of names:
// bpf_asm's lexer also knows vlan_pr.
var ancillaryAliases = map[string]uint32{
	"vlan_pr": AncVLANTagPresent,
}

// ListingAncillaryName returns the name tcpdump's -d listing prints for the
// ancillary offset off (relative to AncillaryBase), and whether it has one.
func ListingAncillaryName(off uint32) (string, bool) {
	if off%4 != 0 || off >= AncMax {
		return "", false
	}
	n := listingAncillaryNames[off/4]
	return n, n != ""
}

// LookupAncillary returns the ancillary offset (relative to AncillaryBase)
// of a name in either bpf_asm's or libpcap's spelling (proto, vlan_avail,
// vlanp, rand, random, ...), ignoring case.
func LookupAncillary(name string) (uint32, bool) {
	name = strings.ToLower(name)
	for off, n := range AncillaryNames {
		if n == name {
			return off, true
		}
	}
	for i, n := range listingAncillaryNames {
		if n != "" && n == name {
			return uint32(i * 4), true
		}
	}
	off, ok := ancillaryAliases[name]
	return off, ok
}
