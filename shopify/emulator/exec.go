package emulator

import (
	"context"
	"errors"
	"strings"

	"github.com/vektah/gqlparser/v2/ast"
	"github.com/vektah/gqlparser/v2/gqlerror"
)

// execution is one run of a validated operation against one shop.
type execution struct {
	e          *Emulator
	ctx        context.Context
	schema     *ast.Schema
	shop       *shopState
	token      *accessToken
	vars       map[string]any
	bulk       bool // a bulk operation: connections return everything, unpaginated
	errs       gqlerror.List
	actualCost int
	inMutation bool
}

// apiError is a resolver error carrying a Shopify error code in extensions.
type apiError struct {
	msg string
	ext map[string]any
}

func (a *apiError) Error() string { return a.msg }

// newAPIError makes an error with extensions.code.
func newAPIError(code, msg string) *apiError {
	return &apiError{msg: msg, ext: map[string]any{"code": code}}
}

// mutationCost is what Shopify charges for most mutations, whatever their
// payload selection.
const mutationCost = 10

// execute runs every root field of op, in order, with e.mu held by the caller.
// Field errors become GraphQL errors next to the partial data, as on Shopify.
func (x *execution) execute(op *ast.OperationDefinition) *object {
	root := x.schema.Query
	if op.Operation == ast.Mutation {
		root = x.schema.Mutation
	}
	data := &object{}
	for _, g := range x.collect(op.SelectionSet, root.Name) {
		f := g.fields[0]
		path := ast.Path{ast.PathName(g.key)}
		if f.Name == "__typename" {
			data.add(g.key, f.Name, root.Name)
			continue
		}
		val, err := x.resolve(op.Operation, f)
		if err != nil {
			x.fail(f, path, err)
			data.add(g.key, f.Name, nil)
			continue
		}
		x.inMutation = op.Operation == ast.Mutation
		if x.inMutation {
			x.actualCost += mutationCost
		}
		data.add(g.key, f.Name, x.project(subSelections(g.fields), f.Definition.Type.Name(), val, path))
		x.inMutation = false
	}
	return data
}

// resolve calls a root field's resolver after the scope check.
func (x *execution) resolve(op ast.Operation, f *ast.Field) (any, error) {
	if strings.HasPrefix(f.Name, "__") {
		return nil, errors.New("emulator: introspection is not supported; the schema is in shared/shopify-admin-schema")
	}
	res, ok := x.e.resolvers.lookup(op, f.Name)
	if !ok {
		return nil, errors.New("emulator: no resolver for " + f.Name)
	}
	if !x.token.hasScope(res.scope) {
		required := "`" + res.scope + "` access scope."
		return nil, &apiError{
			msg: "Access denied for " + f.Name + " field. Required access: " + required,
			ext: map[string]any{"code": "ACCESS_DENIED", "documentation": "https://shopify.dev/api/usage/access-scopes", "requiredAccess": required},
		}
	}
	return res.fn(x, f, f.ArgumentMap(x.vars))
}

// fail records a field error with its location and path.
func (x *execution) fail(f *ast.Field, path ast.Path, err error) {
	ge := &gqlerror.Error{Message: err.Error(), Path: path}
	if f.Position != nil {
		ge.Locations = []gqlerror.Location{{Line: f.Position.Line, Column: f.Position.Column}}
	}
	var ae *apiError
	if errors.As(err, &ae) {
		ge.Extensions = ae.ext
	}
	x.errs = append(x.errs, ge)
}
