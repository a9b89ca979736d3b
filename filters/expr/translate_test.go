package expr

import (
	"fmt"
	"testing"

	"github.com/wringcap/wring/internal/corpus"
)

// TestTESTrunTranslate runs libpcap's name and address translation tables
// (translate_accept and translate_reject) against the package's built-in
// tables and address parsers.
func TestTESTrunTranslate(t *testing.T) {
	var run, pass int
	for _, kind := range []string{"translate_accept", "translate_reject"} {
		for _, c := range corpus.CasesOf(t, kind) {
			arg, _ := c.CFuncArg.(string)
			var got string
			switch c.CFuncName {
			case "pcap_nametoeproto", "pcap_nametollc":
				tab := etherProtos
				if c.CFuncName == "pcap_nametollc" {
					tab = llcProtos
				}
				got = "OK: PROTO_UNDEF\n"
				if v, ok := tab[arg]; ok {
					if c.CFuncName == "pcap_nametollc" {
						got = fmt.Sprintf("OK: 0x%02x\n", v)
					} else {
						got = fmt.Sprintf("OK: 0x%04x\n", v)
					}
				}
			case "pcap_ether_aton":
				got = "ERROR: NULL"
				if e, ok := parseMAC(arg); ok {
					got = fmt.Sprintf("OK: %02x:%02x:%02x:%02x:%02x:%02x\n", e[0], e[1], e[2], e[3], e[4], e[5])
				}
			case "pcapint_atodn":
				got = "ERROR: 0"
				if a, ok := parseDECnet(arg); ok {
					got = fmt.Sprintf("OK: %d.%d\n", a>>10, a&1023)
				}
			case "pcapint_atoan":
				got = "ERROR: 0"
				if a, ok := parseMAC8(arg); ok {
					got = fmt.Sprintf("OK: $%02x\n", a)
				}
			default:
				continue // libpcap internals with no counterpart here
			}
			run++
			if got != c.Expected {
				t.Errorf("%s %s(%q): got %q, libpcap %q", c.Label, c.CFuncName, arg, got, c.Expected)
				continue
			}
			pass++
		}
	}
	t.Logf("translate: %d cases with a counterpart, %d agree", run, pass)
}
