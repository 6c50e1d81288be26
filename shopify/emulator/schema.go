package emulator

import (
	"bytes"
	"compress/gzip"
	_ "embed"
	"fmt"
	"io"
	"sync"
	"time"

	"github.com/vektah/gqlparser/v2"
	"github.com/vektah/gqlparser/v2/ast"
)

// adminSchemaGz is Shopify's Admin GraphQL schema for the app's API version
// (MIT, see schema/LICENSE), gzipped: 3.7 MB of SDL becomes 0.6 MB.
//
//go:embed schema/admin-2026-10.graphql.gz
var adminSchemaGz []byte

var (
	schemaOnce sync.Once
	schemaDoc  *ast.Schema
	schemaErr  error
	schemaTook time.Duration
)

// adminSchema parses the embedded schema once per process: it takes about
// 0.1 s (more under -race), too slow to repeat per emulator or per test.
func adminSchema() (*ast.Schema, error) {
	schemaOnce.Do(func() {
		start := time.Now()
		zr, err := gzip.NewReader(bytes.NewReader(adminSchemaGz))
		if err != nil {
			schemaErr = fmt.Errorf("emulator: open schema: %w", err)
			return
		}
		sdl, err := io.ReadAll(zr)
		if err != nil {
			schemaErr = fmt.Errorf("emulator: read schema: %w", err)
			return
		}
		schemaDoc, err = gqlparser.LoadSchema(&ast.Source{Name: "admin-2026-10.graphql", Input: string(sdl)})
		if err != nil {
			schemaErr = fmt.Errorf("emulator: parse schema: %w", err)
		}
		schemaTook = time.Since(start)
	})
	return schemaDoc, schemaErr
}

// SchemaLoadTime reports how long the one-time gunzip and parse of the
// embedded Admin schema took (zero until the first GraphQL request or
// LoadSchema call).
func SchemaLoadTime() time.Duration {
	_, _ = adminSchema()
	return schemaTook
}

// LoadSchema parses the embedded Admin schema now instead of on the first
// GraphQL request, so a test's or the demo's first call is not slowed down.
func LoadSchema() error {
	_, err := adminSchema()
	return err
}
