package optimize_test

import (
	"bufio"
	"compress/gzip"
	"encoding/binary"
	"encoding/hex"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"github.com/wringcap/wring/filters/expr"
	"github.com/wringcap/wring/filters/expr/optimize"
	"github.com/wringcap/wring/internal/corpus"
	"github.com/wringcap/wring/spec"
	"github.com/wringcap/wring/verifier"
)

// goldenFile holds unoptimized programs (from libpcap's filter_accept
// expressions) and what the optimizer made of them when the file was
// written. The inputs are stored, so the test does not depend on the
// compiler's current output.
var goldenFile = filepath.Join("testdata", "golden.txt.gz")

// goldenCase is one stored program and its stored optimized form.
type goldenCase struct {
	name    string
	in, out spec.Program
}

// readGolden returns the programs of goldenFile.
func readGolden(t *testing.T) []goldenCase {
	f, err := os.Open(goldenFile)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	zr, err := gzip.NewReader(f)
	if err != nil {
		t.Fatal(err)
	}
	sc := bufio.NewScanner(zr)
	sc.Buffer(nil, 1<<22)
	var cases []goldenCase
	for sc.Scan() {
		line := len(cases) + 1
		fields := strings.Split(sc.Text(), "\t")
		if len(fields) != 3 {
			t.Fatalf("%s: line %d: %d fields, want 3", goldenFile, line, len(fields))
		}
		in, err := decodeProgram(fields[1])
		if err != nil {
			t.Fatalf("%s: line %d: %v", goldenFile, line, err)
		}
		out, err := decodeProgram(fields[2])
		if err != nil {
			t.Fatalf("%s: line %d: %v", goldenFile, line, err)
		}
		cases = append(cases, goldenCase{fields[0], in, out})
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	if len(cases) == 0 {
		t.Fatalf("%s holds no programs", goldenFile)
	}
	return cases
}

// TestGoldenOutputs checks that the optimizer still turns every stored
// program into the stored result: work on its speed must not change what
// it emits. WRING_UPDATE_GOLDEN=1 rewrites the file from the corpus with
// the optimizer as it is.
func TestGoldenOutputs(t *testing.T) {
	switch os.Getenv("WRING_UPDATE_GOLDEN") {
	case "1":
		writeGolden(t)
	case "outputs":
		rewriteGoldenOutputs(t)
	}
	cases := readGolden(t)
	for _, c := range cases {
		if got := optimize.Program(c.in); !equalPrograms(got, c.out) {
			t.Errorf("%s: optimized output changed (%d instructions, was %d)\ngot:\n%s---\nwant:\n%s", c.name, len(got), len(c.out), show(got), show(c.out))
		}
	}
	t.Logf("%d stored programs optimize as before", len(cases))
}

// TestConcurrentRuns optimizes the stored programs from several goroutines
// at once: runs share pooled memory and must not see each other's.
func TestConcurrentRuns(t *testing.T) {
	cases := readGolden(t)
	const workers = 4
	errs := make(chan string, workers)
	for w := 0; w < workers; w++ {
		go func() {
			bad := ""
			for i := range cases {
				c := cases[(i*7+w*131)%len(cases)]
				if got := optimize.Program(c.in); !equalPrograms(got, c.out) && bad == "" {
					bad = c.name
				}
			}
			errs <- bad
		}()
	}
	for w := 0; w < workers; w++ {
		if bad := <-errs; bad != "" {
			t.Errorf("%s: concurrent run gave another result than the stored one", bad)
		}
	}
}

func writeGolden(t *testing.T) {
	type item struct{ name, in, out string }
	seen := map[string]bool{}
	var items []item
	for _, c := range corpus.CasesOf(t, "filter_accept") {
		lt, err := spec.ParseLinkType(c.DLT)
		if err != nil {
			continue
		}
		prog, err := expr.Compile(c.Expr, expr.Options{LinkType: lt})
		if err != nil {
			continue
		}
		in := encodeProgram(prog)
		if seen[in] {
			continue
		}
		seen[in] = true
		name := fmt.Sprintf("%s %q", lt, c.Expr)
		items = append(items, item{name, in, encodeProgram(optimize.Program(prog))})
	}
	sort.Slice(items, func(i, j int) bool { return items[i].name < items[j].name })
	f, err := os.Create(goldenFile)
	if err != nil {
		t.Fatal(err)
	}
	zw, _ := gzip.NewWriterLevel(f, gzip.BestCompression)
	for _, it := range items {
		fmt.Fprintf(zw, "%s\t%s\t%s\n", strings.ReplaceAll(it.name, "\t", " "), it.in, it.out)
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
	t.Logf("wrote %d programs to %s", len(items), goldenFile)
}

// rewriteGoldenOutputs keeps the stored inputs and stores what the
// optimizer as it is makes of them (WRING_UPDATE_GOLDEN=outputs), for a
// change to the optimizer while the compiler's output is in flux. Each
// changed output must verify and agree with its input on packets aimed at
// its comparisons.
func rewriteGoldenOutputs(t *testing.T) {
	cases := readGolden(t)
	f, err := os.Create(goldenFile)
	if err != nil {
		t.Fatal(err)
	}
	zw, _ := gzip.NewWriterLevel(f, gzip.BestCompression)
	changed := 0
	r := rand.New(rand.NewPCG(3, 4))
	for _, c := range cases {
		out := optimize.Program(c.in)
		if !equalPrograms(out, c.out) {
			changed++
			pkts := make([][]byte, 400)
			for i := range pkts {
				pkts[i] = aimedPacket(r, c.in)
			}
			agree(t, c.in, verifier.Options{}, pkts)
		}
		fmt.Fprintf(zw, "%s\t%s\t%s\n", c.name, encodeProgram(c.in), encodeProgram(out))
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
	t.Logf("rewrote the outputs of %d programs in %s (%d changed)", len(cases), goldenFile, changed)
}

func encodeProgram(p spec.Program) string {
	buf := make([]byte, 0, 8*len(p))
	for _, ins := range p {
		buf = binary.BigEndian.AppendUint16(buf, ins.Op)
		buf = append(buf, ins.Jt, ins.Jf)
		buf = binary.BigEndian.AppendUint32(buf, ins.K)
	}
	return hex.EncodeToString(buf)
}

func decodeProgram(s string) (spec.Program, error) {
	buf, err := hex.DecodeString(s)
	if err != nil || len(buf)%8 != 0 {
		return nil, fmt.Errorf("bad program encoding")
	}
	p := make(spec.Program, len(buf)/8)
	for i := range p {
		b := buf[8*i:]
		p[i] = spec.Instruction{Op: binary.BigEndian.Uint16(b), Jt: b[2], Jf: b[3], K: binary.BigEndian.Uint32(b[4:])}
	}
	return p, nil
}

func equalPrograms(a, b spec.Program) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}
