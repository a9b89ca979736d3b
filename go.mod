module github.com/wringcap/wring

go 1.26.8

require (
	github.com/alecthomas/kong v1.17.0
	github.com/gopacket/gopacket v1.7.7
)

require (
	golang.org/x/net v0.62.0 // indirect
	golang.org/x/sys v0.49.0 // indirect
)
