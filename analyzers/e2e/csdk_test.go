package e2e_test

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/wringcap/wring/capture/packet"
	"github.com/wringcap/wring/internal/analyzertest"
	"github.com/wringcap/wring/internal/corpus"
	"github.com/wringcap/wring/spec"
	"github.com/wringcap/wring/wasm"
)

// The C SDK (wasm/guest/c): its examples are built with clang, run under
// the host on the mixed capture, and checked against computations in Go
// over the same parse records.

// cFlagsFreestanding builds a freestanding module: the SDK's runtime needs
// no libc. These are analyzers/bundled/gen's flags.
var cFlagsFreestanding = []string{"--target=wasm32", "-O2", "-nostdlib", "-fno-builtin-memcpy", "-fno-builtin-memset",
	"-Wall", "-Wextra", "-Werror", "-Wl,--no-entry", "-Wl,--export-dynamic", "-Wl,--strip-all", "-Wl,-z,stack-size=65536"}

// cFlagsWASILibc links wasi-libc as well (Debian's wasi-libc package puts
// it under /usr/lib/wasm32-wasi); the SDK's memcpy and memset take
// precedence over libc's archive members.
var cFlagsWASILibc = []string{"--target=wasm32-wasi", "--sysroot=/usr", "-O2", "-nostdlib", "-Wall", "-Wextra", "-Werror",
	"-Wl,--no-entry", "-Wl,--export-dynamic", "-Wl,--strip-all", "-Wl,-z,stack-size=65536", "-L/usr/lib/wasm32-wasi", "-lc"}

// buildC compiles one example with the SDK's runtime.
func buildC(t *testing.T, example string, flags []string) []byte {
	t.Helper()
	if _, err := exec.LookPath("clang"); err != nil {
		corpus.Unavailable(t, "clang is not installed (CI installs clang, lld and wasi-libc)")
	}
	sdk, err := filepath.Abs("../../wasm/guest/c")
	if err != nil {
		t.Fatal(err)
	}
	out := filepath.Join(t.TempDir(), example+".wasm")
	args := append(append([]string{}, flags...), "-I", sdk, filepath.Join(sdk, "examples", example+".c"),
		filepath.Join(sdk, "wring.c"), "-o", out)
	// -lc must follow the sources.
	for i, a := range args {
		if a == "-lc" {
			args = append(append(args[:i:i], args[i+1:]...), "-lc")
			break
		}
	}
	cmd := exec.Command("clang", args...)
	if b, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("clang %s: %v\n%s", strings.Join(args, " "), err, b)
	}
	b, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// runC runs a module over the packets in batches of 256 and returns its
// verdicts, events and counters.
func runC(t *testing.T, name string, bin []byte, config string, pkts []packet.Packet) ([]packet.Verdict, []byte, map[string]uint64, wasm.Stats) {
	t.Helper()
	var ev bytes.Buffer
	cfg := wasm.NewConfig().WithLogger(slog.New(slog.NewTextHandler(io.Discard, nil))).WithEvents(&ev)
	h, err := wasm.NewHost(context.Background(), cfg, wasm.Analyzer{Name: name, Binary: bin, Config: []byte(config)})
	if err != nil {
		t.Fatal(err)
	}
	defer h.Close(context.Background())
	verdicts := make([]packet.Verdict, 0, len(pkts))
	const n = 256
	b := &packet.Batch{Verdicts: make([]packet.Verdict, n)}
	for i := 0; i < len(pkts); i += n {
		b.Packets = pkts[i:min(i+n, len(pkts))]
		b.Verdicts = b.Verdicts[:len(b.Packets)]
		clear(b.Verdicts)
		if err := h.Handle(b); err != nil {
			t.Fatal(err)
		}
		verdicts = append(verdicts, b.Verdicts...)
	}
	cs := map[string]uint64{}
	for _, c := range h.Counters() {
		cs[c.Name] = c.Value
	}
	return verdicts, ev.Bytes(), cs, h.Stats()[0]
}

func TestCSDKPortsExample(t *testing.T) {
	path := analyzertest.MixedCapture(t, 5000)
	c, err := corpus.ReadCapture(path)
	if err != nil {
		t.Fatal(err)
	}
	pkts := parsed(c, func(_ int, ts int64) int64 { return ts })
	const config = "ports=53,80,443,8080,5060\nmatch=443\n"
	listed := []uint16{53, 80, 443, 8080, 5060}

	// The computation in Go, from the same records.
	want := map[string]uint64{"packets": uint64(len(pkts))}
	wantVerdicts := make([]packet.Verdict, len(pkts))
	for i := range pkts {
		r := &pkts[i].Record
		proto := r[spec.RecIPProto]
		l4 := uint16(r[spec.RecL4Off]) | uint16(r[spec.RecL4Off+1])<<8
		if (proto != 6 && proto != 17 && proto != 132) || l4 == spec.NoOffset {
			continue
		}
		want["with_ports"]++
		dp := uint16(r[spec.RecDstPort]) | uint16(r[spec.RecDstPort+1])<<8
		name := "port.other"
		for _, p := range listed {
			if dp == p {
				name = fmt.Sprintf("port.%d", p)
			}
		}
		want[name]++
		if dp == 443 {
			want["matched"]++
			wantVerdicts[i] = packet.Verdict{Action: packet.ActionMatch, Tag: 443}
		}
	}

	for _, build := range []struct {
		name  string
		flags []string
	}{{"freestanding", cFlagsFreestanding}, {"wasi-libc", cFlagsWASILibc}} {
		t.Run(build.name, func(t *testing.T) {
			if build.name == "wasi-libc" {
				if _, err := os.Stat("/usr/lib/wasm32-wasi/libc.a"); err != nil {
					corpus.Unavailable(t, "wasi-libc is not installed at /usr/lib/wasm32-wasi")
				}
			}
			bin := buildC(t, "ports", build.flags)
			verdicts, events, got, st := runC(t, "ports", bin, config, pkts)
			for k, w := range want {
				if got[k] != w {
					t.Errorf("counter %s = %d, Go computes %d", k, got[k], w)
				}
			}
			if len(got) != 2+len(listed)+2 {
				t.Errorf("counters %v: want packets, with_ports, %d ports, port.other, matched", got, len(listed))
			}
			if want["matched"] < 100 || want["port.53"] < 100 {
				t.Fatalf("the capture has too few packets to port 443 or 53: %v", want)
			}
			for i := range verdicts {
				if verdicts[i] != wantVerdicts[i] {
					t.Fatalf("packet %d: verdict %+v, want %+v", i, verdicts[i], wantVerdicts[i])
				}
			}
			nev := bytes.Count(events, []byte(`"event":"match"`))
			if uint64(nev) != want["matched"] || st.Failures != 0 || st.EventsLost != 0 {
				t.Errorf("%d match events for %d matches, stats %+v", nev, want["matched"], st)
			}
			t.Logf("%s: %d bytes; counters %v", build.name, len(bin), got)
		})
	}
}

// TestCSDKPortsBadConfig checks that the example refuses a bad
// configuration, so the host's load fails and names the module.
func TestCSDKPortsBadConfig(t *testing.T) {
	bin := buildC(t, "ports", cFlagsFreestanding)
	for _, cfg := range []string{"ports=70000", "ports=80,,443", "ports=http", "match=65536"} {
		_, err := wasm.NewHost(context.Background(), wasm.NewConfig().WithLogger(slog.New(slog.NewTextHandler(io.Discard, nil))),
			wasm.Analyzer{Name: "ports", Binary: bin, Config: []byte(cfg)})
		if err == nil || !strings.Contains(err.Error(), "ports") {
			t.Errorf("config %q: error %v", cfg, err)
		}
	}
}

// TestCSDKClientHelloExample runs the C ClientHello example and checks it
// against the bundled Go TLS analyzer: on every frame where the Go analyzer
// reports a whole ClientHello (not partial), the C example reports the same
// server name, and it reports nothing elsewhere except from ClientHellos the
// Go analyzer marks partial.
func TestCSDKClientHelloExample(t *testing.T) {
	path := analyzertest.MixedCapture(t, 5000)
	c, err := corpus.ReadCapture(path)
	if err != nil {
		t.Fatal(err)
	}
	pkts := parsed(c, func(i int, _ int64) int64 { return int64(i + 1) })
	bin := buildC(t, "clienthello", cFlagsFreestanding)
	_, cev, cs, _ := runC(t, "clienthello", bin, "", pkts)
	var ev swapWriter
	feedFrames(t, tlsPacketHost(t, &ev), c)
	goEvents := tlsOurs(t, ev.take())
	cEvents := tlsOurs(t, cev)
	agree := 0
	for n, g := range goEvents {
		if len(g) != 1 {
			t.Fatalf("frame %d: %d ClientHellos", n, len(g))
		}
		ce := cEvents[n]
		if g[0].Partial {
			continue
		}
		if len(ce) != 1 || !sameSNI(ce[0].SNI, g[0].SNI) {
			t.Errorf("frame %d: C %+v, Go %+v", n, ce, g[0])
			continue
		}
		agree++
	}
	for n := range cEvents {
		if g := goEvents[n]; len(g) == 0 {
			t.Errorf("frame %d: the C example reports a ClientHello the Go analyzer does not", n)
		}
	}
	if agree < 400 || cs["client_hellos"] != uint64(len(cEvents)) {
		t.Errorf("%d frames agree; counters %v, %d events", agree, cs, len(cEvents))
	}
	t.Logf("%d ClientHellos agree; C counters %v", agree, cs)
}

func sameSNI(a, b *string) bool {
	if a == nil || b == nil {
		return a == b
	}
	return *a == *b
}

// sdkCheckC exercises the rest of the SDK: the batch header, wring_log,
// and a final tick that writes more events than the event area holds, with
// wring_event_room and wring_tick_more.
const sdkCheckC = `#include "wring.h"

static int c_batches, c_seq_ok, c_now_ok, c_ticks;
static uint64_t last_seq;
static uint32_t written;

int wring_analyzer_init(const uint8_t *cfg, uint32_t len, wring_options *o) {
  (void)cfg;
  (void)len;
  o->need = WRING_NEED_RECORD;
  o->tick = 1;
  c_batches = wring_counter("batches");
  c_seq_ok = wring_counter("seq_ok");
  c_now_ok = wring_counter("now_ok");
  c_ticks = wring_counter("tick_calls");
  wring_log(WRING_LOG_INFO, "sdkcheck ready", 14);
  return 0;
}

void wring_analyzer_packet(const wring_packet *p, wring_verdict *v) {
  (void)v;
  const wring_batch_header *b = wring_batch();
  if (p->index == 0) {
    wring_count(c_batches, 1);
    if (b->seq == last_seq + 1) wring_count(c_seq_ok, 1);
    last_seq = b->seq;
  }
  if (p->index + 1 == b->count && b->now == wring_rec(p)->timestamp) wring_count(c_now_ok, 1);
}

void wring_analyzer_tick(int64_t now, int final) {
  wring_count(c_ticks, 1);
  if (!final) return;
  while (written < 5000) {
    if (wring_event_room() < 64) {
      wring_tick_more();
      return;
    }
    wring_event_begin(WRING_NO_PACKET, "n");
    wring_event_uint("i", written);
    wring_event_int("now", now);
    wring_event_end();
    written++;
  }
}
`

func TestCSDKTicksAndBatchHeader(t *testing.T) {
	if _, err := exec.LookPath("clang"); err != nil {
		corpus.Unavailable(t, "clang is not installed (CI installs clang, lld and wasi-libc)")
	}
	dir := t.TempDir()
	src := filepath.Join(dir, "sdkcheck.c")
	if err := os.WriteFile(src, []byte(sdkCheckC), 0o644); err != nil {
		t.Fatal(err)
	}
	sdk, _ := filepath.Abs("../../wasm/guest/c")
	out := filepath.Join(dir, "sdkcheck.wasm")
	args := append(append([]string{}, cFlagsFreestanding...), "-I", sdk, src, filepath.Join(sdk, "wring.c"), "-o", out)
	if b, err := exec.Command("clang", args...).CombinedOutput(); err != nil {
		t.Fatalf("clang: %v\n%s", err, b)
	}
	bin, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	path := analyzertest.MixedCapture(t, 1000)
	c, err := corpus.ReadCapture(path)
	if err != nil {
		t.Fatal(err)
	}
	pkts := parsed(c, func(_ int, ts int64) int64 { return ts })
	var logs bytes.Buffer
	var ev bytes.Buffer
	cfg := wasm.NewConfig().WithLogger(slog.New(slog.NewTextHandler(&logs, nil))).WithEvents(&ev)
	h, err := wasm.NewHost(context.Background(), cfg, wasm.Analyzer{Name: "sdkcheck", Binary: bin})
	if err != nil {
		t.Fatal(err)
	}
	w := h.NewWorker()
	const n = 100
	for i := 0; i < len(pkts); i += n {
		b := &packet.Batch{Packets: pkts[i:min(i+n, len(pkts))], Verdicts: make([]packet.Verdict, n)}
		if err := w.Handle(b); err != nil {
			t.Fatal(err)
		}
	}
	h.Close(context.Background())
	cs := map[string]uint64{}
	for _, ct := range h.Counters() {
		cs[ct.Name] = ct.Value
	}
	calls := uint64(len(pkts) / n)
	if cs["batches"] != calls || cs["seq_ok"] != calls || cs["now_ok"] != calls {
		t.Errorf("counters %v: want %d batches, each with the next sequence number and its last packet's time", cs, calls)
	}
	lines := bytes.Split(bytes.TrimSpace(ev.Bytes()), []byte("\n"))
	if len(lines) != 5000 || !bytes.Contains(lines[4999], []byte(`"i":4999`)) {
		t.Errorf("%d tick events, last %s", len(lines), lines[len(lines)-1])
	}
	if cs["tick_calls"] < 2 {
		t.Errorf("%d tick calls: the final flush should take several", cs["tick_calls"])
	}
	if !strings.Contains(logs.String(), "sdkcheck ready") {
		t.Errorf("no guest log line in %q", logs.String())
	}
	t.Logf("%d tick calls for 5000 events; counters %v", cs["tick_calls"], cs)
}
