//go:build unix

package main

import (
	"bytes"
	"errors"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/wringcap/wring/capture"
	"github.com/wringcap/wring/capture/sample"
)

// wringProcess returns a command running wring with args: this test
// binary with asWring set, for what only a process shows (pipes, signals,
// exit status).
func wringProcess(args ...string) *exec.Cmd {
	cmd := exec.Command(os.Args[0], args...)
	cmd.Env = append(os.Environ(), asWring+"=1")
	return cmd
}

// bigCapture writes the sample's packets n times over into one pcap file.
func bigCapture(t *testing.T, n int) string {
	t.Helper()
	b := append([]byte(nil), sample.Pcap...)
	for range n - 1 {
		b = append(b, sample.Pcap[24:]...)
	}
	f := filepath.Join(t.TempDir(), "big.pcap")
	if err := os.WriteFile(f, b, 0o644); err != nil {
		t.Fatal(err)
	}
	return f
}

// TestOutputIntoClosedPipe: with -w /dev/stdout (or --events /dev/stdout)
// into a pipe whose reader leaves after a few bytes, as `| head` does,
// wring exits promptly with one message. It used to open the path
// read-write, hold the pipe's read end itself and block forever.
func TestOutputIntoClosedPipe(t *testing.T) {
	big := bigCapture(t, 20)
	for _, args := range [][]string{
		{"read", "-r", big, "-w", "/dev/stdout"},
		{"read", "-r", big, "--analyzer", "dns", "--analyzer", "http", "--events", "/dev/stdout", "-w", os.DevNull},
		{"read", "-r", big, "-w", "-"},
		{"read", "-r", big},
	} {
		t.Run(strings.Join(args[3:], " "), func(t *testing.T) {
			pr, pw, err := os.Pipe()
			if err != nil {
				t.Fatal(err)
			}
			cmd := wringProcess(args...)
			var stderr bytes.Buffer
			cmd.Stdout, cmd.Stderr = pw, &stderr
			if err := cmd.Start(); err != nil {
				t.Fatal(err)
			}
			pw.Close()
			buf := make([]byte, 100)
			if _, err := io.ReadFull(pr, buf); err != nil {
				t.Fatalf("reading the first bytes: %v", err)
			}
			pr.Close() // head exits
			done := make(chan error, 1)
			go func() { done <- cmd.Wait() }()
			select {
			case err := <-done:
				var ee *exec.ExitError
				if !errors.As(err, &ee) {
					t.Fatalf("exit status 0 after the pipe closed: %v\n%s", err, stderr.String())
				}
				// Writing to standard output itself, the process dies of
				// SIGPIPE as every Unix filter does; writing to a file it
				// opened, it reports the error once.
				if ws, ok := ee.Sys().(syscall.WaitStatus); ok && ws.Signaled() {
					if ws.Signal() != syscall.SIGPIPE {
						t.Errorf("killed by %v", ws.Signal())
					}
					return
				}
				msgs := errorLines(stderr.String())
				if len(msgs) != 1 || !strings.Contains(msgs[0], "broken pipe") {
					t.Errorf("want one message about the broken pipe, got %q\n%s", msgs, stderr.String())
				}
			case <-time.After(30 * time.Second):
				cmd.Process.Kill()
				<-done
				t.Fatalf("still running 30 s after the reader left\n%s", stderr.String())
			}
		})
	}
}

// TestWriteErrorsEndTheRun: a full device (or a failing standard output)
// ends the run with exit status 1 and one message, which names the output
// and says what was written; the summary comes first.
func TestWriteErrorsEndTheRun(t *testing.T) {
	if _, err := os.Stat("/dev/full"); err != nil {
		t.Skip("no /dev/full on this system")
	}
	for _, c := range []struct {
		args []string
		out  io.Writer
		want string
	}{
		{[]string{"read", "-w", "/dev/full"}, nil, "-w /dev/full: 0 bytes written, then write /dev/full: no space left on device"},
		{[]string{"read", "--analyzer", "dns", "--events", "/dev/full", "-w", os.DevNull}, nil, "--events /dev/full: 0 bytes written, then write /dev/full: no space left on device"},
		{[]string{"read", "--analyzer", "http", "--count"}, fullWriter{}, "analyzer events (standard output): 0 bytes written, then no space left on device"},
		{[]string{"read"}, fullWriter{}, "standard output: 0 bytes written, then no space left on device"},
		{[]string{"read", "--json"}, fullWriter{}, "standard output: 0 bytes written, then no space left on device"},
		{[]string{"read", "-w", "-"}, fullWriter{}, "-w - (standard output): 0 bytes written, then no space left on device"},
	} {
		var out bytes.Buffer
		var errw bytes.Buffer
		w := c.out
		if w == nil {
			w = &out
		}
		code := run(c.args, nil, w, &errw)
		msgs := errorLines(errw.String())
		if code != 1 || len(msgs) != 1 || !strings.Contains(msgs[0], c.want) {
			t.Errorf("%v: exit %d, messages %q; want exit 1 and one message with %q\n%s", c.args, code, msgs, c.want, errw.String())
			continue
		}
		if i, j := strings.Index(errw.String(), "packets captured"), strings.Index(errw.String(), msgs[0]); i < 0 || i > j {
			t.Errorf("%v: the summary does not come before the message:\n%s", c.args, errw.String())
		}
	}
}

// fullWriter fails every write as a full disk does.
type fullWriter struct{}

func (fullWriter) Write([]byte) (int, error) { return 0, syscall.ENOSPC }

// TestEventsNeedTheirOwnStream: analyzer events go to standard output only
// when the packets do not.
func TestEventsNeedTheirOwnStream(t *testing.T) {
	var out, errw bytes.Buffer
	code := run([]string{"read", "--analyzer", "dns"}, nil, &out, &errw)
	if code != 2 || !strings.Contains(errw.String(), "give --events FILE") || out.Len() != 0 {
		t.Errorf("events and text on stdout: exit %d, stdout %d bytes, stderr %q", code, out.Len(), errw.String())
	}
	out.Reset()
	errw.Reset()
	code = run([]string{"read", "--analyzer", "dns", "-w", os.DevNull}, nil, &out, &errw)
	if code != 0 || !strings.Contains(out.String(), `"analyzer":"dns"`) {
		t.Errorf("events alone on stdout: exit %d, stdout %q, stderr %q", code, out.String(), errw.String())
	}
}

// TestInfoSignal: SIGUSR1 prints the counters while the run goes on.
func TestInfoSignal(t *testing.T) {
	pr, pw, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	cmd := wringProcess("read", "-r", "-", "-w", os.DevNull)
	stderr := &syncBuffer{}
	cmd.Stdin, cmd.Stderr = pr, stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	pr.Close()
	// The header and some packets, then nothing: wring waits for more.
	pw.Write(sample.Pcap[:4096])
	deadline := time.Now().Add(10 * time.Second)
	for time.Now().Before(deadline) && !strings.Contains(stderr.String(), "reading from file") {
		time.Sleep(20 * time.Millisecond)
	}
	time.Sleep(200 * time.Millisecond)
	cmd.Process.Signal(syscall.SIGUSR1)
	time.Sleep(500 * time.Millisecond)
	pw.Write(sample.Pcap[4096:])
	pw.Close()
	if err := cmd.Wait(); err != nil {
		t.Fatalf("%v\n%s", err, stderr.String())
	}
	if n := strings.Count(stderr.String(), "packets received by filter"); n != 2 {
		t.Errorf("the counters were printed %d times, want 2 (SIGUSR1 and the end):\n%s", n, stderr.String())
	}
}

// syncBuffer is a buffer a process writes while the test reads it.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// TestOutputSinkUsesRecord: the pipeline parses packets only for a stage
// that reads the parse record; a pcap file written with -w (rotated, or
// flushed with -U, or not) does not, text and JSON output do.
func TestOutputSinkUsesRecord(t *testing.T) {
	dir := t.TempDir()
	for _, tc := range []struct {
		name string
		o    output
		want bool
	}{
		{"-w", output{Write: filepath.Join(dir, "a.pcap")}, false},
		{"-w -U", output{Write: filepath.Join(dir, "b.pcap"), Flush: true}, false},
		{"-w -C", output{Write: filepath.Join(dir, "c.pcap"), FileSize: 1}, false},
		{"--pcapng", output{Write: filepath.Join(dir, "d.pcapng"), PcapNG: true}, false},
		{"--count", output{CountOnly: true}, false},
		{"text", output{}, true},
		{"--json", output{JSON: true}, true},
	} {
		var out, errw bytes.Buffer
		sk, err := tc.o.sink(&streams{Out: &out, Err: &errw})
		if err != nil {
			t.Fatalf("%s: %v", tc.name, err)
		}
		var s capture.Sink = sk
		u, ok := s.(capture.RecordUser)
		if !ok {
			t.Fatalf("%s: the output sink does not say whether it reads the record", tc.name)
		}
		if got := u.UsesRecord(); got != tc.want {
			t.Errorf("%s: UsesRecord() = %v, want %v", tc.name, got, tc.want)
		}
		sk.Close()
	}
}
