package afpacket

import "testing"

// TestSetBufferSize: -B sizes the ring to at least what was asked, in page
// multiples, with two blocks or more once there is room for them.
func TestSetBufferSize(t *testing.T) {
	for _, c := range []struct {
		bytes         uint64
		block, blocks uint32
	}{
		{1 << 10, 4096, 1},
		{64 << 10, 32 << 10, 2},
		{2 << 20, 1 << 20, 2},
		{(2 << 20) + 1, 1 << 20, 3},
		{256 << 20, 1 << 20, 256},
	} {
		var cfg Config
		cfg.SetBufferSize(c.bytes, 4096)
		if cfg.BlockSize != c.block || cfg.Blocks != c.blocks {
			t.Errorf("SetBufferSize(%d) = %d x %d, want %d x %d", c.bytes, cfg.Blocks, cfg.BlockSize, c.blocks, c.block)
		}
		if uint64(cfg.BlockSize)*uint64(cfg.Blocks) < c.bytes && c.bytes >= 4096 {
			t.Errorf("SetBufferSize(%d) gives only %d bytes", c.bytes, cfg.BlockSize*cfg.Blocks)
		}
	}
}
