package spec

import (
	"fmt"
	"strconv"
	"strings"
)

// LinkType is a pcap link-layer header type (LINKTYPE_* in savefiles; the
// DLT_* value where the two agree).
type LinkType uint16

// Link types wring names. The values are the LINKTYPE_* numbers of the pcap
// and pcapng file formats.
const (
	LinkNull                   LinkType = 0   // BSD loopback, host-order AF_ value
	LinkEthernet               LinkType = 1   // EN10MB
	LinkAX25                   LinkType = 3   // AX25
	LinkIEEE802                LinkType = 6   // IEEE802 (token ring)
	LinkArcnetBSD              LinkType = 7   // ARCNET
	LinkSLIP                   LinkType = 8   // SLIP
	LinkPPP                    LinkType = 9   // PPP
	LinkFDDI                   LinkType = 10  // FDDI
	LinkPPPHDLC                LinkType = 50  // PPP_HDLC
	LinkPPPEther               LinkType = 51  // PPP_ETHER (PPPoE)
	LinkATMRFC1483             LinkType = 100 // ATM_RFC1483
	LinkRaw                    LinkType = 101 // RAW (IPv4 or IPv6)
	LinkCHDLC                  LinkType = 104 // C_HDLC
	LinkIEEE802_11             LinkType = 105 // IEEE802_11
	LinkFrelay                 LinkType = 107 // FRELAY
	LinkLoop                   LinkType = 108 // LOOP, network-order AF_ value
	LinkLinuxSLL               LinkType = 113 // LINUX_SLL
	LinkLTalk                  LinkType = 114 // LTALK
	LinkPFLog                  LinkType = 117 // PFLOG
	LinkPrismHeader            LinkType = 119 // PRISM_HEADER
	LinkIPOverFC               LinkType = 122 // IP_OVER_FC
	LinkSunATM                 LinkType = 123 // SUNATM
	LinkIEEE802_11Radio        LinkType = 127 // IEEE802_11_RADIO (radiotap)
	LinkArcnetLinux            LinkType = 129 // ARCNET_LINUX
	LinkAppleIPOverIEEE1394    LinkType = 138 // APPLE_IP_OVER_IEEE1394
	LinkMTP2WithPHDR           LinkType = 139 // MTP2_WITH_PHDR
	LinkMTP2                   LinkType = 140 // MTP2
	LinkMTP3                   LinkType = 141 // MTP3
	LinkSCCP                   LinkType = 142 // SCCP
	LinkDOCSIS                 LinkType = 143 // DOCSIS
	LinkLinuxIRDA              LinkType = 144 // LINUX_IRDA
	LinkIEEE802_11AVS          LinkType = 163 // IEEE802_11_RADIO_AVS
	LinkBACnetMSTP             LinkType = 165 // BACNET_MS_TP
	LinkPPPPPPD                LinkType = 166 // PPP_PPPD
	LinkGPRSLLC                LinkType = 169 // GPRS_LLC
	LinkLinuxLAPD              LinkType = 177 // LINUX_LAPD
	LinkJuniperEther           LinkType = 178 // JUNIPER_ETHER
	LinkBluetoothHCIH4         LinkType = 187 // BLUETOOTH_HCI_H4
	LinkUSBLinux               LinkType = 189 // USB_LINUX
	LinkPPI                    LinkType = 192 // PPI
	LinkIEEE802_15_4           LinkType = 195 // IEEE802_15_4_WITHFCS
	LinkSITA                   LinkType = 196 // SITA
	LinkERF                    LinkType = 197 // ERF
	LinkIPMB                   LinkType = 199 // IPMB_KONTRON
	LinkBluetoothHCIH4WithPHDR LinkType = 201 // BLUETOOTH_HCI_H4_WITH_PHDR
	LinkIPNet                  LinkType = 208 // IPNET
	LinkCANSocketCAN           LinkType = 227 // CAN_SOCKETCAN
	LinkIPv4                   LinkType = 228 // IPV4
	LinkIPv6                   LinkType = 229 // IPV6
	LinkIEEE802_15_4NoFCS      LinkType = 230 // IEEE802_15_4_NOFCS
	LinkDBus                   LinkType = 231 // DBUS
	LinkMux27010               LinkType = 236 // MUX27010
	LinkStanag5066             LinkType = 237 // STANAG_5066_D_PDU
	LinkNFLog                  LinkType = 239 // NFLOG
	LinkNetAnalyzer            LinkType = 240 // NETANALYZER
	LinkIPoIB                  LinkType = 242 // INFINIBAND
	LinkMPEG2TS                LinkType = 243 // MPEG_2_TS
	LinkNG40                   LinkType = 244 // NG40
	LinkNFCLLCP                LinkType = 245 // NFC_LLCP
	LinkInfiniband             LinkType = 247 // INFINIBAND
	LinkSCTP                   LinkType = 248 // SCTP
	LinkUSBPcap                LinkType = 249 // USBPCAP
	LinkRTACSerial             LinkType = 250 // RTAC_SERIAL
	LinkBluetoothLE            LinkType = 251 // BLUETOOTH_LE_LL
	LinkNetlink                LinkType = 253 // NETLINK
	LinkBluetoothLinuxMonitor  LinkType = 254 // BLUETOOTH_LINUX_MONITOR
	LinkBluetoothBREDRBB       LinkType = 255 // BLUETOOTH_BREDR_BB
	LinkBluetoothLELLWithPHDR  LinkType = 256 // BLUETOOTH_LE_LL_WITH_PHDR
	LinkPROFIBUSDL             LinkType = 257 // PROFIBUS_DL
	LinkPKTAP                  LinkType = 258 // PKTAP
	LinkEPON                   LinkType = 259 // EPON
	LinkIPMIHPM2               LinkType = 260 // IPMI_HPM_2
	LinkZWaveR1R2              LinkType = 261 // ZWAVE_R1_R2
	LinkZWaveR3                LinkType = 262 // ZWAVE_R3
	LinkWattstopperDLM         LinkType = 263 // WATTSTOPPER_DLM
	LinkISO14443               LinkType = 264 // ISO_14443
	LinkLinuxSLL2              LinkType = 276 // LINUX_SLL2
)

var linkNames = map[LinkType]string{}
var linkByName = map[string]LinkType{}

// registerLink records the canonical name (the one libpcap's
// pcap_datalink_val_to_name prints) and aliases of a link type.
func registerLink(t LinkType, names ...string) {
	if _, ok := linkNames[t]; !ok {
		linkNames[t] = names[0]
	}
	for _, n := range names {
		linkByName[strings.ToUpper(n)] = t
	}
}

func init() {
	registerLink(LinkNull, "NULL")
	registerLink(LinkEthernet, "EN10MB", "ETHERNET")
	registerLink(LinkAX25, "AX25")
	registerLink(LinkIEEE802, "IEEE802")
	registerLink(LinkArcnetBSD, "ARCNET")
	registerLink(LinkSLIP, "SLIP")
	registerLink(LinkPPP, "PPP")
	registerLink(LinkFDDI, "FDDI")
	registerLink(LinkPPPHDLC, "PPP_SERIAL", "PPP_HDLC")
	registerLink(LinkPPPEther, "PPP_ETHER")
	registerLink(LinkATMRFC1483, "ATM_RFC1483")
	registerLink(LinkRaw, "RAW")
	registerLink(LinkCHDLC, "C_HDLC", "CHDLC")
	registerLink(LinkIEEE802_11, "IEEE802_11")
	registerLink(LinkFrelay, "FRELAY")
	registerLink(LinkLoop, "LOOP")
	registerLink(LinkLinuxSLL, "LINUX_SLL")
	registerLink(LinkLTalk, "LTALK")
	registerLink(LinkPFLog, "PFLOG")
	registerLink(LinkPrismHeader, "PRISM_HEADER")
	registerLink(LinkIPOverFC, "IP_OVER_FC")
	registerLink(LinkSunATM, "SUNATM")
	registerLink(LinkIEEE802_11Radio, "IEEE802_11_RADIO")
	registerLink(LinkArcnetLinux, "ARCNET_LINUX")
	registerLink(LinkAppleIPOverIEEE1394, "APPLE_IP_OVER_IEEE1394")
	registerLink(LinkMTP2WithPHDR, "MTP2_WITH_PHDR")
	registerLink(LinkMTP2, "MTP2")
	registerLink(LinkMTP3, "MTP3")
	registerLink(LinkSCCP, "SCCP")
	registerLink(LinkDOCSIS, "DOCSIS")
	registerLink(LinkLinuxIRDA, "LINUX_IRDA")
	registerLink(LinkIEEE802_11AVS, "IEEE802_11_RADIO_AVS")
	registerLink(LinkBACnetMSTP, "BACNET_MS_TP")
	registerLink(LinkPPPPPPD, "PPP_PPPD")
	registerLink(LinkGPRSLLC, "GPRS_LLC")
	registerLink(LinkLinuxLAPD, "LINUX_LAPD")
	registerLink(LinkJuniperEther, "JUNIPER_ETHER")
	registerLink(LinkBluetoothHCIH4, "BLUETOOTH_HCI_H4")
	registerLink(LinkUSBLinux, "USB_LINUX")
	registerLink(LinkPPI, "PPI")
	registerLink(LinkIEEE802_15_4, "IEEE802_15_4", "IEEE802_15_4_WITHFCS")
	registerLink(LinkSITA, "SITA")
	registerLink(LinkERF, "ERF")
	registerLink(LinkIPMB, "IPMB_KONTRON")
	registerLink(LinkBluetoothHCIH4WithPHDR, "BLUETOOTH_HCI_H4_WITH_PHDR")
	registerLink(LinkIPNet, "IPNET")
	registerLink(LinkCANSocketCAN, "CAN_SOCKETCAN")
	registerLink(LinkIPv4, "IPV4")
	registerLink(LinkIPv6, "IPV6")
	registerLink(LinkIEEE802_15_4NoFCS, "IEEE802_15_4_NOFCS")
	registerLink(LinkDBus, "DBUS")
	registerLink(LinkMux27010, "MUX27010")
	registerLink(LinkStanag5066, "STANAG_5066_D_PDU")
	registerLink(LinkNFLog, "NFLOG")
	registerLink(LinkNetAnalyzer, "NETANALYZER")
	registerLink(LinkIPoIB, "IPOIB")
	registerLink(LinkMPEG2TS, "MPEG_2_TS")
	registerLink(LinkNG40, "NG40")
	registerLink(LinkNFCLLCP, "NFC_LLCP")
	registerLink(LinkInfiniband, "INFINIBAND")
	registerLink(LinkSCTP, "SCTP")
	registerLink(LinkUSBPcap, "USBPCAP")
	registerLink(LinkRTACSerial, "RTAC_SERIAL")
	registerLink(LinkBluetoothLE, "BLUETOOTH_LE_LL")
	registerLink(LinkNetlink, "NETLINK")
	registerLink(LinkBluetoothLinuxMonitor, "BLUETOOTH_LINUX_MONITOR")
	registerLink(LinkBluetoothBREDRBB, "BLUETOOTH_BREDR_BB")
	registerLink(LinkBluetoothLELLWithPHDR, "BLUETOOTH_LE_LL_WITH_PHDR")
	registerLink(LinkPROFIBUSDL, "PROFIBUS_DL")
	registerLink(LinkPKTAP, "PKTAP")
	registerLink(LinkEPON, "EPON")
	registerLink(LinkIPMIHPM2, "IPMI_HPM_2")
	registerLink(LinkZWaveR1R2, "ZWAVE_R1_R2")
	registerLink(LinkZWaveR3, "ZWAVE_R3")
	registerLink(LinkWattstopperDLM, "WATTSTOPPER_DLM")
	registerLink(LinkISO14443, "ISO_14443")
	registerLink(LinkLinuxSLL2, "LINUX_SLL2")
}

// String returns the link type's canonical name, or its number.
func (t LinkType) String() string {
	if n, ok := linkNames[t]; ok {
		return n
	}
	return strconv.Itoa(int(t))
}

// ParseLinkType accepts a link type name (EN10MB, LINUX_SLL, with or without
// a DLT_ or LINKTYPE_ prefix, any case) or a decimal number.
func ParseLinkType(s string) (LinkType, error) {
	u := strings.ToUpper(strings.TrimSpace(s))
	u = strings.TrimPrefix(strings.TrimPrefix(u, "DLT_"), "LINKTYPE_")
	if t, ok := linkByName[u]; ok {
		return t, nil
	}
	if n, err := strconv.ParseUint(u, 10, 16); err == nil {
		return LinkType(n), nil
	}
	return 0, fmt.Errorf("unknown link type %q", s)
}
