package expr

import (
	"fmt"
	"net/netip"
	"strings"
)

// Lexing: the first stage of the pipeline (parse_* files). lex turns an
// expression into tokens with byte spans, as libpcap's scanner.l does.

// tokKind is the kind of a lexical token.
type tokKind int

const (
	tEOF  tokKind = iota
	tNum          // a number (decimal, 0x hex, 0 octal) or a named constant
	tID           // a name (host, port, protocol, ...), or a \escaped keyword
	tHID          // dotted IPv4 address, 2 to 4 parts
	tHID6         // IPv6 address
	tEID          // Ethernet (MAC) address
	tAID          // ARCnet address ($xx)
	tKW           // a keyword; text holds it
	tOp           // punctuation or operator; text holds it
)

// token is one lexical token with its byte position in the source.
type token struct {
	kind tokKind
	text string // source text (ID: without the backslash)
	num  uint32 // value of tNum
	pos  int    // byte offset of the first character
	end  int    // byte offset past the last character
	err  string // a lexical error found while scanning this token
}

// keywords lists the reserved words of the filter language, each mapped to
// the canonical keyword the parser tests for (aliases share one).
var keywords = map[string]string{
	"dst": "dst", "src": "src",
	"link": "link", "ether": "link", "ppp": "link", "slip": "link", "fddi": "link", "tr": "link", "wlan": "link",
	"arp": "arp", "rarp": "rarp", "ip": "ip", "sctp": "sctp", "tcp": "tcp", "udp": "udp", "icmp": "icmp",
	"igmp": "igmp", "igrp": "igrp", "pim": "pim", "vrrp": "vrrp", "carp": "carp", "radio": "radio",
	"ip6": "ip6", "icmp6": "icmp6", "ah": "ah", "esp": "esp",
	"atalk": "atalk", "aarp": "aarp", "decnet": "decnet", "lat": "lat", "sca": "sca", "moprc": "moprc", "mopdl": "mopdl",
	"iso": "iso", "esis": "esis", "es-is": "esis", "isis": "isis", "is-is": "isis",
	"l1": "l1", "l2": "l2", "iih": "iih", "lsp": "lsp", "snp": "snp", "csnp": "csnp", "psnp": "psnp",
	"clnp": "clnp", "stp": "stp", "ipx": "ipx", "netbeui": "netbeui",
	"host": "host", "net": "net", "mask": "mask", "port": "port", "portrange": "portrange",
	"proto": "proto", "protochain": "protochain", "gateway": "gateway",
	"type": "type", "subtype": "subtype", "direction": "dir", "dir": "dir",
	"address1": "addr1", "addr1": "addr1", "address2": "addr2", "addr2": "addr2",
	"address3": "addr3", "addr3": "addr3", "address4": "addr4", "addr4": "addr4",
	"ra": "ra", "ta": "ta",
	"less": "less", "greater": "greater", "byte": "byte", "broadcast": "broadcast", "multicast": "multicast",
	"and": "and", "or": "or", "not": "not",
	"len": "len", "length": "len", "inbound": "inbound", "outbound": "outbound", "ifindex": "ifindex",
	"vlan": "vlan", "mpls": "mpls", "pppoed": "pppoed", "pppoes": "pppoes", "geneve": "geneve", "vxlan": "vxlan",
	"lane": "lane", "llc": "llc", "metac": "metac", "bcc": "bcc", "oam": "oam", "oamf4": "oamf4",
	"oamf4ec": "oamf4ec", "oamf4sc": "oamf4sc", "sc": "sc", "ilmic": "ilmic", "vpi": "vpi", "vci": "vci",
	"connectmsg": "connectmsg", "metaconnect": "metaconnect",
	"on": "ifname", "ifname": "ifname", "rset": "ruleset", "ruleset": "ruleset", "rnr": "rnr", "rulenum": "rnr",
	"srnr": "srnr", "subrulenum": "srnr", "reason": "reason", "action": "action",
	"fisu": "fisu", "lssu": "lssu", "lsu": "lssu", "msu": "msu", "hfisu": "hfisu", "hlssu": "hlssu", "hmsu": "hmsu",
	"sio": "sio", "opc": "opc", "dpc": "dpc", "sls": "sls", "hsio": "hsio", "hopc": "hopc", "hdpc": "hdpc", "hsls": "hsls",
}

// namedNums are the words the scanner turns into numbers.
var namedNums = map[string]uint32{
	"icmptype": 0, "icmpcode": 1,
	"icmp-echoreply": 0, "icmp-unreach": 3, "icmp-sourcequench": 4, "icmp-redirect": 5, "icmp-echo": 8,
	"icmp-routeradvert": 9, "icmp-routersolicit": 10, "icmp-timxceed": 11, "icmp-paramprob": 12,
	"icmp-tstamp": 13, "icmp-tstampreply": 14, "icmp-ireq": 15, "icmp-ireqreply": 16,
	"icmp-maskreq": 17, "icmp-maskreply": 18,
	"icmp6type": 0, "icmp6code": 1,
	"icmp6-destinationunreach": 1, "icmp6-packettoobig": 2, "icmp6-timeexceeded": 3, "icmp6-parameterproblem": 4,
	"icmp6-echo": 128, "icmp6-echoreply": 129, "icmp6-multicastlistenerquery": 130,
	"icmp6-multicastlistenerreportv1": 131, "icmp6-multicastlistenerdone": 132, "icmp6-routersolicit": 133,
	"icmp6-routeradvert": 134, "icmp6-neighborsolicit": 135, "icmp6-neighboradvert": 136, "icmp6-redirect": 137,
	"icmp6-routerrenum": 138, "icmp6-nodeinformationquery": 139, "icmp6-nodeinformationresponse": 140,
	"icmp6-ineighbordiscoverysolicit": 141, "icmp6-ineighbordiscoveryadvert": 142,
	"icmp6-multicastlistenerreportv2": 143, "icmp6-homeagentdiscoveryrequest": 144,
	"icmp6-homeagentdiscoveryreply": 145, "icmp6-mobileprefixsolicit": 146, "icmp6-mobileprefixadvert": 147,
	"icmp6-certpathsolicit": 148, "icmp6-certpathadvert": 149, "icmp6-multicastrouteradvert": 151,
	"icmp6-multicastroutersolicit": 152, "icmp6-multicastrouterterm": 153,
	"tcpflags": 13, "tcp-fin": 0x01, "tcp-syn": 0x02, "tcp-rst": 0x04, "tcp-push": 0x08,
	"tcp-ack": 0x10, "tcp-urg": 0x20, "tcp-ece": 0x40, "tcp-cwr": 0x80,
}

func isHex(c byte) bool {
	return c >= '0' && c <= '9' || c >= 'a' && c <= 'f' || c >= 'A' && c <= 'F'
}

func isDigit(c byte) bool { return c >= '0' && c <= '9' }

func isAlnum(c byte) bool {
	return isDigit(c) || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z'
}

func isIDChar(c byte) bool { return isAlnum(c) || c == '-' || c == '_' || c == '.' }

// lex splits src into tokens. Like the flex scanner it mirrors, it takes the
// longest match at each position, and on a tie the earliest rule (keywords,
// then addresses, then numbers, then names).
func lex(src string) ([]token, *Error) {
	var out []token
	i := 0
	for {
		for i < len(src) && (src[i] == ' ' || src[i] == '\t' || src[i] == '\n' || src[i] == '\r') {
			i++
		}
		if i >= len(src) {
			out = append(out, token{kind: tEOF, pos: len(src), end: len(src)})
			return out, nil
		}
		if len(out) >= MaxTokens {
			return nil, &Error{Pos: i, Len: 1, Msg: fmt.Sprintf("expression longer than %d tokens", MaxTokens), Err: ErrTooComplex}
		}
		t, err := lexOne(src, i)
		if err != nil {
			return nil, err
		}
		out = append(out, t)
		i = t.end
	}
}

var ops2 = []string{">=", "<=", "!=", "==", "<<", ">>", "&&", "||"}

func lexOne(src string, i int) (token, *Error) {
	c := src[i]
	for _, op := range ops2 {
		if strings.HasPrefix(src[i:], op) {
			switch op {
			case "&&":
				return token{kind: tKW, text: "and", pos: i, end: i + 2}, nil
			case "||":
				return token{kind: tKW, text: "or", pos: i, end: i + 2}, nil
			case "==":
				return token{kind: tOp, text: "=", pos: i, end: i + 2}, nil
			}
			return token{kind: tOp, text: op, pos: i, end: i + 2}, nil
		}
	}
	if c == ':' {
		j := i
		for j < len(src) && (isHex(src[j]) || src[j] == ':' || src[j] == '.') {
			j++
		}
		if n := v6Len(src[i:j]); n > 0 {
			return token{kind: tHID6, text: src[i : i+n], pos: i, end: i + n}, nil
		}
	}
	if strings.IndexByte("+-*/%:[]!<>()&|^=", c) >= 0 {
		if c == '!' {
			return token{kind: tKW, text: "not", pos: i, end: i + 1}, nil
		}
		return token{kind: tOp, text: string(c), pos: i, end: i + 1}, nil
	}
	if c == '$' {
		j := i + 1
		for j < len(src) && j < i+3 && isHex(src[j]) {
			j++
		}
		if j == i+1 {
			return token{}, errAt(i, 1, "invalid character '$'")
		}
		return token{kind: tAID, text: src[i:j], pos: i, end: j}, nil
	}
	if c == '\\' {
		j := i + 1
		for j < len(src) && strings.IndexByte(" !()\n\t", src[j]) < 0 {
			j++
		}
		if j == i+1 {
			return token{}, errAt(i, 1, "syntax error: lone backslash")
		}
		return token{kind: tID, text: src[i+1 : j], pos: i, end: j}, nil
	}
	if !isHex(c) && !isAlnum(c) && c != ':' {
		return token{}, errAt(i, 1, "syntax error: unexpected character %q", string(c))
	}

	// Candidate: a name (ID), a keyword or named number when the whole
	// name is one.
	idLen := 0
	if isAlnum(c) {
		j := i
		for j < len(src) && isIDChar(src[j]) {
			j++
		}
		for j > i+1 && (src[j-1] == '-' || src[j-1] == '_') {
			j--
		}
		idLen = j - i
	}
	// Candidate: an address made of hex digits, colons and dots.
	j := i
	for j < len(src) && (isHex(src[j]) || src[j] == ':' || src[j] == '.' || src[j] == '-') {
		j++
	}
	run := src[i:j]
	best := token{}
	bestLen := 0
	consider := func(t token, n int) {
		if n > bestLen {
			best, bestLen = t, n
		}
	}
	// Priority on ties is the order of the consider calls.
	if idLen > 0 {
		w := src[i : i+idLen]
		if kw, ok := keywords[w]; ok {
			consider(token{kind: tKW, text: kw, pos: i, end: i + idLen}, idLen)
		}
	}
	if n := macLen(run); n > 0 {
		consider(token{kind: tEID, text: src[i : i+n], pos: i, end: i + n}, n)
	}
	if n := numLen(src[i:]); n > 0 {
		consider(token{kind: tNum, text: src[i : i+n], pos: i, end: i + n}, n)
	}
	if n := hidLen(src[i:]); n > 0 {
		consider(token{kind: tHID, text: src[i : i+n], pos: i, end: i + n}, n)
	}
	if n := v6Len(run); n > 0 {
		consider(token{kind: tHID6, text: src[i : i+n], pos: i, end: i + n}, n)
	}
	if n := badEtherLen(run); n > 0 && n > bestLen {
		return token{}, errAt(i, n, "invalid Ethernet address %s", src[i:i+n])
	}
	if idLen > 0 {
		w := src[i : i+idLen]
		if v, ok := namedNums[w]; ok {
			consider(token{kind: tNum, text: w, num: v, pos: i, end: i + idLen, err: "named"}, idLen)
		}
		consider(token{kind: tID, text: w, pos: i, end: i + idLen}, idLen)
	}
	if bestLen == 0 {
		return token{}, errAt(i, 1, "syntax error: unexpected character %q", string(c))
	}
	if best.kind == tNum {
		if best.err == "named" {
			best.err = ""
			return best, nil
		}
		v, msg := parseNum(best.text)
		if msg != "" {
			return token{}, errAt(i, best.end-i, "%s", msg)
		}
		best.num = v
	}
	if best.kind == tHID6 {
		if _, err := netip.ParseAddr(best.text); err != nil {
			return token{}, errAt(i, best.end-i, "invalid IPv6 address %s", best.text)
		}
	}
	return best, nil
}

// numLen is the length of the N pattern ([0-9]+ or 0x[0-9a-f]+) at s. Like
// the scanner, it matches decimal digits even when the number is octal,
// leaving the digit check to parseNum.
func numLen(s string) int {
	if len(s) >= 3 && s[0] == '0' && (s[1] == 'x' || s[1] == 'X') && isHex(s[2]) {
		j := 2
		for j < len(s) && isHex(s[j]) {
			j++
		}
		return j
	}
	j := 0
	for j < len(s) && isDigit(s[j]) {
		j++
	}
	return j
}

// hidLen is the length of a dotted IPv4 address of 2 to 4 numbers at s.
func hidLen(s string) int {
	n := numLen(s)
	if n == 0 {
		return 0
	}
	parts, end := 1, n
	for parts < 4 && end < len(s) && s[end] == '.' {
		m := numLen(s[end+1:])
		if m == 0 {
			break
		}
		end += 1 + m
		parts++
	}
	if parts < 2 {
		return 0
	}
	return end
}

// macLen is the length of an Ethernet address at the start of run.
func macLen(run string) int {
	best := 0
	for _, sep := range []byte{':', '-', '.'} {
		j, groups := 0, 0
		for groups < 6 {
			k := j
			for k < len(run) && k < j+2 && isHex(run[k]) {
				k++
			}
			if k == j {
				break
			}
			groups++
			j = k
			if groups < 6 {
				if j < len(run) && run[j] == sep {
					j++
				} else {
					break
				}
			}
		}
		if groups == 6 && j > best {
			best = j
		}
	}
	// xxxx.xxxx.xxxx
	if len(run) >= 14 && run[4] == '.' && run[9] == '.' {
		ok := true
		for _, k := range []int{0, 1, 2, 3, 5, 6, 7, 8, 10, 11, 12, 13} {
			if !isHex(run[k]) {
				ok = false
			}
		}
		if ok && 14 > best {
			best = 14
		}
	}
	// 12 hex digits
	if len(run) >= 12 {
		ok := true
		for k := 0; k < 12; k++ {
			if !isHex(run[k]) {
				ok = false
			}
		}
		if ok && 12 > best {
			best = 12
		}
	}
	return best
}

// v6Shape reports whether s has the shape of the scanner's IPv6 patterns:
// up to eight groups of 1-4 hex digits with at most one "::", optionally
// ending in a dotted quad of decimal numbers. Whether the address is valid
// is checked afterwards, as the scanner does with inet_pton.
func v6Shape(s string) bool {
	if strings.Count(s, "::") > 1 || strings.Contains(s, ":::") {
		return false
	}
	groups := 0
	if i := strings.LastIndexByte(s, ':'); i >= 0 && strings.IndexByte(s[i:], '.') >= 0 {
		quad := strings.Split(s[i+1:], ".")
		if len(quad) != 4 {
			return false
		}
		for _, q := range quad {
			if q == "" || numLen(q) != len(q) || strings.ContainsAny(q, "xX") {
				return false
			}
		}
		s = s[:i+1]
		if !strings.HasSuffix(s, "::") {
			s = s[:i]
		}
		groups = 2
	}
	if s == "" {
		return false
	}
	double := strings.Contains(s, "::")
	for _, part := range strings.Split(s, ":") {
		if part == "" {
			continue
		}
		if len(part) > 4 {
			return false
		}
		for j := 0; j < len(part); j++ {
			if !isHex(part[j]) {
				return false
			}
		}
		groups++
	}
	if double {
		return groups <= 7
	}
	return groups == 8
}

// v6Len is the length of the longest prefix of run that is an IPv6 address.
func v6Len(run string) int {
	if n := len(run); n > 1 && strings.IndexByte(run, '-') < 0 && strings.IndexByte(run, ':') >= 0 && v6Shape(run) {
		return n
	}
	if strings.IndexByte(run, ':') < 0 {
		return 0
	}
	for n := len(run); n > 1; n-- {
		s := run[:n]
		if strings.IndexByte(s, '-') >= 0 || strings.IndexByte(s, ':') < 0 {
			continue
		}
		if strings.Count(s, "::") > 0 || strings.Count(s, ":") == 7 || strings.Count(s, ":") == 6 && strings.IndexByte(s, '.') >= 0 {
			if a, err := netip.ParseAddr(s); err == nil && a.Is6() && !strings.Contains(s, "%") {
				return n
			}
		}
	}
	return 0
}

// badEtherLen matches {B}:+({B}:+)+, what the scanner calls an invalid
// Ethernet address.
func badEtherLen(run string) int {
	j, groups := 0, 0
	for {
		k := j
		for k < len(run) && k < j+2 && isHex(run[k]) {
			k++
		}
		if k == j || k >= len(run) || run[k] != ':' {
			break
		}
		for k < len(run) && run[k] == ':' {
			k++
		}
		groups++
		j = k
	}
	if groups >= 2 {
		return j
	}
	return 0
}

// parseNum converts a decimal, 0x-hex or 0-octal number, reporting overflow
// and bad digits as the scanner does.
func parseNum(s string) (uint32, string) {
	var n uint64
	switch {
	case len(s) >= 2 && s[0] == '0' && (s[1] == 'x' || s[1] == 'X'):
		for _, c := range []byte(s[2:]) {
			var d uint64
			switch {
			case isDigit(c):
				d = uint64(c - '0')
			case c >= 'a' && c <= 'f':
				d = uint64(c-'a') + 10
			default:
				d = uint64(c-'A') + 10
			}
			n = n<<4 | d
			if n > 0xffffffff {
				return 0, "hexadecimal number " + s + " overflows 32 bits"
			}
		}
	case len(s) >= 1 && s[0] == '0':
		for _, c := range []byte(s[1:]) {
			if c < '0' || c > '7' {
				return 0, "number " + s + " contains non-octal digit"
			}
			n = n<<3 | uint64(c-'0')
			if n > 0xffffffff {
				return 0, "octal number " + s + " overflows 32 bits"
			}
		}
	default:
		for _, c := range []byte(s) {
			n = n*10 + uint64(c-'0')
			if n > 0xffffffff {
				return 0, "decimal number " + s + " overflows 32 bits"
			}
		}
	}
	return uint32(n), ""
}
