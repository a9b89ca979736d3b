package main

import "errors"

// compileCmd is filled in by the issue that owns the command.
type compileCmd struct{}

func (compileCmd) Run(s *streams) error {
	return errors.New("compile: not available in this build yet")
}
