package wasm

import (
	"io"
	"log/slog"
	"time"

	"github.com/wringcap/wring/capture/stream"
)

// Config is the host's configuration. It is immutable: each With method
// returns a modified copy and never fails. The zero Config is not valid; start
// from NewConfig.
//
//	cfg := wasm.NewConfig().WithMemoryLimitPages(256).WithFailClosed(true)
type Config struct {
	made            bool // by NewConfig: the zero Config is refused
	memoryPages     uint32
	stackSlots      int64
	fuel            int64
	initFuel        int64
	maxModuleSize   int
	loadTimeout     time.Duration
	loadBudget      int64
	callTimeout     time.Duration
	stopGrace       time.Duration
	eventsPerCall   int
	eventBytes      int
	failClosed      bool
	quarantineAfter int
	quarantineIn    time.Duration
	cacheDir        string
	events          io.Writer
	eventFlows      bool
	logger          *slog.Logger
	sinks           []string
	tick            time.Duration
	logLines        int
	interpreter     bool
	loadQuarantine  bool
	unmetered       bool // tests only: no fuel rewrite, to measure its cost
	streams         stream.Config
	stageBytes      int
	stageChunks     int
	flows           flowConfig // the flow table and quota (flowrules.go)
}

// Defaults, chosen for Go guests (the largest): see RATIONALE.md.
const (
	DefaultMemoryLimitPages = 1024             // 64 MiB
	DefaultCallStackSlots   = 1 << 20          // 8-byte slots of estimated call frames: 8 MiB
	DefaultFuel             = 50_000_000       // units per wring_process call
	DefaultInitFuel         = 2_000_000_000    // units for instantiation and wring_init
	DefaultMaxModuleSize    = 8 << 20          // bytes
	DefaultLoadTimeout      = 60 * time.Second // per module, the whole load pipeline
	DefaultCompileTimeout   = DefaultLoadTimeout
	DefaultLoadMemoryBudget = 512 << 20   // bytes a module may make the host allocate while it loads
	DefaultCallTimeout      = time.Second // wall clock per wring_process or wring_tick call
	DefaultStopGrace        = 250 * time.Millisecond
	DefaultEventsPerCall    = 1024             // events kept per wring_process call (a tick round: 4 times as many)
	DefaultEventBytes       = 256 << 10        // bytes of JSON lines kept per wring_process call (a tick round: 4 times as many)
	DefaultQuarantineAfter  = 5                // failures...
	DefaultQuarantineWindow = time.Minute      // ...within this window
	DefaultTickInterval     = 10 * time.Second // of capture time, for wring_tick
	DefaultLogLines         = 20               // guest log lines per second per analyzer
	DefaultStageBytes       = 1 << 20          // bytes of stream chunks staged per worker
	DefaultStageChunks      = 8192             // stream chunks staged per worker
)

// NewConfig returns the default configuration.
func NewConfig() Config {
	return Config{
		made:            true,
		memoryPages:     DefaultMemoryLimitPages,
		stackSlots:      DefaultCallStackSlots,
		fuel:            DefaultFuel,
		initFuel:        DefaultInitFuel,
		maxModuleSize:   DefaultMaxModuleSize,
		loadTimeout:     DefaultLoadTimeout,
		loadBudget:      DefaultLoadMemoryBudget,
		callTimeout:     DefaultCallTimeout,
		stopGrace:       DefaultStopGrace,
		eventsPerCall:   DefaultEventsPerCall,
		eventBytes:      DefaultEventBytes,
		quarantineAfter: DefaultQuarantineAfter,
		quarantineIn:    DefaultQuarantineWindow,
		tick:            DefaultTickInterval,
		logLines:        DefaultLogLines,
		logger:          slog.Default(),
		stageBytes:      DefaultStageBytes,
		stageChunks:     DefaultStageChunks,
	}
}

// WithStreams sets the bounds of the TCP reassembler each worker runs for
// the analyzers that take streams (zero fields keep capture/stream's
// defaults), and of the staging buffer its chunks wait in until they are
// copied into the analyzers' stream areas: stageBytes bytes and stageChunks
// chunks (0 keeps DefaultStageBytes and DefaultStageChunks). When staging
// fills up, the worker hands what it holds over at once and starts again,
// so nothing is dropped; such handovers are counted (StreamStats).
func (c Config) WithStreams(cfg stream.Config, stageBytes, stageChunks int) Config {
	c.streams = cfg
	if stageBytes <= 0 {
		stageBytes = DefaultStageBytes
	}
	if stageChunks <= 0 {
		stageChunks = DefaultStageChunks
	}
	c.stageBytes, c.stageChunks = max(stageBytes, 64<<10), max(stageChunks, 16)
	return c
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

// WithCallStackSlots caps the guest's call stack: every call takes its
// callee's estimated frame (8-byte slots: 4 + parameters + locals) from a
// budget of n slots and gives it back on return, and a call past the budget
// traps with a stack overflow. This bounds the memory the engine's call
// stack can take (wazero would otherwise let it grow to about 400 MB).
func (c Config) WithCallStackSlots(n int64) Config {
	if n <= 0 {
		n = DefaultCallStackSlots
	}
	c.stackSlots = n
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

// WithLoadTimeout bounds the whole load of one module: size check, fuel
// rewrite, compilation, instantiation, _initialize and wring_init. On timeout
// the load fails with ErrLoadTimeout; work that cannot be stopped (the
// rewrite, wazero's compiler) is abandoned and releases what it holds when
// it ends.
func (c Config) WithLoadTimeout(d time.Duration) Config {
	if d <= 0 {
		d = DefaultLoadTimeout
	}
	c.loadTimeout = d
	return c
}

// WithCompileTimeout is the old name of WithLoadTimeout, from when the bound
// covered compilation only.
//
// Deprecated: use WithLoadTimeout.
func (c Config) WithCompileTimeout(d time.Duration) Config { return c.WithLoadTimeout(d) }

// WithLoadMemoryBudget caps what loading one module may make the host
// allocate, as computed from the module before anything is allocated: its
// declared linear memory minimum, its tables' declared minimum elements (8
// bytes each) and its code (32 bytes per byte while it is rewritten and
// compiled). A module over the budget fails to load with ErrBudget.
func (c Config) WithLoadMemoryBudget(bytes int64) Config {
	if bytes <= 0 {
		bytes = DefaultLoadMemoryBudget
	}
	c.loadBudget = bytes
	return c
}

// WithCallTimeout sets the wall-clock backstop of each wring_process and
// wring_tick call. A call still running after d is interrupted at its next
// function entry, call return or host call (a loop without calls is bounded
// by its fuel) and fails with ErrTimeout. The check runs on another
// goroutine, so the calls themselves pay nothing for it.
func (c Config) WithCallTimeout(d time.Duration) Config {
	if d <= 0 {
		d = DefaultCallTimeout
	}
	c.callTimeout = d
	return c
}

// WithEventLimits caps the events one wring_process call may write: at most
// events events and bytes bytes of JSON lines. Events past either cap are
// not written and are counted in Stats.EventsLost and Stats.EventsOverCap.
// A round of wring_tick (a guest flushing what many calls gathered) may
// write 4 times as much, and all the rounds of one tick together 64 rounds'
// worth; past that the tick ends and the guest keeps the rest for the next
// one.
func (c Config) WithEventLimits(events, bytes int) Config {
	if events <= 0 {
		events = DefaultEventsPerCall
	}
	if bytes <= 0 {
		bytes = DefaultEventBytes
	}
	c.eventsPerCall, c.eventBytes = events, bytes
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
// quarantines, reloads). A nil logger discards them; NewConfig starts with
// slog.Default().
func (c Config) WithLogger(l *slog.Logger) Config {
	if l == nil {
		l = slog.New(slog.DiscardHandler)
	}
	c.logger = l
	return c
}

// WithLoadFailuresQuarantined makes NewHost keep going when an analyzer
// fails to load: that analyzer starts quarantined (its packets get the fail
// policy and count in Stats.QuarantinedPackets), the error is logged and kept
// in Stats.LoadError, and Reload can still bring it in. The other analyzers
// run. Without it (the default) NewHost fails on the first load error.
func (c Config) WithLoadFailuresQuarantined(on bool) Config {
	c.loadQuarantine = on
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
