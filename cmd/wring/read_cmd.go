package main

import "errors"

// readCmd is filled in by the issue that owns the command.
type readCmd struct{}

func (readCmd) Run(s *streams) error { return errors.New("read: not available in this build yet") }
