package guest

// Config is the operator's configuration: the raw bytes, usually lines of
// key=value (wring --analyzer-config key=value).
type Config []byte

// Get returns the value of key in key=value lines, and whether it is set.
func (c Config) Get(key string) (string, bool) {
	s := string(c)
	for len(s) > 0 {
		line := s
		if i := indexByte(s, '\n'); i >= 0 {
			line, s = s[:i], s[i+1:]
		} else {
			s = ""
		}
		if i := indexByte(line, '='); i >= 0 && line[:i] == key {
			return line[i+1:], true
		}
	}
	return "", false
}

func indexByte(s string, c byte) int {
	for i := 0; i < len(s); i++ {
		if s[i] == c {
			return i
		}
	}
	return -1
}
