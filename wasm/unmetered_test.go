package wasm

// WithoutFuel returns c with fuel metering off: modules are compiled as
// given. For benchmarks that measure the metering's cost; exported to the
// package's external tests only.
func (c Config) WithoutFuel() Config {
	c.unmetered = true
	return c
}
