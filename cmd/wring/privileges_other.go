//go:build !unix

package main

import (
	"fmt"
	"runtime"
)

// dropPrivileges refuses -Z where there are no Unix user and group ids to
// switch to.
func dropPrivileges(name string) error {
	if name == "" {
		return nil
	}
	return fmt.Errorf("-Z %s: switching users is not supported on %s", name, runtime.GOOS)
}
