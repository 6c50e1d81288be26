package emulator

import "github.com/vektah/gqlparser/v2/ast"

// resolverFunc resolves one root field. It returns plain Go values:
// map[string]any for objects (with "__typename" when the field's type is
// abstract), []any for lists, scalars as their JSON value, and lazy for
// fields that take arguments. The projector then applies the selection set.
// Resolvers run with Emulator.mu held: they may read and change shop state
// but must not do I/O.
type resolverFunc func(x *execution, f *ast.Field, args map[string]any) (any, error)

// lazy is a field value computed from the field's arguments, e.g.
// variants(first: 10).
type lazy func(args map[string]any) (any, error)

// resolver is a registered root field.
type resolver struct {
	fn    resolverFunc
	scope string // access scope the token needs, "" for none
}

// registry maps root field names to resolvers, per operation type.
type registry struct {
	query    map[string]resolver
	mutation map[string]resolver
}

// resolverAreas register the resolvers of one area each. To support a new
// operation, add a file with a register function and list it here.
var resolverAreas = []func(*registry){
	registerShopResolvers,
	registerPublicationResolvers,
	registerProductResolvers,
	registerNodeResolvers,
	registerBulkResolvers,
	registerDraftOrderResolvers,
	registerDraftOrderWriteResolvers,
	registerBillingResolvers,
	registerOrderResolvers, // after registerNodeResolvers: it extends node and nodes
}

func newRegistry() *registry {
	r := &registry{query: map[string]resolver{}, mutation: map[string]resolver{}}
	for _, register := range resolverAreas {
		register(r)
	}
	return r
}

// addQuery registers a QueryRoot field.
func (r *registry) addQuery(name, scope string, fn resolverFunc) {
	r.query[name] = resolver{fn: fn, scope: scope}
}

// addMutation registers a Mutation field.
func (r *registry) addMutation(name, scope string, fn resolverFunc) {
	r.mutation[name] = resolver{fn: fn, scope: scope}
}

// lookup finds the resolver of a root field.
func (r *registry) lookup(op ast.Operation, name string) (resolver, bool) {
	if op == ast.Mutation {
		res, ok := r.mutation[name]
		return res, ok
	}
	res, ok := r.query[name]
	return res, ok
}
