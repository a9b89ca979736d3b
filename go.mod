module github.com/wringcap/wring

go 1.26.8

require (
	github.com/alecthomas/kong v1.17.0
	github.com/gopacket/gopacket v1.7.7
)

require (
	github.com/cilium/ebpf v0.22.0 // indirect
	github.com/tetratelabs/wazero v1.12.0 // indirect
	golang.org/x/net v0.62.0 // indirect
	golang.org/x/sys v0.49.0 // indirect
)
