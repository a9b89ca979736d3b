//go:build race

package wasm

// raceEnabled reports a -race build.
const raceEnabled = true
