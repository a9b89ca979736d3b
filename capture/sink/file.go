package sink

import (
	"sync"

	"github.com/wringcap/wring/capture/packet"
	"github.com/wringcap/wring/capture/pcapfile"
)

// File writes packets to a capture-file writer (pcap, pcapng or a
// rotator).
type File struct {
	mu sync.Mutex
	w  pcapfile.PacketWriter
	bw batchWriter // w, when it writes a batch in one call
}

// batchWriter is a writer with a call for a whole batch (pcapfile.Writer).
type batchWriter interface {
	WritePackets(pk []packet.Packet) error
}

// NewFile returns a sink writing to w; Close closes w.
func NewFile(w pcapfile.PacketWriter) *File {
	f := &File{w: w}
	f.bw, _ = w.(batchWriter)
	return f
}

// UsesRecord reports false: a capture file needs only the bytes.
func (f *File) UsesRecord() bool { return false }

// Handle writes every packet of the batch.
func (f *File) Handle(b *packet.Batch) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.bw != nil {
		return f.bw.WritePackets(b.Packets)
	}
	for i := range b.Packets {
		p := &b.Packets[i]
		if err := f.w.WritePacket(&p.Info, p.Data); err != nil {
			return err
		}
	}
	return nil
}

// Flush flushes the writer.
func (f *File) Flush() error {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.w.Flush()
}

// Close closes the writer.
func (f *File) Close() error {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.w.Close()
}
