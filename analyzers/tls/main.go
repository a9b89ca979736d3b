// Command tls is wring's bundled TLS ClientHello analyzer. Built for WASI
// (analyzers/bundled embeds the result), it recognises TLS records at the start
// of TCP payloads on any port (by content: a record header of a known type
// and version 3.x, then a handshake record holding a ClientHello) and reports
// each ClientHello as a "client_hello" event:
//
//	sni                  the first host_name of server_name, when present
//	record_version       the version of the record that carried it ("TLS1.0")
//	legacy_version       ClientHello.legacy_version ("TLS1.2")
//	version              the highest version offered: supported_versions
//	                     without GREASE values, else legacy_version; absent
//	                     from a partial ClientHello whose bytes seen hold
//	                     no supported_versions (it may follow the cut)
//	supported_versions   the supported_versions list, in order ("TLS1.3,TLS1.2")
//	alpn                 the ALPN protocol names ("h2,http/1.1")
//	partial              true when the ClientHello continues past this
//	                     packet (split over TCP segments, or the capture was
//	                     cut): fields after the cut are missing
//	malformed            true when a length inside it is inconsistent
//
// Counters: client_hellos, with_sni, with_alpn, partial, malformed (TLS-like
// payloads whose records or ClientHello are inconsistent), record.<version>
// per record version of ClientHello records, and offered.<version> per
// highest version offered (offered.unknown for a partial ClientHello
// without supported_versions in the bytes seen). It matches packets with a ClientHello (tag 1).
//
// It looks at one packet at a time and does not reassemble TCP: a
// ClientHello split over segments is reported, as far as it goes, from the
// segment that starts its record. Handshake records that follow one another
// within a payload are joined, so record-layer fragmentation is handled.
package main

import "github.com/wringcap/wring/wasm/guest"

// versions are the versions with their own counters; others count as
// "other".
var versions = [5]uint16{0x0300, 0x0301, 0x0302, 0x0303, 0x0304}

func versionCounters(prefix string) [6]*guest.Counter {
	var cs [6]*guest.Counter
	for i, v := range versions {
		cs[i] = guest.NewCounter(prefix + VersionName(v))
	}
	cs[5] = guest.NewCounter(prefix + "other")
	return cs
}

var (
	hellos    = guest.NewCounter("client_hellos")
	withSNI   = guest.NewCounter("with_sni")
	withALPN  = guest.NewCounter("with_alpn")
	partial   = guest.NewCounter("partial")
	malformed = guest.NewCounter("malformed")
	byRecord  = versionCounters("record.")
	byOffered = versionCounters("offered.")
	// offeredUnknown counts partial ClientHellos cut before
	// supported_versions: the highest version offered is not known.
	offeredUnknown = guest.NewCounter("offered.unknown")
)

func countVersion(cs *[6]*guest.Counter, v uint16) {
	for i, w := range versions {
		if v == w {
			cs[i].Add(1)
			return
		}
	}
	cs[5].Add(1)
}

// maxHellos bounds the ClientHellos reported per packet.
const maxHellos = 4

var (
	parser = NewParser(maxRecord)
	found  [maxHellos]Hello
	text   = make([]byte, 0, 1024) // scratch for rendered lists
)

type analyzer struct{}

func (analyzer) Init(guest.Config) error { return nil }

func (analyzer) Packet(p *guest.Packet, v *guest.Verdict) {
	if p.IPProto() != 6 {
		return
	}
	r := parser.Parse(p.Payload(), found[:])
	bad := r.Malformed
	for i := range found[:r.Hellos] {
		bad = bad || found[i].Malformed
	}
	if bad {
		malformed.Add(1)
	}
	for i := range found[:r.Hellos] {
		h := &found[i]
		hellos.Add(1)
		countVersion(&byRecord, h.RecordVersion)
		e := p.Event("client_hello")
		if h.HasSNI {
			withSNI.Add(1)
			e.Bytes("sni", h.SNI)
		}
		e.Bytes("record_version", AppendVersion(text[:0], h.RecordVersion))
		if h.LegacyVersion != 0 {
			e.Bytes("legacy_version", AppendVersion(text[:0], h.LegacyVersion))
			if ver, ok := h.OfferedVersion(); ok {
				countVersion(&byOffered, ver)
				e.Bytes("version", AppendVersion(text[:0], ver))
			} else {
				offeredUnknown.Add(1)
			}
		}
		if h.HasVersions {
			t := text[:0]
			for k, ver := range h.Versions[:h.NVersions] {
				if k > 0 {
					t = append(t, ',')
				}
				t = AppendVersion(t, ver)
			}
			e.Bytes("supported_versions", t)
		}
		if h.HasALPN {
			withALPN.Add(1)
			e.Bytes("alpn", AppendALPN(text[:0], h.ALPN))
		}
		if h.Partial {
			partial.Add(1)
			e.Bool("partial", true)
		}
		if h.Malformed {
			e.Bool("malformed", true)
		}
		e.Done()
		v.Match(1)
	}
}

func init() {
	// A whole record fits: the largest TCP payload of a TSO/GRO capture
	// holding a ClientHello is read as far as one record goes.
	guest.Register(analyzer{}, guest.Options{Need: guest.NeedPayload, PayloadMax: recordHeader + maxRecord, MaxPackets: 128})
}

func main() {}
