package emulator

import (
	"cmp"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
)

// edgeItem is one node of a connection with its sort key; the items passed
// to paginate are sorted ascending by (value, id). The node is built only if
// it lands on the page, which keeps large catalogs cheap to page through.
type edgeItem struct {
	id    int64
	value string
	node  func() map[string]any
}

// sortItems orders items by (value, id).
func sortItems(items []edgeItem) {
	slices.SortFunc(items, func(a, b edgeItem) int {
		if a.value != b.value {
			return strings.Compare(a.value, b.value)
		}
		return cmp.Compare(a.id, b.id)
	})
}

// cursor is what Shopify's opaque cursors hold: the sort key of the last
// item seen. Paging resumes after it even if that item was deleted since.
type cursor struct {
	LastID    int64  `json:"last_id"`
	LastValue string `json:"last_value"`
}

func encodeCursor(it edgeItem) string {
	b, _ := json.Marshal(cursor{LastID: it.id, LastValue: it.value})
	return base64.StdEncoding.EncodeToString(b)
}

func decodeCursor(s string) (cursor, error) {
	var c cursor
	b, err := base64.StdEncoding.DecodeString(s)
	if err == nil {
		err = json.Unmarshal(b, &c)
	}
	if err != nil {
		return c, newAPIError("BAD_REQUEST", fmt.Sprintf("Invalid cursor for current pagination sort: %q", s))
	}
	return c, nil
}

// before orders two items by (value, id).
func (it edgeItem) before(c cursor) bool {
	if it.value != c.LastValue {
		return it.value < c.LastValue
	}
	return it.id < c.LastID
}

// paginate builds a connection value (edges, nodes, pageInfo) from first,
// after, last, before and reverse. In a bulk operation everything is
// returned and no page size is needed.
func paginate(items []edgeItem, args map[string]any, bulk bool) (map[string]any, error) {
	items = slices.Clone(items)
	if boolArg(args, "reverse") {
		slices.Reverse(items)
	}
	desc := boolArg(args, "reverse")
	// after and before keep the items strictly past / short of a cursor, in
	// the current direction.
	past := func(it edgeItem, c cursor) bool {
		if it.id == c.LastID && it.value == c.LastValue {
			return false
		}
		return it.before(c) == desc
	}
	hasPrev, hasNext := false, false
	if s := stringArg(args, "after"); s != "" {
		c, err := decodeCursor(s)
		if err != nil {
			return nil, err
		}
		i := slices.IndexFunc(items, func(it edgeItem) bool { return past(it, c) })
		if i < 0 {
			i = len(items)
		}
		hasPrev, items = i > 0, items[i:]
	}
	if s := stringArg(args, "before"); s != "" {
		c, err := decodeCursor(s)
		if err != nil {
			return nil, err
		}
		i := slices.IndexFunc(items, func(it edgeItem) bool { return past(it, c) || (it.id == c.LastID && it.value == c.LastValue) })
		if i < 0 {
			i = len(items)
		}
		hasNext, items = i < len(items), items[:i]
	}
	first, hasFirst := intArg(args, "first")
	last, hasLast := intArg(args, "last")
	switch {
	case bulk:
	case !hasFirst && !hasLast:
		return nil, newAPIError("BAD_REQUEST", "you must provide one of first or last")
	case hasFirst && first < 0, hasLast && last < 0:
		return nil, newAPIError("BAD_REQUEST", "first and last must be non-negative")
	}
	if hasFirst && !bulk && len(items) > first {
		hasNext, items = true, items[:first]
	}
	if hasLast && !bulk && len(items) > last {
		hasPrev, items = true, items[len(items)-last:]
	}
	edges := make([]any, len(items))
	nodes := make([]any, len(items))
	for i, it := range items {
		node := it.node()
		edges[i] = map[string]any{"cursor": encodeCursor(it), "node": node}
		nodes[i] = node
	}
	page := map[string]any{"hasNextPage": hasNext, "hasPreviousPage": hasPrev, "startCursor": nil, "endCursor": nil}
	if len(items) > 0 {
		page["startCursor"] = encodeCursor(items[0])
		page["endCursor"] = encodeCursor(items[len(items)-1])
	}
	return map[string]any{"edges": edges, "nodes": nodes, "pageInfo": page}, nil
}
