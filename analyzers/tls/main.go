// Command tls is wring's bundled TLS handshake analyzer. Built for WASI
// (analyzers/bundled embeds the result), it reads TLS on any TCP port,
// recognised by content (a record header of a known type and version 3.x,
// then a handshake record holding a hello). It works in one of two modes,
// chosen by the configuration key streams:
//
//   - streams=1, the default: the host's reassembled TCP streams (ABI
//     version 2, spec/ABI.md §10). Records are followed across segments
//     (a header may be split anywhere), handshake messages across records,
//     and each direction is read until its hello is reported and its
//     plaintext handshake ends (ChangeCipherSpec, application data or an
//     alert). It reports every ClientHello and ServerHello once, whole, on
//     the packet that completes it (stream.go has the bounds).
//   - streams=0: one packet at a time, as before streams existed. A
//     ClientHello split over segments is reported, as far as it goes and
//     marked partial, from the segment that starts its record; handshake
//     records that follow one another within a payload are joined. No
//     ServerHello is reported. (The host still reassembles for the module:
//     the SDK fixes the module's declarations before it reads the
//     configuration. Build with -ldflags=-X=main.streams=off for a module
//     that takes packets only.)
//
// Each ClientHello is a "client_hello" event:
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
//	partial              true when the ClientHello continues past the
//	                     bytes seen (packets: split over TCP segments, or
//	                     the capture was cut; streams: the flow ended or
//	                     lost bytes inside it, or it is over 16 KiB):
//	                     fields after the cut are missing
//	malformed            true when a length inside it is inconsistent
//
// and, in stream mode, each ServerHello a "server_hello" event:
//
//	record_version       the version of the record that carried it
//	legacy_version       ServerHello.legacy_version
//	version              the version chosen: supported_versions'
//	                     selected_version, else legacy_version
//	cipher               the cipher suite chosen, in hex ("0x1301")
//	alpn                 the protocol chosen
//	hello_retry          true for a HelloRetryRequest
//	partial, malformed   as for client_hello
//
// Counters: client_hellos, with_sni, with_alpn, partial, malformed (packets:
// TLS-like payloads whose records or ClientHello are inconsistent; streams:
// hellos marked malformed), record.<version> per record version of
// ClientHello records, and offered.<version> per highest version offered
// (offered.unknown for a partial ClientHello without supported_versions in
// the bytes seen), too_many_extensions (hellos whose reading stopped at
// the 128th extension, reported partial: a bound on the work a crafted
// hello costs). In stream mode also: server_hellos, chosen.<version> per
// version chosen, hello_retries, stream_flows (flows tracked), not_tls
// (directions whose first bytes are no TLS handshake record), and the
// directions given up: gave_up.gap (bytes lost before the handshake records
// ended), gave_up.ended (the flow ended inside a hello or record),
// gave_up.too_large (a hello over 16 KiB), gave_up.not_hello (the first
// handshake message is neither hello), gave_up.malformed (an inconsistent
// record header or a hello cut by another record type), gave_up.no_buffer
// (a split hello found all 256 collection buffers lent), gave_up.table_full
// (a new flow found the flow table full) and gave_up.unaligned (data of a
// flow whose start the instance did not see, per chunk).
//
// Configuration: streams=0|1 (default 1), max_flows=N (flows tracked at
// once in stream mode, 1 to 262144, default 65536, the host reassembler's
// default).
//
// It matches packets with a ClientHello (tag 1): in packet mode those it
// reports, in stream mode those whose payload starts a ClientHello record.
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
	// tooManyExtensions counts hellos whose reading stopped at the
	// 128th extension.
	tooManyExtensions = guest.NewCounter("too_many_extensions")

	// Stream mode.
	serverHellos = guest.NewCounter("server_hellos")
	byChosen     = versionCounters("chosen.")
	cRetries     = guest.NewCounter("hello_retries")
	cFlows       = guest.NewCounter("stream_flows")
	cNotTLS      = guest.NewCounter("not_tls")
	cGap         = guest.NewCounter("gave_up.gap")
	cEnded       = guest.NewCounter("gave_up.ended")
	cTooLarge    = guest.NewCounter("gave_up.too_large")
	cNotHello    = guest.NewCounter("gave_up.not_hello")
	cMalformed   = guest.NewCounter("gave_up.malformed")
	cNoBuffer    = guest.NewCounter("gave_up.no_buffer")
	cTableFull   = guest.NewCounter("gave_up.table_full")
	cUnaligned   = guest.NewCounter("gave_up.unaligned")
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

// defaultFlows is the flows tracked at once in stream mode by default: the
// host reassembler's default (capture/stream).
const defaultFlows = 1 << 16

// maxFlowsConfig bounds max_flows: 262,144 flows take 29 MiB of the
// guest's memory (116 bytes a flow: a 104-byte entry, 8 bytes of table
// and 4 of free list), allocated when the instance starts.
const maxFlowsConfig = 1 << 18

var (
	parser  = NewParser(maxRecord)
	found   [maxHellos]Hello
	text    = make([]byte, 0, 2*maxRecord) // scratch for rendered lists: room for any ALPN list
	tracker *Tracker
	cur     *guest.Chunk // the chunk being handled, for the reporter's events

	// streams is the build's default mode: "off" (-ldflags=-X=main.streams=off)
	// builds a module that takes packets only.
	streams = "on"
	// streamMode is the mode of this instance, from the configuration.
	streamMode bool
)

type analyzer struct{}

// Init reads streams=0|1 and max_flows=N.
func (analyzer) Init(cfg guest.Config) error {
	streamMode = streams != "off"
	if v, ok := cfg.Get("streams"); ok {
		switch v {
		case "0":
			streamMode = false
		case "1":
			if streams == "off" {
				return errConfig
			}
			streamMode = true
		default:
			return errConfig
		}
	}
	if !streamMode {
		// Packets only: the host need not reassemble for this module.
		guest.SetStreams(false, false)
	}
	flows := defaultFlows
	if v, ok := cfg.Get("max_flows"); ok {
		n, ok := atoi(v)
		if !ok || n < 1 || n > maxFlowsConfig {
			return errConfig
		}
		flows = n
	}
	if streamMode && tracker == nil {
		tracker = NewTracker(flows, reporter{})
	}
	return nil
}

// atoi parses a decimal number of at most 7 digits.
func atoi(s string) (int, bool) {
	if len(s) == 0 || len(s) > 7 {
		return 0, false
	}
	n := 0
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return 0, false
		}
		n = n*10 + int(s[i]-'0')
	}
	return n, true
}

type configError struct{}

func (configError) Error() string { return "tls: bad configuration" }

var errConfig error = configError{}

func (analyzer) Packet(p *guest.Packet, v *guest.Verdict) {
	if p.IPProto() != 6 {
		return
	}
	if streamMode {
		// The stream path reports; the packet that starts a ClientHello
		// record is still matched.
		if b := p.Payload(); len(b) > recordHeader && b[0] == contentHandshak && b[1] == 3 && b[2] <= 4 && b[5] == typeClientHello {
			v.Match(1)
		}
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
		writeClientHello(p.Event("client_hello"), &found[i])
		v.Match(1)
	}
}

// writeClientHello counts h and writes its event.
func writeClientHello(e *guest.Event, h *Hello) {
	hellos.Add(1)
	countVersion(&byRecord, h.RecordVersion)
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
	if h.TooManyExtensions {
		tooManyExtensions.Add(1)
	}
	if h.Malformed {
		e.Bool("malformed", true)
	}
	e.Done()
}

// reporter writes the tracker's hellos as events of the current chunk.
type reporter struct{}

func (reporter) ClientHello(h *Hello) {
	if h.Malformed {
		malformed.Add(1)
	}
	writeClientHello(cur.Event("client_hello"), h)
}

func (reporter) ServerHello(s *ServerHello) {
	serverHellos.Add(1)
	e := cur.Event("server_hello")
	e.Bytes("record_version", AppendVersion(text[:0], s.RecordVersion))
	if s.LegacyVersion != 0 {
		e.Bytes("legacy_version", AppendVersion(text[:0], s.LegacyVersion))
		if !s.Retry {
			countVersion(&byChosen, s.Version())
		}
		e.Bytes("version", AppendVersion(text[:0], s.Version()))
	}
	if s.HasCipher {
		e.Bytes("cipher", appendHex16(text[:0], s.Cipher))
	}
	if s.HasALPN {
		e.Bytes("alpn", s.ALPN)
	}
	if s.Retry {
		e.Bool("hello_retry", true)
	}
	if s.Partial {
		partial.Add(1)
		e.Bool("partial", true)
	}
	if s.Malformed {
		malformed.Add(1)
		e.Bool("malformed", true)
	}
	e.Done()
}

// appendHex16 appends v as "0x" and four hexadecimal digits.
func appendHex16(b []byte, v uint16) []byte {
	const hex = "0123456789abcdef"
	return append(b, '0', 'x', hex[v>>12], hex[v>>8&0xf], hex[v>>4&0xf], hex[v&0xf])
}

// Chunk follows the reassembled streams (stream mode).
func (analyzer) Chunk(c *guest.Chunk) {
	if !streamMode {
		return
	}
	cur = c
	switch c.Kind() {
	case guest.ChunkStart:
		tracker.Start(c.Flow())
	case guest.ChunkData:
		tracker.Data(c.Flow(), c.Dir(), c.Offset(), c.Data())
	case guest.ChunkGap:
		tracker.Gap(c.Flow(), c.Dir(), c.Offset(), c.Len())
	case guest.ChunkEnd:
		tracker.End(c.Flow())
	}
	// Copying and comparing the whole StreamStats per chunk doubled the
	// cost of a chunk in the guest: only what changed is published.
	s := &tracker.Stats
	cFlows.Add(s.Flows - published.Flows)
	published.Flows = s.Flows
	if tracker.Changes != publishedChanges {
		publish(&published, s)
		published, publishedChanges = *s, tracker.Changes
	}
}

var (
	published        StreamStats // what the guest counters hold
	publishedChanges uint64
)

// publish adds what the tracker counted since a to the guest counters
// (Flows apart).
func publish(a, b *StreamStats) {
	cRetries.Add(b.Retries - a.Retries)
	cNotTLS.Add(b.NotTLS - a.NotTLS)
	cGap.Add(b.Gap - a.Gap)
	cEnded.Add(b.Ended - a.Ended)
	cTooLarge.Add(b.TooLarge - a.TooLarge)
	cNotHello.Add(b.NotHello - a.NotHello)
	cMalformed.Add(b.Malformed - a.Malformed)
	cNoBuffer.Add(b.NoBuffer - a.NoBuffer)
	cTableFull.Add(b.TableFull - a.TableFull)
	cUnaligned.Add(b.Unaligned - a.Unaligned)
}

func init() {
	// A whole record fits: the largest TCP payload of a TSO/GRO capture
	// holding a ClientHello is read as far as one record goes. 32 packets
	// and 64 chunks a call: a call full of the costliest hellos (16 KiB,
	// 128 extensions, TestTLSStreamCostlyHellosWithinFuel) stays within
	// half the host's default 5·10⁷ fuel units in either mode; the Go
	// guest's fuel per hello is 10⁵ to 10⁶ units.
	o := guest.Options{Need: guest.NeedPayload, PayloadMax: recordHeader + maxRecord, MaxPackets: 32}
	if streams != "off" {
		o.Streams, o.StreamChunks = true, 64
	}
	guest.Register(analyzer{}, o)
}

func main() {}
