package expr

import (
	"errors"
	"testing"

	"github.com/wringcap/wring/spec"
	"github.com/wringcap/wring/verifier"
)

// fuzzLinkTypes are the link types the compile fuzzer picks from.
var fuzzLinkTypes = []spec.LinkType{ltEN10MB, ltRaw, ltIPv4, ltIPv6, ltSLL, ltSLL2, ltNull, ltLoop, ltPPP,
	ltIEEE80211, ltRadiotap, ltFDDI, ltPFLog, ltSunATM, ltMTP2, ltArcnet, ltPPI, ltPrism, ltCHDLC, ltBACnet,
	ltDSABRCM, ltDSADSA, ltSLIP}

var fuzzSeeds = []string{
	"tcp port 80 and host 192.0.2.1", "host 1.2.3.4 or 5.6.7.8", "src or dst net 10/8 and not port 22",
	"ether host ab:cd:ef:00:00:01 or ether broadcast", "vlan 100 and vlan 200 and ip6 src fe80::1",
	"mpls 12345 and ip", "ip protochain 6", "ip6 protochain \\udp", "tcp[tcpflags] & (tcp-syn|tcp-ack) != 0",
	"icmp[icmptype] == icmp-echo", "len > 100 && !(udp portrange 1000-2000)", "ip[2:2] - (ip[0]&0xf)*4 > 40",
	"-ip[0] % 3 ^ 5 >> 1 = 2", "geneve 10 and tcp", "vxlan and arp", "pppoes 0x3b and ip", "llc ui",
	"wlan type data subtype qos-data", "wlan addr2 12:34:56:78:9a:bc", "dir fromds", "reason match",
	"vpi 10 and vci (1 or 2)", "dpc != 0x1273", "decnet src 1.1", "iso proto \\isis", "l1",
	"ether proto \\arp", "link[0:4] & 0xffff0000 = 0", "byte 8 & 5", "(", "tcp port", "ip6 net ::/0",
	"net 192.168 mask 255.255", "portrange smtp-domain", "less 64 or greater 1500", "\\tcp", "$0e",
	"ether proto 70000 or ip proto 300", "isis proto 40 or byte 0 = 300", "ether broadcast or ip multicast",
}

// FuzzParse checks that the parser never panics and that its errors point
// inside the expression.
func FuzzParse(f *testing.F) {
	for _, s := range fuzzSeeds {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, src string) {
		_, err := parse(src)
		if err != nil && (err.Pos < 0 || err.Pos > len(src)) {
			t.Fatalf("%q: error position %d outside the expression: %v", src, err.Pos, err)
		}
	})
}

// FuzzCompile checks that compiling any expression for any link type
// either fails with an *Error inside the expression or yields programs
// (unoptimized and optimized) that the verifier accepts.
func FuzzCompile(f *testing.F) {
	for i, s := range fuzzSeeds {
		f.Add(s, uint8(i))
		f.Add(s, uint8(i)|0x80)
	}
	f.Fuzz(func(t *testing.T, src string, lt uint8) {
		// The high bit of lt chooses libpcap 1.10's language.
		o := Options{LinkType: fuzzLinkTypes[int(lt&0x7f)%len(fuzzLinkTypes)], Resolver: testResolver{},
			Libpcap110: lt&0x80 != 0}
		for _, opt := range []bool{false, true} {
			o.Optimize = opt
			prog, err := Compile(src, o)
			if err != nil {
				var e *Error
				if !errors.As(err, &e) {
					t.Fatalf("%q: error %v is not an *Error", src, err)
				}
				if e.Pos < 0 || e.Pos > len(src) {
					t.Fatalf("%q: error position %d outside the expression: %v", src, e.Pos, err)
				}
				return
			}
			if _, err := verifier.Verify(prog, verifier.Options{NoAncillary: true}); err != nil {
				t.Fatalf("%q on %v (optimize %v, libpcap 1.10 %v): program does not verify: %v", src, o.LinkType, opt, o.Libpcap110, err)
			}
		}
	})
}
