package e2e_test

import (
	"bufio"
	"bytes"
	"encoding/binary"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/wringcap/wring/internal/corpus"
)

// TestStreamsLiveTraffic is acceptance 1(b): a capture of real traffic the
// test makes on the loopback interface (tcpdump -i lo, filtered to the
// test's own ports): curl against a Go HTTP server (GET, HEAD, POST with
// 100-continue, 204, 304, a 4 MiB body, chunked responses), pipelined
// requests written raw over one socket, a request whose header block is
// written in three segments, and DNS over TCP (several messages in one
// segment, one message split across segments). tshark must report exactly
// what the analyzers report: here no difference is expected at all.
func TestStreamsLiveTraffic(t *testing.T) {
	needTshark(t)
	for _, tool := range []string{"tcpdump", "curl"} {
		if _, err := exec.LookPath(tool); err != nil {
			corpus.Unavailable(t, tool+" is not installed")
		}
	}
	if os.Geteuid() != 0 {
		corpus.Unavailable(t, "capturing on lo needs root")
	}
	hl, err := net.Listen("tcp4", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	dl, err := net.Listen("tcp4", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	hport, dport := hl.Addr().(*net.TCPAddr).Port, dl.Addr().(*net.TCPAddr).Port
	srv := &http.Server{Handler: liveHandler()}
	go srv.Serve(hl)
	defer srv.Close()
	go serveDNS(dl)
	defer dl.Close()

	pcap := filepath.Join(t.TempDir(), "live.pcap")
	if d := os.Getenv("WRING_LIVE_PCAP"); d != "" {
		pcap = d
	}
	stop := startTcpdump(t, pcap, fmt.Sprintf("tcp port %d or tcp port %d", hport, dport))
	base := fmt.Sprintf("http://127.0.0.1:%d", hport)
	curl := func(args ...string) {
		t.Helper()
		out, err := exec.Command("curl", append([]string{"-s", "-o", os.DevNull, "--max-time", "20"}, args...)...).CombinedOutput()
		if err != nil {
			t.Fatalf("curl %v: %v %s", args, err, out)
		}
	}
	curl(base + "/index.html")
	curl("-I", base+"/head")
	curl("-H", "Host: example.test", base+"/vhost?q=1")
	curl("-H", "Expect: 100-continue", "-d", strings.Repeat("x", 3000), base+"/upload")
	curl(base + "/nocontent")
	curl("-H", `If-None-Match: "v1"`, base+"/cached")
	curl(base + "/large")
	curl(base + "/chunked")
	curl(base+"/a", base+"/b", base+"/chunked") // one connection, sequential
	pipelined(t, hport)
	splitHeader(t, hport)
	dnsClient(t, dport)
	stop()

	c, err := corpus.ReadCapture(pcap)
	if err != nil {
		t.Fatal(err)
	}
	hEvents, hCounters := runAnalyzer(t, "http", "", c)
	d := compareItems("http/live", oursHTTP(t, hEvents), tsharkHTTP(t, pcap, "-d", fmt.Sprintf("tcp.port==%d,http", hport)),
		func(item string, missing bool) string {
			// The pipelined HEAD's response has Content-Length: 1234 and no
			// body; the chunked response after it is in the same segment.
			if !missing && item == "resp\t200\t" {
				return catHeadPipelined
			}
			return ""
		})
	d.report(t)
	// What the traffic holds: 15 requests (3 of them pipelined in one
	// segment, one split over three) and 16 responses (one 100 Continue);
	// tshark misses one response (catHeadPipelined).
	if d.theirs != 30 || d.agree != 30 || d.count(catHeadPipelined) != 1 || len(d.explained) != 1 {
		t.Errorf("http/live: tshark %d items, %d alike, %d explained (%d of them %q); want 30, 30, 1",
			d.theirs, d.agree, len(d.explained), d.count(catHeadPipelined), catHeadPipelined)
	}
	if v := counterValue(hCounters, "requests") + counterValue(hCounters, "responses"); v != 31 {
		t.Errorf("http/live: %d requests and responses counted, want 31", v)
	}
	t.Logf("http/live counters:%s", fmtCounters(hCounters))
	for _, k := range []string{"gave_up.gaps", "gave_up.oversize_header", "gave_up.bad_framing", "gave_up.no_buffer", "unpaired_responses"} {
		if v := counterValue(hCounters, k); v != 0 {
			t.Errorf("http/live: counter %s = %d, want 0", k, v)
		}
	}

	dEvents, dCounters := runAnalyzer(t, "dns", "ports="+strconv.Itoa(dport), c)
	dd := compareItems("dns/live", oursDNS(t, dEvents), tsharkDNS(t, pcap, "-d", fmt.Sprintf("tcp.port==%d,dns", dport)),
		func(string, bool) string { return "" })
	dd.report(t)
	if dd.theirs != 8 || dd.agree != 8 || len(dd.explained) != 0 {
		t.Errorf("dns/live: tshark %d items, %d alike; want 8 and 8", dd.theirs, dd.agree)
	}
	t.Logf("dns/live counters:%s", fmtCounters(dCounters))
	if v := counterValue(dCounters, "tcp.messages"); v != 8 {
		t.Errorf("dns/live: tcp.messages = %d, want 8", v)
	}
}

// catHeadPipelined: tshark misdissection.
const catHeadPipelined = "tshark misdissection: it takes the Content-Length of a pipelined HEAD's response as a body and reads the next response (in the same segment) as that body (\"Continuation\"), so it does not report it; a HEAD response has no body (RFC 9110 §9.3.2), the analyzer reports it"

func liveHandler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("/nocontent", func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(http.StatusNoContent) })
	mux.HandleFunc("/cached", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("ETag", `"v1"`)
		if r.Header.Get("If-None-Match") == `"v1"` {
			w.WriteHeader(http.StatusNotModified)
			return
		}
		io.WriteString(w, "fresh")
	})
	mux.HandleFunc("/large", func(w http.ResponseWriter, r *http.Request) {
		body := bytes.Repeat([]byte("0123456789abcdef"), 256<<10) // 4 MiB
		w.Header().Set("Content-Length", strconv.Itoa(len(body)))
		w.Write(body)
	})
	mux.HandleFunc("/chunked", func(w http.ResponseWriter, r *http.Request) {
		f := w.(http.Flusher)
		for i := 0; i < 5; i++ {
			fmt.Fprintf(w, "part %d %s\n", i, strings.Repeat("y", 3000*i))
			f.Flush() // no Content-Length: Go sends each flush as chunks
		}
	})
	mux.HandleFunc("/upload", func(w http.ResponseWriter, r *http.Request) {
		n, _ := io.Copy(io.Discard, r.Body)
		fmt.Fprintf(w, "got %d", n)
	})
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		if r.Method == http.MethodHead {
			w.Header().Set("Content-Length", "1234")
			return
		}
		fmt.Fprintf(w, "hello %s", r.URL.Path)
	})
	return mux
}

// pipelined writes three requests in one segment and reads the responses.
func pipelined(t *testing.T, port int) {
	t.Helper()
	c, err := net.Dial("tcp4", fmt.Sprintf("127.0.0.1:%d", port))
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	req := "GET /p1 HTTP/1.1\r\nHost: pipe.test\r\n\r\n" +
		"HEAD /p2 HTTP/1.1\r\nHost: pipe.test\r\n\r\n" +
		"GET /chunked HTTP/1.1\r\nHost: pipe.test\r\nConnection: close\r\n\r\n"
	if _, err := c.Write([]byte(req)); err != nil {
		t.Fatal(err)
	}
	c.SetReadDeadline(time.Now().Add(20 * time.Second))
	if _, err := io.Copy(io.Discard, c); err != nil {
		t.Fatal(err)
	}
}

// splitHeader writes one request's header block in three segments.
func splitHeader(t *testing.T, port int) {
	t.Helper()
	c, err := net.Dial("tcp4", fmt.Sprintf("127.0.0.1:%d", port))
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	for _, p := range []string{"GET /split/her", "e HTTP/1.1\r\nHost: spl", "it.test\r\nConnection: close\r\n\r\n"} {
		if _, err := c.Write([]byte(p)); err != nil {
			t.Fatal(err)
		}
		time.Sleep(50 * time.Millisecond) // its own segment (Go sets TCP_NODELAY)
	}
	c.SetReadDeadline(time.Now().Add(20 * time.Second))
	if _, err := io.Copy(io.Discard, c); err != nil {
		t.Fatal(err)
	}
}

// dnsQuery builds a query for name (type A) with id.
func dnsQuery(id uint16, name string, qtype uint16) []byte {
	b := binary.BigEndian.AppendUint16(nil, id)
	b = append(b, 1, 0, 0, 1, 0, 0, 0, 0, 0, 0)
	for _, l := range strings.Split(name, ".") {
		b = append(b, byte(len(l)))
		b = append(b, l...)
	}
	b = append(b, 0)
	b = binary.BigEndian.AppendUint16(b, qtype)
	return binary.BigEndian.AppendUint16(b, 1)
}

func dnsTCPFrame(m []byte) []byte {
	return append(binary.BigEndian.AppendUint16(nil, uint16(len(m))), m...)
}

// serveDNS answers every query with the same message marked as a response
// with one A record (192.0.2.1), until the listener is closed.
func serveDNS(l net.Listener) {
	for {
		c, err := l.Accept()
		if err != nil {
			return
		}
		go func() {
			defer c.Close()
			r := bufio.NewReader(c)
			for {
				var n uint16
				if err := binary.Read(r, binary.BigEndian, &n); err != nil {
					return
				}
				q := make([]byte, n)
				if _, err := io.ReadFull(r, q); err != nil {
					return
				}
				resp := append([]byte(nil), q...)
				resp[2] |= 0x80
				resp[7] = 1 // one answer
				resp = append(resp, 0xc0, 12, 0, 1, 0, 1, 0, 0, 0, 60, 0, 4, 192, 0, 2, 1)
				if _, err := c.Write(dnsTCPFrame(resp)); err != nil {
					return
				}
			}
		}()
	}
}

// dnsClient sends four queries over one connection: two in one segment,
// then one split across two segments, then one alone; and reads the four
// responses.
func dnsClient(t *testing.T, port int) {
	t.Helper()
	c, err := net.Dial("tcp4", fmt.Sprintf("127.0.0.1:%d", port))
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	two := append(dnsTCPFrame(dnsQuery(0x1001, "one.example.test", 1)), dnsTCPFrame(dnsQuery(0x1002, "two.example.test", 28))...)
	split := dnsTCPFrame(dnsQuery(0x1003, "split.example.test", 1))
	writes := [][]byte{two, split[:9], split[9:], dnsTCPFrame(dnsQuery(0x1004, "four.example.test", 16))}
	for _, w := range writes {
		if _, err := c.Write(w); err != nil {
			t.Fatal(err)
		}
		time.Sleep(50 * time.Millisecond)
	}
	c.SetReadDeadline(time.Now().Add(10 * time.Second))
	r := bufio.NewReader(c)
	for i := 0; i < 4; i++ {
		var n uint16
		if err := binary.Read(r, binary.BigEndian, &n); err != nil {
			t.Fatal(err)
		}
		if _, err := io.CopyN(io.Discard, r, int64(n)); err != nil {
			t.Fatal(err)
		}
	}
}

// startTcpdump captures on lo into file until the returned function is
// called (it stops tcpdump, by its process id, and waits for it).
func startTcpdump(t *testing.T, file, filter string) func() {
	t.Helper()
	dropped := 0
	// A 64 MiB buffer: the 4 MiB body arrives faster than tcpdump writes.
	cmd := exec.Command("tcpdump", "-i", "lo", "--immediate-mode", "-U", "-B", "65536", "-s", "0", "-w", file, filter)
	stderr, err := cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	ready, done := make(chan struct{}), make(chan struct{})
	go func() {
		sc := bufio.NewScanner(stderr)
		for sc.Scan() {
			if strings.Contains(sc.Text(), "listening on") {
				close(ready)
				break
			}
		}
		for sc.Scan() {
			if f := strings.Fields(sc.Text()); len(f) > 1 && strings.HasSuffix(sc.Text(), "dropped by kernel") {
				dropped, _ = strconv.Atoi(f[0])
			}
		}
		close(done)
	}()
	select {
	case <-ready:
	case <-time.After(10 * time.Second):
		cmd.Process.Kill()
		cmd.Wait()
		t.Fatal("tcpdump did not start listening within 10 s")
	}
	stopped := false
	stop := func() {
		if stopped {
			return
		}
		stopped = true
		// tcpdump writes each packet as it reads it (-U): wait until the
		// file stops growing, so that what it still had queued is written
		// before it is stopped.
		last, still := int64(-1), 0
		for deadline := time.Now().Add(10 * time.Second); still < 5 && time.Now().Before(deadline); {
			time.Sleep(100 * time.Millisecond)
			fi, err := os.Stat(file)
			if err == nil && fi.Size() == last {
				still++
			} else if err == nil {
				last, still = fi.Size(), 0
			}
		}
		cmd.Process.Signal(syscall.SIGINT)
		<-done
		cmd.Wait()
		if dropped != 0 {
			t.Errorf("tcpdump dropped %d packets: the capture is not complete", dropped)
		}
	}
	t.Cleanup(stop)
	return stop
}
