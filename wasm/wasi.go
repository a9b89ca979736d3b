package wasm

import (
	"context"
	"encoding/binary"
	"time"

	"github.com/tetratelabs/wazero"
	"github.com/tetratelabs/wazero/api"
)

// The host's own wasi_snapshot_preview1: every function of the snapshot, so
// any module built for WASI links, but none gives access to anything outside
// the instance. Each charges the calling instance's fuel before it does any
// work: hostCallCost for the call, plus its work in proportion (bytes
// written into guest memory, iovecs read, subscriptions answered). A call
// the fuel cannot pay for traps with ErrFuel; a call made after the host
// decided to stop the instance traps with ErrTimeout or ErrInterrupted.
//
// What each function does:
//   - args, environ: empty.
//   - clock_time_get: monotonic time since the host started; the realtime
//     clock is the same offset from 2022-01-01T00:00:00Z, so a guest never
//     learns the real time of day.
//   - random_get: a per-instance ChaCha8 stream seeded from crypto/rand.
//   - fd_write on stdout and stderr: reports every byte written and
//     discards them at once (the iovecs are read for their lengths, at most
//     maxIovecs of them); fd_read on stdin: end of file.
//   - poll_oneoff: answers every subscription at once, without sleeping (a
//     clock subscription has expired, an fd subscription gets EBADF or,
//     for stdio, is ready).
//   - sched_yield: returns at once.
//   - proc_exit: ends the call with a trap naming the exit code.
//   - everything else: EBADF (file descriptors other than 0..2 do not
//     exist), ESPIPE (seeking stdio) or ENOSYS.

// Fuel costs of host calls, in units (about one Wasm instruction each).
const (
	hostCallCost     = 100 // every host call, before any work
	hostByteCost     = 1   // per byte the call writes into or reads from guest memory
	hostIovecCost    = 8   // per iovec fd_write reads
	hostPollSubCost  = 32  // per poll_oneoff subscription
	maxIovecs        = 1024
	maxPollSubs      = 1024
	pollSubSize      = 48
	pollEventSize    = 32
	wasiEpochSeconds = 1640995200 // 2022-01-01T00:00:00Z, the realtime clock's zero
)

// WASI errno values (wasi_snapshot_preview1).
const (
	errnoSuccess = 0
	errnoBadf    = 8
	errnoFault   = 21
	errnoInval   = 28
	errnoNosys   = 52
	errnoSpipe   = 70
)

const wasiModule = "wasi_snapshot_preview1"

// wasiImpl implements one WASI function for the calling instance in.
type wasiImpl func(h *Host, in *instance, mod api.Module, stack []uint64) uint32

// wasiFunc is one WASI function: its parameter count (all i32 unless listed
// in i64), whether it returns an errno, and its implementation.
type wasiFunc struct {
	name    string
	params  int
	i64     []int // indexes of i64 parameters
	noErrno bool  // proc_exit returns nothing
	fn      wasiImpl
}

// fdOnly returns a function that answers EBADF for every descriptor but
// stdio, and stdio for the operations that make no sense on it.
func fdOnly(stdio uint32) wasiImpl {
	return func(_ *Host, _ *instance, _ api.Module, stack []uint64) uint32 {
		if uint32(stack[0]) <= 2 {
			return stdio
		}
		return errnoBadf
	}
}

func constErrno(e uint32) wasiImpl {
	return func(*Host, *instance, api.Module, []uint64) uint32 { return e }
}

var wasiFuncs = []wasiFunc{
	{name: "args_get", params: 2, fn: constErrno(errnoSuccess)},
	{name: "args_sizes_get", params: 2, fn: wasiZeroSizes},
	{name: "environ_get", params: 2, fn: constErrno(errnoSuccess)},
	{name: "environ_sizes_get", params: 2, fn: wasiZeroSizes},
	{name: "clock_res_get", params: 2, fn: wasiClockRes},
	{name: "clock_time_get", params: 3, i64: []int{1}, fn: wasiClockTime},
	{name: "fd_advise", params: 4, i64: []int{1, 2}, fn: fdOnly(errnoSuccess)},
	{name: "fd_allocate", params: 3, i64: []int{1, 2}, fn: fdOnly(errnoNosys)},
	{name: "fd_close", params: 1, fn: fdOnly(errnoSuccess)},
	{name: "fd_datasync", params: 1, fn: fdOnly(errnoSuccess)},
	{name: "fd_fdstat_get", params: 2, fn: wasiFdstat},
	{name: "fd_fdstat_set_flags", params: 2, fn: fdOnly(errnoNosys)},
	{name: "fd_fdstat_set_rights", params: 3, i64: []int{1, 2}, fn: fdOnly(errnoNosys)},
	{name: "fd_filestat_get", params: 2, fn: fdOnly(errnoNosys)},
	{name: "fd_filestat_set_size", params: 2, i64: []int{1}, fn: fdOnly(errnoNosys)},
	{name: "fd_filestat_set_times", params: 4, i64: []int{1, 2}, fn: fdOnly(errnoNosys)},
	{name: "fd_pread", params: 5, i64: []int{3}, fn: fdOnly(errnoSpipe)},
	{name: "fd_prestat_get", params: 2, fn: constErrno(errnoBadf)},
	{name: "fd_prestat_dir_name", params: 3, fn: constErrno(errnoBadf)},
	{name: "fd_pwrite", params: 5, i64: []int{3}, fn: fdOnly(errnoSpipe)},
	{name: "fd_read", params: 4, fn: wasiFdRead},
	{name: "fd_readdir", params: 5, i64: []int{3}, fn: fdOnly(errnoNosys)},
	{name: "fd_renumber", params: 2, fn: fdOnly(errnoNosys)},
	{name: "fd_seek", params: 4, i64: []int{1}, fn: fdOnly(errnoSpipe)},
	{name: "fd_sync", params: 1, fn: fdOnly(errnoSuccess)},
	{name: "fd_tell", params: 2, fn: fdOnly(errnoSpipe)},
	{name: "fd_write", params: 4, fn: wasiFdWrite},
	{name: "path_create_directory", params: 3, fn: constErrno(errnoBadf)},
	{name: "path_filestat_get", params: 5, fn: constErrno(errnoBadf)},
	{name: "path_filestat_set_times", params: 7, i64: []int{4, 5}, fn: constErrno(errnoBadf)},
	{name: "path_link", params: 7, fn: constErrno(errnoBadf)},
	{name: "path_open", params: 9, i64: []int{5, 6}, fn: constErrno(errnoBadf)},
	{name: "path_readlink", params: 6, fn: constErrno(errnoBadf)},
	{name: "path_remove_directory", params: 3, fn: constErrno(errnoBadf)},
	{name: "path_rename", params: 6, fn: constErrno(errnoBadf)},
	{name: "path_symlink", params: 5, fn: constErrno(errnoBadf)},
	{name: "path_unlink_file", params: 3, fn: constErrno(errnoBadf)},
	{name: "poll_oneoff", params: 4, fn: wasiPoll},
	{name: "proc_exit", params: 1, noErrno: true, fn: wasiExit},
	{name: "proc_raise", params: 1, fn: constErrno(errnoNosys)},
	{name: "random_get", params: 2, fn: wasiRandom},
	{name: "sched_yield", params: 0, fn: constErrno(errnoSuccess)},
	{name: "sock_accept", params: 3, fn: constErrno(errnoBadf)},
	{name: "sock_recv", params: 6, fn: constErrno(errnoBadf)},
	{name: "sock_send", params: 5, fn: constErrno(errnoBadf)},
	{name: "sock_shutdown", params: 2, fn: constErrno(errnoBadf)},
}

// instantiateWASI provides the host's WASI module in rt.
func (h *Host) instantiateWASI(ctx context.Context, rt wazero.Runtime) error {
	b := rt.NewHostModuleBuilder(wasiModule)
	for i := range wasiFuncs {
		f := &wasiFuncs[i]
		params := make([]api.ValueType, f.params)
		for k := range params {
			params[k] = api.ValueTypeI32
		}
		for _, k := range f.i64 {
			params[k] = api.ValueTypeI64
		}
		var results []api.ValueType
		if !f.noErrno {
			results = []api.ValueType{api.ValueTypeI32}
		}
		op := wasiModule + "." + f.name
		fn := f.fn
		noErrno := f.noErrno
		b = b.NewFunctionBuilder().WithGoModuleFunction(api.GoModuleFunc(func(ctx context.Context, mod api.Module, stack []uint64) {
			in := charge(ctx, mod, op, hostCallCost)
			e := fn(h, in, mod, stack)
			if !noErrno {
				stack[0] = uint64(e)
			}
		}), params, results).Export(f.name)
	}
	_, err := b.Instantiate(ctx)
	return err
}

// wasiZeroSizes writes two zero counts (no arguments, no environment).
func wasiZeroSizes(_ *Host, _ *instance, mod api.Module, stack []uint64) uint32 {
	m := mod.Memory()
	if !m.WriteUint32Le(uint32(stack[0]), 0) || !m.WriteUint32Le(uint32(stack[1]), 0) {
		return errnoFault
	}
	return errnoSuccess
}

func wasiClockRes(_ *Host, _ *instance, mod api.Module, stack []uint64) uint32 {
	if id := uint32(stack[0]); id > 3 {
		return errnoInval
	}
	if !mod.Memory().WriteUint64Le(uint32(stack[1]), 1) {
		return errnoFault
	}
	return errnoSuccess
}

func wasiClockTime(h *Host, _ *instance, mod api.Module, stack []uint64) uint32 {
	id := uint32(stack[0])
	t := uint64(time.Since(h.started))
	switch id {
	case 0: // realtime: not the real one
		t += wasiEpochSeconds * uint64(time.Second)
	case 1, 2, 3: // monotonic, process and thread CPU time
	default:
		return errnoInval
	}
	if !mod.Memory().WriteUint64Le(uint32(stack[2]), t) {
		return errnoFault
	}
	return errnoSuccess
}

// wasiFdstat describes stdio as character devices with no rights to seek.
func wasiFdstat(_ *Host, _ *instance, mod api.Module, stack []uint64) uint32 {
	if uint32(stack[0]) > 2 {
		return errnoBadf
	}
	b, ok := mod.Memory().Read(uint32(stack[1]), 24)
	if !ok {
		return errnoFault
	}
	clear(b)
	b[0] = 2 // character device
	rights := uint64(1 << 6)
	if uint32(stack[0]) == 0 {
		rights = 1 << 1 // fd_read
	}
	binary.LittleEndian.PutUint64(b[8:], rights)
	return errnoSuccess
}

// wasiFdRead reads nothing: stdin is at its end.
func wasiFdRead(_ *Host, _ *instance, mod api.Module, stack []uint64) uint32 {
	if uint32(stack[0]) != 0 {
		return errnoBadf
	}
	if !mod.Memory().WriteUint32Le(uint32(stack[3]), 0) {
		return errnoFault
	}
	return errnoSuccess
}

// wasiFdWrite discards a write to stdout or stderr, reporting it whole.
func wasiFdWrite(_ *Host, in *instance, mod api.Module, stack []uint64) uint32 {
	fd, iovs, n, out := uint32(stack[0]), uint32(stack[1]), uint32(stack[2]), uint32(stack[3])
	if fd != 1 && fd != 2 {
		return errnoBadf
	}
	if n > maxIovecs {
		return errnoInval
	}
	in.charge(mod, "wasi_snapshot_preview1.fd_write", int64(n)*hostIovecCost)
	vec, ok := mod.Memory().Read(iovs, n*8)
	if !ok {
		return errnoFault
	}
	var total uint64
	for i := uint32(0); i < n; i++ {
		total += uint64(binary.LittleEndian.Uint32(vec[i*8+4:]))
	}
	if total > 1<<31-1 {
		return errnoInval
	}
	if !mod.Memory().WriteUint32Le(out, uint32(total)) {
		return errnoFault
	}
	return errnoSuccess
}

// wasiPoll answers every subscription at once.
func wasiPoll(_ *Host, inst *instance, mod api.Module, stack []uint64) uint32 {
	subs, events, n, out := uint32(stack[0]), uint32(stack[1]), uint32(stack[2]), uint32(stack[3])
	if n == 0 || n > maxPollSubs {
		return errnoInval
	}
	inst.charge(mod, "wasi_snapshot_preview1.poll_oneoff", int64(n)*hostPollSubCost)
	m := mod.Memory()
	in, ok1 := m.Read(subs, n*pollSubSize)
	ev, ok2 := m.Read(events, n*pollEventSize)
	if !ok1 || !ok2 {
		return errnoFault
	}
	for i := uint32(0); i < n; i++ {
		s := in[i*pollSubSize:]
		userdata := binary.LittleEndian.Uint64(s)
		tag := s[8]
		fd := binary.LittleEndian.Uint32(s[16:])
		e := ev[i*pollEventSize : (i+1)*pollEventSize]
		clear(e)
		binary.LittleEndian.PutUint64(e, userdata)
		e[10] = tag
		switch {
		case tag == 0: // clock: expired
		case tag <= 2 && fd <= 2: // fd_read, fd_write on stdio: ready
		case tag <= 2:
			binary.LittleEndian.PutUint16(e[8:], errnoBadf)
		default:
			binary.LittleEndian.PutUint16(e[8:], errnoInval)
		}
	}
	if !m.WriteUint32Le(out, n) {
		return errnoFault
	}
	return errnoSuccess
}

func wasiRandom(_ *Host, in *instance, mod api.Module, stack []uint64) uint32 {
	buf, n := uint32(stack[0]), uint32(stack[1])
	in.charge(mod, "wasi_snapshot_preview1.random_get", int64(n)*hostByteCost)
	b, ok := mod.Memory().Read(buf, n)
	if !ok {
		return errnoFault
	}
	in.rng.Read(b)
	return errnoSuccess
}

// exitError ends a call whose guest called proc_exit.
type exitError struct{ code uint32 }

func (e exitError) Error() string { return "guest called proc_exit(" + itoa(e.code) + ")" }

func wasiExit(_ *Host, _ *instance, _ api.Module, stack []uint64) uint32 {
	panic(exitError{uint32(stack[0])})
}

func itoa(v uint32) string {
	var b [10]byte
	i := len(b)
	for {
		i--
		b[i] = byte('0' + v%10)
		v /= 10
		if v == 0 {
			return string(b[i:])
		}
	}
}
