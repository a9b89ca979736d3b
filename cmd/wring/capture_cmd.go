package main

import "errors"

// captureCmd is filled in by the issue that owns the command.
type captureCmd struct{}

func (captureCmd) Run(s *streams) error {
	return errors.New("capture: not available in this build yet")
}
