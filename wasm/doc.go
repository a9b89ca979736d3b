// Package wasm runs untrusted packet analyzers, WebAssembly modules that
// follow spec/ABI.md, over batches of captured packets, on wazero's
// compiler.
//
//	h, err := wasm.NewHost(ctx, wasm.NewConfig().WithFailClosed(true),
//		wasm.Analyzer{Name: "http", Binary: httpWasm})
//	...
//	err = h.Handle(batch) // a capture.Handler: verdicts land in batch.Verdicts
//
// # Design
//
// Each module is compiled once per generation (load, then each Reload), in
// its own wazero runtime that carries its memory limit. Every worker
// goroutine gets its own instance of each analyzer; Host.Handle borrows a
// worker from a pool, Host.NewWorker gives one to a goroutine for good. A
// batch crosses the boundary in one call: the host copies each packet's
// Record and only the bytes the module asked for into the module's batch
// area, calls wring_process once through CallWithStack with a reused stack,
// then validates and reads one verdict per packet, the events (turned into
// JSON lines) and the counters. Nothing on that path allocates.
//
// # Streams
//
// A module speaking ABI version 2 may ask for reassembled TCP streams
// (spec/ABI.md §10). A worker running such an analyzer owns one
// capture/stream Reassembler, fed once per batch with the batch's TCP
// segments and shared by all its stream analyzers; the chunks it hands over
// (flow starts, in-order data, gaps, flow ends) are staged in a bounded
// buffer and copied into each stream analyzer's area after the batch's
// packet analyzers ran, one metered wring_streams call per filled area.
// Idle flows end at the tick cadence of capture time, every flow at Close.
// Host.StreamStats and the Stream fields of Stats count what happened,
// what was given up and what an analyzer lost. Nothing on that path
// allocates per packet either.
//
// # Why fuel instead of context cancellation?
//
// wazero can stop a running guest only with WithCloseOnContextDone, which
// costs a goroutine per call and an exit to Go at every loop back-edge
// (about 26 times slower on a byte loop). Instead, the fuel package rewrites
// each module when it is loaded: every function entry and loop header
// charges a fuel counter by the size of the code it starts and traps when
// the counter goes negative. The host refills it before each call, so every
// call (and every stop-the-world pause it would block) is bounded.
//
// # Why discard an instance after any failure?
//
// After a trap the guest's memory may hold half-updated state (a Go guest's
// runtime is in a fatal state after a panic). The host keeps the counters of
// the instance's last good call, applies the fail policy to the batch, and
// the next batch gets a fresh instance. Repeated failures quarantine the
// analyzer until it is reloaded, so a module that traps on every packet
// costs one instantiation per failure only up to the quarantine threshold.
//
// # Why one runtime per analyzer?
//
// wazero's memory limit is a runtime setting, and closing a runtime is the
// only way to release a superseded module's compiled code once its last
// instance is gone. The compilation cache is shared by all of them.
package wasm
