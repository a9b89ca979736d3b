package expr

import (
	"strconv"
	"strings"
)

// Built-in name tables, so compiled programs do not depend on the host's
// /etc/services, /etc/protocols or ethers files.

// services lists well-known service names: name port/protocols. A name
// with both tcp and udp entries on one port matches both.
const services = `tcpmux 1/tcp echo 7/tcp/udp discard 9/tcp/udp systat 11/tcp daytime 13/tcp/udp netstat 15/tcp
qotd 17/tcp chargen 19/tcp/udp ftp-data 20/tcp ftp 21/tcp ssh 22/tcp telnet 23/tcp smtp 25/tcp time 37/tcp/udp
whois 43/tcp tacacs 49/tcp/udp domain 53/tcp/udp gopher 70/tcp finger 79/tcp http 80/tcp www 80/tcp
kerberos 88/tcp/udp iso-tsap 102/tcp acr-nema 104/tcp/udp pop3 110/tcp sunrpc 111/tcp/udp auth 113/tcp
nntp 119/tcp ntp 123/udp epmap 135/tcp/udp netbios-ns 137/udp netbios-dgm 138/udp netbios-ssn 139/tcp
imap2 143/tcp imap 143/tcp snmp 161/tcp/udp snmp-trap 162/tcp/udp cmip-man 163/tcp/udp cmip-agent 164/tcp/udp
mailq 174/tcp xdmcp 177/udp bgp 179/tcp irc 194/tcp smux 199/tcp qmtp 209/tcp z3950 210/tcp ipx 213/udp
ptp-event 319/udp ptp-general 320/udp pawserv 345/tcp zserv 346/tcp rpc2portmap 369/tcp/udp codaauth2 370/tcp/udp
clearcase 371/udp ldap 389/tcp/udp svrloc 427/tcp/udp https 443/tcp/udp snpp 444/tcp microsoft-ds 445/tcp
kpasswd 464/tcp/udp submissions 465/tcp saft 487/tcp isakmp 500/udp rtsp 554/tcp/udp nqs 607/tcp
asf-rmcp 623/udp qmqp 628/tcp ipp 631/tcp ldp 646/tcp/udp exec 512/tcp biff 512/udp login 513/tcp who 513/udp
shell 514/tcp syslog 514/udp printer 515/tcp talk 517/udp ntalk 518/udp route 520/udp gdomap 538/tcp/udp
uucp 540/tcp klogin 543/tcp kshell 544/tcp dhcpv6-client 546/tcp/udp dhcpv6-server 547/tcp/udp afpovertcp 548/tcp
nntps 563/tcp submission 587/tcp ldaps 636/tcp/udp tinc 655/tcp/udp silc 706/tcp kerberos-adm 749/tcp domain-s 853/tcp/udp
rsync 873/tcp ftps-data 989/tcp ftps 990/tcp telnets 992/tcp imaps 993/tcp pop3s 995/tcp socks 1080/tcp
proofd 1093/tcp rootd 1094/tcp openvpn 1194/tcp/udp rmiregistry 1099/tcp lotusnote 1352/tcp ms-sql-s 1433/tcp
ms-sql-m 1434/tcp ingreslock 1524/tcp datametrics 1645/tcp/udp sa-msg-port 1646/tcp/udp kermit 1649/tcp
groupwise 1677/tcp l2f 1701/udp radius 1812/tcp/udp radius-acct 1813/tcp/udp cisco-sccp 2000/tcp nfs 2049/tcp/udp
gnunet 2086/tcp/udp rtcm-sc104 2101/tcp/udp gsigatekeeper 2119/tcp gris 2135/tcp cvspserver 2401/tcp
venus 2430/tcp/udp venus-se 2431/tcp/udp codasrv 2432/tcp/udp codasrv-se 2433/tcp/udp mon 2583/tcp/udp
dict 2628/tcp f5-globalsite 2792/tcp gsiftp 2811/tcp gpsd 2947/tcp gds-db 3050/tcp icpv2 3130/udp
isns 3205/tcp/udp iscsi-target 3260/tcp mysql 3306/tcp ms-wbt-server 3389/tcp nut 3493/tcp/udp distcc 3632/tcp
daap 3689/tcp svn 3690/tcp suucp 4031/tcp sysrqd 4094/tcp sieve 4190/tcp epmd 4369/tcp remctl 4373/tcp
f5-iquery 4353/tcp ntske 4460/tcp ipsec-nat-t 4500/udp iax 4569/udp mtn 4691/tcp radmin-port 4899/tcp
sip 5060/tcp/udp sip-tls 5061/tcp/udp xmpp-client 5222/tcp xmpp-server 5269/tcp cfengine 5308/tcp
mdns 5353/udp postgresql 5432/tcp freeciv 5556/tcp amqps 5671/tcp amqp 5672/tcp/sctp ggz 5688/tcp x11 6000/tcp
x11-1 6001/tcp x11-2 6002/tcp x11-3 6003/tcp x11-4 6004/tcp x11-5 6005/tcp x11-6 6006/tcp x11-7 6007/tcp
gnutella-svc 6346/tcp/udp gnutella-rtr 6347/tcp/udp redis 6379/tcp sge-qmaster 6444/tcp sge-execd 6445/tcp
mysql-proxy 6446/tcp babel 6696/udp ircs-u 6697/tcp bbs 7000/tcp afs3-fileserver 7000/udp afs3-callback 7001/udp
afs3-prserver 7002/udp afs3-vlserver 7003/udp afs3-kaserver 7004/udp afs3-volser 7005/udp afs3-bos 7007/udp
afs3-update 7008/udp afs3-rmtsys 7009/udp font-service 7100/tcp http-alt 8080/tcp puppet 8140/tcp
bacula-dir 9101/tcp bacula-fd 9102/tcp bacula-sd 9103/tcp xmms2 9667/tcp nbd 10809/tcp zabbix-agent 10050/tcp
zabbix-trapper 10051/tcp amanda 10080/tcp dicom 11112/tcp hkp 11371/tcp db-lsp 17500/tcp dcap 22125/tcp
gsidcap 22128/tcp wnn6 22273/tcp bootps 67/udp bootpc 68/udp tftp 69/udp sftp 115/tcp`

// portEntry is a service's port and the protocol it is defined for
// (protoUndef when both TCP and UDP use it).
type portEntry struct {
	port  int
	proto int
}

var serviceTable = map[string]portEntry{}

func init() {
	f := strings.Fields(services)
	for i := 0; i+1 < len(f); i += 2 {
		parts := strings.Split(f[i+1], "/")
		port, _ := strconv.Atoi(parts[0])
		proto := protoUndef
		if len(parts) == 2 {
			switch parts[1] {
			case "tcp":
				proto = ipprotoTCP
			case "udp":
				proto = ipprotoUDP
			case "sctp":
				proto = ipprotoSCTP
			}
		}
		serviceTable[f[i]] = portEntry{port, proto}
	}
}

// ipProtocols is the protocol-name table (the names of /etc/protocols).
var ipProtocols = map[string]uint32{
	"ip": 0, "hopopt": 0, "icmp": 1, "igmp": 2, "ggp": 3, "ipencap": 4, "ipv4": 4, "st": 5, "tcp": 6,
	"egp": 8, "igp": 9, "pup": 12, "udp": 17, "hmp": 20, "xns-idp": 22, "rdp": 27, "iso-tp4": 29,
	"dccp": 33, "xtp": 36, "ddp": 37, "idpr-cmtp": 38, "ipv6": 41, "ipv6-route": 43, "ipv6-frag": 44,
	"idrp": 45, "rsvp": 46, "gre": 47, "esp": 50, "ah": 51, "skip": 57, "ipv6-icmp": 58, "icmp6": 58,
	"ipv6-nonxt": 59, "ipv6-opts": 60, "rspf": 73, "vmtp": 81, "eigrp": 88, "ospf": 89, "ax.25": 93,
	"ipip": 94, "etherip": 97, "encap": 98, "pim": 103, "ipcomp": 108, "vrrp": 112, "carp": 112, "l2tp": 115,
	"isis": 124, "sctp": 132, "fc": 133, "mobility-header": 135, "udplite": 136, "mpls-in-ip": 137,
	"manet": 138, "hip": 139, "shim6": 140, "wesp": 141, "rohc": 142, "ethernet": 143,
}

// etherProtos are libpcap's built-in EtherType names.
var etherProtos = map[string]uint32{
	"aarp": etAARP, "arp": etARP, "atalk": etATALK, "decnet": etDN, "ip": etIP, "ip6": etIPv6,
	"lat": etLAT, "lldp": 0x88cc, "loopback": 0x9000, "mopdl": etMOPDL, "moprc": etMOPRC,
	"rarp": etREVARP, "sca": etSCA, "slow": 0x8809,
}

// llcProtos are libpcap's built-in LLC SAP names.
var llcProtos = map[string]uint32{"iso": llcsapISONS, "stp": llcsap8021D, "ipx": llcsapIPX, "netbeui": llcsapNetBEUI}

// 802.11 frame types and subtypes (values as they appear in the first
// frame-control byte).
var wlanTypes = map[string]uint32{"mgt": 0x00, "management": 0x00, "ctl": 0x04, "control": 0x04, "data": 0x08}

var wlanSubtypes = map[uint32]map[string]uint32{
	0x00: {"assoc-req": 0x00, "assocreq": 0x00, "assoc-resp": 0x10, "assocresp": 0x10,
		"reassoc-req": 0x20, "reassocreq": 0x20, "reassoc-resp": 0x30, "reassocresp": 0x30,
		"probe-req": 0x40, "probereq": 0x40, "probe-resp": 0x50, "proberesp": 0x50,
		"beacon": 0x80, "atim": 0x90, "disassoc": 0xa0, "disassociation": 0xa0,
		"auth": 0xb0, "authentication": 0xb0, "deauth": 0xc0, "deauthentication": 0xc0},
	0x04: {"bar": 0x80, "ba": 0x90, "ps-poll": 0xa0, "rts": 0xb0, "cts": 0xc0, "ack": 0xd0,
		"cf-end": 0xe0, "cf-end-ack": 0xf0},
	0x08: {"data": 0x00, "data-cf-ack": 0x10, "data-cf-poll": 0x20, "data-cf-ack-poll": 0x30,
		"null": 0x40, "cf-ack": 0x50, "cf-poll": 0x60, "cf-ack-poll": 0x70, "qos-data": 0x80,
		"qos-data-cf-ack": 0x90, "qos-data-cf-poll": 0xa0, "qos-data-cf-ack-poll": 0xb0,
		"qos": 0xc0, "qos-cf-poll": 0xe0, "qos-cf-ack-poll": 0xf0},
}

// pf reasons and actions (OpenBSD pf).
var pfReasons = []string{"match", "bad-offset", "fragment", "short", "normalize", "memory",
	"bad-timestamp", "congestion", "ip-option", "proto-cksum", "state-mismatch", "state-insert",
	"state-limit", "src-limit", "synproxy"}

var pfActions = map[string]uint32{"pass": 0, "accept": 0, "drop": 1, "block": 1, "scrub": 2,
	"noscrub": 3, "nat": 4, "nonat": 5, "binat": 6, "nobinat": 7, "rdr": 8, "nordr": 9, "synproxy-drop": 10}

// llc S and U frame subtypes.
var llcSSubtypes = map[string]uint32{"rr": 0x01, "rnr": 0x05, "rej": 0x09}

var llcUSubtypes = map[string]uint32{"ui": 0x03, "ua": 0x63, "disc": 0x43, "dm": 0x0f, "sabme": 0x6f,
	"test": 0xe3, "xid": 0xaf, "frmr": 0x87}
