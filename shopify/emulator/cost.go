package emulator

import (
	"strings"

	"github.com/vektah/gqlparser/v2/ast"
)

// maxQueryCost is Shopify's cap on a single query's requested cost.
const maxQueryCost = 1000

// requestedCost computes an operation's cost before it runs, with Shopify's
// published rules (docs/shopify.md §4.3): scalars and enums 0, objects 1,
// connections 2 plus their page size, with everything inside a connection
// multiplied by its page size; mutations cost a flat 10 per root field.
func (x *execution) requestedCost(op *ast.OperationDefinition) int {
	if op.Operation == ast.Mutation {
		n := 0
		for _, g := range x.collect(op.SelectionSet, x.schema.Mutation.Name) {
			if g.fields[0].Name != "__typename" {
				n++
			}
		}
		return n * mutationCost
	}
	return x.setCost(op.SelectionSet, 1)
}

func (x *execution) setCost(set ast.SelectionSet, mult int) int {
	total := 0
	for _, sel := range set {
		switch s := sel.(type) {
		case *ast.Field:
			total += x.fieldCost(s, mult)
		case *ast.InlineFragment:
			total += x.setCost(s.SelectionSet, mult)
		case *ast.FragmentSpread:
			if s.Definition != nil {
				total += x.setCost(s.Definition.SelectionSet, mult)
			}
		}
	}
	return total
}

func (x *execution) fieldCost(f *ast.Field, mult int) int {
	if f.Definition == nil || strings.HasPrefix(f.Name, "__") || x.skipped(f.Directives) {
		return 0
	}
	typ := f.Definition.Type.Name()
	if def := x.schema.Types[typ]; def == nil || def.IsLeafType() {
		return 0
	}
	args := f.ArgumentMap(x.vars)
	switch {
	case strings.HasSuffix(typ, "Connection"):
		return 2*mult + x.setCost(f.SelectionSet, mult*max(pageSize(args), 1))
	case strings.HasSuffix(typ, "Edge"), typ == "PageInfo":
		return x.setCost(f.SelectionSet, mult)
	}
	if ids, ok := args["ids"].([]any); ok && f.Name == "nodes" {
		mult *= max(len(ids), 1)
	}
	return mult + x.setCost(f.SelectionSet, mult)
}

// pageSize is a connection's first or last argument, 0 when absent.
func pageSize(args map[string]any) int {
	if n, ok := intArg(args, "first"); ok {
		return n
	}
	n, _ := intArg(args, "last")
	return n
}
