package main

import (
	"fmt"
	"net/netip"
	"strings"

	"github.com/wringcap/wring/filters/expr"
	"github.com/wringcap/wring/spec"
	"github.com/wringcap/wring/verifier"
)

// compileCmd compiles a pcap filter expression, as tcpdump -d does.
type compileCmd struct {
	libpcapFlag `embed:""`

	Dump     int      `short:"d" type:"counter" help:"Output format: -d listing (the default), -dd C array, -ddd decimal."`
	Opt      int      `short:"O" name:"optimize" default:"1" help:"Optimization level: -O0 turns the optimizer off, -O1 (the default) on."`
	LinkType string   `name:"linktype" short:"y" default:"EN10MB" help:"Link-layer type of the packets: a name (EN10MB, LINUX_SLL, RAW, ...) or a LINKTYPE_ number."`
	Snaplen  uint32   `name:"snaplen" short:"s" default:"262144" help:"Snapshot length: what the program returns for a matching packet."`
	Netmask  string   `name:"netmask" default:"0.0.0.0" help:"IPv4 netmask of the capture network, for 'ip broadcast' (0.0.0.0, as tcpdump -d without an interface uses, matches 0.0.0.0 and 255.255.255.255)."`
	LinuxExt bool     `name:"linux-ext" help:"Use Linux ancillary loads where libpcap does for live Linux captures (vlan, inbound, outbound, ifindex)."`
	Depth    int      `name:"protochain-depth" default:"8" help:"How many IPv6 extension headers protochain follows (the program is loop-free, so the walk is unrolled; at most 128)."`
	Offline  bool     `name:"offline-af" help:"Match the BSD address-family values of any origin in NULL, LOOP, ENC and PFLOG headers, as libpcap does for savefiles."`
	NoNames  bool     `name:"no-resolve" short:"n" help:"Do not resolve host, Ethernet and network names (they are then errors)."`
	EBPF     bool     `name:"ebpf" help:"Print the eBPF translation instead of the classic program."`
	Target   string   `name:"target" enum:"xdp,socket" default:"xdp" help:"eBPF program type for --ebpf: ${enum}."`
	Expr     []string `arg:"" optional:"" help:"The filter expression; several arguments are joined with spaces, as tcpdump does. Flags may come before or after it; after --, everything is expression."`
}

// Run compiles the expression and prints the program: exit 0, or 1 with
// the message and a caret under the offending column for a bad expression.
func (c *compileCmd) Run(s *streams) error {
	src := strings.Join(c.Expr, " ")
	lt, err := expr.ParseLinkType(c.LinkType)
	if err != nil {
		return exitf(2, "compile: --linktype: %v", err)
	}
	opts := expr.Options{LinkType: lt, Snaplen: c.Snaplen, Optimize: c.Opt != 0, LinuxExt: c.LinuxExt, ProtochainDepth: c.Depth,
		OfflineAF: c.Offline, Libpcap110: c.libpcap110()}
	if !c.NoNames {
		opts.Resolver = expr.SystemResolver()
	}
	if c.Netmask != "" {
		a, err := netip.ParseAddr(c.Netmask)
		if err != nil || !a.Is4() {
			return exitf(2, "compile: --netmask %q: not an IPv4 address", c.Netmask)
		}
		b := a.As4()
		opts.Netmask = uint32(b[0])<<24 | uint32(b[1])<<16 | uint32(b[2])<<8 | uint32(b[3])
		opts.HasNetmask = true
	}
	prog, err := expr.Compile(src, opts)
	if err != nil {
		return exitf(1, "compile: %v\n%s", err, indent(expr.Caret(src, err), "  "))
	}
	vp, err := verifier.Verify(prog, verifier.Options{NoAncillary: !c.LinuxExt})
	if err != nil {
		return exitf(1, "compile: the compiled program does not verify: %v", err)
	}
	if c.EBPF {
		return printEBPF(s.Out, vp, c.Target)
	}
	switch c.Dump {
	case 0, 1:
		err = spec.FormatListing(s.Out, prog)
	case 2:
		err = spec.FormatC(s.Out, prog)
	case 3:
		err = spec.FormatDecimal(s.Out, prog)
	default:
		return exitf(2, "compile: -%s: at most -ddd", strings.Repeat("d", c.Dump))
	}
	if err != nil {
		return fmt.Errorf("compile: %w", err)
	}
	return nil
}

// indent prefixes every line of s with p.
func indent(s, p string) string {
	if s == "" {
		return ""
	}
	return p + strings.ReplaceAll(s, "\n", "\n"+p)
}
