//go:build linux

package live

import (
	"time"

	unix "github.com/wringcap/wring/internal/linux"
)

// taiOffset returns CLOCK_TAI minus CLOCK_REALTIME in nanoseconds: the
// kernel's TAI offset, a whole number of seconds (37 since 2017 when a time
// daemon has set it, else 0). The passive and AF_XDP programs stamp each
// packet with bpf_ktime_get_tai_ns(); subtracting this offset gives wall
// time. The TAI clock is the realtime clock plus that offset, so NTP's
// adjustments of the realtime clock apply to it too and no drift builds up
// between the two, unlike with the monotonic clock.
func taiOffset() int64 {
	var tai, real unix.Timespec
	if unix.ClockGettime(unix.CLOCK_TAI, &tai) != nil || unix.ClockGettime(unix.CLOCK_REALTIME, &real) != nil {
		return 0
	}
	d := tai.Nano() - real.Nano()
	// The two readings are a few hundred nanoseconds apart: round to the
	// whole second the offset is.
	return (d + int64(time.Second)/2) / int64(time.Second) * int64(time.Second)
}
