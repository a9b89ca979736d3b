//go:build !race

package ipfix

// raceEnabled reports a -race build.
const raceEnabled = false
