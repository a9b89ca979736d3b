package sink

// Read replays (see text_reads.go) for Sun RPC to and from NFS
// (print-nfs.c) and for AFS's Rx (print-rx.c). Neither file makes
// ND_TCHECK jump: their own checks end the decoding with a truncation
// mark, only GET_ reads (be32 here) jump. Offsets into the RPC message
// follow tcpdump's pointer arithmetic, which is done in 64 bits: a
// length near 2^32 moves the pointer past the capture, and the next
// read there jumps.

// nfsXid is one entry of tcpdump's NFS call cache (xid_map): a reply is
// decoded according to the call with the same XID between the same
// addresses.
type nfsXid struct {
	xid            [4]byte
	ipver          uint8
	client, server [16]byte
	proc, vers     uint32
}

// nfsXidMap is xid_map: a ring of the last 64 calls, searched from
// where the last search matched.
type nfsXidMap struct {
	e          [64]nfsXid
	next, hint int
}

// NFS procedure numbers (NFSv3's; nfsv3Procid maps NFSv2's onto them).
const (
	nfsGetattr     = 1
	nfsSetattr     = 2
	nfsLookup      = 3
	nfsAccess      = 4
	nfsReadlink    = 5
	nfsRead        = 6
	nfsWrite       = 7
	nfsCreate      = 8
	nfsMkdir       = 9
	nfsSymlink     = 10
	nfsMknod       = 11
	nfsRemove      = 12
	nfsRmdir       = 13
	nfsRename      = 14
	nfsLink        = 15
	nfsReaddir     = 16
	nfsReaddirplus = 17
	nfsFsstat      = 18
	nfsFsinfo      = 19
	nfsPathconf    = 20
	nfsCommit      = 21
	nfsNoop        = 25
)

// nfsv3Procid is tcpdump's nfsv3_procid: NFSv2 procedure numbers as
// NFSv3's.
var nfsv3Procid = [26]uint32{
	0, nfsGetattr, nfsSetattr, nfsNoop, nfsLookup, nfsReadlink, nfsRead, nfsNoop, nfsWrite, nfsCreate,
	nfsRemove, nfsRename, nfsLink, nfsSymlink, nfsMkdir, nfsRmdir, nfsReaddir, nfsFsstat,
	nfsNoop, nfsNoop, nfsNoop, nfsNoop, nfsNoop, nfsNoop, nfsNoop, nfsNoop,
}

// adv moves offset dp by n bytes, or to just past the capture where it
// lands there (tcpdump's pointer then points past its snapshot end).
func (p *printer) adv(dp int, n uint64) int {
	if dp > p.end || n > uint64(p.end-dp) {
		return p.end + 1
	}
	return dp + int(n)
}

// nfsReads replays nfsreq_noaddr_print (call) or nfsreply_noaddr_print
// for the RPC message at rp of length bytes, carried in the IP header at
// ipOff.
func (p *printer) nfsReads(call bool, rp int, length uint32, ipOff int) {
	p.proto = "nfs"
	if call {
		p.nfsCallReads(rp, length, ipOff)
		return
	}
	// A denied reply reads only what its checks found captured.
	if !p.has(rp+8, 4) || p.be32(rp+8) != 0 {
		return
	}
	if proc, vers, ok := p.nfsXids.find(p, rp, ipOff); ok {
		p.nfsReplyReads(rp, proc, vers, length)
	}
}

// enter records a call (xid_map_enter); false where its procedure is not
// captured, which ends the call's decoding.
func (m *nfsXidMap) enter(p *printer, rp, ipOff int) bool {
	if !p.has(rp+20, 4) {
		return false
	}
	v := p.pkt[ipOff] >> 4
	if v != 4 && v != 6 {
		return true
	}
	e := &m.e[m.next]
	if m.next++; m.next >= len(m.e) {
		m.next = 0
	}
	copy(e.xid[:], p.pkt[rp:rp+4])
	e.ipver = v
	e.client, e.server = [16]byte{}, [16]byte{}
	if v == 4 {
		copy(e.client[:4], p.pkt[ipOff+12:ipOff+16])
		copy(e.server[:4], p.pkt[ipOff+16:ipOff+20])
	} else {
		copy(e.client[:], p.pkt[ipOff+8:ipOff+24])
		copy(e.server[:], p.pkt[ipOff+24:ipOff+40])
	}
	e.proc = p.be32(rp + 20)
	e.vers = p.be32(rp + 16)
	return true
}

// find looks a reply's call up (xid_map_find): the same XID from the
// call's server to its client.
func (m *nfsXidMap) find(p *printer, rp, ipOff int) (proc, vers uint32, ok bool) {
	v := p.pkt[ipOff] >> 4
	var src, dst []byte
	switch v {
	case 4:
		src, dst = p.pkt[ipOff+12:ipOff+16], p.pkt[ipOff+16:ipOff+20]
	case 6:
		src, dst = p.pkt[ipOff+8:ipOff+24], p.pkt[ipOff+24:ipOff+40]
	}
	i := m.hint
	for {
		e := &m.e[i]
		if e.ipver == v && string(e.xid[:]) == string(p.pkt[rp:rp+4]) && src != nil &&
			string(src) == string(e.server[:len(src)]) && string(dst) == string(e.client[:len(dst)]) {
			m.hint = i
			return e.proc, e.vers, true
		}
		if i++; i >= len(m.e) {
			i = 0
		}
		if i == m.hint {
			return 0, 0, false
		}
	}
}

// nfsCallReads: nfsreq_noaddr_print. File handles are taken as read
// once they are found captured (Parse_fh's guesses at a handle's layout
// are not modelled).
func (p *printer) nfsCallReads(rp int, length uint32, ipOff int) {
	if !p.nfsXids.enter(p, rp, ipOff) {
		return
	}
	v3 := p.be32(rp+16) == 3
	proc := p.be32(rp + 20)
	if p.jumped {
		return
	}
	if !v3 && proc < uint32(len(nfsv3Procid)) {
		proc = nfsv3Procid[proc]
	}
	switch proc {
	case nfsGetattr, nfsSetattr, nfsReadlink, nfsFsstat, nfsFsinfo, nfsPathconf,
		nfsLookup, nfsCreate, nfsMkdir, nfsRemove, nfsRmdir,
		nfsAccess, nfsRead, nfsWrite, nfsSymlink, nfsMknod, nfsRename, nfsLink,
		nfsReaddir, nfsReaddirplus, nfsCommit:
	default:
		return
	}
	dp, ok := p.nfsParseReq(rp, length)
	if !ok {
		return
	}
	switch proc {
	case nfsLookup, nfsCreate, nfsMkdir, nfsRemove, nfsRmdir:
		p.nfsParseFhn(dp, v3)
		return
	case nfsSymlink, nfsMknod, nfsRename:
		if dp, ok = p.nfsParseFhn(dp, v3); !ok {
			return
		}
	default:
		if dp, ok = p.nfsParseFh(dp, v3); !ok {
			return
		}
	}
	words := func(k ...int) {
		for _, w := range k {
			p.be32(p.adv(dp, uint64(4*w)))
		}
	}
	verbose := p.o.Verbose > 0
	switch proc {
	case nfsAccess:
		words(0)
	case nfsRead:
		if v3 {
			words(2, 0, 1)
		} else {
			words(1, 0)
		}
	case nfsWrite:
		if v3 {
			words(4, 2, 0, 1)
			if verbose {
				words(3)
			}
		} else {
			words(3, 2, 1, 0)
		}
	case nfsSymlink:
		if v3 {
			if dp = p.nfsParseSattr3(dp); p.jumped {
				return
			}
		}
		p.nfsParseFn(dp)
	case nfsMknod:
		typ := p.be32(dp)
		dp = p.nfsParseSattr3(p.adv(dp, 4))
		if !p.jumped && verbose && (typ == 3 || typ == 4) { // NFCHR, NFBLK
			words(0, 1)
		}
	case nfsRename, nfsLink:
		p.nfsParseFhn(dp, v3)
	case nfsReaddir:
		if v3 {
			words(4, 0, 1)
			if verbose {
				words(2, 3)
			}
		} else {
			words(1, 0)
		}
	case nfsReaddirplus:
		words(4, 0, 1)
		if verbose {
			words(5, 2, 3)
		}
	case nfsCommit:
		words(2, 0, 1)
	}
}

// nfsParseReq: parsereq, which skips the credentials and the verifier;
// ok false is its NULL.
func (p *printer) nfsParseReq(rp int, length uint32) (dp int, ok bool) {
	dp = rp + 24
	if length < 8 {
		return 0, false
	}
	n := p.be32(p.adv(dp, 4))
	rounded := (n + 3) &^ 3 // tcpdump's u_int: wraps to 0 near 2^32
	if p.jumped || !p.has(p.adv(dp, 8), int(rounded)) || 8+uint64(rounded) > uint64(length) {
		return 0, false
	}
	dp = p.adv(dp, (uint64(n)+11)/4*4)
	length -= 8 + rounded
	if length < 8 {
		return 0, false
	}
	n = p.be32(p.adv(dp, 4))
	rounded = (n + 3) &^ 3
	if p.jumped || !p.has(p.adv(dp, 8), int(rounded)) || 8+uint64(rounded) >= uint64(length) {
		return 0, false
	}
	return p.adv(dp, (uint64(n)+11)/4*4), true
}

// nfsParseFh: parsefh.
func (p *printer) nfsParseFh(dp int, v3 bool) (int, bool) {
	n := uint64(32) // NFSX_V2FH
	if v3 {
		n = uint64(p.be32(dp)/4) * 4
		dp = p.adv(dp, 4)
	}
	if p.jumped || dp > p.end || n > uint64(p.end-dp) {
		return 0, false
	}
	return p.adv(dp, n), true
}

// nfsParseFn: parsefn.
func (p *printer) nfsParseFn(dp int) (int, bool) {
	n := p.be32(dp)
	if p.jumped || n > 0xffffffff-3 {
		return 0, false
	}
	dp = p.adv(dp, 4)
	rounded := uint64((n + 3) &^ 3)
	if dp > p.end || rounded > uint64(p.end-dp) {
		return 0, false
	}
	return p.adv(dp, rounded), true
}

// nfsParseFhn: parsefhn.
func (p *printer) nfsParseFhn(dp int, v3 bool) (int, bool) {
	dp, ok := p.nfsParseFh(dp, v3)
	if !ok {
		return 0, false
	}
	return p.nfsParseFn(dp)
}

// nfsParseSattr3: parse_sattr3, six fields each present when its flag
// word says so (the times when it is NFSV3SATTRTIME_TOCLIENT).
func (p *printer) nfsParseSattr3(dp int) int {
	for k := 0; k < 6 && !p.jumped; k++ {
		set := p.be32(dp)
		dp = p.adv(dp, 4)
		switch {
		case k < 4 && set != 0:
			p.be32(dp)
			dp = p.adv(dp, 4)
		case k >= 4 && set == 2:
			p.be32(dp)
			p.be32(p.adv(dp, 4))
			dp = p.adv(dp, 8)
		}
	}
	return dp
}

// nfsReplyReads: interp_reply for an accepted reply to a call of proc:
// parserep for every procedure, then the results of ACCESS, and of
// READ, WRITE and LOOKUP in NFSv3 (status, attributes and the words
// after them); the other procedures' results are not modelled.
func (p *printer) nfsReplyReads(rp int, proc, vers uint32, length uint32) {
	v3 := vers == 3
	if !v3 && proc < uint32(len(nfsv3Procid)) {
		proc = nfsv3Procid[proc]
	}
	if proc < nfsGetattr || proc > nfsCommit {
		return
	}
	// parserep: the verifier, then the accept status.
	dp := rp + 12
	n := p.be32(dp + 4)
	if p.jumped || n >= length {
		return
	}
	dp = p.adv(dp, (uint64(n)+11)/4*4)
	if p.be32(dp) != 0 || p.jumped {
		return
	}
	dp = p.adv(dp, 4)
	verbose := p.o.Verbose
	switch {
	case proc == nfsAccess || (v3 && proc == nfsRead):
		er := p.be32(dp)
		if dp = p.nfsPostOpAttr(p.adv(dp, 4), verbose); p.jumped || dp < 0 || er != 0 {
			return
		}
		if proc == nfsAccess {
			p.be32(dp)
		} else if verbose > 0 {
			p.be32(dp)
			p.be32(p.adv(dp, 4))
		}
	case v3 && proc == nfsWrite:
		er := p.be32(dp)
		dp = p.adv(dp, 4)
		if p.jumped {
			return
		}
		// parse_wcc_data: pre-operation attributes, then post.
		if p.be32(dp) != 0 {
			dp = p.adv(dp, 4)
			if dp > p.end || p.end-dp < 24 {
				return
			}
			dp = p.adv(dp, 24)
		} else {
			dp = p.adv(dp, 4)
		}
		if dp = p.nfsPostOpAttr(dp, verbose); p.jumped || dp < 0 || er != 0 || verbose == 0 {
			return
		}
		p.be32(dp)
		if verbose > 1 {
			p.be32(p.adv(dp, 4))
			p.be32(p.adv(dp, 8))
			p.be32(p.adv(dp, 12))
		}
	case v3 && proc == nfsLookup:
		er := p.be32(dp)
		dp = p.adv(dp, 4)
		if p.jumped {
			return
		}
		if er == 0 {
			var ok bool
			if dp, ok = p.nfsParseFh(dp, true); !ok {
				return
			}
			if dp = p.nfsPostOpAttr(dp, verbose); dp < 0 {
				return
			}
		}
		if verbose > 1 && !p.jumped {
			p.nfsPostOpAttr(dp, verbose)
		}
	}
}

// nfsPostOpAttr: parse_post_op_attr, with parsefattr's reads for NFSv3
// attributes at -v; -1 is its NULL (attributes found not captured).
func (p *printer) nfsPostOpAttr(dp int, verbose int) int {
	if p.be32(dp) == 0 || p.jumped {
		return p.adv(dp, 4)
	}
	dp = p.adv(dp, 4)
	if verbose == 0 {
		return p.adv(dp, 84) // NFSX_V3FATTR
	}
	if !p.has(p.adv(dp, 16), 4) {
		return -1
	}
	p.be32(p.adv(dp, 20)) // the 64-bit size
	p.be32(p.adv(dp, 24))
	if verbose > 1 && !p.has(p.adv(dp, 76), 8) {
		return -1
	}
	return p.adv(dp, 84)
}

// nfsTCPReads: tcp_print's NFS branch, a record marker and then a call
// to or a reply from port 2049.
func (p *printer) nfsTCPReads(bp, length int) {
	if length < 4 || !p.has(bp, 4) {
		return
	}
	frag := p.be32(bp) & 0x7fffffff
	if frag > uint32(length)-4 {
		frag = uint32(length) - 4
	}
	rp := bp + 4
	if !p.has(rp+4, 4) {
		return
	}
	switch dir := p.be32(rp + 4); {
	case p.rd.dport == 2049 && dir == 0:
		p.nfsReads(true, rp, frag, p.rd.ipOff)
	case p.rd.sport == 2049 && dir == 1:
		p.nfsReads(false, rp, frag, p.rd.ipOff)
	}
}

// rxReads: rx_print for a data packet that opens a call (sequence 1,
// client-initiated) to an AFS service: the service reads the operation,
// and the protection, VLDB and Kerberos services pass Ubik operations to
// ubik_print. The services' own operations, replies (which need the call
// cache) and acknowledgements are not modelled.
func (p *printer) rxReads(bp, length int) {
	if !p.has(bp, 28) {
		return // " [|rx]" without a jump
	}
	typ, flags := p.pkt[bp+20], p.pkt[bp+21]
	if typ != 1 || p.be32(bp+12) != 1 || flags&1 == 0 {
		return
	}
	switch p.rd.dport {
	case 7000, 7001, 7002, 7003, 7004, 7005, 7007:
	default:
		return
	}
	if length <= 28 {
		return
	}
	op := p.be32(bp + 28)
	if p.jumped || p.rd.dport < 7002 || p.rd.dport > 7004 {
		return
	}
	if (op >= 10000 && op <= 10007) || (op >= 20000 && op <= 20013) {
		p.ubikReads(bp+32, op)
	}
}

// ubikReads: ubik_print's arguments from q for operation op. A version
// (epoch and counter) is read after a check that ends the decoding
// without a jump; the other words are read with jumps.
func (p *printer) ubikReads(q int, op uint32) {
	// Each operation's arguments: 'v' a version, 'i' a word.
	var args string
	switch op {
	case 10000: // Beacon
		args = "iivv"
	case 10003: // Get sync site
		args = "i"
	case 20000, 20001, 20007, 20008, 20010: // Begin, Commit, Abort, Release locks, Writev
		args = "v"
	case 20002: // Lock
		args = "viiii"
	case 20003: // Write
		args = "vii"
	case 20005: // Get file
		args = "i"
	case 20006: // Send file
		args = "iiv"
	case 20009: // Truncate
		args = "vii"
	case 20012: // Set version
		args = "vvv"
	}
	for k := 0; k < len(args) && !p.jumped; k++ {
		if args[k] == 'v' {
			if !p.has(q, 8) {
				return // " [|ubik]"
			}
			q += 8
			continue
		}
		p.be32(q)
		q += 4
	}
}
