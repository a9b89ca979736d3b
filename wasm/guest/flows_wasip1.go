//go:build wasip1

package guest

import "unsafe"

//go:wasmimport wring rule_add
func wringRuleAdd(ptr unsafe.Pointer, n int32) int32

//go:wasmimport wring rule_del
func wringRuleDel(ptr unsafe.Pointer, n int32) int32

func ruleAdd(n int) int32 { return wringRuleAdd(unsafe.Pointer(&flowBuf[0]), int32(n)) }
func ruleDel(n int) int32 { return wringRuleDel(unsafe.Pointer(&flowBuf[0]), int32(n)) }
