package sample_test

import (
	"bytes"
	"testing"

	"github.com/wringcap/wring/capture/sample"
	"github.com/wringcap/wring/internal/trafficgen"
)

// TestSampleIsGenerated checks that the embedded file is exactly what its
// go:generate line produces, so it can be regenerated and trusted.
func TestSampleIsGenerated(t *testing.T) {
	var b bytes.Buffer
	if err := trafficgen.Generate(&b, trafficgen.Config{Seed: 1, Count: 500}); err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(b.Bytes(), sample.Pcap) {
		t.Fatalf("sample.pcap (%d bytes) differs from trafficgen's output (%d bytes): run go generate ./capture/sample", len(sample.Pcap), b.Len())
	}
	if len(sample.Pcap) > 200<<10 {
		t.Errorf("sample is %d bytes, keep it under 200 KiB", len(sample.Pcap))
	}
}
