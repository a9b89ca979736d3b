// Package capture is wring's packet pipeline. A Source (a capture file, a
// live queue) yields packets; one worker per source parses each packet once
// into its Record, runs the userspace Filter where the kernel did not
// filter, and hands batches to Handlers (the Wasm analyzers plug in here)
// and then to Sinks (pcap, pcapng, text, JSON lines). Counters never lie:
// every packet a worker reads is counted as filtered out, dropped (with a
// reason) or delivered, per queue.
//
// capture does not import the Wasm host: anything with a Handle method
// plugs in.
package capture
