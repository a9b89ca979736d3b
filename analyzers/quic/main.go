// Command quic is wring's bundled QUIC analyzer. Built for WASI
// (analyzers/bundled embeds the result), it reads the client Initial
// packets of QUIC version 1 (RFC 9000) and version 2 (RFC 9369) in UDP
// datagrams on any port, recognised by content (a long header with one of
// those versions). It derives the Initial keys from the destination
// connection id (RFC 9001 §5.2), removes header protection, decrypts the
// packet (AES-128-GCM), reassembles the CRYPTO frames (several packets,
// any order) and reports each ClientHello as a "quic_client_hello" event:
//
//	quic_version         "QUICv1" or "QUICv2"
//	dcid, scid           the client's destination and source connection
//	                     ids, in hex, from the packet that completed it
//	sni                  the first host_name of server_name, when present
//	alpn                 the ALPN protocol names ("h3,h3-29")
//	supported_versions   the supported_versions list, in order ("TLS1.3")
//	version              the highest TLS version offered
//	packets              the Initial packets that carried its CRYPTO frames
//	malformed            true when a length inside it is inconsistent
//
// Bounds: 64 connections at once (least recently used replaced), 16 KiB of
// CRYPTO stream and 8 disjoint received ranges per connection. Counters
// (see Stats): initials, server_initials, undecryptable, client_hellos,
// with_sni, with_alpn, repeated_hellos, retries, version_negotiation,
// other_versions, truncated, malformed, and gave_up.too_large,
// gave_up.gaps, gave_up.not_hello, gave_up.evicted for streams given up,
// skipped_initials for Initial packets past the fourth of one datagram.
// It matches packets that complete a ClientHello (tag 1).
package main

import "github.com/wringcap/wring/wasm/guest"

var (
	tracker = NewTracker()
	text    = make([]byte, 0, 512) // scratch for rendered fields

	cInitials       = guest.NewCounter("initials")
	cServerInitials = guest.NewCounter("server_initials")
	cUndecryptable  = guest.NewCounter("undecryptable")
	cHellos         = guest.NewCounter("client_hellos")
	cWithSNI        = guest.NewCounter("with_sni")
	cWithALPN       = guest.NewCounter("with_alpn")
	cRepeated       = guest.NewCounter("repeated_hellos")
	cRetries        = guest.NewCounter("retries")
	cVN             = guest.NewCounter("version_negotiation")
	cOther          = guest.NewCounter("other_versions")
	cTruncated      = guest.NewCounter("truncated")
	cMalformed      = guest.NewCounter("malformed")
	cTooLarge       = guest.NewCounter("gave_up.too_large")
	cGaps           = guest.NewCounter("gave_up.gaps")
	cNotHello       = guest.NewCounter("gave_up.not_hello")
	cEvicted        = guest.NewCounter("gave_up.evicted")
	cSkipped        = guest.NewCounter("skipped_initials")
)

type analyzer struct{}

func (analyzer) Init(guest.Config) error { return nil }

func (analyzer) Packet(p *guest.Packet, v *guest.Verdict) {
	if p.IPProto() != 17 {
		return
	}
	d := p.Payload()
	// The UDP length bounds the datagram (a link layer may pad the frame).
	if l4 := p.L4Off(); l4 >= 0 && l4+8 <= len(p.Data()) {
		if ul := int(p.Data()[l4+4])<<8 | int(p.Data()[l4+5]); ul >= 8 && ul-8 < len(d) {
			d = d[:ul-8]
		}
	}
	before := tracker.Stats
	reports := tracker.Datagram(p.FlowHash(), d, p.Truncated())
	publish(&before, &tracker.Stats)
	for i := range reports {
		r := &reports[i]
		h := &r.Hello
		if h.hasSNI {
			cWithSNI.Add(1)
		}
		if h.hasALPN {
			cWithALPN.Add(1)
		}
		e := p.Event("quic_client_hello")
		if r.Version == version2 {
			e.String("quic_version", "QUICv2")
		} else {
			e.String("quic_version", "QUICv1")
		}
		e.Bytes("dcid", appendHex(text[:0], r.DCID.bytes()))
		e.Bytes("scid", appendHex(text[:0], r.SCID.bytes()))
		if h.hasSNI {
			e.Bytes("sni", h.sni)
		}
		if h.hasALPN {
			e.Bytes("alpn", appendALPN(text[:0], h.alpn))
		}
		if h.hasVersions {
			e.Bytes("supported_versions", appendVersions(text[:0], h.versions))
		}
		if h.legacyVersion != 0 {
			e.Bytes("version", appendVersion(text[:0], h.maxVersion()))
		}
		e.Uint("packets", uint64(r.Packets))
		if h.malformed {
			e.Bool("malformed", true)
		}
		e.Done()
		v.Match(1)
	}
}

// publish adds what the tracker counted during one packet to the guest
// counters.
func publish(a, b *Stats) {
	cInitials.Add(b.Initials - a.Initials)
	cServerInitials.Add(b.ServerInitials - a.ServerInitials)
	cUndecryptable.Add(b.Undecryptable - a.Undecryptable)
	cHellos.Add(b.Hellos - a.Hellos)
	cRepeated.Add(b.RepeatedHellos - a.RepeatedHellos)
	cRetries.Add(b.Retries - a.Retries)
	cVN.Add(b.VersionNegotiation - a.VersionNegotiation)
	cOther.Add(b.OtherVersions - a.OtherVersions)
	cTruncated.Add(b.Truncated - a.Truncated)
	cMalformed.Add(b.Malformed - a.Malformed)
	cTooLarge.Add(b.HelloTooLarge - a.HelloTooLarge)
	cGaps.Add(b.TooManyGaps - a.TooManyGaps)
	cNotHello.Add(b.NotClientHello - a.NotClientHello)
	cEvicted.Add(b.Evicted - a.Evicted)
	cSkipped.Add(b.SkippedInitials - a.SkippedInitials)
}

func init() {
	// Eight packets a call: decoding an Initial of a new connection costs
	// one to three million fuel units in a Go-compiled guest, and eight of
	// the costliest datagrams stay within half the host's default 5·10⁷
	// per call (RATIONALE.md).
	//
	// Derive keys once now, under the initialisation fuel: the first use
	// of crypto/sha256 sets itself up (and grows memory) once.
	tracker.kdf.derive(&tracker.scratch, version1, make([]byte, 8))
	guest.Register(analyzer{}, guest.Options{Need: guest.NeedPayload, PayloadMax: maxDatagram, MaxPackets: 8})
}

func main() {}
