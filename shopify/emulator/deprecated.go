package emulator

import (
	"strings"

	"github.com/vektah/gqlparser/v2/ast"
)

// deprecatedUse names what a validated document selects or passes that the
// Admin schema marks @deprecated: "Type.field: reason" for the first few,
// joined with "; ". Shopify answers such a request normally and adds the
// X-Shopify-API-Deprecated-Reason header; so does the emulator, so the
// app's deprecation watch runs against the same signal in tests.
func deprecatedUse(doc *ast.QueryDocument) string {
	w := deprecationWalk{seen: map[*ast.FragmentDefinition]bool{}}
	for _, op := range doc.Operations {
		w.selections(op.SelectionSet)
	}
	return strings.Join(w.found, "; ")
}

// maxDeprecationNotes bounds the header.
const maxDeprecationNotes = 3

type deprecationWalk struct {
	found []string
	seen  map[*ast.FragmentDefinition]bool
}

func (w *deprecationWalk) note(what string, dirs ast.DirectiveList) {
	d := dirs.ForName("deprecated")
	if d == nil || len(w.found) >= maxDeprecationNotes {
		return
	}
	reason := "No longer supported" // GraphQL's default deprecation reason
	if a := d.Arguments.ForName("reason"); a != nil && a.Value != nil {
		reason = a.Value.Raw
	}
	note := what + ": " + strings.Join(strings.Fields(reason), " ")
	for _, f := range w.found {
		if f == note {
			return
		}
	}
	w.found = append(w.found, note)
}

func (w *deprecationWalk) selections(set ast.SelectionSet) {
	for _, sel := range set {
		switch s := sel.(type) {
		case *ast.Field:
			if def := s.Definition; def != nil {
				name := def.Name
				if s.ObjectDefinition != nil {
					name = s.ObjectDefinition.Name + "." + def.Name
				}
				w.note(name, def.Directives)
				for _, arg := range s.Arguments {
					if ad := def.Arguments.ForName(arg.Name); ad != nil {
						w.note(name+"("+arg.Name+")", ad.Directives)
					}
				}
			}
			w.selections(s.SelectionSet)
		case *ast.InlineFragment:
			w.selections(s.SelectionSet)
		case *ast.FragmentSpread:
			if s.Definition != nil && !w.seen[s.Definition] {
				w.seen[s.Definition] = true
				w.selections(s.Definition.SelectionSet)
			}
		}
	}
}
