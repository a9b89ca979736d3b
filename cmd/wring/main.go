// Command wring compiles, verifies and runs packet filters, captures and
// reads packets, and runs sandboxed Wasm analyzers over them.
package main

import "os"

func main() {
	os.Exit(run(os.Args[1:], os.Stdin, os.Stdout, os.Stderr))
}
