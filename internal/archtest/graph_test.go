package archtest

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
)

// pkg is what the rules need of one package from `go list -json`.
type pkg struct {
	ImportPath string
	Standard   bool     // part of the standard library
	Imports    []string // direct production imports (not the tests')
	Deps       []string // every package the production code depends on
}

// graph is a module's import graph: its own packages and, with -deps,
// every package they depend on.
type graph struct {
	module string          // the module path, e.g. github.com/acpbridge/acpbridge
	pkgs   map[string]*pkg // by import path
}

// local reports whether path is one of the module's own packages.
func (g *graph) local(path string) bool {
	return path == g.module || strings.HasPrefix(path, g.module+"/")
}

// standard reports whether path is in the standard library. A path the
// graph does not hold is judged by its first element: only the standard
// library's has no dot.
func (g *graph) standard(path string) bool {
	if p, ok := g.pkgs[path]; ok {
		return p.Standard
	}
	first, _, _ := strings.Cut(path, "/")
	return !strings.Contains(first, ".") && !g.local(path)
}

// goCommand finds the go command that is running the tests.
func goCommand() string {
	if p, err := exec.LookPath("go"); err == nil {
		return p
	}
	return filepath.Join(runtime.GOROOT(), "bin", "go")
}

// loadModule runs `go list -deps -json ./...` in the module that holds the
// working directory. It needs no network: go.mod and go.sum are complete
// and -mod=readonly refuses to change them.
func loadModule() (*graph, error) {
	goCmd := goCommand()
	out, err := exec.Command(goCmd, "env", "GOMOD").Output()
	if err != nil {
		return nil, fmt.Errorf("go env GOMOD: %w", err)
	}
	gomod := strings.TrimSpace(string(out))
	if gomod == "" || gomod == os.DevNull {
		return nil, errors.New("not inside a module")
	}
	cmd := exec.Command(goCmd, "list", "-mod=readonly", "-deps",
		"-json=ImportPath,Standard,Imports,Deps,Module", "./...")
	cmd.Dir = filepath.Dir(gomod)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err = cmd.Output()
	if err != nil {
		return nil, fmt.Errorf("go list: %w\n%s", err, stderr.String())
	}
	modCmd := exec.Command(goCmd, "list", "-m")
	modCmd.Dir = cmd.Dir
	modOut, err := modCmd.Output()
	if err != nil {
		return nil, fmt.Errorf("go list -m: %w", err)
	}
	return parseGraph(strings.TrimSpace(string(modOut)), bytes.NewReader(out))
}

// parseGraph reads the stream of JSON objects `go list -json` writes.
func parseGraph(module string, r io.Reader) (*graph, error) {
	g := &graph{module: module, pkgs: map[string]*pkg{}}
	dec := json.NewDecoder(r)
	for {
		var p pkg
		err := dec.Decode(&p)
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return nil, fmt.Errorf("decode go list output: %w", err)
		}
		g.pkgs[p.ImportPath] = &p
	}
	if len(g.pkgs) == 0 {
		return nil, errors.New("go list listed no packages")
	}
	return g, nil
}
