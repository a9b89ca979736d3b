package main

import (
	"errors"
	"io"
	"os"
	"time"

	"github.com/wringcap/wring/capture"
	"github.com/wringcap/wring/capture/pcapfile"
	"github.com/wringcap/wring/capture/sink"
	"github.com/wringcap/wring/spec"
)

// output is what read and capture write: a capture file (rotated or not)
// with -w, JSON lines with --json, text lines otherwise.
type output struct {
	Write     string // -w: file name, "-" for standard output
	JSON      bool
	FileSize  uint64 // -C, million bytes
	Rotate    uint64 // -G, seconds
	FileCount int    // -W
	Nano      bool
	PcapNG    bool
	LinkField uint32 // the pcap header's link-type field (type and extension bits)
	Snaplen   uint32
}

// sink builds the output's sink.
func (o output) sink(s *streams) (capture.Sink, error) {
	if o.Write == "" {
		if o.FileSize != 0 || o.Rotate != 0 || o.FileCount != 0 {
			return nil, errors.New("-C, -G and -W need -w")
		}
		if o.JSON {
			return sink.NewJSON(s.Out), nil
		}
		return sink.NewText(s.Out, nil), nil
	}
	open := func(name string) (pcapfile.PacketWriter, error) {
		var w io.Writer
		if name == "-" {
			w = nopCloser{s.Out}
		} else {
			f, err := os.Create(name)
			if err != nil {
				return nil, err
			}
			w = f
		}
		if o.PcapNG {
			return pcapfile.NewNgWriter(w, spec.LinkType(o.LinkField&0xffff), o.Snaplen)
		}
		return pcapfile.NewWriter(w, pcapfile.Header{LinkType: o.LinkField, Snaplen: o.Snaplen, Nano: o.Nano})
	}
	if o.FileSize == 0 && o.Rotate == 0 {
		if o.FileCount != 0 {
			return nil, errors.New("-W needs -C or -G")
		}
		w, err := open(o.Write)
		if err != nil {
			return nil, err
		}
		return sink.NewFile(w), nil
	}
	if o.Write == "-" {
		return nil, errors.New("-C and -G cannot write to standard output")
	}
	rot, err := pcapfile.NewRotator(pcapfile.RotateOptions{
		Name:     o.Write,
		Size:     int64(o.FileSize) * 1_000_000,
		Interval: time.Duration(o.Rotate) * time.Second,
		Count:    o.FileCount,
		Open:     open,
	})
	if err != nil {
		return nil, err
	}
	return sink.NewFile(rot), nil
}
