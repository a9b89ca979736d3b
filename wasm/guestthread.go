package wasm

import (
	"context"

	"github.com/tetratelabs/wazero/api"
)

// Guest code and the garbage collector.
//
// Code that wazero compiles has no safe point of the Go runtime: a
// goroutine running it can be stopped (for a stop-the-world phase, or to
// scan its stack in the mark phase) only when the guest calls into Go: a
// host call, or the memory.grow by which a metered guest yields at the end
// of each fuel slice (wasm/internal/fuel). Until then the runtime keeps
// asking: it marks the goroutine for preemption and sends its thread a
// preemption signal (SIGURG), and sends the next as soon as the last was
// handled (every few microseconds while a stack scan waits, every 100µs
// while a stop-the-world waits). Each signal interrupts the guest, finds
// no Go code to stop, and returns. Where a signal costs about as much as
// that interval (a virtualised or loaded machine, a race-enabled binary),
// the guest makes almost no progress between two of them, never reaches
// the end of its slice, and the collection waits on it for as long as the
// signals keep coming: every goroutine of the process, the backstop that
// would stop the guest among them, stands still.
//
// So the thread that runs guest code blocks that one signal for the
// duration of the call (runGuest): a request made meanwhile stays pending,
// the guest runs at full speed to its next call into Go, and there the
// runtime stops it synchronously (the request also marked the goroutine,
// which the next Go function prologue checks). The pending signal is
// delivered when the call returns and the mask is lifted. The goroutine
// keeps its thread for the call, so the mask never outlives it on a thread
// that runs other goroutines. Off Linux the mask is not changed.
//
// wazero's interpreter is Go code, which the runtime preempts with that
// same signal: an instance on the interpreter (Config.WithInterpreter)
// runs with the mask unchanged.

//
// The mask costs two system calls. Worker.Handle pays them once for all the
// calls of a batch (every analyzer, every call, tick and stream delivery)
// and tells the calls so (held); other calls (loading, the final ticks and
// flushes of Close) pay them each.

// run calls f with the instance's stack, on a thread set up for guest code
// when the instance runs compiled code; held says the caller set the thread
// up already (Worker.Handle).
func (in *instance) run(f api.Function, held bool) error {
	if held || !in.compiled {
		return f.CallWithStack(in.ctx, in.stack)
	}
	return runGuest(in.ctx, f, in.stack)
}

// runGuest calls f on the stack, with the thread set up for guest code.
func runGuest(ctx context.Context, f api.Function, stack []uint64) error {
	defer leaveGuest(enterGuest())
	return f.CallWithStack(ctx, stack)
}
