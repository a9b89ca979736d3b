// Package expr compiles pcap filter expressions (the language of tcpdump
// and pcap-filter(7)) to classic BPF programs, without libpcap or cgo.
//
// Compile takes an expression and Options (link type, snapshot length,
// optimizer, netmask, Linux extensions, name resolution) and returns a
// spec.Program that libpcap's own bpf_filter could run, or an *Error
// with the byte position of the problem; Caret renders it under the
// expression.
//
// The language is libpcap's whole grammar: direction, type and protocol
// qualifiers with their defaults and abbreviations ("src or dst",
// "host a and b" meaning "host a and host b"), host, net (dotted, partial,
// mask, /len, IPv6 prefixes), port, portrange, gateway, proto and
// protochain; the protocol names; packet accessors proto[expr:size] with
// full arithmetic and comparisons; the named constants (icmp and icmp6
// types, tcp flags); vlan and mpls (which move later offsets), pppoed and
// pppoes, geneve and vxlan; llc and its frame types; 802.11 type, subtype,
// direction and addresses; inbound and outbound; pflog fields; SunATM and
// SS7 fields. Code generation follows libpcap master (1.11) where it
// differs from 1.10, for every link type libpcap supports. Options.Libpcap110
// gives 1.10's meaning (what Debian's tcpdump 1.10.3 runs) everywhere the
// two differ; its documentation lists where.
//
// With Options.Optimize, an expression is refused with "expression
// rejects all packets" exactly when libpcap's optimizer would find it
// (constants, and tests repeated on the same value along every path; never
// with protochain, for which libpcap turns its optimizer off). Programs
// that only wring's stronger optimizer reduces to "ret #0" are returned.
//
// Names of services, protocols and EtherTypes come from tables built into
// the package, so results do not depend on the host's /etc files. Host,
// Ethernet and network names are resolved only through Options.Resolver.
//
// Programs are loop-free: libpcap's protochain loop is unrolled to
// Options.ProtochainDepth steps (see DefaultProtochainDepth and
// ProtochainDeepest), so every program passes verifier.Verify.
//
// # Layout
//
// The files follow the pipeline. parse_*.go lex and parse an expression
// into the syntax tree of parse_ast.go (libpcap's scanner.l and
// grammar.y). Code generation builds a graph of basic blocks (gen.go,
// gen_block.go): gen_*.go generate the primitives by protocol family
// (hosts, ports and protocols, VLAN, MPLS, PPPoE, tunnels, LLC, ATM, SS7,
// pf log, 802.11), and link_*.go hold what depends on the link-layer
// family (header offsets, the link-layer protocol test, inbound and
// outbound, variable-length headers). Optimization is opt_rejectall.go
// (when libpcap refuses an expression) and the optimize subpackage;
// assemble.go lays the graph out as a program. compile.go drives the
// stages. Where a function follows a libpcap function under another name,
// its comment gives libpcap's name (gen_ncode, pqkw, ...).
package expr
