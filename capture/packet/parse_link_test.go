package packet_test

import (
	"bytes"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"github.com/wringcap/wring/capture/packet"
	"github.com/wringcap/wring/capture/pcapfile"
	"github.com/wringcap/wring/internal/corpus"
	"github.com/wringcap/wring/spec"
)

// deepLinks are the link types issue 15 asked the parser to decode to
// their network layer.
var deepLinks = map[spec.LinkType]bool{
	spec.LinkPPP: true, spec.LinkPPPHDLC: true, spec.LinkPPPPPPD: true, spec.LinkPPPEther: true, spec.LinkCHDLC: true,
	spec.LinkSLIP: true, spec.LinkFrelay: true, spec.LinkNFLog: true, spec.LinkPKTAP: true, spec.LinkPPI: true,
	spec.LinkIEEE802_11: true, spec.LinkIEEE802_11Radio: true, spec.LinkArcnetBSD: true, spec.LinkArcnetLinux: true,
	spec.LinkIPoIB: true,
}

// tcpdumpIP returns, per packet of file, whether tcpdump -nn prints an IP
// or IPv6 layer for it ("IP " or "IP6 " in its line), and false when the
// lines do not match the packets one to one.
func tcpdumpIP(t *testing.T, file string) ([]bool, bool) {
	out, err := exec.Command("tcpdump", "-nn", "-r", file).Output()
	if err != nil && len(out) == 0 {
		return nil, false
	}
	var ip []bool
	for _, l := range strings.Split(strings.TrimRight(string(out), "\n"), "\n") {
		if len(l) == 0 || l[0] == ' ' || l[0] == '\t' {
			return nil, false // a continuation line: not one line per packet
		}
		ip = append(ip, strings.Contains(l, " IP ") || strings.Contains(l, " IP6 "))
	}
	return ip, true
}

// TestDeepLinkTypesAgainstTcpdump: on every tcpdump corpus file of a link
// type above, each packet tcpdump decodes to IP has a network layer in its
// record, and every packet with one in its record tcpdump decodes to IP;
// packets on which they differ are counted by category.
func TestDeepLinkTypesAgainstTcpdump(t *testing.T) {
	if _, err := exec.LookPath("tcpdump"); err != nil {
		corpus.Unavailable(t, "tcpdump is not installed")
	}
	cats := map[string]int{}
	perLink := map[spec.LinkType][2]int{}
	files, both := 0, 0
	for _, f := range corpus.Files(t, "tcpdump") {
		r, err := pcapfile.Open(f)
		if err != nil {
			continue
		}
		lt := r.LinkType()
		if !deepLinks[lt] {
			r.Close()
			continue
		}
		var recs []packet.Record
		var info packet.Info
		for {
			d, err := r.ReadPacket(&info)
			if err != nil {
				break
			}
			var rec packet.Record
			packet.Parse(info, d, &rec)
			recs = append(recs, rec)
		}
		r.Close()
		files++
		ip, ok := tcpdumpIP(t, f)
		if !ok || len(ip) != len(recs) {
			cats["file skipped: tcpdump's lines are not one per packet"] += len(recs)
			continue
		}
		for i, rec := range recs {
			ours := rec.IPVersion() != 0
			c := perLink[lt]
			if ip[i] {
				c[0]++
			}
			if ours && ip[i] {
				c[1]++
				both++
			}
			perLink[lt] = c
			switch {
			case ours == ip[i]:
			case ip[i] && rec.Flags()&(spec.RecFlagTruncated|spec.RecFlagMalformed) != 0:
				cats["tcpdump prints IP, wring flags the headers truncated or malformed"]++
			case ip[i]:
				cats["tcpdump prints IP, wring finds none"]++
				if cats["tcpdump prints IP, wring finds none"] <= 5 {
					t.Logf("%s packet %d (%v): tcpdump IP, wring none", filepath.Base(f), i+1, lt)
				}
			default:
				cats["wring finds IP, tcpdump prints none (an IP header inside another protocol's view)"]++
			}
		}
	}
	var keys []string
	for k := range cats {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	var b bytes.Buffer
	for _, k := range keys {
		b.WriteString("\n  ")
		b.WriteString(k)
		b.WriteString(": ")
		b.WriteString(strings.Repeat("", 0))
		b.WriteString(itoa(cats[k]))
	}
	for lt, c := range perLink {
		t.Logf("%v: tcpdump IP %d, wring too %d", lt, c[0], c[1])
	}
	t.Logf("%d files; %d packets IP in both; differences:%s", files, both, b.String())
	if n := cats["tcpdump prints IP, wring finds none"]; n > 0 {
		t.Errorf("%d packets tcpdump decodes to IP and wring does not", n)
	}
}

func itoa(n int) string {
	var b [20]byte
	i := len(b)
	for {
		i--
		b[i] = byte('0' + n%10)
		n /= 10
		if n == 0 {
			return string(b[i:])
		}
	}
}
