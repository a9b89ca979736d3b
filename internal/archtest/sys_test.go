package archtest

import (
	"os/exec"
	"strings"
	"testing"
)

// sysDoor is the one package that may import x/sys/unix: every raw system
// call goes through it (DESIGN.md, "internal/...: syscall wrappers").
const sysDoor = module + "/internal/linux"

// TestOneSyscallPackage checks that no package but internal/linux imports
// x/sys/unix, in its code or its tests.
func TestOneSyscallPackage(t *testing.T) {
	out, err := exec.Command("go", "list", "-e", "-f",
		`{{.ImportPath}}|{{join .Imports " "}} {{join .TestImports " "}} {{join .XTestImports " "}}`, module+"/...").CombinedOutput()
	if err != nil {
		t.Fatalf("go list: %v\n%s", err, out)
	}
	checked := 0
	for _, line := range strings.Split(strings.TrimSpace(string(out)), "\n") {
		name, imps, _ := strings.Cut(line, "|")
		checked++
		if name == sysDoor {
			continue
		}
		for _, imp := range strings.Fields(imps) {
			if imp == "golang.org/x/sys/unix" || strings.HasPrefix(imp, "golang.org/x/sys/") {
				t.Errorf("%s imports %s: use %s", name, imp, sysDoor)
			}
		}
	}
	if checked < 5 {
		t.Fatalf("only %d packages listed: go list output looks wrong:\n%s", checked, out)
	}
}
