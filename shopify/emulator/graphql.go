package emulator

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"sync"

	"github.com/vektah/gqlparser/v2"
	"github.com/vektah/gqlparser/v2/ast"
	"github.com/vektah/gqlparser/v2/gqlerror"
	"github.com/vektah/gqlparser/v2/validator"

	"github.com/acpbridge/acpbridge/shopify"
)

// invalidTokenMessage is Shopify's 401 body for a bad Admin API token.
const invalidTokenMessage = "[API] Invalid API key or access token (unrecognized login or wrong password)"

// gqlRequest is the body of a GraphQL POST.
type gqlRequest struct {
	Query         string         `json:"query"`
	Variables     map[string]any `json:"variables"`
	OperationName string         `json:"operationName"`
}

// gqlResponse is a GraphQL response with Shopify's cost extension.
type gqlResponse struct {
	Data       any           `json:"data,omitempty"`
	Errors     gqlerror.List `json:"errors,omitempty"`
	Extensions *extensions   `json:"extensions,omitempty"`
}

type extensions struct {
	Cost *queryCost `json:"cost"`
}

// handleGraphQL is POST /admin/api/{version}/graphql.json: authenticate,
// validate against the Admin schema, charge the shop's bucket, execute.
func (e *Emulator) handleGraphQL(w http.ResponseWriter, r *http.Request) {
	if r.PathValue("version") != shopify.APIVersion {
		notFound(w)
		return
	}
	fault := e.injectFault(w, r, true)
	if fault.handled {
		return
	}
	s, t, ok := e.authenticate(w, r)
	if !ok {
		return
	}
	req, err := readGraphQLRequest(r)
	if err != nil {
		writeJSON(w, http.StatusBadRequest, map[string]any{"errors": map[string]string{"query": "Required parameter missing or invalid"}})
		return
	}
	schema, err := adminSchema()
	if err != nil {
		e.log.ErrorContext(r.Context(), "load schema", "err", err)
		writeJSON(w, http.StatusInternalServerError, map[string]string{"errors": "Internal Server Error"})
		return
	}
	op, vars, deprecated, errs := prepare(schema, req)
	if errs != nil {
		writeJSON(w, http.StatusOK, gqlResponse{Errors: errs})
		return
	}
	x := &execution{e: e, ctx: r.Context(), schema: schema, shop: s, token: t, vars: vars}
	resp := e.run(x, op, fault.throttle)
	if deprecated != "" {
		// As Shopify does: the request still runs, and the header says
		// what it used that the version deprecates.
		w.Header().Set(shopify.DeprecatedReasonHeader, deprecated)
	}
	e.log.DebugContext(r.Context(), "graphql", "shop", s.domain, "operation", op.Name, "cost", resp.Extensions.Cost.RequestedQueryCost, "errors", len(resp.Errors))
	writeJSON(w, http.StatusOK, resp)
}

// authenticate finds the shop and the token of an Admin API request: 404 for
// a host that is no seeded shop, 401 for a missing, unknown, expired or
// revoked token or one of another shop. A request sent straight to
// 127.0.0.1 (the demo's graphql_url) belongs to its token's shop.
func (e *Emulator) authenticate(w http.ResponseWriter, r *http.Request) (*shopState, *accessToken, bool) {
	e.mu.Lock()
	defer e.mu.Unlock()
	direct := isLoopbackHost(r.Host)
	s := e.shops[hostName(r.Host)]
	if s == nil && !direct {
		notFound(w)
		return nil, nil, false
	}
	t := e.validToken(r.Header.Get("X-Shopify-Access-Token"))
	if t != nil && direct {
		s = e.shops[t.shop]
	}
	if t == nil || s == nil || t.shop != s.domain {
		writeJSON(w, http.StatusUnauthorized, map[string]string{"errors": invalidTokenMessage})
		return nil, nil, false
	}
	s.stats.GraphQLCalls++
	return s, t, true
}

// readGraphQLRequest reads a JSON body, or a raw application/graphql one.
func readGraphQLRequest(r *http.Request) (*gqlRequest, error) {
	body, err := io.ReadAll(http.MaxBytesReader(nil, r.Body, 1<<20))
	if err != nil {
		return nil, fmt.Errorf("read body: %w", err)
	}
	req := &gqlRequest{}
	if mt, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type")); mt == "application/graphql" {
		req.Query = string(body)
	} else if err := json.Unmarshal(body, req); err != nil {
		return nil, fmt.Errorf("decode body: %w", err)
	}
	if req.Query == "" {
		return nil, errors.New("no query")
	}
	return req, nil
}

// prepare parses and validates the document against the schema, picks the
// operation and coerces the variables. Errors come back as a real server
// words them, so a typo in the app fails in tests as it would in production.
// deprecated is what the document uses that the schema marks @deprecated
// ("" when nothing), for the X-Shopify-API-Deprecated-Reason header.
func prepare(schema *ast.Schema, req *gqlRequest) (op *ast.OperationDefinition, vars map[string]any, deprecated string, errs gqlerror.List) {
	cd, errs := validDocuments.load(schema, req.Query)
	if len(errs) > 0 {
		return nil, nil, "", errs
	}
	doc := cd.doc
	switch {
	case req.OperationName != "":
		op = doc.Operations.ForName(req.OperationName)
	case len(doc.Operations) == 1:
		op = doc.Operations[0]
	}
	if op == nil {
		return nil, nil, "", gqlerror.List{{Message: "An operation name is required when the document has several operations, and it must name one of them"}}
	}
	if op.Operation == ast.Subscription {
		return nil, nil, "", gqlerror.List{{Message: "Subscriptions are not supported"}}
	}
	vars, err := validator.VariableValues(schema, op, req.Variables)
	if err != nil {
		return nil, nil, "", gqlerror.List{variableError(op, req.Variables, err)}
	}
	return op, vars, cd.deprecated, nil
}

// validDocuments keeps the documents that passed validation, by their text:
// the app sends a few fixed documents with changing variables, and parsing
// and validating each again was most of the emulator's CPU under load
// (cmd/acpbench). Execution only reads a document, so one can be shared.
var validDocuments = &documentCache{docs: map[string]*cachedDocument{}}

// maxCachedDocuments bounds the cache; documents past it are validated
// each time, as before.
const maxCachedDocuments = 512

type documentCache struct {
	mu   sync.RWMutex
	docs map[string]*cachedDocument
}

// cachedDocument is a validated document and the deprecations it uses.
type cachedDocument struct {
	doc        *ast.QueryDocument
	deprecated string
}

// load returns the parsed, validated document of query, or the errors a real
// server would answer with. Invalid documents are never cached.
func (c *documentCache) load(schema *ast.Schema, query string) (*cachedDocument, gqlerror.List) {
	c.mu.RLock()
	cd := c.docs[query]
	c.mu.RUnlock()
	if cd != nil {
		return cd, nil
	}
	doc, errs := gqlparser.LoadQueryWithRules(schema, query, nil)
	if len(errs) > 0 {
		for _, e := range errs {
			e.Extensions = map[string]any{"code": "GRAPHQL_VALIDATION_FAILED"}
			e.Rule = ""
		}
		return nil, errs
	}
	cd = &cachedDocument{doc: doc, deprecated: deprecatedUse(doc)}
	c.mu.Lock()
	if len(c.docs) < maxCachedDocuments {
		c.docs[query] = cd
	}
	c.mu.Unlock()
	return cd, nil
}

// variableError words a variable coercion failure as graphql-ruby (and so
// Shopify) does: "Variable $id of type ID! was provided invalid value", with
// the details under extensions.problems.
func variableError(op *ast.OperationDefinition, raw map[string]any, err error) *gqlerror.Error {
	var ge *gqlerror.Error
	if !errors.As(err, &ge) {
		ge = gqlerror.Wrap(err)
	}
	if len(ge.Path) < 2 {
		return ge
	}
	name, _ := ge.Path[1].(ast.PathName)
	def := op.VariableDefinitions.ForName(string(name))
	if def == nil {
		return ge
	}
	out := &gqlerror.Error{
		Message: fmt.Sprintf("Variable $%s of type %s was provided invalid value", name, def.Type.String()),
		Extensions: map[string]any{
			"value":    raw[string(name)],
			"problems": []any{map[string]any{"path": ge.Path[2:], "explanation": ge.Message}},
		},
	}
	if def.Position != nil {
		out.Locations = []gqlerror.Location{{Line: def.Position.Line, Column: def.Position.Column}}
	}
	return out
}

// run charges the shop's bucket and executes, holding e.mu throughout so
// resolvers see a consistent store. A request the bucket cannot pay for (or a
// THROTTLED fault) runs nothing.
func (e *Emulator) run(x *execution, op *ast.OperationDefinition, throttle bool) gqlResponse {
	e.mu.Lock()
	defer e.mu.Unlock()
	s := x.shop
	requested := x.requestedCost(op)
	if requested > maxQueryCost && op.Operation == ast.Query {
		msg := fmt.Sprintf("Query cost is %d, which exceeds the single query max cost limit (%d).", requested, maxQueryCost)
		ext := map[string]any{"code": "MAX_COST_EXCEEDED", "cost": requested, "maxCost": maxQueryCost}
		return gqlResponse{Errors: gqlerror.List{{Message: msg, Extensions: ext}}, Extensions: &extensions{Cost: &queryCost{RequestedQueryCost: requested, ThrottleStatus: s.bucket.status()}}}
	}
	if throttle || !s.bucket.take(e.now(), requested) {
		s.stats.Throttled++
		s.stats.operation(op.Name, true, 0)
		ext := map[string]any{"code": "THROTTLED", "documentation": "https://shopify.dev/api/usage/rate-limits"}
		return gqlResponse{Errors: gqlerror.List{{Message: "Throttled", Extensions: ext}}, Extensions: &extensions{Cost: &queryCost{RequestedQueryCost: requested, ThrottleStatus: s.bucket.status()}}}
	}
	s.sweepDrafts(e.now()) // reservations that ran out no longer hold stock
	data := x.execute(op)
	actual := x.actualCost
	s.bucket.refund(requested - actual)
	s.stats.Cost += actual
	s.stats.operation(op.Name, false, actual)
	return gqlResponse{Data: data, Errors: x.errs, Extensions: &extensions{Cost: &queryCost{RequestedQueryCost: requested, ActualQueryCost: &actual, ThrottleStatus: s.bucket.status()}}}
}
