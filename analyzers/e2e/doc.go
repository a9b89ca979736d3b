// Package e2e holds the end-to-end tests of the bundled analyzers
// (analyzers/bundled) and of the guest SDKs' examples: each runs an analyzer
// in the Wasm host through wasm's public API over generated and corpus
// captures and compares what it reports with tshark, with a reference
// computed in Go, or with the other SDK. It has no code of its own.
package e2e
