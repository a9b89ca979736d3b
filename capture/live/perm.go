package live

import (
	"errors"
	"fmt"
	"strings"
)

// ErrPermission is wrapped by Open when the process lacks a capability the
// capture path needs; the message names the capability.
var ErrPermission = errors.New("permission denied")

// capName is a capability's name as setcap(8) spells it: cap_net_raw.
func capName(c fmt.Stringer) string { return strings.ToLower(c.String()) }
