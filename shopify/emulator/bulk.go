package emulator

import (
	"strconv"
	"strings"
	"time"

	"github.com/vektah/gqlparser/v2"
	"github.com/vektah/gqlparser/v2/ast"
)

// bulkOp is a bulk query operation (docs/shopify.md §4.4). Guarded by
// Emulator.mu.
type bulkOp struct {
	id          int64
	query       string
	doc         *ast.QueryDocument
	token       *accessToken // whose scopes the query runs with
	status      string       // CREATED, RUNNING, COMPLETED, FAILED
	errorCode   string
	objects     int
	roots       int
	fileSize    int
	url         string
	createdAt   time.Time
	completedAt time.Time
}

// registerBulkResolvers adds bulk query operations.
func registerBulkResolvers(r *registry) {
	r.addMutation("bulkOperationRunQuery", "", resolveBulkRunQuery)
	r.addQuery("currentBulkOperation", "", resolveCurrentBulkOperation)
	r.addQuery("bulkOperation", "", resolveBulkOperation)
	r.addQuery("bulkOperations", "", resolveBulkOperations)
}

// resolveBulkRunQuery is bulkOperationRunQuery(query, groupObjects): it
// validates the inner query like the outer one, then runs it in the
// background; problems are userErrors, not GraphQL errors.
func resolveBulkRunQuery(x *execution, _ *ast.Field, args map[string]any) (any, error) {
	doc, problem := validateBulkQuery(x.schema, stringArg(args, "query"))
	if problem != "" {
		userErr := map[string]any{"field": []any{"query"}, "message": problem, "code": "INVALID"}
		return map[string]any{"bulkOperation": nil, "userErrors": []any{userErr}}, nil
	}
	x.e.nextBulk++
	op := &bulkOp{
		id:        5_000_000_000 + x.e.nextBulk,
		query:     stringArg(args, "query"),
		doc:       doc,
		token:     x.token,
		status:    "CREATED",
		createdAt: x.e.now(),
	}
	x.shop.bulkOps = append(x.shop.bulkOps, op)
	x.e.startBulk(x.schema, x.shop, op)
	return map[string]any{"bulkOperation": op.node(), "userErrors": []any{}}, nil
}

// validateBulkQuery applies the schema and Shopify's bulk query rules: one
// query operation, 1 to 5 connections, nested at most 2 deep, no top-level
// node or nodes.
func validateBulkQuery(schema *ast.Schema, q string) (*ast.QueryDocument, string) {
	doc, errs := gqlparser.LoadQueryWithRules(schema, q, nil)
	if len(errs) > 0 {
		return nil, "Invalid bulk query: " + errs[0].Message
	}
	if len(doc.Operations) != 1 || doc.Operations[0].Operation != ast.Query {
		return nil, "Invalid bulk query: a bulk query must contain exactly one query operation"
	}
	for _, sel := range doc.Operations[0].SelectionSet {
		if f, ok := sel.(*ast.Field); ok && (f.Name == "node" || f.Name == "nodes") {
			return nil, "Invalid bulk query: `" + f.Name + "` is not supported at the top level of a bulk query"
		}
	}
	count, depth := countConnections(doc.Operations[0].SelectionSet, 0)
	switch {
	case count == 0:
		return nil, "Invalid bulk query: Bulk queries must contain at least one connection."
	case count > 5:
		return nil, "Invalid bulk query: Bulk queries cannot contain more than 5 connections."
	case depth > 2:
		return nil, "Invalid bulk query: Bulk queries cannot contain connections with a nesting depth greater than 2."
	}
	return doc, ""
}

// countConnections counts connection fields and how deep they nest.
func countConnections(set ast.SelectionSet, level int) (count, depth int) {
	for _, sel := range set {
		var sub ast.SelectionSet
		here := level
		switch s := sel.(type) {
		case *ast.Field:
			sub = s.SelectionSet
			if s.Definition != nil && strings.HasSuffix(s.Definition.Type.Name(), "Connection") {
				count++
				here = level + 1
				depth = max(depth, here)
			}
		case *ast.InlineFragment:
			sub = s.SelectionSet
		case *ast.FragmentSpread:
			if s.Definition != nil {
				sub = s.Definition.SelectionSet
			}
		}
		c, d := countConnections(sub, here)
		count += c
		depth = max(depth, d)
	}
	return count, depth
}

// node is the BulkOperation object. UnsignedInt64 counts are strings, as
// Shopify encodes them.
func (op *bulkOp) node() map[string]any {
	n := map[string]any{
		"__typename":      "BulkOperation",
		"id":              gid("BulkOperation", op.id),
		"status":          op.status,
		"errorCode":       nilIfEmpty(op.errorCode),
		"objectCount":     strconv.Itoa(op.objects),
		"rootObjectCount": strconv.Itoa(op.roots),
		"fileSize":        nil,
		"url":             nilIfEmpty(op.url),
		"partialDataUrl":  nil,
		"createdAt":       dateTime(op.createdAt),
		"completedAt":     nil,
		"query":           op.query,
		"type":            "QUERY",
	}
	if op.status == "COMPLETED" {
		n["fileSize"] = strconv.Itoa(op.fileSize)
		n["completedAt"] = dateTime(op.completedAt)
	}
	return n
}

// resolveCurrentBulkOperation is currentBulkOperation(type): the shop's most
// recent query operation.
func resolveCurrentBulkOperation(x *execution, _ *ast.Field, args map[string]any) (any, error) {
	if t := stringArg(args, "type"); t != "" && t != "QUERY" {
		return nil, nil // bulk mutations are not emulated
	}
	if n := len(x.shop.bulkOps); n > 0 {
		return x.shop.bulkOps[n-1].node(), nil
	}
	return nil, nil
}

// resolveBulkOperation is bulkOperation(id), also used by node(id).
func resolveBulkOperation(x *execution, _ *ast.Field, args map[string]any) (any, error) {
	id, ok := parseGID(stringArg(args, "id"), "BulkOperation")
	for _, op := range x.shop.bulkOps {
		if ok && op.id == id {
			return op.node(), nil
		}
	}
	return nil, nil
}

// resolveBulkOperations is bulkOperations(first, query: "status:…"), newest
// last unless reverse.
func resolveBulkOperations(x *execution, _ *ast.Field, args map[string]any) (any, error) {
	terms := parseSearch(stringArg(args, "query"))
	var items []edgeItem
	for _, op := range x.shop.bulkOps {
		keep := true
		for _, t := range terms {
			if t.field == "status" && !strings.EqualFold(t.value, op.status) {
				keep = false
			}
		}
		if keep {
			items = append(items, edgeItem{id: op.id, value: op.createdAt.UTC().Format(sortableTime), node: op.node})
		}
	}
	sortItems(items)
	return paginate(items, args, false)
}
