package main

// analyzerFlags are the Wasm analyzer flags shared by read and capture
// (--analyzer, --analyzer-config, --events). It belongs to the wasm work;
// read_cmd.go and capture_cmd.go embed it.
type analyzerFlags struct{}
