package main

import (
	"errors"
	"fmt"
	"io"

	"github.com/alecthomas/kong"
)

// cli is the command grammar. Each command lives in its own <name>_cmd.go
// with a Run method; kong injects the streams.
type cli struct {
	Compile   compileCmd   `cmd:"" help:"Compile a pcap filter expression to classic BPF (or eBPF)."`
	Verify    verifyCmd    `cmd:"" help:"Verify a classic BPF program and print what was proven."`
	Read      readCmd      `cmd:"" help:"Read packets from a capture file (or the bundled sample), filter, analyze and write them."`
	Capture   captureCmd   `cmd:"" help:"Capture live packets from an interface (AF_XDP or AF_PACKET)."`
	Analyzers analyzersCmd `cmd:"" help:"List the bundled Wasm analyzers and their counters."`
	Rules     rulesCmd     `cmd:"" help:"Check rule files (wildcard and exact flow rules, spec/RULES.md)."`
	Version   versionCmd   `cmd:"" help:"Print wring's version."`
	Complete  completeCmd  `cmd:"" name:"completion" help:"Print a shell completion script (bash, zsh or fish)."`
	Man       manCmd       `cmd:"" help:"Print wring's manual page (roff), generated from the command grammar."`

	VersionFlag kong.VersionFlag `name:"version" help:"Print wring's version and exit."`
}

// streams are the standard streams a command reads and writes.
type streams struct {
	In  io.Reader
	Out io.Writer
	Err io.Writer
}

// exitError carries a command's exit status with its message.
type exitError struct {
	code int
	err  error
}

func (e *exitError) Error() string { return e.err.Error() }
func (e *exitError) Unwrap() error { return e.err }

// exitf returns an error that makes wring exit with code after printing the
// formatted message (an empty message prints nothing).
func exitf(code int, format string, args ...any) error {
	return &exitError{code: code, err: fmt.Errorf(format, args...)}
}

// run parses args, runs the chosen command and returns the exit status:
// 0 success, 1 a negative result (rejected program, bad expression), 2 bad
// usage or unreadable input.
func run(args []string, in io.Reader, out, errw io.Writer) (code int) {
	var c cli
	exited := false
	parser, err := newParser(&c, in, out, errw, func(c int) { code = c; exited = true; panic(exitSentinel{}) })
	if err != nil {
		fmt.Fprintf(errw, "wring: %v\n", err)
		return 2
	}
	defer func() {
		if r := recover(); r != nil {
			if _, ok := r.(exitSentinel); !ok {
				panic(r)
			}
		}
	}()
	if len(args) == 0 {
		// wring alone: the usage, on standard error, as bad usage.
		parser.Stdout = errw
		defer func() { code = 2 }()
		parser.Parse([]string{"--help"})
		return 2
	}
	ctx, err := parser.Parse(permute(parser.Model, args))
	if exited {
		return code
	}
	if err != nil {
		fmt.Fprintf(errw, "wring: %v\n", explainParseError(err))
		return 2
	}
	if err := ctx.Run(); err != nil {
		var ee *exitError
		if errors.As(err, &ee) {
			if msg := ee.err.Error(); msg != "" {
				fmt.Fprintf(errw, "wring: %s\n", msg)
			}
			return ee.code
		}
		fmt.Fprintf(errw, "wring: %v\n", err)
		return 1
	}
	return 0
}

// newParser builds wring's kong parser over c.
func newParser(c *cli, in io.Reader, out, errw io.Writer, exit func(int)) (*kong.Kong, error) {
	return kong.New(c,
		kong.Name("wring"),
		kong.Description("wring: verified, JIT-compiled packet filters and sandboxed Wasm analyzers."),
		kong.UsageOnError(),
		kong.ConfigureHelp(kong.HelpOptions{Compact: true}),
		kong.Writers(out, errw),
		kong.Exit(exit),
		kong.Bind(&streams{In: in, Out: out, Err: errw}),
		kong.Vars{"version": versionString()},
	)
}

type exitSentinel struct{}
