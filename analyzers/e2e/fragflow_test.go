package e2e_test

import (
	"encoding/binary"
	"net/netip"
	"os"
	"path/filepath"
	"testing"

	"github.com/wringcap/wring/capture/packet"
	"github.com/wringcap/wring/internal/corpus"
	"github.com/wringcap/wring/internal/trafficgen"
	"github.com/wringcap/wring/spec"
)

// TestFragmentsInTheirFlow: the flow analyzer counts every fragment of a
// UDP datagram in the datagram's 5-tuple flow (the first fragment's ports
// carried to the later ones), not in a port-less flow of the addresses.
// Against tshark on the generated mixed capture (IPv4 and IPv6 fragments,
// no truncation): tshark reassembles and counts a datagram once, as the
// frame that completed it, so for every 5-tuple that carried fragments
// wring's packets = tshark's frames + fragments - datagrams, and no
// port-less UDP flow is left.
func TestFragmentsInTheirFlow(t *testing.T) {
	needTshark(t)
	file, all := mixedPackets(t, 7)
	type dgram struct {
		src, dst netip.Addr
		id       uint32
	}
	firstOf := map[dgram]string{} // datagram -> its 5-tuple
	reused := map[dgram]int{}     // first fragments with this (src, dst, id)
	idOf := map[string][]dgram{}  // 5-tuple -> its datagrams
	vlanOf := map[dgram]uint16{}  // the first fragment's outer VLAN id
	mixed := map[dgram]bool{}     // a later fragment on another VLAN than the first
	frags, datagrams := map[string]int{}, map[string]int{}
	total := 0
	for i := range all {
		pk := &all[i]
		r := &pk.Record
		if r.IPProto() != 17 || r.Flags()&spec.RecFlagFragment == 0 {
			continue
		}
		total++
		l3 := int(r.L3Off())
		var id uint32
		if r.IPVersion() == 4 {
			id = uint32(binary.BigEndian.Uint16(pk.Data[l3+4:]))
		} else {
			id = binary.BigEndian.Uint32(pk.Data[l3+40+4:]) // the generator's one fragment header
		}
		src, dst := r.SrcAddr(), r.DstAddr()
		d := dgram{src, dst, id}
		if r.Flags()&spec.RecFlagLaterFragment == 0 {
			if reused[d] > 0 {
				t.Fatalf("two datagrams of %v share IP id %#x: the comparison would be ambiguous", d, id)
			}
			k := convKey("udp", src, r.SrcPort(), dst, r.DstPort())
			firstOf[d] = k
			datagrams[k]++
			reused[d]++
			idOf[k] = append(idOf[k], d)
			vlanOf[d] = vlanID(r)
		}
		k, ok := firstOf[d]
		if !ok {
			t.Fatalf("a later fragment before its first: the generator writes them in order")
		}
		if vlanID(r) != vlanOf[d] {
			mixed[d] = true
		}
		frags[k]++
	}
	if len(frags) < 10 {
		t.Fatalf("only %d 5-tuples with fragments: the test checks little", len(frags))
	}
	conv := tsharkConv(t, file)
	got, _, _ := flowsPer5Tuple(t, all, "")
	agree, split := 0, 0
	for k, n := range frags {
		want := conv[k] + uint64(n-datagrams[k])
		if got[k] == want {
			agree++
			continue
		}
		// The generator picks each frame's link layer on its own, so
		// some datagrams have fragments on different VLANs; tshark
		// leaves some of those unreassembled (no UDP frame at all),
		// wring carries the ports across the change of tag.
		splitHere := false
		for _, d := range idOf[k] {
			splitHere = splitHere || mixed[d]
		}
		if splitHere && conv[k] == 0 {
			split++
			continue
		}
		t.Errorf("%s: wring %d packets, tshark %d frames + %d fragments - %d datagrams = %d", k, got[k], conv[k], n, datagrams[k], want)
	}
	t.Logf("%d 5-tuples agree with tshark; %d differ where tshark did not reassemble a datagram whose fragments are on different VLANs", agree, split)
	if split > len(frags)/5 {
		t.Errorf("%d of %d 5-tuples explained by category: too many to be the explanation", split, len(frags))
	}
	portless := uint64(0)
	for _, r := range flowRecords(t, all, "") {
		if r.Proto == 17 && r.Sport == 0 && r.Dport == 0 {
			portless += r.Packets
		}
	}
	if portless != 0 {
		t.Errorf("%d packets in port-less UDP flows: fragments were not carried to their datagram's flow", portless)
	}
	t.Logf("%d fragments of %d datagrams on %d 5-tuples, each in its datagram's flow; tshark's frames agree per 5-tuple", total, len(firstOf), len(frags))
}

// vlanID is the outer VLAN id of the packet, 0 without a tag (the flow
// analyzer's reading).
func vlanID(r *packet.Record) uint16 {
	if r.VLANCount() == 0 {
		return 0
	}
	return r.VLANOuter() & 0x0fff
}

// mixedPackets writes the generated mixed capture (20,000 packets of the
// seed, none truncated) and returns its path and its packets, parsed.
func mixedPackets(t *testing.T, seed int64) (string, []packet.Packet) {
	t.Helper()
	file := filepath.Join(t.TempDir(), "mixed.pcap")
	f, err := os.Create(file)
	if err != nil {
		t.Fatal(err)
	}
	if err := trafficgen.Generate(f, trafficgen.Config{Seed: seed, Count: 20000, NoTruncate: true}); err != nil {
		t.Fatal(err)
	}
	f.Close()
	cp, err := corpus.ReadCapture(file)
	if err != nil {
		t.Fatal(err)
	}
	var all []packet.Packet
	for _, p := range cp.Packets {
		info := packet.Info{Timestamp: p.TsNanos, CapLen: uint32(len(p.Data)), WireLen: p.WireLen, LinkType: cp.LinkType}
		pk := packet.Packet{Info: info, Data: p.Data}
		packet.Parse(info, p.Data, &pk.Record)
		all = append(all, pk)
	}
	return file, all
}
