package ipfix

// Information element identifiers (IANA "IPFIX Information Elements").
const (
	ieOctetDeltaCount          = 1
	iePacketDeltaCount         = 2
	ieProtocolIdentifier       = 4
	ieTCPControlBits           = 6
	ieSourceTransportPort      = 7
	ieSourceIPv4Address        = 8
	ieIngressInterface         = 10
	ieDestinationTransportPort = 11
	ieDestinationIPv4Address   = 12
	ieSourceIPv6Address        = 27
	ieDestinationIPv6Address   = 28
	ieVlanID                   = 58
	ieFlowEndReason            = 136
	ieFlowStartMilliseconds    = 152
	ieFlowEndMilliseconds      = 153
)

// PEN is the private enterprise number of wring's own information
// elements. wring has no registered number yet: 32473 is the one IANA
// reserves for documentation and examples (RFC 5612), so no collector
// mistakes these elements for a real vendor's. spec/IPFIX.md says so.
const PEN = 32473

// Enterprise-specific information elements (under PEN), each a string of
// variable length.
const (
	IEHTTPHost  = 1 // the HTTP Host header of a request in the flow
	IEDNSQName  = 2 // the query name of a DNS query in the flow
	IETLSServer = 3 // the server name indication of a TLS ClientHello in the flow
)

// Template ids of the two templates.
const (
	TemplateIPv4 = 256
	TemplateIPv6 = 257
)

// Set ids.
const (
	setTemplate = 2
)

const (
	version       = 10
	headerLen     = 16
	setHeaderLen  = 4
	varLen        = 65535 // field length meaning "variable"
	enterpriseBit = 0x8000
)

// field is one field specifier of a template.
type field struct {
	id     uint16
	length uint16
	pen    uint32 // 0: an IANA element
}

// templateFields returns the field specifiers of the IPv4 or IPv6
// template, in record order.
func templateFields(v6 bool) []field {
	src, dst, alen := uint16(ieSourceIPv4Address), uint16(ieDestinationIPv4Address), uint16(4)
	if v6 {
		src, dst, alen = ieSourceIPv6Address, ieDestinationIPv6Address, 16
	}
	return []field{
		{id: src, length: alen},
		{id: dst, length: alen},
		{id: ieSourceTransportPort, length: 2},
		{id: ieDestinationTransportPort, length: 2},
		{id: ieProtocolIdentifier, length: 1},
		{id: ieTCPControlBits, length: 2},
		{id: ieVlanID, length: 2},
		{id: ieIngressInterface, length: 4},
		{id: ieFlowStartMilliseconds, length: 8},
		{id: ieFlowEndMilliseconds, length: 8},
		{id: iePacketDeltaCount, length: 8},
		{id: ieOctetDeltaCount, length: 8},
		{id: ieFlowEndReason, length: 1},
		{id: IEHTTPHost, length: varLen, pen: PEN},
		{id: IEDNSQName, length: varLen, pen: PEN},
		{id: IETLSServer, length: varLen, pen: PEN},
	}
}

// fixedLen is the size of a record's fixed-length fields.
func fixedLen(v6 bool) int {
	n := 0
	for _, f := range templateFields(v6) {
		if f.length != varLen {
			n += int(f.length)
		}
	}
	return n
}

var (
	fixedLen4 = fixedLen(false) // 54
	fixedLen6 = fixedLen(true)  // 78
)

// templateSet is the template set that defines both templates, built once.
var templateSet = buildTemplateSet()

func buildTemplateSet() []byte {
	b := []byte{0, setTemplate, 0, 0}
	for _, t := range []struct {
		id uint16
		v6 bool
	}{{TemplateIPv4, false}, {TemplateIPv6, true}} {
		fs := templateFields(t.v6)
		b = be16(b, t.id)
		b = be16(b, uint16(len(fs)))
		for _, f := range fs {
			id := f.id
			if f.pen != 0 {
				id |= enterpriseBit
			}
			b = be16(b, id)
			b = be16(b, f.length)
			if f.pen != 0 {
				b = be32(b, f.pen)
			}
		}
	}
	b[2], b[3] = byte(len(b)>>8), byte(len(b))
	return b
}

func be16(b []byte, v uint16) []byte { return append(b, byte(v>>8), byte(v)) }
func be32(b []byte, v uint32) []byte {
	return append(b, byte(v>>24), byte(v>>16), byte(v>>8), byte(v))
}
func be64(b []byte, v uint64) []byte {
	return append(b, byte(v>>56), byte(v>>48), byte(v>>40), byte(v>>32), byte(v>>24), byte(v>>16), byte(v>>8), byte(v))
}
