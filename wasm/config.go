package wasm

import (
	"io"
	"log/slog"
	"time"
)

// Config is the host's configuration. It is immutable: each With method
// returns a modified copy and never fails. The zero Config is not valid; start
// from NewConfig.
//
//	cfg := wasm.NewConfig().WithMemoryLimitPages(256).WithFailClosed(true)
type Config struct {
	memoryPages     uint32
	fuel            int64
	initFuel        int64
	maxModuleSize   int
	compileTimeout  time.Duration
	failClosed      bool
	quarantineAfter int
	quarantineIn    time.Duration
	cacheDir        string
	events          io.Writer
	logger          *slog.Logger
	sinks           []string
	tick            time.Duration
	logLines        int
	interpreter     bool
	unmetered       bool // tests only: no fuel rewrite, to measure its cost
}

// Defaults, chosen for Go guests (the largest): see RATIONALE.md.
const (
	DefaultMemoryLimitPages = 1024             // 64 MiB
	DefaultFuel             = 50_000_000       // units per wring_process call
	DefaultInitFuel         = 2_000_000_000    // units for instantiation and wring_init
	DefaultMaxModuleSize    = 8 << 20          // bytes
	DefaultCompileTimeout   = 30 * time.Second // per module
	DefaultQuarantineAfter  = 5                // failures...
	DefaultQuarantineWindow = time.Minute      // ...within this window
	DefaultTickInterval     = 10 * time.Second // of capture time, for wring_tick
	DefaultLogLines         = 20               // guest log lines per second per analyzer
)

// NewConfig returns the default configuration.
func NewConfig() Config {
	return Config{
		memoryPages:     DefaultMemoryLimitPages,
		fuel:            DefaultFuel,
		initFuel:        DefaultInitFuel,
		maxModuleSize:   DefaultMaxModuleSize,
		compileTimeout:  DefaultCompileTimeout,
		quarantineAfter: DefaultQuarantineAfter,
		quarantineIn:    DefaultQuarantineWindow,
		tick:            DefaultTickInterval,
		logLines:        DefaultLogLines,
		logger:          slog.Default(),
	}
}

// WithMemoryLimitPages caps each instance's linear memory at n 64 KiB pages.
// A module whose declared minimum is larger fails to load; memory.grow past
// the cap returns -1 to the guest.
func (c Config) WithMemoryLimitPages(n uint32) Config {
	if n == 0 || n > 65536 {
		n = DefaultMemoryLimitPages
	}
	c.memoryPages = n
	return c
}

// WithFuel sets the fuel of each wring_process and wring_tick call. One unit
// is about one Wasm instruction (see the fuel package); a call that runs out
// traps with ErrFuel.
func (c Config) WithFuel(units int64) Config {
	if units <= 0 {
		units = DefaultFuel
	}
	c.fuel = units
	return c
}

// WithInitFuel sets the fuel of instantiation, _initialize and wring_init.
func (c Config) WithInitFuel(units int64) Config {
	if units <= 0 {
		units = DefaultInitFuel
	}
	c.initFuel = units
	return c
}

// WithMaxModuleSize caps the size of a module's binary.
func (c Config) WithMaxModuleSize(bytes int) Config {
	if bytes <= 0 {
		bytes = DefaultMaxModuleSize
	}
	c.maxModuleSize = bytes
	return c
}

// WithCompileTimeout bounds the compilation of one module. On timeout the
// load fails with ErrCompileTimeout and the compilation is abandoned.
func (c Config) WithCompileTimeout(d time.Duration) Config {
	if d <= 0 {
		d = DefaultCompileTimeout
	}
	c.compileTimeout = d
	return c
}

// WithFailClosed chooses the verdict for the packets of a batch an analyzer
// failed on (trap, fuel, ABI violation) or skipped (quarantined): drop them
// when true, no opinion (fail open, the default) when false.
func (c Config) WithFailClosed(closed bool) Config {
	c.failClosed = closed
	return c
}

// WithQuarantine quarantines an analyzer after n failures within window. A
// quarantined analyzer is skipped (its batches get the fail policy) until it
// is reloaded.
func (c Config) WithQuarantine(n int, window time.Duration) Config {
	if n <= 0 {
		n = DefaultQuarantineAfter
	}
	if window <= 0 {
		window = DefaultQuarantineWindow
	}
	c.quarantineAfter, c.quarantineIn = n, window
	return c
}

// WithCompilationCacheDir keeps compiled native code in dir, so the next
// process loads the same module without compiling it.
func (c Config) WithCompilationCacheDir(dir string) Config {
	c.cacheDir = dir
	return c
}

// WithEvents sets where events go, as JSON lines. Without it events are
// counted and discarded.
func (c Config) WithEvents(w io.Writer) Config {
	c.events = w
	return c
}

// WithLogger sets the logger for guest log lines and host events (traps,
// quarantines, reloads).
func (c Config) WithLogger(l *slog.Logger) Config {
	if l == nil {
		l = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	c.logger = l
	return c
}

// WithSinks names the sinks packets can be forwarded to, in index order
// (packet.Verdict.Sink). An analyzer that declares a sink not in this list
// fails to load.
func (c Config) WithSinks(names ...string) Config {
	c.sinks = append([]string(nil), names...)
	return c
}

// WithTickInterval sets how much capture time passes between wring_tick calls
// of analyzers that ask for them.
func (c Config) WithTickInterval(d time.Duration) Config {
	if d <= 0 {
		d = DefaultTickInterval
	}
	c.tick = d
	return c
}

// WithInterpreter runs guests on wazero's interpreter instead of its compiler
// (for platforms without the compiler, and for differential tests).
func (c Config) WithInterpreter(on bool) Config {
	c.interpreter = on
	return c
}
