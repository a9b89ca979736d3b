//go:build linux

package main

import (
	"time"

	unix "github.com/wringcap/wring/internal/linux"
)

// taiOffset returns CLOCK_TAI minus CLOCK_REALTIME, rounded to the whole
// second it is (0, or 37 where a time daemon set it): the kernel rules'
// last-hit times are on the TAI clock.
func taiOffset() int64 {
	var tai, real unix.Timespec
	if unix.ClockGettime(unix.CLOCK_TAI, &tai) != nil || unix.ClockGettime(unix.CLOCK_REALTIME, &real) != nil {
		return 0
	}
	d := tai.Nano() - real.Nano()
	return (d + int64(time.Second)/2) / int64(time.Second) * int64(time.Second)
}
