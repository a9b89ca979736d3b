package wasm

import (
	"testing"
)

// TestSandbox checks what WASI gives a guest: no environment, no arguments,
// no preopened directories (so no files), a wall clock that does not tell
// the real time.
func TestSandbox(t *testing.T) {
	imp := `
	(import "wasi_snapshot_preview1" "environ_sizes_get" (func $env (param i32 i32) (result i32)))
	(import "wasi_snapshot_preview1" "args_sizes_get" (func $args (param i32 i32) (result i32)))
	(import "wasi_snapshot_preview1" "fd_prestat_get" (func $prestat (param i32 i32) (result i32)))
	(import "wasi_snapshot_preview1" "clock_time_get" (func $clock (param i32 i64 i32) (result i32)))`
	// Counters: packets <- env count + args count, bytes <- prestat errno
	// of fd 3, http <- the wall clock in seconds.
	after := `
	  (drop (call $env (i32.const 0x9000) (i32.const 0x9004)))
	  (drop (call $args (i32.const 0x9008) (i32.const 0x900c)))
	  (i64.store (i32.const 0x1000) (i64.extend_i32_u (i32.add (i32.load (i32.const 0x9000)) (i32.load (i32.const 0x9008)))))
	  (i64.store (i32.const 0x1008) (i64.extend_i32_u (call $prestat (i32.const 3) (i32.const 0x9010))))
	  (drop (call $clock (i32.const 0) (i64.const 1) (i32.const 0x9020)))
	  (i64.store (i32.const 0x1010) (i64.div_u (i64.load (i32.const 0x9020)) (i64.const 1000000000)))`
	h := newHost(t, testConfig(nil), Analyzer{Name: "sb", Binary: analyzerWAT(t, map[string]string{"{{IMPORTS}}": imp, "{{AFTER}}": after})})
	if err := h.Handle(mkBatch([]uint16{1}, 64)); err != nil {
		t.Fatal(err)
	}
	if s := statsOf(h, "sb"); s.Failures != 0 {
		t.Fatalf("%+v", s)
	}
	env, _ := counter(h, "sb", "packets")
	errno, _ := counter(h, "sb", "bytes")
	wall, _ := counter(h, "sb", "http")
	if env != 0 {
		t.Errorf("guest sees %d environment variables and arguments", env)
	}
	if errno != 8 { // EBADF: fd 3 is not a preopened directory
		t.Errorf("fd_prestat_get(3) = errno %d, want 8 (EBADF)", errno)
	}
	if wall > 1700000000 {
		t.Errorf("guest sees the real wall clock (%d s)", wall)
	}
}
