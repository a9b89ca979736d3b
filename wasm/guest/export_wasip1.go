//go:build wasip1

package guest

//go:wasmexport wring_abi_version
func wringABIVersion() int32 { return abiVersion }

//go:wasmexport wring_config_buffer
func wringConfigBuffer(n int32) int32 { return configBuffer(n) }

//go:wasmexport wring_init
func wringInit(p, n int32) int32 { return initialize(p, n) }

//go:wasmexport wring_process
func wringProcess(n int32) int32 { return process(n) }

//go:wasmexport wring_tick
func wringTick(now int64, final int32) int32 { return tick(now, final) }

//go:wasmexport wring_streams
func wringStreams(n int32) int32 { return streams(n) }
