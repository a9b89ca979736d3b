package main

// libpcapFlag chooses which libpcap's filter language an expression
// follows (read, capture and compile take it).
type libpcapFlag struct {
	Libpcap string `name:"libpcap" enum:"current,1.10" default:"current" placeholder:"VERSION" help:"Filter language to follow: current (libpcap 1.11 and later, as libpcap's own tests expect) or 1.10 (what tcpdump linked with libpcap 1.10, such as Debian 12's, selects where the two differ: ip multicast, IS-IS, ARCnet, SLIP, MS/TP, PPI, DSA tags, vxlan, range checks)."`
}

// libpcap110 reports whether expressions follow libpcap 1.10.
func (f libpcapFlag) libpcap110() bool { return f.Libpcap == "1.10" }
