package expr

import (
	"testing"

	"github.com/wringcap/wring/spec"
	"github.com/wringcap/wring/verifier"
	"github.com/wringcap/wring/vm"
)

// TestLinuxExt checks the programs built for live Linux captures: the VLAN
// tag may be in the packet or taken out into metadata, and direction and
// interface come from the socket buffer.
func TestLinuxExt(t *testing.T) {
	ipv4 := []byte{0x45, 0, 0, 20, 0, 0, 0, 0, 64, 17, 0, 0, 10, 0, 0, 1, 10, 0, 0, 2}
	eth := func(tags ...uint16) []byte {
		b := []byte{0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11}
		for _, vid := range tags {
			b = append(b, 0x81, 0x00, byte(vid>>8), byte(vid))
		}
		return append(append(b, 0x08, 0x00), ipv4...)
	}
	for _, tc := range []struct {
		expr string
		pkt  []byte
		meta *vm.Meta
		want bool
	}{
		{"vlan 10 and ip", eth(), &vm.Meta{VLANPresent: true, VLANTCI: 10}, true},
		{"vlan 10 and ip", eth(), &vm.Meta{VLANPresent: true, VLANTCI: 11}, false},
		{"vlan 10 and ip", eth(10), nil, true},
		{"vlan 10 and ip", eth(11), nil, false},
		{"vlan 10 and ip", eth(), nil, false},
		{"vlan and ip", eth(), &vm.Meta{VLANPresent: true, VLANTCI: 5}, true},
		{"vlan and udp", eth(7), nil, true},
		{"vlan 10 and vlan 20 and ip", eth(10, 20), nil, true},
		{"vlan 10 and vlan 20 and ip", eth(20), &vm.Meta{VLANPresent: true, VLANTCI: 10}, true}, // outer tag in metadata, inner in the packet
		{"vlan 10 and vlan 20 and ip", eth(10), &vm.Meta{VLANPresent: true, VLANTCI: 10}, false},
		{"inbound", eth(), &vm.Meta{PktType: 0}, true},
		{"inbound", eth(), &vm.Meta{PktType: 4}, false},
		{"outbound", eth(), &vm.Meta{PktType: 4}, true},
		{"ifindex 3", eth(), &vm.Meta{Ifindex: 3}, true},
		{"ifindex 3", eth(), &vm.Meta{Ifindex: 4}, false},
	} {
		prog, err := Compile(tc.expr, Options{LinkType: spec.LinkEthernet, LinuxExt: true})
		if err != nil {
			t.Fatalf("%q: %v", tc.expr, err)
		}
		vp, err := verifier.Verify(prog, verifier.Options{})
		if err != nil {
			t.Fatalf("%q: %v", tc.expr, err)
		}
		if got := vm.Run(vp, tc.pkt, uint32(len(tc.pkt)), tc.meta) != 0; got != tc.want {
			t.Errorf("%q on %x (meta %+v): %v, want %v", tc.expr, tc.pkt, tc.meta, got, tc.want)
		}
		// Direction and interface need the socket buffer on Ethernet.
		if tc.expr[0] != 'v' {
			if _, err := Compile(tc.expr, Options{LinkType: spec.LinkEthernet}); !IsUnsupported(err) {
				t.Errorf("%q without LinuxExt: %v, want an ErrUnsupported error", tc.expr, err)
			}
		}
	}
}
