//go:build wasip1

package guest

import "unsafe"

//go:wasmimport wring log
func wringLog(level int32, ptr unsafe.Pointer, n int32)

func hostLog(level int32, msg string) {
	if len(msg) == 0 {
		return
	}
	wringLog(level, unsafe.Pointer(unsafe.StringData(msg)), int32(len(msg)))
}
