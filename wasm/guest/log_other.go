//go:build !wasip1

package guest

// hostLog discards lines outside WebAssembly (native tests of analyzer logic).
func hostLog(level int32, msg string) {}
