// Package sink holds the pipeline's outputs: capture files (pcap, pcapng,
// with rotation), a one-line tcpdump-like text summary per packet, and JSON
// lines. Each is a capture.Sink, safe for concurrent use by several
// workers.
package sink
