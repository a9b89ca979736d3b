package wasm

import (
	"bytes"
	"encoding/binary"
	"hash/crc32"
	"io"
	"os"
	"path/filepath"
	"strings"
)

// Compilation cache repair. wazero keeps one file per compiled module in the
// cache directory and checks its checksum when it reads it; a damaged file
// fails the compilation, on every later run. The host then checks every
// entry of the directory itself, deletes those that are damaged, warns with
// their paths and compiles again. (wazero does not say which file it read:
// its name is a hash of the module and of CPU features it does not export.)
//
// An entry is (wazero's format): "WAZEVO", a version length byte and the
// version, a u32 function count, a u64 offset per function, a u64 length of
// the native code, the code, and the CRC-32C of the code; then a source map
// and a table of catch clauses, which are not checked here.

var cacheMagic = []byte("WAZEVO")

var castagnoli = crc32.MakeTable(crc32.Castagnoli)

// isCacheError reports whether a compilation failed on reading the cache.
// wazero's cache errors are not typed; they all start with this prefix.
func isCacheError(err error) bool {
	return strings.Contains(err.Error(), "compilationcache:")
}

// repairCache deletes the damaged entries of the cache directory and
// returns their paths.
func (h *Host) repairCache() []string {
	var removed []string
	filepath.WalkDir(h.cfg.cacheDir, func(p string, d os.DirEntry, err error) error {
		if err != nil || d.IsDir() || strings.HasSuffix(p, ".tmp") {
			return nil
		}
		if cacheEntryDamaged(p) && os.Remove(p) == nil {
			removed = append(removed, p)
		}
		return nil
	})
	return removed
}

// cacheEntryDamaged reads the entry at p and checks its structure and its
// checksum, without allocating more than the file's size.
func cacheEntryDamaged(p string) bool {
	f, err := os.Open(p)
	if err != nil {
		return false
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return false
	}
	size := st.Size()
	var hdr [7]byte
	if _, err := io.ReadFull(f, hdr[:]); err != nil {
		return true
	}
	if !bytes.Equal(hdr[:6], cacheMagic) {
		return true
	}
	ver := make([]byte, int(hdr[6])+4)
	if _, err := io.ReadFull(f, ver); err != nil {
		return true
	}
	nfunc := int64(binary.LittleEndian.Uint32(ver[len(ver)-4:]))
	pos := int64(7 + len(ver))
	if nfunc*8+8 > size-pos {
		return true
	}
	if _, err := f.Seek(nfunc*8, io.SeekCurrent); err != nil {
		return true
	}
	var n [8]byte
	if _, err := io.ReadFull(f, n[:]); err != nil {
		return true
	}
	codeLen := binary.LittleEndian.Uint64(n[:])
	pos += nfunc*8 + 8
	if codeLen > uint64(size-pos) || uint64(size-pos)-codeLen < 4 {
		return true
	}
	crc := crc32.New(castagnoli)
	if _, err := io.CopyN(crc, f, int64(codeLen)); err != nil {
		return true
	}
	if _, err := io.ReadFull(f, n[:4]); err != nil {
		return true
	}
	return binary.LittleEndian.Uint32(n[:4]) != crc.Sum32()
}

// firstLine is the first line of err's message (wazero's errors go on with
// a stack trace).
func firstLine(err error) string {
	s := err.Error()
	if i := strings.IndexByte(s, '\n'); i >= 0 {
		return s[:i]
	}
	return s
}
