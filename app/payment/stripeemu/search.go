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
	)
	s := &queryScanner{q: q}
	for {
		s.skip()
		if s.i >= len(q) {
			return nil, "", errors.New("expected a clause")
		}
		c, err := s.clause()
		if err != nil {
			return nil, "", err
		}
		out = append(out, c)
		if len(out) > 10 {
			return nil, "", errors.New("a query has at most 10 clauses")
		}
		s.skip()
		if s.i >= len(q) {
			return out, join, nil
		}
		var word string
		switch {
		case strings.HasPrefix(q[s.i:], "AND "):
			word = "AND"
		case strings.HasPrefix(q[s.i:], "OR "):
			word = "OR"
		default:
			return nil, "", fmt.Errorf("expected AND or OR at position %d", s.i)
		}
		if join != "" && join != word {
			return nil, "", errors.New("a query cannot mix AND and OR")
		}
		join = word
		s.i += len(word)
	}
}

// queryScanner reads a search query; i is the position of the next byte.
type queryScanner struct {
	q string
	i int
}

// skip skips spaces.
func (s *queryScanner) skip() {
	for s.i < len(s.q) && s.q[s.i] == ' ' {
		s.i++
	}
}

// quoted reads a string in the quotes at i, with backslash escapes.
func (s *queryScanner) quoted() (string, error) {
	q := s.q
	quote := q[s.i]
	s.i++
	var b strings.Builder
	for s.i < len(q) {
		c := q[s.i]
		switch {
		case c == '\\' && s.i+1 < len(q):
			b.WriteByte(q[s.i+1])
			s.i += 2
		case c == quote:
			s.i++
			return b.String(), nil
		default:
			b.WriteByte(c)
			s.i++
		}
	}
	return "", errors.New("unterminated string")
}

// clause reads one clause: [-]field operator value, where only amount and
// created compare with more than :.
func (s *queryScanner) clause() (clause, error) {
	var c clause
	if s.q[s.i] == '-' {
		c.neg = true
		s.i++
	}
	if err := s.field(&c); err != nil {
		return clause{}, err
	}
	if err := s.operator(&c); err != nil {
		return clause{}, err
	}
	if err := s.value(&c); err != nil {
		return clause{}, err
	}
	numeric := c.field == "amount" || c.field == "created"
	if c.op != ":" && !numeric {
		return clause{}, fmt.Errorf("%s only supports the : operator", c.field)
	}
	return c, nil
}

// field reads a clause's field, one of those searchable on payment
// intents, with the key of metadata['key'].
func (s *queryScanner) field(c *clause) error {
	q := s.q
	start := s.i
	for s.i < len(q) && (q[s.i] == '_' || q[s.i] >= 'a' && q[s.i] <= 'z') {
		s.i++
	}
	c.field = q[start:s.i]
	switch c.field {
	case "amount", "created", "currency", "customer", "status":
	case "metadata":
		if s.i+1 >= len(q) || q[s.i] != '[' || (q[s.i+1] != '\'' && q[s.i+1] != '"') {
			return errors.New("metadata needs a key: metadata['key']")
		}
		s.i++
		k, err := s.quoted()
		if err != nil {
			return err
		}
		if s.i >= len(q) || q[s.i] != ']' {
			return errors.New("expected ] after the metadata key")
		}
		s.i++
		c.key = k
	case "":
		return fmt.Errorf("expected a field at position %d", start)
	default:
		return fmt.Errorf("Field `%s` is not supported for search on payment_intents", c.field)
	}
	return nil
}

// operator reads a clause's operator: :, <, >, <= or >=.
func (s *queryScanner) operator(c *clause) error {
	q := s.q
	switch {
	case strings.HasPrefix(q[s.i:], ">="), strings.HasPrefix(q[s.i:], "<="):
		c.op = q[s.i : s.i+2]
		s.i += 2
	case s.i < len(q) && strings.ContainsRune(":<>", rune(q[s.i])):
		c.op = q[s.i : s.i+1]
		s.i++
	default:
		return fmt.Errorf("expected an operator after %s", c.field)
	}
	return nil
}

// value reads a clause's value: a quoted string, else a number or null.
func (s *queryScanner) value(c *clause) error {
	q := s.q
	if s.i >= len(q) {
		return errors.New("expected a value")
	}
	if q[s.i] == '\'' || q[s.i] == '"' {
		v, err := s.quoted()
		if err != nil {
			return err
		}
		c.value = v
		return nil
	}
	start := s.i
	for s.i < len(q) && q[s.i] != ' ' {
		s.i++
	}
	c.value = q[start:s.i]
	if c.value == "null" {
		c.null = true
	} else if _, err := strconv.ParseInt(c.value, 10, 64); err != nil {
		return fmt.Errorf("unquoted value %q must be a number or null", c.value)
	}
	return nil
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
