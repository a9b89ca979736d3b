package expr

// The parser turns an expression into this syntax tree; code generation
// walks it. Every node keeps the byte span of its source text so errors
// found during generation point at the right place.

// Protocol qualifiers (libpcap's Q_* values).
const (
	qDefault = 0
	qUndef   = 255
)

const (
	pLink = iota + 1
	pIP
	pARP
	pRARP
	pSCTP
	pTCP
	pUDP
	pICMP
	pIGMP
	pIGRP
	pATALK
	pDECNET
	pLAT
	pSCA
	pMOPRC
	pMOPDL
	pIPv6
	pICMPv6
	pAH
	pESP
	pPIM
	pVRRP
	pAARP
	pISO
	pESIS
	pISIS
	pCLNP
	pSTP
	pIPX
	pNETBEUI
	pISISL1
	pISISL2
	pISISIIH
	pISISSNP
	pISISCSNP
	pISISPSNP
	pISISLSP
	pRADIO
	pCARP
)

// protoNames maps a protocol keyword to its qualifier.
var protoNames = map[string]int{
	"link": pLink, "ip": pIP, "arp": pARP, "rarp": pRARP, "sctp": pSCTP, "tcp": pTCP, "udp": pUDP,
	"icmp": pICMP, "igmp": pIGMP, "igrp": pIGRP, "atalk": pATALK, "decnet": pDECNET, "lat": pLAT,
	"sca": pSCA, "moprc": pMOPRC, "mopdl": pMOPDL, "ip6": pIPv6, "icmp6": pICMPv6, "ah": pAH, "esp": pESP,
	"pim": pPIM, "vrrp": pVRRP, "aarp": pAARP, "iso": pISO, "esis": pESIS, "isis": pISIS, "clnp": pCLNP,
	"stp": pSTP, "ipx": pIPX, "netbeui": pNETBEUI, "l1": pISISL1, "l2": pISISL2, "iih": pISISIIH,
	"snp": pISISSNP, "csnp": pISISCSNP, "psnp": pISISPSNP, "lsp": pISISLSP, "radio": pRADIO, "carp": pCARP,
}

// protoQualWords is the keyword libpcap's messages use for a protocol qualifier.
var protoQualWords = map[int]string{
	pLink: "link", pIP: "ip", pARP: "arp", pRARP: "rarp", pSCTP: "sctp", pTCP: "tcp", pUDP: "udp",
	pICMP: "icmp", pIGMP: "igmp", pIGRP: "igrp", pATALK: "atalk", pDECNET: "decnet", pLAT: "lat",
	pSCA: "sca", pMOPRC: "moprc", pMOPDL: "mopdl", pIPv6: "ip6", pICMPv6: "icmp6", pAH: "ah", pESP: "esp",
	pPIM: "pim", pVRRP: "vrrp", pAARP: "aarp", pISO: "iso", pESIS: "esis", pISIS: "isis", pCLNP: "clnp",
	pSTP: "stp", pIPX: "ipx", pNETBEUI: "netbeui", pISISL1: "l1", pISISL2: "l2", pISISIIH: "iih",
	pISISSNP: "snp", pISISCSNP: "csnp", pISISPSNP: "psnp", pISISLSP: "lsp", pRADIO: "radio", pCARP: "carp",
}

// Direction qualifiers.
const (
	dSrc = iota + 1
	dDst
	dOr
	dAnd
	dAddr1
	dAddr2
	dAddr3
	dAddr4
	dRA
	dTA
)

// dirQualWords names the direction qualifiers in messages.
var dirQualWords = map[int]string{dSrc: "src", dDst: "dst", dOr: "src or dst", dAnd: "src and dst",
	dAddr1: "addr1", dAddr2: "addr2", dAddr3: "addr3", dAddr4: "addr4", dRA: "ra", dTA: "ta"}

// Address-type qualifiers.
const (
	aHost = iota + 1
	aNet
	aPort
	aGateway
	aProto
	aProtochain
	aPortrange
)

// addrQualWords names the address-type qualifiers in messages.
var addrQualWords = map[int]string{aHost: "host", aNet: "net", aPort: "port", aGateway: "gateway",
	aProto: "proto", aProtochain: "protochain", aPortrange: "portrange"}

// qual is a set of qualifiers: protocol, direction, address type.
type qual struct{ proto, dir, addr int }

// qualError is the qualifier set after a syntax error (libpcap's qerr).
var qualError = qual{qUndef, qUndef, qUndef}

// span is a byte range of the source.
type span struct{ pos, end int }

func (s span) errf(format string, args ...any) *Error {
	n := s.end - s.pos
	if n < 1 {
		n = 1
	}
	e := errAt(s.pos, n, format, args...)
	e.Err = nil
	return e
}

type node interface{ at() span }

type nAnd struct {
	span
	l, r node
}

type nOr struct {
	span
	l, r node
}

type nNot struct {
	span
	x node
}

// nPrim is an identifier with its qualifiers: host, net, port, proto...
type nPrim struct {
	span      // the qualifiers and the identifier
	id   span // the identifier alone
	q    qual
	kind tokKind // tID, tHID, tHID6, tEID, tAID, tNum
	s    string  // the address or name
	mask string  // "HID mask HID": the mask
	plen int     // "/NUM" prefix length, -1 without
	num  uint32  // tNum value
}

// nAbbrev is a protocol name used alone ("tcp").
type nAbbrev struct {
	span
	proto int
}

// nRel is "arith relop arith".
type nRel struct {
	span
	op     uint16 // JumpJGT, JumpJGE, JumpJEQ
	negate bool   // irelop: <=, <, !=
	l, r   arith
}

// nOther is one of the keyword primitives (broadcast, vlan, llc, ...).
type nOther struct {
	span
	what   string
	proto  int    // pqual for broadcast/multicast/wlanPrimitive
	num    uint32 // argument
	num2   uint32
	hasNum bool
	s      string
	op     uint16 // relation for atm/mtp3 fields
	negate bool
	list   []uint32 // "(a or b or c)" lists for atm/mtp3 fields
}

func (n *nAnd) at() span { return n.span }

func (n *nOr) at() span { return n.span }

func (n *nNot) at() span { return n.span }

func (n *nPrim) at() span { return n.span }

func (n *nAbbrev) at() span { return n.span }

func (n *nRel) at() span { return n.span }

func (n *nOther) at() span { return n.span }

func (a *aNum) at() span { return a.span }

func (a *aLen) at() span { return a.span }

func (a *aLoad) at() span { return a.span }

func (a *aBin) at() span { return a.span }

func (a *aNeg) at() span { return a.span }

func (a *aNum) isArith() {}

func (a *aLen) isArith() {}

func (a *aLoad) isArith() {}

func (a *aBin) isArith() {}

func (a *aNeg) isArith() {}

func (s span) width() int { return s.end - s.pos }

func join(a, b span) span { return span{a.pos, b.end} }

func spanOf(t token) span { return span{t.pos, t.end} }

func (p *parser) cur() token { return p.toks[p.i] }

// arith is an arithmetic expression.
type arith interface {
	at() span
	isArith()
}

type aNum struct {
	span
	v uint32
}

type aLen struct{ span }

type aLoad struct {
	span
	proto int
	idx   arith
	size  uint32
}

type aBin struct {
	span
	op   uint16 // ALUAdd ...
	l, r arith
}

type aNeg struct {
	span
	x arith
}
