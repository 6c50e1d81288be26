package service_test

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"testing"

	"github.com/parquet-go/parquet-go"

	"github.com/acpbridge/acpbridge/app"
	"github.com/acpbridge/acpbridge/app/delivery/deliverytest"
	"github.com/acpbridge/acpbridge/app/feed"
)

// getFeedFile pulls one file of the shop's feed.
func getFeedFile(t *testing.T, e *shopifyEnv, token, name string, header map[string]string) (*http.Response, []byte) {
	t.Helper()
	req, _ := http.NewRequest(http.MethodGet, e.svc.URL()+"/feeds/"+testShop+"/"+name, nil)
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	for k, v := range header {
		req.Header.Set(k, v)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp, b
}

// TestParquetShardsPullAndPush: a build writes the Parquet shard set and
// its manifest; the pull URL serves the manifest and each shard it lists
// (token, ETag, 304), and no other shard name; a rebuild keeps the names;
// an SFTP target set to parquet receives the shards and the manifest. The
// set's files are stored under keys of their own (feeds.ShardKey,
// feeds.ManifestKey), on both databases.
func TestParquetShardsPullAndPush(t *testing.T) {
	t.Parallel()
	for _, kind := range []app.DatabaseKind{app.DatabaseSQLite, app.DatabasePostgres} {
		t.Run(string(kind), func(t *testing.T) {
			t.Parallel()
			testParquetShards(t, kind)
		})
	}
}

func testParquetShards(t *testing.T, kind app.DatabaseKind) {
	e, sh, token := syncedEnv(t, kind)
	ctx := context.Background()
	b := rebuild(t, e, sh)

	resp, raw := getFeedFile(t, e, token, feed.ManifestName, nil)
	if resp.StatusCode != http.StatusOK || resp.Header.Get("Content-Type") != "application/json" {
		t.Fatalf("manifest: %d %s %s", resp.StatusCode, resp.Header.Get("Content-Type"), raw)
	}
	var m feed.Manifest
	if err := json.Unmarshal(raw, &m); err != nil {
		t.Fatal(err)
	}
	one := "products-00001-of-00001.parquet"
	if m.BuildID != b.ID || m.Format != feed.FormatParquet || m.Items != b.ItemsPublished || len(m.Shards) != 1 || m.Shards[0].Name != one {
		t.Fatalf("manifest %+v for build %d of %d items", m, b.ID, b.ItemsPublished)
	}
	resp, shard := getFeedFile(t, e, token, one, nil)
	if resp.StatusCode != http.StatusOK || resp.Header.Get("Content-Type") != "application/vnd.apache.parquet" {
		t.Fatalf("shard: %d %s", resp.StatusCode, resp.Header.Get("Content-Type"))
	}
	sum := sha256.Sum256(shard)
	if hex.EncodeToString(sum[:]) != m.Shards[0].SHA256 || int64(len(shard)) != m.Shards[0].Bytes {
		t.Fatalf("shard of %d bytes does not match its manifest entry %+v", len(shard), m.Shards[0])
	}
	if etag := resp.Header.Get("ETag"); etag != `"`+m.Shards[0].SHA256+`"` {
		t.Errorf("ETag %s", etag)
	}
	if r, _ := getFeedFile(t, e, token, one, map[string]string{"If-None-Match": resp.Header.Get("ETag")}); r.StatusCode != http.StatusNotModified {
		t.Errorf("conditional GET: %d, want 304", r.StatusCode)
	}
	pf, err := parquet.OpenFile(bytes.NewReader(shard), int64(len(shard)))
	if err != nil {
		t.Fatal(err)
	}
	if pf.NumRows() != b.ItemsPublished {
		t.Errorf("shard holds %d rows, want %d", pf.NumRows(), b.ItemsPublished)
	}
	for _, c := range []struct {
		name, token string
		want        int
	}{
		{one, "", http.StatusUnauthorized},
		{one, "acpf_wrong", http.StatusUnauthorized},
		{feed.ManifestName, "", http.StatusUnauthorized},
		{"products-00001-of-00002.parquet", token, http.StatusNotFound},
		{"products-00002-of-00001.parquet", token, http.StatusNotFound},
		{"products.parquet", token, http.StatusNotFound},
		{"products-00001-of-00001.jsonl.gz", token, http.StatusNotFound},
	} {
		if r, body := getFeedFile(t, e, c.token, c.name, nil); r.StatusCode != c.want {
			t.Errorf("%s (token %q): %d %s, want %d", c.name, c.token, r.StatusCode, body, c.want)
		}
	}

	// A rebuild keeps the set's names.
	b2 := rebuild(t, e, sh)
	_, raw = getFeedFile(t, e, token, feed.ManifestName, nil)
	var m2 feed.Manifest
	if err := json.Unmarshal(raw, &m2); err != nil {
		t.Fatal(err)
	}
	if m2.BuildID != b2.ID || len(m2.Shards) != 1 || m2.Shards[0].Name != one {
		t.Fatalf("second manifest %+v", m2)
	}

	// An SFTP target set to parquet receives the shard set.
	srv := deliverytest.StartSFTP(t, deliverytest.SFTPConfig{Password: "sftp-pass-123"})
	tgt := srv.Target("/")
	if _, err := e.svc.Deliveries().SaveSFTPTarget(ctx, sh.ID, 0, app.SFTPTargetConfig{
		Addr: tgt.Addr, User: tgt.User, HostKey: srv.HostKey(), Dir: "/", Format: "parquet",
	}, tgt.Password, "", true); err != nil {
		t.Fatalf("save SFTP target: %v", err)
	}
	if _, err := e.svc.Deliveries().SaveSFTPTarget(ctx, sh.ID, 0, app.SFTPTargetConfig{
		Addr: tgt.Addr, User: tgt.User, HostKey: srv.HostKey(), Dir: "/", Format: "xlsx",
	}, tgt.Password, "", true); app.ErrorCode(err) != app.CodeInvalid {
		t.Fatalf("format xlsx: %v, want invalid", err)
	}
	b3 := rebuild(t, e, sh)
	_, raw = getFeedFile(t, e, token, feed.ManifestName, nil)
	_, shard = getFeedFile(t, e, token, one, nil)
	waitFor(t, "SFTP shard set", func() bool {
		got, err1 := os.ReadFile(filepath.Join(srv.Root(), one))
		man, err2 := os.ReadFile(filepath.Join(srv.Root(), feed.ManifestName))
		return err1 == nil && err2 == nil && bytes.Equal(got, shard) && bytes.Equal(man, raw)
	})
	waitFor(t, "delivery recorded", func() bool {
		ts, _ := e.svc.Store().FeedTargets(ctx, sh.ID)
		return len(ts) == 1 && ts[0].LastStatus == "succeeded" && ts[0].LastBuildID == b3.ID
	})
}
