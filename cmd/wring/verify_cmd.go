package main

import "errors"

// verifyCmd is filled in by the issue that owns the command.
type verifyCmd struct{}

func (verifyCmd) Run(s *streams) error { return errors.New("verify: not available in this build yet") }
