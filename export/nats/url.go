package nats

import (
	"errors"
	"fmt"
	"net"
	"net/url"
	"strconv"
	"strings"
	"time"
)

// Defaults and bounds of the options a URL can set.
const (
	DefaultPrefix   = "wring"
	DefaultBuffer   = 65536
	MaxBuffer       = 1 << 22
	DefaultWindow   = 256
	MaxWindow       = 65536
	DefaultWait     = 10 * time.Second
	DefaultDrain    = 30 * time.Second
	DefaultAck      = 5 * time.Second
	DefaultReplicas = 1
	MaxReplicas     = 5
	maxURLLen       = 4096
	maxServers      = 32
)

// Config says where events go and how they are buffered. ParseURL fills
// one from `--events nats://...`; every field has a bound it checks.
type Config struct {
	Servers  []string      // nats://host:port of each seed server (credentials kept)
	Stream   string        // the JetStream stream that must store the subjects
	Prefix   string        // first subject token ("wring")
	Host     string        // second subject token; the host name when empty
	Run      string        // run id in message ids; random when empty
	Buffer   int           // events held in memory, unacknowledged ones included
	Window   int           // publishes awaiting an acknowledgement at once
	Wait     time.Duration // how long a write waits for buffer room before dropping
	Drain    time.Duration // how long Close waits for outstanding acknowledgements
	Ack      time.Duration // how long one publish waits for its acknowledgement
	Replicas int           // replicas when the stream has to be created
	Create   bool          // create the stream when it does not exist
}

// ErrURL is wrapped by every error of ParseURL.
var ErrURL = errors.New("bad nats events URL")

// IsURL reports whether s names a NATS destination rather than a file.
func IsURL(s string) bool {
	return strings.HasPrefix(strings.ToLower(s), "nats://")
}

// ParseURL parses nats://HOST:PORT[,HOST:PORT...]/STREAM[?option=value&...]
// (spec/NATS.md lists the options). Errors name the part of the URL at
// fault and wrap ErrURL.
func ParseURL(s string) (Config, error) {
	cfg := Config{Prefix: DefaultPrefix, Buffer: DefaultBuffer, Window: DefaultWindow, Wait: DefaultWait,
		Drain: DefaultDrain, Ack: DefaultAck, Replicas: DefaultReplicas, Create: true}
	bad := func(format string, a ...any) (Config, error) {
		return Config{}, fmt.Errorf("%w %q: %s", ErrURL, redact(s), fmt.Sprintf(format, a...))
	}
	if len(s) > maxURLLen {
		return Config{}, fmt.Errorf("%w: %d bytes, at most %d", ErrURL, len(s), maxURLLen)
	}
	if !IsURL(s) {
		return bad("want nats://HOST:PORT/STREAM")
	}
	rest := s[len("nats://"):]
	hosts, path, _ := strings.Cut(rest, "/")
	path, query, _ := strings.Cut(path, "?")
	if i := strings.IndexByte(hosts, '?'); i >= 0 {
		return bad("no /STREAM before the options")
	}
	var user string
	if at := strings.LastIndexByte(hosts, '@'); at >= 0 {
		user, hosts = hosts[:at+1], hosts[at+1:]
	}
	if hosts == "" {
		return bad("no HOST:PORT")
	}
	for i, h := range strings.Split(hosts, ",") {
		if i >= maxServers {
			return bad("more than %d servers", maxServers)
		}
		host, port, err := net.SplitHostPort(h)
		if err != nil {
			return bad("server %d %q: want HOST:PORT", i+1, h)
		}
		if host == "" {
			return bad("server %d %q: empty host", i+1, h)
		}
		if strings.ContainsAny(host, " /\\@?#") {
			return bad("server %d %q: bad host", i+1, h)
		}
		if n, err := strconv.Atoi(port); err != nil || n < 1 || n > 65535 {
			return bad("server %d %q: port %q is not 1 to 65535", i+1, h, port)
		}
		cfg.Servers = append(cfg.Servers, "nats://"+user+net.JoinHostPort(host, port))
	}
	if path == "" {
		return bad("no /STREAM")
	}
	if err := checkStreamName(path); err != nil {
		return bad("stream %q: %v", path, err)
	}
	cfg.Stream = path
	if query == "" {
		return cfg, nil
	}
	vals, err := url.ParseQuery(query)
	if err != nil {
		return bad("options: %v", err)
	}
	for k, v := range vals {
		if len(v) != 1 {
			return bad("option %s given %d times", k, len(v))
		}
		val := v[0]
		var err error
		switch k {
		case "prefix":
			err = checkToken(val)
			cfg.Prefix = val
		case "host":
			err = checkToken(val)
			cfg.Host = val
		case "run":
			err = checkToken(val)
			cfg.Run = val
		case "buffer":
			cfg.Buffer, err = intIn(val, 1, MaxBuffer)
		case "window":
			cfg.Window, err = intIn(val, 1, MaxWindow)
		case "replicas":
			cfg.Replicas, err = intIn(val, 1, MaxReplicas)
		case "wait":
			cfg.Wait, err = durationIn(val, 0, time.Hour)
		case "drain":
			cfg.Drain, err = durationIn(val, 0, time.Hour)
		case "ack":
			cfg.Ack, err = durationIn(val, time.Millisecond, time.Hour)
		case "create":
			cfg.Create, err = strconv.ParseBool(val)
		default:
			return bad("unknown option %q (prefix, host, run, buffer, window, wait, drain, ack, replicas, create)", k)
		}
		if err != nil {
			return bad("option %s=%q: %v", k, val, err)
		}
	}
	return cfg, nil
}

// Redacted is the first server with any password replaced, and the stream:
// what messages and reports show.
func (c Config) Redacted() string {
	if len(c.Servers) == 0 {
		return "nats://?/" + c.Stream
	}
	more := ""
	if len(c.Servers) > 1 {
		more = fmt.Sprintf(" (+%d)", len(c.Servers)-1)
	}
	return redact(c.Servers[0]) + "/" + c.Stream + more
}

// redact hides the password of a URL's user information.
func redact(s string) string {
	i := strings.Index(s, "://")
	if i < 0 {
		return s
	}
	at := strings.LastIndexByte(s, '@')
	if at < i {
		return s
	}
	userinfo := s[i+3 : at]
	if u, _, ok := strings.Cut(userinfo, ":"); ok {
		return s[:i+3] + u + ":xxxxx" + s[at:]
	}
	return s
}

func intIn(s string, lo, hi int) (int, error) {
	n, err := strconv.Atoi(s)
	if err != nil {
		return 0, errors.New("not an integer")
	}
	if n < lo || n > hi {
		return 0, fmt.Errorf("want %d to %d", lo, hi)
	}
	return n, nil
}

func durationIn(s string, lo, hi time.Duration) (time.Duration, error) {
	d, err := time.ParseDuration(s)
	if err != nil {
		return 0, errors.New("not a duration (e.g. 5s)")
	}
	if d < lo || d > hi {
		return 0, fmt.Errorf("want %v to %v", lo, hi)
	}
	return d, nil
}

// checkToken accepts a subject token wring writes as given: 1 to 64 of
// A-Z a-z 0-9 _ -.
func checkToken(s string) error {
	if s == "" || len(s) > maxToken {
		return fmt.Errorf("want 1 to %d characters", maxToken)
	}
	for i := 0; i < len(s); i++ {
		if !tokenByte(s[i]) {
			return fmt.Errorf("character %q at %d: want A-Z, a-z, 0-9, _ or -", s[i], i)
		}
	}
	return nil
}

// checkStreamName accepts JetStream's stream names: no whitespace, '.',
// '*', '>', path separators; at most 255 bytes.
func checkStreamName(s string) error {
	if len(s) > 255 {
		return errors.New("longer than 255 bytes")
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c <= ' ' || c >= 0x7f || strings.IndexByte(".*>/\\", c) >= 0 {
			return fmt.Errorf("character %q at %d is not allowed in a stream name", c, i)
		}
	}
	return nil
}
