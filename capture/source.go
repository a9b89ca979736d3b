package capture

import (
	"github.com/wringcap/wring/capture/packet"
	"github.com/wringcap/wring/capture/pcapfile"
	"github.com/wringcap/wring/spec"
)

// Source yields packets to one worker.
type Source interface {
	// ReadBatch reads up to max packets into b.Packets[:max], setting
	// each packet's Info and Data (the worker parses them), and returns
	// how many it read. Data must stay valid until the next ReadBatch.
	// It returns 0 and io.EOF when the source is exhausted.
	ReadBatch(b *packet.Batch, max int) (int, error)
	// LinkType is the link-layer type of the packets.
	LinkType() spec.LinkType
	// Queue is the receive queue the source reads (0 for a file).
	Queue() int
	// Close releases the source.
	Close() error
}

// Finisher is a Source that wants to know when its reader is done with
// it: a pipeline worker calls Finish once it has handled the last batch it
// read and will not call ReadBatch again. A live source keeps its rings
// mapped until then, however early it is closed.
type Finisher interface {
	Finish()
}

// KernelDropper is a Source that knows of packets lost before they reached
// userspace.
type KernelDropper interface {
	KernelDropped() uint64
}

// FileSource reads a capture file through pcapfile.
type FileSource struct {
	r *pcapfile.Reader
}

// NewFileSource wraps an open reader; Close closes it.
func NewFileSource(r *pcapfile.Reader) *FileSource {
	return &FileSource{r: r}
}

// Reader returns the underlying reader.
func (s *FileSource) Reader() *pcapfile.Reader { return s.r }

// LinkType returns the file's link type.
func (s *FileSource) LinkType() spec.LinkType { return s.r.LinkType() }

// Queue returns 0.
func (s *FileSource) Queue() int { return 0 }

// Close closes the file.
func (s *FileSource) Close() error { return s.r.Close() }

// ReadBatch reads packets without copying them: their data points into the
// reader's buffers, which stay valid for the whole batch (see
// pcapfile.Reader.ReadBatch).
func (s *FileSource) ReadBatch(b *packet.Batch, limit int) (int, error) {
	return s.r.ReadBatch(b.Packets[:limit])
}

// ReadBatchViews is ReadBatch that also fills data[i] and wirelens[i] with
// each packet's data and wire length, for a batch filter, in the same pass.
func (s *FileSource) ReadBatchViews(b *packet.Batch, limit int, data [][]byte, wirelens []uint32) (int, error) {
	return s.r.ReadBatchViews(b.Packets[:limit], data, wirelens)
}

// viewSource is a Source that can fill a batch filter's arrays as it reads
// (FileSource).
type viewSource interface {
	ReadBatchViews(b *packet.Batch, limit int, data [][]byte, wirelens []uint32) (int, error)
}
