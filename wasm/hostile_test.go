package wasm

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/wringcap/wring/capture/packet"
)

// Hostile modules at run time: each runs beside a well-behaved analyzer. The
// host must return from every batch within the bound, count and log the
// failure naming the module and the cause, and keep the other analyzer
// working.
func TestHostileAtRunTime(t *testing.T) {
	for _, tc := range []struct {
		name  string
		repl  map[string]string
		cfg   func(Config) Config
		cause error  // the failure counted, nil when the module must not fail
		log   string // text the log must contain
		check func(t *testing.T, h *Host)
	}{
		{
			name:  "infinite loop",
			repl:  map[string]string{"{{PROCESS}}": "(loop $spin (br $spin))"},
			cause: ErrFuel, log: "fuel exhausted",
		},
		{
			name: "memory.grow bomb",
			repl: map[string]string{"{{PROCESS}}": `
			  (block $full (loop $grow
			    (br_if $full (i32.eq (memory.grow (i32.const 16)) (i32.const -1)))
			    (br $grow)))`},
			cfg: func(c Config) Config { return c.WithMemoryLimitPages(64) },
			check: func(t *testing.T, h *Host) {
				for _, w := range h.workers {
					if in := w.inst[0]; in != nil && in.mem.Size() > 64*65536 {
						t.Fatalf("memory grew to %d bytes past the 64-page cap", in.mem.Size())
					}
				}
			},
		},
		{
			name: "memory.grow bomb that never stops",
			repl: map[string]string{"{{PROCESS}}": `(loop $grow (drop (memory.grow (i32.const 1))) (br $grow))`},
			cfg:  func(c Config) Config { return c.WithMemoryLimitPages(64) }, cause: ErrFuel, log: "fuel exhausted",
		},
		{
			name: "deep recursion",
			repl: map[string]string{
				"{{EXTRA}}":   `(func $deep (param i32) (result i32) (call $deep (i32.add (local.get 0) (i32.const 1))))`,
				"{{PROCESS}}": `(drop (call $deep (i32.const 0)))`},
			// Only the stack bounds it: the wall-clock backstop is set
			// out of the way.
			cfg:   func(c Config) Config { return c.WithFuel(1 << 40).WithCallTimeout(time.Minute) },
			cause: ErrTrap, log: "stack overflow",
		},
		{
			name: "deep recursion with little fuel",
			repl: map[string]string{"{{EXTRA}}": `(func $deep (param i32) (result i32) (call $deep (i32.add (local.get 0) (i32.const 1))))`, "{{PROCESS}}": `(drop (call $deep (i32.const 0)))`},
			// Only the fuel bounds it: on a loaded machine the deep stack's
			// growth can take longer than the default wall-clock backstop.
			cfg:   func(c Config) Config { return c.WithCallTimeout(time.Minute) },
			cause: ErrFuel, log: "fuel exhausted",
		},
		{
			name:  "trap on every call",
			repl:  map[string]string{"{{PROCESS}}": "unreachable"},
			cause: ErrTrap, log: "unreachable",
			check: func(t *testing.T, h *Host) {
				s := statsOf(h, "hostile")
				if !s.Quarantined || s.Quarantines != 1 || s.Failures != DefaultQuarantineAfter {
					t.Fatalf("not quarantined after %d failures: %+v", DefaultQuarantineAfter, s)
				}
				if s.QuarantinedPackets == 0 {
					t.Fatal("no packets counted while quarantined")
				}
			},
		},
		{
			name:  "guest error code",
			repl:  map[string]string{"{{PROCESS}}": "(return (i32.const 7))"},
			cause: ErrGuest, log: "code 7",
		},
		{
			name:  "verdict action out of range",
			repl:  map[string]string{"{{AFTER}}": "(i32.store8 (i32.const 0x2000) (i32.const 9))"},
			cause: ErrABI, log: "verdict 0: action 9",
		},
		{
			name:  "verdict reserved byte set",
			repl:  map[string]string{"{{AFTER}}": "(i32.store16 (i32.const 0x2008) (i32.const 0x0101))"},
			cause: ErrABI, log: "verdict 1: action 1 (reserved byte 1)",
		},
		{
			name:  "forward to an undeclared sink",
			repl:  map[string]string{"{{AFTER}}": "(i32.store (i32.const 0x2000) (i32.const 0x00050002))"},
			cause: ErrABI, log: "sink 5",
		},
		{
			name:  "event area length out of range",
			repl:  map[string]string{"{{AFTER}}": "(i32.store (i32.const 0x3000) (i32.const 0x7fffffff))"},
			cause: ErrABI, log: "event area",
		},
		{
			name:  "event packet index out of range",
			repl:  map[string]string{"{{AFTER}}": "(call $event (i32.const 9999) (i32.const 1))"},
			cause: ErrABI, log: "packet index 9999",
		},
		{
			name:  "event size overruns the area",
			repl:  map[string]string{"{{AFTER}}": "(call $event (i32.const 0) (i32.const 1)) (i32.store16 (i32.const 0x3008) (i32.const 60000))"},
			cause: ErrABI, log: "size 60000",
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var logs logBuffer
			cfg := testConfig(&logs)
			if tc.cfg != nil {
				cfg = tc.cfg(cfg)
			}
			h := newHost(t, cfg,
				Analyzer{Name: "hostile", Binary: analyzerWAT(t, tc.repl)},
				Analyzer{Name: "good", Binary: analyzerWAT(t, nil)})
			ports := []uint16{80, 1, 2, 3}
			const batches = 10
			for i := 0; i < batches; i++ {
				b := mkBatch(ports, 64)
				done := make(chan error, 1)
				start := time.Now()
				go func() { done <- h.Handle(b) }()
				select {
				case err := <-done:
					if err != nil {
						t.Fatal(err)
					}
				case <-time.After(60 * time.Second):
					t.Fatalf("batch %d did not return within 60s", i)
				}
				if d := time.Since(start); d > 10*time.Second {
					t.Fatalf("batch %d took %v", i, d)
				}
				if b.Verdicts[0].Action != packet.ActionMatch || b.Verdicts[0].Tag != 80 {
					t.Fatalf("batch %d: the good analyzer's verdict is missing: %+v", i, b.Verdicts[0])
				}
			}
			if got, _ := counter(h, "good", "packets"); got != batches*uint64(len(ports)) {
				t.Fatalf("good analyzer counted %d packets, want %d", got, batches*len(ports))
			}
			if s := statsOf(h, "good"); s.Failures != 0 {
				t.Fatalf("good analyzer failed: %+v", s)
			}
			s := statsOf(h, "hostile")
			if tc.cause == nil {
				if s.Failures != 0 {
					t.Fatalf("unexpected failures: %+v\n%s", s, logs.String())
				}
			} else {
				if s.Failures == 0 {
					t.Fatalf("no failure counted: %+v", s)
				}
				var n uint64
				switch tc.cause {
				case ErrFuel:
					n = s.Fuel
				case ErrTrap:
					n = s.Traps
				case ErrABI:
					n = s.ABI
				case ErrGuest:
					n = s.Guest
				}
				if n != s.Failures {
					t.Fatalf("failures are not all %v: %+v\n%s", tc.cause, s, logs.String())
				}
				out := logs.String()
				if !strings.Contains(out, "analyzer=hostile") || !strings.Contains(out, tc.log) {
					t.Fatalf("log does not name the module and %q:\n%s", tc.log, out)
				}
			}
			if tc.check != nil {
				tc.check(t, h)
			}
		})
	}
}

func TestFailClosed(t *testing.T) {
	for _, closed := range []bool{false, true} {
		t.Run(fmt.Sprint("closed=", closed), func(t *testing.T) {
			h := newHost(t, testConfig(nil).WithFailClosed(closed),
				Analyzer{Name: "hostile", Binary: analyzerWAT(t, map[string]string{"{{PROCESS}}": "unreachable"})})
			for i := 0; i < 2*DefaultQuarantineAfter; i++ { // failures, then quarantine
				b := mkBatch([]uint16{80, 1}, 64)
				h.Handle(b)
				want := packet.ActionNone
				if closed {
					want = packet.ActionDrop
				}
				for j, v := range b.Verdicts {
					if v.Action != want {
						t.Fatalf("batch %d packet %d: %+v, want action %d", i, j, v, want)
					}
				}
			}
			s := statsOf(h, "hostile")
			if s.PolicyPackets != 2*DefaultQuarantineAfter || s.QuarantinedPackets != 2*DefaultQuarantineAfter {
				t.Fatalf("%+v", s)
			}
		})
	}
}

// TestReloadLiftsQuarantine: a quarantined analyzer comes back with a new
// module.
func TestReloadLiftsQuarantine(t *testing.T) {
	h := newHost(t, testConfig(nil), Analyzer{Name: "a", Binary: analyzerWAT(t, map[string]string{"{{PROCESS}}": "unreachable"})})
	for i := 0; i < DefaultQuarantineAfter; i++ {
		h.Handle(mkBatch([]uint16{80}, 64))
	}
	if !statsOf(h, "a").Quarantined {
		t.Fatal("not quarantined")
	}
	if err := h.Reload(context.Background(), "a", analyzerWAT(t, nil), nil); err != nil {
		t.Fatal(err)
	}
	b := mkBatch([]uint16{80}, 64)
	h.Handle(b)
	if b.Verdicts[0].Action != packet.ActionMatch {
		t.Fatalf("after reload: %+v", b.Verdicts[0])
	}
}

// Hostile modules at load time: NewHost fails with an error that names the
// module and the cause, and returns within its bound.
func TestHostileAtLoad(t *testing.T) {
	missing := compile(t, `(module (memory (export "memory") 1)
	  (func (export "wring_abi_version") (result i32) (i32.const 1)))`)
	mistyped := compile(t, `(module (memory (export "memory") 1)
	  (func (export "wring_abi_version") (result i64) (i64.const 1)))`)
	noMemory := compile(t, `(module (func (export "wring_abi_version") (result i32) (i32.const 1)))`)
	foreignImport := compile(t, `(module (import "env" "open" (func)) (memory (export "memory") 1))`)
	for _, tc := range []struct {
		name string
		bin  []byte
		cfg  func(Config) Config
		want error
		text string
	}{
		{name: "wrong ABI version", bin: analyzerWAT(t, map[string]string{"{{VERSION}}": "(i32.const 3)"}), want: ErrVersion, text: "ABI version 3, this host speaks 1..2"},
		{name: "info block of another version", bin: analyzerWAT(t, map[string]string{"{{VERSION}}": "(i32.const 2)"}), want: ErrABI, text: "info block version 1, want 2"},
		{name: "missing exports", bin: missing, want: ErrMissingExport, text: "wring_config_buffer"},
		{name: "mistyped export", bin: mistyped, want: ErrMissingExport, text: "wring_abi_version has type func() -> i64"},
		{name: "no memory export", bin: noMemory, want: ErrMissingExport, text: `memory "memory"`},
		{name: "foreign import", bin: foreignImport, want: ErrImport, text: "env.open"},
		{name: "over the size cap", bin: slowModule(t), cfg: func(c Config) Config { return c.WithMaxModuleSize(100 << 10) }, want: ErrTooLarge, text: "the cap is 102400"},
		{name: "memory minimum over the cap", bin: compile(t, `(module (memory (export "memory") 100))`), cfg: func(c Config) Config { return c.WithMemoryLimitPages(64) }, want: ErrCompile, text: "over limit"},
		{name: "info block outside memory", bin: analyzerWAT(t, map[string]string{"{{INIT}}": "(return (i32.const 0xfffffff0))"}), want: ErrABI, text: "info block"},
		{name: "batch area outside memory", bin: analyzerWAT(t, map[string]string{"{{INIT}}": "(i32.store (i32.const 0x414) (i32.const 0x7fffffff))"}), want: ErrABI, text: "batch area"},
		{name: "counter names do not match", bin: analyzerWAT(t, map[string]string{"{{INIT}}": "(i32.store (i32.const 0x420) (i32.const 4))"}), want: ErrABI, text: "4 counters but 3 counter names"},
		{name: "trap in init", bin: analyzerWAT(t, map[string]string{"{{INIT}}": "unreachable"}), want: ErrTrap, text: "wring_init"},
		{name: "infinite loop in init", bin: analyzerWAT(t, map[string]string{"{{INIT}}": "(loop $l (br $l))"}), want: ErrFuel, text: "wring_init"},
		{name: "malformed binary", bin: []byte("\x00asm\x01\x00\x00\x00\x01\xff"), want: ErrCompile, text: "malformed"},
		{name: "slow compile", bin: slowModule(t), cfg: func(c Config) Config { return c.WithCompileTimeout(time.Millisecond) }, want: ErrCompileTimeout, text: "1ms"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cfg := testConfig(nil)
			if tc.cfg != nil {
				cfg = tc.cfg(cfg)
			}
			start := time.Now()
			// The hostile module comes first so that a tight cap (1 ms of
			// compile time) applies to it before it could to the good one.
			h, err := NewHost(context.Background(), cfg,
				Analyzer{Name: "hostile", Binary: tc.bin},
				Analyzer{Name: "good", Binary: analyzerWAT(t, nil)})
			if err == nil {
				h.Close(context.Background())
				t.Fatal("loaded")
			}
			if !errors.Is(err, tc.want) || !strings.Contains(err.Error(), `analyzer "hostile"`) || !strings.Contains(err.Error(), tc.text) {
				t.Fatalf("err = %v\nwant %v naming the module and %q", err, tc.want, tc.text)
			}
			if d := time.Since(start); d > 30*time.Second {
				t.Fatalf("load took %v", d)
			}
			// The good analyzer alone still loads and works.
			h = newHost(t, cfg.WithMaxModuleSize(0).WithMemoryLimitPages(0).WithCompileTimeout(0), Analyzer{Name: "good", Binary: analyzerWAT(t, nil)})
			b := mkBatch([]uint16{80}, 64)
			h.Handle(b)
			if b.Verdicts[0].Action != packet.ActionMatch {
				t.Fatal("good analyzer does not work")
			}
		})
	}
}

// slowModule is a valid module large enough that compiling it takes far more
// than a millisecond: 400 functions of 600 arithmetic instructions each.
func slowModule(t testing.TB) []byte {
	var b strings.Builder
	b.WriteString("(module (memory (export \"memory\") 1)\n")
	for f := 0; f < 400; f++ {
		fmt.Fprintf(&b, "(func (param i32) (result i32) (local.get 0)\n")
		for i := 0; i < 300; i++ {
			fmt.Fprintf(&b, "(i32.add (i32.const %d)) (i32.mul (local.get 0))\n", i)
		}
		b.WriteString(")\n")
	}
	b.WriteString(")")
	return compile(t, b.String())
}
