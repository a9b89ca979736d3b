package sink

import "time"

// TextOptions selects what a Text sink prints, with tcpdump's flags.
type TextOptions struct {
	Loc        *time.Location // time zone of printed times; nil means local time
	Verbose    int            // -v count
	LinkHeader bool           // -e: print the link-level header
	Quiet      bool           // -q: less protocol information
	Hex        int            // 1: -x/-X (without link header), 2: -xx/-XX (with link header)
	HexASCII   bool           // -X/-XX: hex and ASCII; with Hex
	ASCII      int            // 1: -A, 2: -AA (with link header)
	TimeFormat int            // count of -t flags: 0 default, 1 none, 2 epoch, 3 delta, 4 date, 5 since first
	Nano       bool           // --time-stamp-precision=nano
}
