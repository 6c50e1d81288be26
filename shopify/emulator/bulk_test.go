package emulator_test

import (
	"bufio"
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"strconv"
	"testing"

	"github.com/acpbridge/acpbridge/shopify"
	"github.com/acpbridge/acpbridge/shopify/emulator"
)

const runBulk = `mutation Run($q: String!) {
  bulkOperationRunQuery(query: $q, groupObjects: false) {
    bulkOperation { id status }
    userErrors { field message code }
  }
}`

func TestBulkOperation(t *testing.T) {
	t.Parallel()
	sink := newWebhookSink(t)
	b := setup(t, func(c *emulator.Config) { c.AppURL = sink.URL })
	tok := b.install(t, testShop, true)["access_token"].(string)

	inner := `{ products { edges { node {
  id title status
  featuredMedia { ... on MediaImage { image { url } } }
  media(first: 5) { edges { node { ... on MediaImage { id image { url } } } } }
  variants { edges { node { id sku price inventoryQuantity inventoryItem { requiresShipping } } } }
} } } }`
	status, body := b.gql(t, testShop, tok, runBulk, map[string]any{"q": inner})
	if status != http.StatusOK || body["errors"] != nil {
		t.Fatalf("run: status=%d body=%v", status, body)
	}
	if got := dig(body, "extensions", "cost", "requestedQueryCost"); got != 10.0 {
		t.Errorf("bulk run cost=%v, want 10", got)
	}
	op := dig(body, "data", "bulkOperationRunQuery", "bulkOperation").(map[string]any)
	if op["status"] != "CREATED" || len(dig(body, "data", "bulkOperationRunQuery", "userErrors").([]any)) != 0 {
		t.Fatalf("run payload=%v", body["data"])
	}

	hook := sink.next(t, "bulk_operations/finish")
	if !shopify.VerifyWebhook(hook.body, hook.header.Get("X-Shopify-Hmac-Sha256"), testSecret) {
		t.Error("finish webhook HMAC does not verify")
	}
	var finish map[string]any
	if err := json.Unmarshal(hook.body, &finish); err != nil {
		t.Fatal(err)
	}
	if finish["admin_graphql_api_id"] != op["id"] || finish["status"] != "completed" || finish["type"] != "query" || finish["error_code"] != nil {
		t.Errorf("finish payload=%v", finish)
	}

	data := b.mustData(t, testShop, tok, `query($id: ID!) {
  node(id: $id) { ... on BulkOperation { status url objectCount rootObjectCount fileSize errorCode } }
  currentBulkOperation { id }
}`, map[string]any{"id": op["id"]})
	node := data["node"].(map[string]any)
	if node["status"] != "COMPLETED" || dig(data, "currentBulkOperation", "id") != op["id"] {
		t.Fatalf("node=%v", data)
	}

	resp, err := http.Get(node["url"].(string)) // a plain 127.0.0.1 URL, as the app downloads it
	if err != nil {
		t.Fatal(err)
	}
	file, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if node["fileSize"] != strconv.Itoa(len(file)) {
		t.Errorf("fileSize=%v, file is %d bytes", node["fileSize"], len(file))
	}

	seen := map[string]string{} // id -> kind of line
	products, lines := 0, 0
	sc := bufio.NewScanner(bytes.NewReader(file))
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		lines++
		var obj map[string]any
		if err := json.Unmarshal(sc.Bytes(), &obj); err != nil {
			t.Fatalf("line %d is not JSON: %v", lines, err)
		}
		if _, wrapped := obj["edges"]; wrapped {
			t.Fatalf("line %d has edges: %s", lines, sc.Bytes())
		}
		id, _ := obj["id"].(string)
		parent, hasParent := obj["__parentId"].(string)
		switch {
		case !hasParent:
			products++
			if _, ok := obj["variants"]; ok {
				t.Errorf("product line keeps its variants: %s", sc.Bytes())
			}
			seen[id] = "product"
		case seen[parent] != "product":
			t.Errorf("line %d: __parentId %q is not an earlier product line", lines, parent)
		}
	}
	if products != len(b.emu.Products(testShop)) {
		t.Errorf("%d product lines, want %d", products, len(b.emu.Products(testShop)))
	}
	if node["objectCount"] != strconv.Itoa(lines) || node["rootObjectCount"] != strconv.Itoa(products) {
		t.Errorf("objectCount=%v rootObjectCount=%v, file has %d lines and %d roots", node["objectCount"], node["rootObjectCount"], lines, products)
	}
}

func TestBulkOperationRejectsBadQueries(t *testing.T) {
	t.Parallel()
	b := setup(t, nil)
	tok := b.emu.StaffToken(testShop)
	tests := []struct {
		name  string
		inner string
		want  string
	}{
		{"Misspelled", `{ produtcs { edges { node { id } } } }`, `Cannot query field "produtcs"`},
		{"NoConnection", `{ shop { name } }`, "at least one connection"},
		{"TopLevelNode", `{ node(id: "gid://shopify/Product/1") { id } products { edges { node { id } } } }`, "top level"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			data := b.mustData(t, testShop, tok, runBulk, map[string]any{"q": tt.inner})
			if dig(data, "bulkOperationRunQuery", "bulkOperation") != nil {
				t.Errorf("an operation was created: %v", data)
			}
			msg, _ := dig(data, "bulkOperationRunQuery", "userErrors", 0, "message").(string)
			if !contains(msg, tt.want) || dig(data, "bulkOperationRunQuery", "userErrors", 0, "field", 0) != "query" {
				t.Errorf("userErrors=%v, want a message containing %q", dig(data, "bulkOperationRunQuery", "userErrors"), tt.want)
			}
		})
	}
}
