package stripeemu

import (
	"encoding/base64"
	"errors"
	"fmt"
	"net/url"
	"sort"
	"strconv"
	"strings"
)

// clause is one term of Stripe's search query language, e.g.
// metadata['checkout_session_id']:'cs_1' or -status:'canceled' or
// amount>=1000.
type clause struct {
	neg   bool
	field string // amount, created, currency, customer, metadata, status
	key   string // the metadata key
	op    string // ":", ">", "<", ">=", "<="
	value string
	null  bool // the value was the bare word null
}

// parseQuery parses a query: up to 10 clauses joined by AND or by OR (not
// both), as Stripe allows.
func parseQuery(q string) ([]clause, string, error) {
	var (
		out  []clause
		join string
		i    int
	)
	skip := func() {
		for i < len(q) && q[i] == ' ' {
			i++
		}
	}
	quoted := func() (string, error) {
		quote := q[i]
		i++
		var b strings.Builder
		for i < len(q) {
			c := q[i]
			switch {
			case c == '\\' && i+1 < len(q):
				b.WriteByte(q[i+1])
				i += 2
			case c == quote:
				i++
				return b.String(), nil
			default:
				b.WriteByte(c)
				i++
			}
		}
		return "", errors.New("unterminated string")
	}
	for {
		skip()
		if i >= len(q) {
			return nil, "", errors.New("expected a clause")
		}
		var c clause
		if q[i] == '-' {
			c.neg = true
			i++
		}
		start := i
		for i < len(q) && (q[i] == '_' || q[i] >= 'a' && q[i] <= 'z') {
			i++
		}
		c.field = q[start:i]
		switch c.field {
		case "amount", "created", "currency", "customer", "status":
		case "metadata":
			if i+1 >= len(q) || q[i] != '[' || (q[i+1] != '\'' && q[i+1] != '"') {
				return nil, "", errors.New("metadata needs a key: metadata['key']")
			}
			i++
			k, err := quoted()
			if err != nil {
				return nil, "", err
			}
			if i >= len(q) || q[i] != ']' {
				return nil, "", errors.New("expected ] after the metadata key")
			}
			i++
			c.key = k
		case "":
			return nil, "", fmt.Errorf("expected a field at position %d", start)
		default:
			return nil, "", fmt.Errorf("Field `%s` is not supported for search on payment_intents", c.field)
		}
		switch {
		case strings.HasPrefix(q[i:], ">="), strings.HasPrefix(q[i:], "<="):
			c.op = q[i : i+2]
			i += 2
		case i < len(q) && strings.ContainsRune(":<>", rune(q[i])):
			c.op = q[i : i+1]
			i++
		default:
			return nil, "", fmt.Errorf("expected an operator after %s", c.field)
		}
		if i >= len(q) {
			return nil, "", errors.New("expected a value")
		}
		if q[i] == '\'' || q[i] == '"' {
			v, err := quoted()
			if err != nil {
				return nil, "", err
			}
			c.value = v
		} else {
			start := i
			for i < len(q) && q[i] != ' ' {
				i++
			}
			c.value = q[start:i]
			if c.value == "null" {
				c.null = true
			} else if _, err := strconv.ParseInt(c.value, 10, 64); err != nil {
				return nil, "", fmt.Errorf("unquoted value %q must be a number or null", c.value)
			}
		}
		numeric := c.field == "amount" || c.field == "created"
		if c.op != ":" && !numeric {
			return nil, "", fmt.Errorf("%s only supports the : operator", c.field)
		}
		out = append(out, c)
		if len(out) > 10 {
			return nil, "", errors.New("a query has at most 10 clauses")
		}
		skip()
		if i >= len(q) {
			return out, join, nil
		}
		var word string
		switch {
		case strings.HasPrefix(q[i:], "AND "):
			word = "AND"
		case strings.HasPrefix(q[i:], "OR "):
			word = "OR"
		default:
			return nil, "", fmt.Errorf("expected AND or OR at position %d", i)
		}
		if join != "" && join != word {
			return nil, "", errors.New("a query cannot mix AND and OR")
		}
		join = word
		i += len(word)
	}
}

// match reports whether the intent satisfies the clause.
func (c clause) match(in *intent) bool {
	var ok bool
	switch c.field {
	case "metadata":
		v, has := in.metadata[c.key]
		ok = has && v == c.value
		if c.null {
			ok = !has
		}
	case "status":
		ok = in.status == c.value
	case "currency":
		ok = strings.EqualFold(in.currency, c.value)
	case "customer":
		ok = c.null // the emulator's intents have no customer
	case "amount", "created":
		have := in.amount
		if c.field == "created" {
			have = in.created.Unix()
		}
		want, err := strconv.ParseInt(c.value, 10, 64)
		if err != nil {
			return false
		}
		switch c.op {
		case ":":
			ok = have == want
		case ">":
			ok = have > want
		case "<":
			ok = have < want
		case ">=":
			ok = have >= want
		case "<=":
			ok = have <= want
		}
	}
	return ok != c.neg
}

// searchIntents is GET /v1/payment_intents/search. Results come newest
// first. An intent becomes searchable Config.SearchDelay after it was
// created (and is then seen in its current state).
func (e *Emulator) searchIntents(rq *request) (any, *apiError) {
	p := rq.params
	if err := checkParams(p, "query", "limit", "page", "expand["); err != nil {
		return nil, err
	}
	if err := expandParam(p); err != nil {
		return nil, err
	}
	q := p.Get("query")
	if q == "" {
		return nil, invalid("query", "parameter_missing", "Missing required param: query.")
	}
	clauses, join, err := parseQuery(q)
	if err != nil {
		return nil, invalid("query", "", "Invalid query: %v", err)
	}
	limit, present, aerr := intParam(p, "limit")
	if aerr != nil {
		return nil, aerr
	}
	if !present {
		limit = 10
	}
	if limit < 1 || limit > 100 {
		return nil, invalid("limit", "", "This value must be between 1 and 100.")
	}
	offset := 0
	if pg := p.Get("page"); pg != "" {
		raw, err := base64.RawURLEncoding.DecodeString(pg)
		n, err2 := strconv.Atoi(strings.TrimPrefix(string(raw), "off:"))
		if err != nil || err2 != nil || n < 0 || !strings.HasPrefix(string(raw), "off:") {
			return nil, invalid("page", "", "Invalid page: %s", pg)
		}
		offset = n
	}

	var hits []*intent
	for _, id := range e.order {
		in := e.intents[id]
		if in.account != rq.acct.id || rq.now.Sub(in.created) < e.cfg.SearchDelay {
			continue
		}
		all := join != "OR"
		for _, c := range clauses {
			m := c.match(in)
			if join == "OR" && m {
				all = true
				break
			}
			if join != "OR" && !m {
				all = false
				break
			}
		}
		if all {
			hits = append(hits, in)
		}
	}
	sort.SliceStable(hits, func(a, b int) bool {
		if !hits[a].created.Equal(hits[b].created) {
			return hits[a].created.After(hits[b].created)
		}
		return hits[a].seq > hits[b].seq
	})
	data := []any{}
	end := min(offset+int(limit), len(hits))
	for i := offset; i < end; i++ {
		data = append(data, e.intentJSON(hits[i], itemParams(p)))
	}
	var next any
	if end < len(hits) {
		next = base64.RawURLEncoding.EncodeToString([]byte(fmt.Sprintf("off:%d", end)))
	}
	return map[string]any{
		"object": "search_result", "data": data, "has_more": next != nil, "next_page": next,
		"url": "/v1/payment_intents/search",
	}, nil
}

// itemParams turns a list's expand[]=data.x into x for each item.
func itemParams(p url.Values) url.Values {
	out := url.Values{}
	for k, vs := range p {
		if strings.HasPrefix(k, "expand[") {
			for _, v := range vs {
				out.Add(k, strings.TrimPrefix(v, "data."))
			}
		}
	}
	return out
}
