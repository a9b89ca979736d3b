package main

import "errors"

// analyzersCmd is filled in by the issue that owns the command.
type analyzersCmd struct{}

func (analyzersCmd) Run(s *streams) error {
	return errors.New("analyzers: not available in this build yet")
}
