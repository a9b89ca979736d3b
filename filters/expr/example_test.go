package expr_test

import (
	"fmt"
	"os"

	"github.com/wringcap/wring/filters/expr"
	"github.com/wringcap/wring/spec"
)

func ExampleCompile() {
	prog, err := expr.Compile("udp port 53", expr.Options{LinkType: spec.LinkEthernet})
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(len(prog) > 0, prog[len(prog)-1] == spec.Stmt(spec.ClassRET|spec.RetK, 0))
	// Output: true true
}

func ExampleCaret() {
	src := "tcp port 80 and hst 1.2.3.4"
	_, err := expr.Compile(src, expr.Options{LinkType: spec.LinkEthernet})
	fmt.Fprintln(os.Stdout, err)
	fmt.Println(expr.Caret(src, err))
	// Output:
	// column 17: syntax error: unexpected "hst"
	// tcp port 80 and hst 1.2.3.4
	//                 ^~~
}
