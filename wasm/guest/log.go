package guest

// Log levels for Log.
const (
	LevelDebug = 0
	LevelInfo  = 1
	LevelWarn  = 2
	LevelError = 3
)

// Log sends a line to the host's log (rate limited there). Use it for rare
// events, not per packet.
func Log(level int32, msg string) { hostLog(level, msg) }
