package emulator

import (
	"bytes"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/vektah/gqlparser/v2/ast"
)

// bulkPathPrefix is where finished bulk results are served. The file name is
// random, standing in for Shopify's signed storage URLs.
const bulkPathPrefix = "/bulk-operations/"

// startBulk runs a bulk operation in the background: RUNNING after half the
// configured delay, COMPLETED (or FAILED) after the rest, then the
// bulk_operations/finish webhook. The caller holds e.mu.
func (e *Emulator) startBulk(schema *ast.Schema, s *shopState, op *bulkOp) {
	if e.ctx.Err() != nil {
		return
	}
	e.wg.Add(1)
	go func() {
		defer e.wg.Done()
		if !e.sleep(e.cfg.BulkDelay / 2) {
			return
		}
		e.mu.Lock()
		op.status = "RUNNING"
		e.mu.Unlock()
		if !e.sleep(e.cfg.BulkDelay - e.cfg.BulkDelay/2) {
			return
		}
		payload, notify := e.finishBulk(schema, s, op)
		if !notify {
			return
		}
		if _, err := e.SendWebhook(e.ctx, s.domain, "bulk_operations/finish", payload); err != nil {
			e.log.Warn("bulk_operations/finish not delivered", "shop", s.domain, "err", err)
		}
	}()
}

// sleep waits d unless the emulator closes first.
func (e *Emulator) sleep(d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-e.ctx.Done():
		return false
	}
}

// bulkFinishPayload is the bulk_operations/finish webhook body; Shopify
// lower-cases status and error_code here, unlike in GraphQL.
type bulkFinishPayload struct {
	AdminGraphQLAPIID string  `json:"admin_graphql_api_id"`
	CompletedAt       *string `json:"completed_at"`
	CreatedAt         string  `json:"created_at"`
	ErrorCode         *string `json:"error_code"`
	Status            string  `json:"status"`
	Type              string  `json:"type"`
}

// finishBulk executes the operation over the whole catalog, unpaginated,
// stores the JSONL and returns the webhook payload; notify is false when the
// app is not installed (no one to tell).
func (e *Emulator) finishBulk(schema *ast.Schema, s *shopState, op *bulkOp) (bulkFinishPayload, bool) {
	e.mu.Lock()
	defer e.mu.Unlock()
	x := &execution{e: e, ctx: e.ctx, schema: schema, shop: s, token: op.token, vars: map[string]any{}, bulk: true}
	data := x.execute(op.doc.Operations[0])
	op.completedAt = e.now()
	fault := e.takeBulkFault()
	if fault == BulkFailed {
		op.status, op.errorCode = "FAILED", "INTERNAL_SERVER_ERROR"
	} else if len(x.errs) > 0 {
		op.status, op.errorCode = "FAILED", "INTERNAL_SERVER_ERROR"
		if code, _ := x.errs[0].Extensions["code"].(string); code == "ACCESS_DENIED" {
			op.errorCode = "ACCESS_DENIED"
		}
	} else {
		file, objects, roots := bulkJSONL(data)
		if fault == BulkTruncated && len(file) > 10 {
			// End mid-line: a cut just after a newline would look complete.
			file = file[:len(file)/2]
			for len(file) > 1 && file[len(file)-1] == '\n' {
				file = file[:len(file)-2]
			}
		}
		op.status, op.objects, op.roots, op.fileSize = "COMPLETED", objects, roots, len(file)
		// Shopify gives no url when the query matched nothing.
		if objects > 0 && e.addr != "" {
			name := randomHex(24) + ".jsonl"
			e.bulkFiles[name] = file
			op.url = "http://" + e.addr + bulkPathPrefix + name
		}
	}
	e.log.Info("bulk operation finished", "shop", s.domain, "id", op.id, "status", op.status, "objects", op.objects)
	completed := dateTime(op.completedAt)
	p := bulkFinishPayload{
		AdminGraphQLAPIID: gid("BulkOperation", op.id),
		CompletedAt:       &completed,
		CreatedAt:         dateTime(op.createdAt),
		Status:            strings.ToLower(op.status),
		Type:              "query",
	}
	if op.errorCode != "" {
		code := strings.ToLower(op.errorCode)
		p.ErrorCode = &code
	}
	return p, s.installed
}

// bulkJSONL writes Shopify's bulk result format: one object per line with no
// edges/node wrappers; the items of a nested connection follow their parent
// on lines of their own, with "__parentId".
func bulkJSONL(data *object) (file []byte, objects, roots int) {
	var buf bytes.Buffer
	for _, f := range data.fields {
		conn, ok := f.val.(*object)
		if !ok || !conn.conn {
			continue
		}
		for _, item := range conn.items {
			roots++
			objects += writeBulkObject(&buf, item, "")
		}
	}
	return buf.Bytes(), objects, roots
}

// writeBulkObject writes an object and, after it, its nested connections'
// items; it returns the number of lines written.
func writeBulkObject(buf *bytes.Buffer, o *object, parentID string) int {
	line := &object{}
	var nested []*object
	for _, f := range o.fields {
		if c, ok := f.val.(*object); ok && c.conn {
			nested = append(nested, c)
			continue
		}
		line.add(f.key, f.name, f.val)
	}
	if parentID != "" {
		line.add("__parentId", "", parentID)
	}
	b, err := marshalRaw(line)
	if err != nil {
		return 0
	}
	buf.Write(b)
	buf.WriteByte('\n')
	n := 1
	for _, c := range nested {
		for _, item := range c.items {
			n += writeBulkObject(buf, item, o.id)
		}
	}
	return n
}

// handleBulkFile serves a finished operation's JSONL.
func (e *Emulator) handleBulkFile(w http.ResponseWriter, r *http.Request) {
	e.mu.Lock()
	file, ok := e.bulkFiles[r.PathValue("file")]
	e.mu.Unlock()
	if !ok {
		http.NotFound(w, r)
		return
	}
	w.Header().Set("Content-Type", "application/jsonl")
	w.Header().Set("Content-Length", strconv.Itoa(len(file)))
	_, _ = w.Write(file)
}
