package archtest

import (
	"fmt"
	"slices"
	"strings"
)

// A rule governs some of the module's packages and refuses some of their
// imports. Patterns, in from, except, forbid and allow:
//
//	./web          the module's package web (paths starting ./ are the module's)
//	./app/...      the module's package app and every package below it
//	gorm.io/...    gorm.io and every package below it
//	testing        exactly the package testing
//	std            any package of the standard library
type rule struct {
	name   string
	why    string            // printed with every violation
	from   []string          // the packages the rule governs
	except map[string]string // governed packages it does not govern after all → why
	forbid []string          // imports refused; or
	allow  []string          // the only imports allowed (the rest are refused)
	deps   bool              // judge every dependency, not only direct imports
	// check is the hook for a rule the columns above cannot say: it
	// returns the imports of one governed package that the rule refuses.
	check func(g *graph, p *pkg) []string
}

// violation is one import that breaks a rule.
type violation struct {
	rule, why string
	pkg, imp  string
	chain     []string // for a dependency rule: how pkg reaches imp
}

func (v violation) String() string {
	s := fmt.Sprintf("%s imports %s", v.pkg, v.imp)
	if len(v.chain) > 2 {
		s = fmt.Sprintf("%s depends on %s (%s)", v.pkg, v.imp, strings.Join(v.chain, " → "))
	}
	return fmt.Sprintf("%s\n\trule %s: %s", s, v.rule, v.why)
}

// match reports whether path matches pattern (see rule).
func (g *graph) match(pattern, path string) bool {
	if pattern == "std" {
		return g.standard(path)
	}
	if rel, ok := strings.CutPrefix(pattern, "./"); ok {
		pattern = g.module + "/" + rel
	}
	if base, ok := strings.CutSuffix(pattern, "/..."); ok {
		return path == base || strings.HasPrefix(path, base+"/")
	}
	return path == pattern
}

func (g *graph) matchAny(patterns []string, path string) bool {
	return slices.ContainsFunc(patterns, func(p string) bool { return g.match(p, path) })
}

// governs reports whether r applies to the module's package path.
func (r rule) governs(g *graph, path string) bool {
	if !g.local(path) || !g.matchAny(r.from, path) {
		return false
	}
	for pattern := range r.except {
		if g.match(pattern, path) {
			return false
		}
	}
	return true
}

// refuses reports whether r refuses the import imp.
func (r rule) refuses(g *graph, imp string) bool {
	if g.matchAny(r.forbid, imp) {
		return true
	}
	return r.allow != nil && !g.matchAny(r.allow, imp)
}

// checkRules applies every rule to every package of g's module and returns
// the violations, and the table's own mistakes (an exception that names no
// package is a typo or a stale row, and would hide nothing).
func checkRules(g *graph, rules []rule) (violations []violation, mistakes []string) {
	paths := make([]string, 0, len(g.pkgs))
	for path := range g.pkgs {
		if g.local(path) {
			paths = append(paths, path)
		}
	}
	slices.Sort(paths)
	for _, r := range rules {
		for pattern := range r.except {
			if !slices.ContainsFunc(paths, func(p string) bool { return g.match(pattern, p) }) {
				mistakes = append(mistakes, fmt.Sprintf("rule %s: exception %s names no package of %s", r.name, pattern, g.module))
			}
		}
		for _, path := range paths {
			if r.governs(g, path) {
				violations = append(violations, r.violations(g, g.pkgs[path])...)
			}
		}
	}
	slices.Sort(mistakes)
	return violations, mistakes
}

// violations returns p's imports (or dependencies) that r refuses.
func (r rule) violations(g *graph, p *pkg) []violation {
	var out []violation
	imports := p.Imports
	if r.deps {
		imports = p.Deps
	}
	for _, imp := range imports {
		if imp == "C" {
			continue // cgo's pseudo-package
		}
		if !r.refuses(g, imp) {
			continue
		}
		v := violation{rule: r.name, why: r.why, pkg: p.ImportPath, imp: imp}
		if r.deps {
			v.chain = g.chain(p.ImportPath, imp)
			if slices.ContainsFunc(v.chain[1:len(v.chain)-1], func(via string) bool { return r.refuses(g, via) }) {
				continue // reached through a package reported already
			}
		}
		out = append(out, v)
	}
	if r.check != nil {
		for _, imp := range r.check(g, p) {
			out = append(out, violation{rule: r.name, why: r.why, pkg: p.ImportPath, imp: imp})
		}
	}
	return out
}

// chain returns the shortest import path from → … → to, so that a
// dependency rule's report says which import brought the package in.
func (g *graph) chain(from, to string) []string {
	prev := map[string]string{from: ""}
	queue := []string{from}
	for len(queue) > 0 {
		cur := queue[0]
		queue = queue[1:]
		if cur == to {
			var path []string
			for at := to; at != ""; at = prev[at] {
				path = append(path, at)
			}
			slices.Reverse(path)
			return path
		}
		p, ok := g.pkgs[cur]
		if !ok {
			continue
		}
		for _, next := range p.Imports {
			if _, seen := prev[next]; !seen {
				prev[next] = cur
				queue = append(queue, next)
			}
		}
	}
	return []string{from, "…", to}
}

// internalOf returns the tree an internal package belongs to: for
// m/app/checkout/internal/x it is m/app/checkout; for a path without an
// internal element, "".
func internalOf(path string) string {
	if i := strings.LastIndex(path, "/internal/"); i >= 0 {
		return path[:i]
	}
	if base, ok := strings.CutSuffix(path, "/internal"); ok {
		return base
	}
	return ""
}

// importsForeignInternals is the hook behind rule no-foreign-internals: it
// returns p's imports of an internal package of the module outside p's own
// tree. The go command refuses the same when compiling; the rule states it
// with the others, and gives the reason.
func importsForeignInternals(g *graph, p *pkg) []string {
	var out []string
	for _, imp := range p.Imports {
		tree := internalOf(imp)
		if tree == "" || !g.local(imp) {
			continue
		}
		if p.ImportPath != tree && !strings.HasPrefix(p.ImportPath, tree+"/") {
			out = append(out, imp)
		}
	}
	return out
}
