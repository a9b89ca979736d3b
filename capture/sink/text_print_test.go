package sink

import (
	"io"
	"path/filepath"
	"testing"
	"time"

	"github.com/wringcap/wring/capture/packet"
	"github.com/wringcap/wring/capture/pcapfile"
	"github.com/wringcap/wring/capture/sample"
	"github.com/wringcap/wring/internal/corpus"
	"github.com/wringcap/wring/spec"
)

func samplePackets(tb testing.TB) []capturedPacket {
	r, err := pcapfile.NewReaderBytes(sample.Pcap, "sample")
	if err != nil {
		tb.Fatal(err)
	}
	var out []capturedPacket
	for {
		var c capturedPacket
		d, err := r.ReadPacket(&c.info)
		if err != nil {
			return out
		}
		c.data = append([]byte(nil), d...)
		packet.Parse(c.info, c.data, &c.rec)
		out = append(out, c)
	}
}

// TestTextPrinterAllocatesNothing: printing a packet, with any flag set,
// appends into the reusable buffer without allocating.
func TestTextPrinterAllocatesNothing(t *testing.T) {
	pk := samplePackets(t)
	if len(pk) < 100 {
		t.Fatalf("%d sample packets", len(pk))
	}
	for _, fs := range flagSets {
		pr := printer{o: fs.o, loc: time.UTC}
		for i := range pk { // warm up: buffer and connection table
			pr.b = pr.b[:0]
			pr.packet(&pk[i].info, pk[i].data)
		}
		n := testing.AllocsPerRun(20, func() {
			for i := range pk {
				pr.b = pr.b[:0]
				pr.packet(&pk[i].info, pk[i].data)
			}
		})
		if n != 0 {
			t.Errorf("%s: %v allocations for %d packets", fs.name, n, len(pk))
		}
	}
}

// TestTCPSeqTableBounded: the relative-sequence state never grows past its
// fixed table, and a connection's state survives while it is in use.
func TestTCPSeqTableBounded(t *testing.T) {
	var tb tcpSeqTable
	var k tcpSeqKey
	for i := 0; i < 3*tcpSeqSets*tcpSeqWays; i++ {
		k.port = uint32(i)
		e, _ := tb.lookup(&k)
		e.seq = uint32(i)
	}
	k.port = 7
	e, found := tb.lookup(&k)
	e.seq = 99
	k.port = 8
	tb.lookup(&k)
	k.port = 7
	if e2, ok := tb.lookup(&k); !found && (!ok || e2.seq != 99) {
		t.Errorf("entry lost right after use: found %v, seq %d", ok, e2.seq)
	}
}

// seedFiles are corpus captures of the link types and protocols whose
// header lengths or text come from the packet bytes: radiotap and 802.11,
// Frame Relay, NFLOG, PKTAP, ARCNET, SNAP, HSRP, ICMPv6 (unknown types,
// ND options, MLD queries, MLDv2 records, node information, router
// renumbering, RPL), IPv6 routing and mobility headers, ESP, ESP in UDP,
// BOOTP, STP, BFD and VXLAN; and for the read replays OSI in PPP, FRF.16,
// ATM LLC, NFS and Rx.
var seedFiles = []string{
	"reason_code-0.pcap", "ieee802.11_exthdr.pcap", "OSPFv3_NBMA_adjacencies.pcap", "nflog.pcap",
	"LINKTYPE_PKTAP.pcap", "arcnet-rfc1201-arp-icmp-http.pcap", "3560_CDP.pcap", "HSRP_election.pcap",
	"HSRP_coup.pcap", "icmp6-rfc8335.pcap", "icmpv6.pcap", "icmpv6_opt24.pcap",
	"icmpv6-ra-pref64.pcap", "icmpv6-ns-nonce.pcap", "icmp6_mobileprefix_asan.pcap", "babel.pcap",
	"icmpv6-RFC2894-RR.pcap", "icmpv6-ni-flags.pcap", "icmpv6_nodeinfo_replyipv6.pcap",
	"rpl-19-pickdag.pcap", "rpl-26-senddaoack.pcap", "rpl-dao-oobr.pcap", "ipv6_mobility_1.pcap",
	"mobility_opt_asan.pcap", "ipv6-routing-header.pcap", "ipv6-srh-ipproto-ether.pcap",
	"ipv6-srh-insert-cksum.pcap", "02-sunrise-sunset-esp.pcap", "esp_truncated.pcap",
	"bootp_asan-2.pcap", "802.1D_spanning_tree.pcap", "802.1w_rapid_STP.pcap",
	"stp-heapoverflow-2.pcap", "bfd-lag.pcap", "gso-ipv4-vxlan-ipv4.pcap",
	"isoclns-oobr.pcap", "kday6.pcap", "vtp_asan.pcap", "llc-xid-heapoverflow.pcap", "nfs-attr-oobr.pcap",
	"nfs_large_credentials_length.pcap", "hoobr_nfs_xid_map_enter.pcap", "rx_ubik-oobr.pcap", "afs.pcap"}

// corpusSeeds returns up to n packets of each of seedFiles, none when
// the corpus is not present.
func corpusSeeds(tb testing.TB, n int) []capturedPacket {
	root := corpus.Root()
	if root == "" {
		return nil
	}
	var out []capturedPacket
	for _, name := range seedFiles {
		pk := readCapture(tb, filepath.Join(root, "tcpdump", name))
		if len(pk) == 0 {
			tb.Fatalf("corpus file %s: no packets", name)
		}
		out = append(out, pk[:min(len(pk), n)]...)
	}
	return out
}

// TestTextPrinterAllocatesNothingOnCorpus: the printers for the seed
// files' protocols, with every flag set and -vv, allocate nothing.
func TestTextPrinterAllocatesNothingOnCorpus(t *testing.T) {
	pk := corpusSeeds(t, 1000)
	if len(pk) == 0 {
		corpus.Unavailable(t, "the shared corpus is not present")
	}
	sets := append([]flagSet{{"-vv", nil, TextOptions{Verbose: 2}, false}}, flagSets...)
	for _, fs := range sets {
		pr := printer{o: fs.o, loc: time.UTC}
		for i := range pk {
			pr.b = pr.b[:0]
			pr.packet(&pk[i].info, pk[i].data)
		}
		n := testing.AllocsPerRun(5, func() {
			for i := range pk {
				pr.b = pr.b[:0]
				pr.packet(&pk[i].info, pk[i].data)
			}
		})
		if n != 0 {
			t.Errorf("%s: %v allocations for %d packets", fs.name, n, len(pk))
		}
	}
}

// FuzzTextPrinter prints arbitrary bytes as each link type with each flag
// set: it must neither panic nor read past the captured bytes (the slice
// is cut to its length, so any overrun panics).
func FuzzTextPrinter(f *testing.F) {
	for _, c := range samplePackets(f)[:64] {
		f.Add(uint16(spec.LinkEthernet), uint32(len(c.data)), c.data)
	}
	for _, c := range corpusSeeds(f, 4) {
		f.Add(uint16(c.info.LinkType), c.info.WireLen, c.data)
	}
	// One printer per flag set for the whole run, as a sink keeps one:
	// its connection table carries over from packet to packet.
	printers := make([]printer, len(flagSets))
	for i, fs := range flagSets {
		printers[i] = printer{o: fs.o, loc: time.UTC}
		printers[i].o.Verbose = 2
	}
	f.Fuzz(func(t *testing.T, lt uint16, wire uint32, data []byte) {
		data = data[:len(data):len(data)]
		info := packet.Info{CapLen: uint32(len(data)), WireLen: wire, LinkType: spec.LinkType(lt), Timestamp: 1}
		for i, fs := range flagSets {
			pr := &printers[i]
			pr.b = pr.b[:0]
			pr.packet(&info, data)
			if len(pr.b) == 0 || pr.b[len(pr.b)-1] != '\n' {
				t.Fatalf("%s: output %q does not end a line", fs.name, pr.b)
			}
		}
	})
}

// TestTextSinkAllocatesNothing: the sink itself, batch after batch, adds
// no allocation to the printer's none.
func TestTextSinkAllocatesNothing(t *testing.T) {
	pk := samplePackets(t)
	b := &packet.Batch{Packets: make([]packet.Packet, len(pk)), Verdicts: make([]packet.Verdict, len(pk))}
	for i := range pk {
		b.Packets[i] = packet.Packet{Info: pk[i].info, Data: pk[i].data, Record: pk[i].rec}
	}
	s := NewTextWith(io.Discard, TextOptions{Loc: time.UTC, Verbose: 1, Hex: 1, HexASCII: true})
	if err := s.Handle(b); err != nil {
		t.Fatal(err)
	}
	if n := testing.AllocsPerRun(20, func() {
		if err := s.Handle(b); err != nil {
			t.Fatal(err)
		}
	}); n != 0 {
		t.Errorf("Handle: %v allocations per batch of %d packets", n, len(pk))
	}
}
