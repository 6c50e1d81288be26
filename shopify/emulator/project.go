package emulator

import (
	"slices"
	"strings"

	"github.com/vektah/gqlparser/v2/ast"
)

// fieldGroup is the fields that share one response key, merged as the
// GraphQL spec's CollectFields does (aliases, fragments, inline fragments).
type fieldGroup struct {
	key    string
	fields []*ast.Field
}

// collect flattens a selection set for an object of the given concrete type:
// it drops fields under @skip/@include and fragments whose type condition the
// type does not meet, and groups the rest by response key, in order.
func (x *execution) collect(set ast.SelectionSet, typeName string) []*fieldGroup {
	var groups []*fieldGroup
	index := map[string]*fieldGroup{}
	x.collectInto(set, typeName, &groups, index, map[string]bool{})
	return groups
}

func (x *execution) collectInto(set ast.SelectionSet, typeName string, groups *[]*fieldGroup, index map[string]*fieldGroup, seen map[string]bool) {
	for _, sel := range set {
		switch s := sel.(type) {
		case *ast.Field:
			if x.skipped(s.Directives) {
				continue
			}
			key := s.Alias
			if key == "" {
				key = s.Name
			}
			g := index[key]
			if g == nil {
				g = &fieldGroup{key: key}
				index[key] = g
				*groups = append(*groups, g)
			}
			g.fields = append(g.fields, s)
		case *ast.InlineFragment:
			if !x.skipped(s.Directives) && x.applies(s.TypeCondition, typeName) {
				x.collectInto(s.SelectionSet, typeName, groups, index, seen)
			}
		case *ast.FragmentSpread:
			if x.skipped(s.Directives) || seen[s.Name] || s.Definition == nil {
				continue
			}
			seen[s.Name] = true
			if x.applies(s.Definition.TypeCondition, typeName) {
				x.collectInto(s.Definition.SelectionSet, typeName, groups, index, seen)
			}
		}
	}
}

// skipped evaluates @skip(if:) and @include(if:).
func (x *execution) skipped(dirs ast.DirectiveList) bool {
	for _, d := range dirs {
		cond, _ := d.ArgumentMap(x.vars)["if"].(bool)
		if (d.Name == "skip" && cond) || (d.Name == "include" && !cond) {
			return true
		}
	}
	return false
}

// applies reports whether an object of typeName meets a type condition: the
// same type, or an interface or union it belongs to.
func (x *execution) applies(cond, typeName string) bool {
	if cond == "" || cond == typeName {
		return true
	}
	return slices.ContainsFunc(x.schema.PossibleTypes[cond], func(d *ast.Definition) bool { return d.Name == typeName })
}

// project applies a selection set to a resolver's value. typeName is the
// field's schema type; a map's "__typename" overrides it for abstract types.
func (x *execution) project(set ast.SelectionSet, typeName string, src any, path ast.Path) any {
	switch v := src.(type) {
	case nil:
		return nil
	case []any:
		out := make([]any, len(v))
		for i, el := range v {
			out[i] = x.project(set, typeName, el, childPath(path, ast.PathIndex(i)))
		}
		return out
	case map[string]any:
		return x.projectObject(set, typeName, v, path)
	default:
		return v
	}
}

func (x *execution) projectObject(set ast.SelectionSet, typeName string, src map[string]any, path ast.Path) *object {
	if t, ok := src["__typename"].(string); ok {
		typeName = t
	}
	out := &object{}
	out.id, _ = src["id"].(string)
	x.countObject(typeName)
	for _, g := range x.collect(set, typeName) {
		f := g.fields[0]
		if f.Name == "__typename" {
			out.add(g.key, f.Name, typeName)
			continue
		}
		p := childPath(path, ast.PathName(g.key))
		raw := src[f.Name]
		if fn, ok := raw.(lazy); ok {
			v, err := fn(f.ArgumentMap(x.vars))
			if err != nil {
				x.fail(f, p, err)
				out.add(g.key, f.Name, nil)
				continue
			}
			raw = v
		}
		before := x.actualCost
		val := x.project(subSelections(g.fields), f.Definition.Type.Name(), raw, p)
		if list, ok := raw.([]any); ok && len(list) > 0 && f.Name != "edges" && f.Name != "nodes" {
			// A plain list (selectedOptions, options) costs like one element,
			// as requestedCost assumes: only connections scale with size.
			x.actualCost = before + (x.actualCost-before+len(list)-1)/len(list)
		}
		out.add(g.key, f.Name, val)
	}
	if strings.HasSuffix(typeName, "Connection") {
		out.conn = true
		out.items = connectionItems(out)
	}
	return out
}

// countObject adds an object to the actual query cost, by the same rules as
// requestedCost: connections 2, edges and page info free, other objects 1.
func (x *execution) countObject(typeName string) {
	if x.inMutation {
		return // a mutation's cost is flat
	}
	switch {
	case strings.HasSuffix(typeName, "Connection"):
		x.actualCost += 2
	case strings.HasSuffix(typeName, "Edge"), typeName == "PageInfo":
	default:
		x.actualCost++
	}
}

// subSelections merges the selection sets of fields sharing a response key.
func subSelections(fields []*ast.Field) ast.SelectionSet {
	if len(fields) == 1 {
		return fields[0].SelectionSet
	}
	var set ast.SelectionSet
	for _, f := range fields {
		set = append(set, f.SelectionSet...)
	}
	return set
}

// connectionItems finds a projected connection's nodes, through edges.node or
// nodes, for the bulk JSONL writer.
func connectionItems(conn *object) []*object {
	for _, name := range []string{"edges", "nodes"} {
		for _, f := range conn.fields {
			if f.name != name {
				continue
			}
			list, _ := f.val.([]any)
			items := make([]*object, 0, len(list))
			for _, el := range list {
				o, _ := el.(*object)
				if name == "edges" && o != nil {
					o = nil
					for _, ef := range el.(*object).fields {
						if ef.name == "node" {
							o, _ = ef.val.(*object)
							break
						}
					}
				}
				if o != nil {
					items = append(items, o)
				}
			}
			return items
		}
	}
	return nil
}

// childPath extends a response path without aliasing the parent's array.
func childPath(path ast.Path, el ast.PathElement) ast.Path {
	return append(slices.Clip(path), el)
}
