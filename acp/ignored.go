package acp

import (
	"fmt"
	"strings"
)

// Liberal in what we accept, precise in what we say: a key that a
// request's schema does not define (additionalProperties: false) is
// ignored, not refused, at every level of the body, and the answer names
// it in one info message (Ignored.Message). Agents send fields of newer or
// draft versions, or of the other version, all the time; refusing them
// broke conformance suites and agents alike (issue 18). Wrong types,
// missing required fields and bad values are still refused, each with its
// precise code and param. So is an unknown key in a complete's
// payment_data (reader.strictObject): there it may change what is charged,
// and the answer comes after the charge.

// MaxIgnoredListed is how many ignored fields Ignored lists by path; the
// message says how many more there were.
const MaxIgnoredListed = 20

// maxIgnoredKey is how much of an ignored key a path spells out.
const maxIgnoredKey = 64

// Ignored are the fields of a request that its version does not define
// and that the decoder ignored.
type Ignored struct {
	// Paths are the JSONPaths of the first MaxIgnoredListed of them, in
	// the order the decoder met them (a key longer than 64 characters is
	// cut, marked with "…").
	Paths []string
	// Param is the JSONPath of the first one (its object's, when its key
	// was cut).
	Param string
	// Count is how many there were in all.
	Count int
}

// list names the first max paths after prefix, and how many more.
func (ig Ignored) list(prefix string, max int) string {
	var b strings.Builder
	b.WriteString(prefix)
	n := min(max, len(ig.Paths))
	b.WriteString(strings.Join(ig.Paths[:n], ", "))
	if more := ig.Count - n; more > 0 {
		fmt.Fprintf(&b, " and %d more", more)
	}
	return b.String()
}

// Message is the one message an answer carries about the ignored fields,
// false when there were none. It is an info message in both versions:
// 2025-09-29 has no warnings, and the warning codes of 2026-04-17 are all
// about the goods (stock, price, promotions, discount codes), none about
// the request; an info message needs no code. It belongs to the one
// answer of the request that sent the fields, not to the session.
func (ig Ignored) Message() (Message, bool) {
	if ig.Count == 0 {
		return Message{}, false
	}
	what := "1 field"
	if ig.Count > 1 {
		what = fmt.Sprintf("%d fields", ig.Count)
	}
	return Message{
		Type: MessageInfo, Param: ig.Param, ContentType: ContentPlain, Severity: "low", Resolution: "recoverable",
		Content: ig.list(fmt.Sprintf("Ignored %s that this API version does not define: ", what), MaxIgnoredListed) + ".",
	}, true
}
