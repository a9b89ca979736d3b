package expr

import (
	"errors"
	"fmt"
	"net/netip"

	"github.com/wringcap/wring/filters/expr/optimize"
	"github.com/wringcap/wring/spec"
)

// DefaultSnaplen is the snapshot length returned for matching packets when
// Options.Snaplen is 0 (tcpdump's and libpcap's default).
const DefaultSnaplen = 262144

// Options configure a compilation. The zero value compiles for Ethernet
// with the default snapshot length, no netmask, no Linux extensions and no
// name resolution.
type Options struct {
	// LinkType is the link-layer header type of the packets the program
	// will see. Set it: its zero value is LINKTYPE_NULL (BSD loopback),
	// not Ethernet.
	LinkType spec.LinkType
	// Snaplen is the value the program returns for a matching packet
	// (DefaultSnaplen when 0).
	Snaplen uint32
	// Optimize runs the optimizer over the program.
	Optimize bool
	// Netmask is the IPv4 netmask of the capture network; it is used only
	// by "ip broadcast", and only when HasNetmask is set.
	Netmask    uint32
	HasNetmask bool
	// LinuxExt allows Linux ancillary loads (inbound, outbound, ifindex on
	// link types without a direction field), as libpcap does for live
	// captures on Linux. Programs built with it run only where those
	// loads are available.
	LinuxExt bool
	// OfflineAF matches the BSD address-family values of any origin in
	// NULL, LOOP, ENC and PFLOG headers (libpcap's offline handling for
	// savefiles written elsewhere), instead of the Linux values.
	OfflineAF bool
	// SavefileBigEndian says, with OfflineAF, that the capture file is
	// big-endian (else little-endian). Only Libpcap110 uses it: libpcap
	// 1.10 compares the address family of NULL and ENC headers in the
	// savefile's byte order alone; later libpcap accepts either order.
	SavefileBigEndian bool
	// ProtochainDepth is how many extension headers "protochain" follows
	// (DefaultProtochainDepth when 0, at most MaxProtochainDepth). With
	// ProtochainDeepest (any negative value) it is the largest depth, up
	// to MaxProtochainDepth, at which the program fits in
	// spec.MaxInstructions (and at least DefaultProtochainDepth).
	ProtochainDepth int
	// Libpcap110 compiles as libpcap 1.10 did where later libpcap changed
	// the language, so that a program gives the verdicts of tcpdump linked
	// with libpcap 1.10 (Debian 12's 1.10.3). The default is the later
	// meaning, as libpcap's own test tables expect. With Libpcap110:
	//   - ARCnet ip and arp also match the RFC 1051 protocol types (0xf0,
	//     0xf1); SLIP outbound is a non-zero direction byte (later: 1);
	//     "ip multicast" is a destination whose first byte is at least 224
	//     (later: 224.0.0.0/4); IS-IS PDU types are read at offset 4 on
	//     every link type, unmasked (later: 5 on Cisco HDLC, masked 0x1f);
	//   - BACnet MS/TP takes any link-layer protocol as its preamble test
	//     (later: refused) and has no broadcast or 8-bit host address;
	//     802.11 type, subtype and dir are refused on PPI; the DSA tag link
	//     types (DSA_TAG_BRCM, DSA_TAG_DSA) have no link-layer filtering;
	//     vxlan is not a keyword (later: all compiled);
	//   - EtherTypes, LLC SAPs, PPP and HDLC protocols, IP protocol
	//     numbers, ISO and IS-IS values, VPI, VCI and "byte" operands are
	//     not range-checked (later: an error above their field's maximum);
	//   - with OfflineAF, NULL and ENC address families are compared in
	//     the savefile's byte order only (SavefileBigEndian; later: either).
	Libpcap110 bool
	// Resolver resolves host, Ethernet and network names. When nil, a
	// name that is not a number or an address is an error wrapping
	// ErrNoResolver.
	Resolver Resolver

	// noFold turns off the folding of constant predicates ("X or true"
	// is true without evaluating X; a masked compare with mask 0 is a
	// constant without a load), which libpcap 1.11 does and 1.10 did not;
	// tests use it to tell that difference from others.
	noFold bool
}

// Resolver resolves the names an expression may use. Implementations
// decide where names come from (static tables, /etc files, DNS).
type Resolver interface {
	// LookupHost returns the IPv4 and IPv6 addresses of a host name.
	LookupHost(name string) ([]netip.Addr, error)
	// LookupEther returns the MAC-48 address of a host name (ethers).
	LookupEther(name string) ([6]byte, bool)
	// LookupNet returns the IPv4 network number of a network name
	// (networks), right-aligned as getnetbyname returns it.
	LookupNet(name string) (uint32, bool)
}

// Compile compiles a pcap filter expression to a classic BPF program. An
// empty expression matches every packet. Errors are *Error values with the
// position of the problem.
func Compile(src string, opts Options) (spec.Program, error) {
	if opts.ProtochainDepth >= 0 {
		return compile(src, opts)
	}
	// The deepest protochain that fits: the program grows with the
	// depth, so search the largest depth that is not too long.
	o := opts
	o.ProtochainDepth = MaxProtochainDepth
	prog, err := compile(src, o)
	if err == nil || !errors.Is(err, ErrTooLong) {
		return prog, err
	}
	lo, hi := DefaultProtochainDepth, MaxProtochainDepth
	o.ProtochainDepth = lo
	prog, err = compile(src, o)
	if err != nil {
		return nil, err
	}
	for lo+1 < hi {
		mid := (lo + hi) / 2
		o.ProtochainDepth = mid
		p, err := compile(src, o)
		switch {
		case err == nil:
			lo, prog = mid, p
		case errors.Is(err, ErrTooLong):
			hi = mid
		default:
			return nil, err
		}
	}
	return prog, nil
}

func compile(src string, opts Options) (prog spec.Program, err error) {
	if opts.Snaplen == 0 {
		opts.Snaplen = DefaultSnaplen
	}
	tree, perr := parseWith(src, opts.Libpcap110)
	if perr != nil {
		return nil, perr
	}
	g := &gen{opts: opts}
	if !g.initLinktype(opts.LinkType) {
		return nil, &Error{Pos: 0, Len: len(src), Msg: "unknown data link type " + linkName(opts.LinkType), Err: ErrUnsupported}
	}
	defer func() {
		if r := recover(); r != nil {
			ge, ok := r.(genError)
			if !ok {
				panic(r)
			}
			prog, err = nil, ge.err
		}
	}()
	var p pred
	if tree == nil {
		p = g.gtrue()
	} else {
		p = g.node(tree)
	}
	p = g.finish(p)
	// libpcap refuses an expression when its optimizer reduces the
	// program to "ret #0"; where it turns its optimizer off (see
	// gen.noOptimize) it never refuses.
	prove := opts.Optimize && !g.noOptimize
	if prove && p.meaning == isFalse {
		return nil, &Error{Pos: 0, Len: len(src), Msg: "expression rejects all packets"}
	}
	out, rejectsAll, aerr := assemble(p, opts.Snaplen, prove)
	if n, ok := aerr.(tooLongError); ok {
		return nil, &Error{Pos: 0, Len: len(src), Msg: "program too long: at least " + itoa(int(n)) + " instructions, the limit is 4096", Err: errTooLong}
	}
	if aerr != nil {
		return nil, &Error{Pos: 0, Len: len(src), Msg: aerr.Error()}
	}
	if rejectsAll {
		return nil, &Error{Pos: 0, Len: len(src), Msg: "expression rejects all packets"}
	}
	out = initScratch(out)
	if len(out) > spec.MaxInstructions {
		return nil, &Error{Pos: 0, Len: len(src), Msg: "program too long: " + itoa(len(out)) + " instructions, the limit is 4096", Err: errTooLong}
	}
	if opts.Optimize {
		// wring's optimizer may still reduce the program to "ret #0"
		// (it knows value ranges and failing loads, which libpcap's
		// does not): that program is kept, as libpcap keeps its own.
		out = optimize.Program(out)
	}
	return out, nil
}

func itoa(n int) string {
	if n == 0 {
		return "0"
	}
	var b []byte
	for n > 0 {
		b = append([]byte{byte('0' + n%10)}, b...)
		n /= 10
	}
	return string(b)
}

// node generates the predicate of a syntax-tree node.
func (g *gen) node(n node) pred {
	save := g.at
	g.at = n.at()
	defer func() { g.at = save }()
	switch n := n.(type) {
	case *nAnd:
		l := g.node(n.l)
		return and(l, g.node(n.r))
	case *nOr:
		l := g.node(n.l)
		return or(l, g.node(n.r))
	case *nNot:
		return not(g.node(n.x))
	case *nPrim:
		g.atID = n.id
		defer func() { g.atID = span{} }()
		return g.prim(n)
	case *nAbbrev:
		return g.abbrev(n.proto)
	case *nRel:
		return g.relation(n)
	case *nOther:
		return g.other(n)
	}
	g.internal("unknown node")
	return pred{}
}

// finish adds the code that computes variable link-layer offsets at the
// start of the program, and the PPI header check.
func (g *gen) finish(p pred) pred {
	pro := g.vloffsetPrologue()
	if pro != nil {
		p = pro(p)
	}
	if g.linktype == ltPPI || g.outermost == ltPPI {
		chk := g.cmp(orPacket, 4, spec.SizeW, swap32(uint32(ltIEEE80211)))
		p = and(chk, p)
	}
	return p
}

// tooLongError is assemble's error for a program that has more than
// spec.MaxInstructions instructions before its layout is done: at least
// that many.
type tooLongError int

func (n tooLongError) Error() string {
	return "program too long: at least " + itoa(int(n)) + " instructions"
}

// errTooLong is the sentinel of a program over the instruction limit:
// both ErrUnsupported and ErrTooLong.
var errTooLong = fmt.Errorf("%w: %w", ErrUnsupported, ErrTooLong)

// IsUnsupported reports whether err is a valid expression that cannot be
// compiled for the chosen link type or options.
func IsUnsupported(err error) bool { return errors.Is(err, ErrUnsupported) }
