package corpus

import (
	"bufio"
	"bytes"
	"errors"
	"io"
	"os"

	"github.com/gopacket/gopacket/pcapgo"
	"github.com/wringcap/wring/spec"
)

// Packet is one packet of a corpus capture file.
type Packet struct {
	Data    []byte
	WireLen uint32
	TsNanos int64
}

// Capture is a whole capture file read into memory.
type Capture struct {
	LinkType spec.LinkType
	Snaplen  uint32
	Packets  []Packet
}

// ReadCapture reads a pcap or pcapng file with gopacket's pcapgo. It is a
// test aid: files that pcapgo cannot read return an error (many corpus files
// are malformed on purpose); packets read before a mid-file error are kept
// and the error is returned with them.
func ReadCapture(path string) (*Capture, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	c := &Capture{}
	r := bufio.NewReader(bytes.NewReader(b))
	if len(b) >= 4 && bytes.Equal(b[:4], []byte{0x0a, 0x0d, 0x0d, 0x0a}) {
		ng, err := pcapgo.NewNgReader(r, pcapgo.DefaultNgReaderOptions)
		if err != nil {
			return nil, err
		}
		c.LinkType = spec.LinkType(ng.LinkType())
		for {
			data, ci, err := ng.ReadPacketData()
			if err != nil {
				if errors.Is(err, io.EOF) {
					return c, nil
				}
				return c, err
			}
			c.Packets = append(c.Packets, Packet{Data: data, WireLen: uint32(ci.Length), TsNanos: ci.Timestamp.UnixNano()})
		}
	}
	pr, err := pcapgo.NewReader(r)
	if err != nil {
		return nil, err
	}
	c.LinkType = spec.LinkType(pr.LinkType())
	c.Snaplen = pr.Snaplen()
	for {
		data, ci, err := pr.ReadPacketData()
		if err != nil {
			if errors.Is(err, io.EOF) {
				return c, nil
			}
			return c, err
		}
		c.Packets = append(c.Packets, Packet{Data: data, WireLen: uint32(ci.Length), TsNanos: ci.Timestamp.UnixNano()})
	}
}
