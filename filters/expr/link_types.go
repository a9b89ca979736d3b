package expr

import "github.com/wringcap/wring/spec"

// Link-layer families (link_* files): the link types the compiler knows
// and the protocol numbers their tests use.

// Link types by LINKTYPE_* number (the pcap file format's values).
const (
	ltNull          spec.LinkType = 0
	ltEN10MB        spec.LinkType = 1
	ltEN3MB         spec.LinkType = 2
	ltAX25          spec.LinkType = 3
	ltPronet        spec.LinkType = 4
	ltChaos         spec.LinkType = 5
	ltIEEE802       spec.LinkType = 6
	ltArcnet        spec.LinkType = 7
	ltSLIP          spec.LinkType = 8
	ltPPP           spec.LinkType = 9
	ltFDDI          spec.LinkType = 10
	ltRedback       spec.LinkType = 32 // DLT_REDBACK_SMARTEDGE (no LINKTYPE_ value)
	ltPPPSerial     spec.LinkType = 50
	ltPPPEther      spec.LinkType = 51
	ltSymantecFW    spec.LinkType = 99
	ltATMRFC1483    spec.LinkType = 100
	ltRaw           spec.LinkType = 101
	ltSLIPBSDOS     spec.LinkType = 102
	ltPPPBSDOS      spec.LinkType = 103
	ltCHDLC         spec.LinkType = 104
	ltIEEE80211     spec.LinkType = 105
	ltATMCLIP       spec.LinkType = 106
	ltFrelay        spec.LinkType = 107
	ltLoop          spec.LinkType = 108
	ltEnc           spec.LinkType = 109
	ltHIPPI         spec.LinkType = 111
	ltHDLC          spec.LinkType = 112
	ltSLL           spec.LinkType = 113
	ltLTalk         spec.LinkType = 114
	ltPFLog         spec.LinkType = 117
	ltPrism         spec.LinkType = 119
	ltHHDLC         spec.LinkType = 121
	ltIPOverFC      spec.LinkType = 122
	ltSunATM        spec.LinkType = 123
	ltRadiotap      spec.LinkType = 127
	ltArcnetLinux   spec.LinkType = 129
	ltJMLPPP        spec.LinkType = 130
	ltJMLFR         spec.LinkType = 131
	ltJES           spec.LinkType = 132
	ltJGGSN         spec.LinkType = 133
	ltJMFR          spec.LinkType = 134
	ltJATM2         spec.LinkType = 135
	ltJServices     spec.LinkType = 136
	ltJATM1         spec.LinkType = 137
	ltAppleIP1394   spec.LinkType = 138
	ltMTP2PHDR      spec.LinkType = 139
	ltMTP2          spec.LinkType = 140
	ltAVS           spec.LinkType = 163
	ltJMonitor      spec.LinkType = 164
	ltBACnet        spec.LinkType = 165
	ltPPPPPPD       spec.LinkType = 166
	ltJPPPoE        spec.LinkType = 167
	ltJPPPoEATM     spec.LinkType = 168
	ltJEther        spec.LinkType = 178
	ltJPPP          spec.LinkType = 179
	ltJFrelay       spec.LinkType = 180
	ltJCHDLC        spec.LinkType = 181
	ltMFR           spec.LinkType = 182
	ltJVP           spec.LinkType = 183
	ltPPI           spec.LinkType = 192
	ltJISM          spec.LinkType = 194
	ltERF           spec.LinkType = 197
	ltJST           spec.LinkType = 200
	ltAX25KISS      spec.LinkType = 202
	ltIPNet         spec.LinkType = 226
	ltIPv4          spec.LinkType = 228
	ltIPv6          spec.LinkType = 229
	ltJVS           spec.LinkType = 232
	ltJSRXE2E       spec.LinkType = 233
	ltJFibre        spec.LinkType = 234
	ltJATMCEMIC     spec.LinkType = 238
	ltNetAnalyzer   spec.LinkType = 240
	ltNetAnalyzerTr spec.LinkType = 241
	ltPFSync        spec.LinkType = 246
	ltSLL2          spec.LinkType = 276
	ltDSABRCM       spec.LinkType = 281
	ltDSADSA        spec.LinkType = 284
)

func isJuniper(t spec.LinkType) bool {
	switch t {
	case ltJMLPPP, ltJMLFR, ltJES, ltJGGSN, ltJMFR, ltJATM2, ltJServices, ltJATM1, ltJMonitor,
		ltJPPPoE, ltJPPPoEATM, ltJEther, ltJPPP, ltJFrelay, ltJCHDLC, ltJVP, ltJISM, ltJST, ltJVS,
		ltJSRXE2E, ltJFibre, ltJATMCEMIC:
		return true
	}
	return false
}

func is80211(t spec.LinkType) bool {
	switch t {
	case ltIEEE80211, ltPrism, ltAVS, ltRadiotap, ltPPI:
		return true
	}
	return false
}

// ethernetLike reports whether lt carries an Ethernet header (after a
// fixed prefix).
func (g *gen) ethernetLike(lt spec.LinkType) bool {
	switch lt {
	case ltEN10MB, ltNetAnalyzer, ltNetAnalyzerTr:
		return true
	}
	return g.dsa(lt)
}

// dsa reports whether lt is a DSA switch-tag link type libpcap filters as
// Ethernet after the tag. libpcap 1.10 filters nothing on them beyond raw
// loads and lengths (Options.Libpcap110).
func (g *gen) dsa(lt spec.LinkType) bool {
	return (lt == ltDSABRCM || lt == ltDSADSA) && !g.opts.Libpcap110
}

// Protocol numbers used by link-type tests.
const (
	etherMTU        = 1500
	etIP            = 0x0800
	etARP           = 0x0806
	etNS            = 0x0600
	etMOPDL         = 0x6001
	etMOPRC         = 0x6002
	etDN            = 0x6003
	etLAT           = 0x6004
	etSCA           = 0x6007
	etTEB           = 0x6558
	etREVARP        = 0x8035
	etATALK         = 0x809b
	etAARP          = 0x80f3
	et8021Q         = 0x8100
	etIPX           = 0x8137
	etIPv6          = 0x86dd
	etMPLS          = 0x8847
	etPPPoED        = 0x8863
	etPPPoES        = 0x8864
	et8021AD        = 0x88a8
	et8021QinQ      = 0x9100
	llcsapIP        = 0x06
	llcsapISONS     = 0xfe
	llcsap8021D     = 0x42
	llcsapSNAP      = 0xaa
	llcsapIPX       = 0xe0
	llcsapNetBEUI   = 0xf0
	sllP8023        = 0x0001
	sllP8022        = 0x0004
	arcTypeIP       = 0xd4
	arcTypeARP      = 0xd5
	arcTypeREVARP   = 0xd6
	arcTypeATALK    = 0xdd
	arcTypeINET6    = 0xc4
	arcTypeIPOld    = 0xf0 // RFC 1051
	arcTypeARPOld   = 0xf1 // RFC 1051
	isoCLNP         = 0x81
	isoESIS         = 0x82
	isoISIS         = 0x83
	iso9577IPv4     = 0xcc
	iso9577IPv6     = 0x8e
	iphAFInet       = 2
	iphAFInet6      = 26
	sunATMPktBegin  = 4
	ptLANE          = 0x01
	ptLLC           = 0x02
	ipprotoHopOpts  = 0
	ipprotoICMP     = 1
	ipprotoIGMP     = 2
	ipprotoIPIP     = 4
	ipprotoTCP      = 6
	ipprotoIGRP     = 9
	ipprotoUDP      = 17
	ipprotoRouting  = 43
	ipprotoFragment = 44
	ipprotoESP      = 50
	ipprotoAH       = 51
	ipprotoICMPv6   = 58
	ipprotoNone     = 59
	ipprotoDstOpts  = 60
	ipprotoPIM      = 103
	ipprotoVRRP     = 112
	ipprotoSCTP     = 132
	protoUndef      = -1
)
