package expr

import (
	"strings"
	"testing"
)

// BenchmarkCompile measures compile time per expression, unoptimized
// (/unopt) and with the optimizer (/opt).
func BenchmarkCompile(b *testing.B) {
	for _, e := range []string{
		"tcp port 80 and host 192.0.2.1",
		"ip",
		"not arp and udp portrange 1000-2000",
		"vlan 100 and (tcp[tcpflags] & tcp-syn != 0)",
		"ip6 protochain 17",
	} {
		name := strings.NewReplacer(" ", "_", "(", "", ")", "").Replace(e)
		for _, opt := range []bool{false, true} {
			engine := "unopt"
			if opt {
				engine = "opt"
			}
			b.Run(name+"/"+engine, func(b *testing.B) {
				o := Options{LinkType: ltEN10MB, Optimize: opt}
				b.ReportAllocs()
				for b.Loop() {
					if _, err := Compile(e, o); err != nil {
						b.Fatal(err)
					}
				}
			})
		}
	}
}
