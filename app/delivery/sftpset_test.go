package delivery_test

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/acpbridge/acpbridge/app/delivery"
)

func setFile(name string, content []byte) delivery.SetFile {
	return delivery.SetFile{Name: name, Open: func(context.Context) (io.ReadCloser, error) {
		return io.NopCloser(bytes.NewReader(content)), nil
	}}
}

func isShard(name string) bool {
	return strings.HasPrefix(name, "products-") && strings.HasSuffix(name, ".parquet")
}

// visible lists a folder's files without the hidden temporary ones, with
// their contents.
func visible(t *testing.T, dir string) map[string]string {
	t.Helper()
	out := map[string]string{}
	for _, n := range dirNames(t, dir) {
		if strings.HasPrefix(n, ".") {
			continue
		}
		b, err := os.ReadFile(filepath.Join(dir, n))
		if err != nil {
			t.Fatal(err)
		}
		out[n] = string(b)
	}
	return out
}

// TestPushSFTPSet replaces a set of two shards with a set of three: the
// manifest is uploaded only once every new shard is in place under its
// final name, the old set's shards are removed only after the manifest,
// files that are not shards are left alone, and a push cut mid-way
// leaves the previous set as it was.
func TestPushSFTPSet(t *testing.T) {
	t.Parallel()
	srv, tgt := startSFTP(t, nil)
	root := srv.Root()
	old := map[string]string{
		"products-00001-of-00002.parquet": "old shard 1",
		"products-00002-of-00002.parquet": "old shard 2",
		"products-manifest.json":          `{"old":true}`,
		"keep.txt":                        "not ours",
	}
	for n, c := range old {
		if err := os.WriteFile(filepath.Join(root, n), []byte(c), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	shards := make([][]byte, 3)
	var files []delivery.SetFile
	for i := range shards {
		shards[i] = randomBytes(t, 200_000+i)
		files = append(files, setFile(fmt.Sprintf("products-%05d-of-00003.parquet", i+1), shards[i]))
	}
	manifestJSON := []byte(`{"new":true}`)

	// A push cut during the second shard changes nothing visible.
	srv.FailAfterBytes(300_000)
	if _, err := delivery.PushSFTPSet(t.Context(), tgt, files, setFile("products-manifest.json", manifestJSON), isShard); err == nil {
		t.Fatal("PushSFTPSet succeeded through a cut connection")
	} else if !delivery.IsRetryable(err) {
		t.Errorf("IsRetryable(%v) = false", err)
	}
	if got := visible(t, root); !mapsEqual(got, old) {
		t.Fatalf("after a failed push the folder holds %v, want the old set", keys(got))
	}

	var atManifest map[string]string
	manifest := delivery.SetFile{Name: "products-manifest.json", Open: func(context.Context) (io.ReadCloser, error) {
		atManifest = visible(t, root)
		return io.NopCloser(bytes.NewReader(manifestJSON)), nil
	}}
	res, err := delivery.PushSFTPSet(t.Context(), tgt, files, manifest, isShard)
	if err != nil {
		t.Fatal(err)
	}
	// When the manifest is written, every new shard is in place, and the
	// old manifest and shards are still there.
	for i, s := range shards {
		if atManifest[files[i].Name] != string(s) {
			t.Errorf("%s not in place when the manifest was uploaded", files[i].Name)
		}
	}
	for n, c := range old {
		if atManifest[n] != c {
			t.Errorf("%s changed before the manifest was uploaded", n)
		}
	}
	want := map[string]string{"products-manifest.json": string(manifestJSON), "keep.txt": "not ours"}
	for i, s := range shards {
		want[files[i].Name] = string(s)
	}
	if got := visible(t, root); !mapsEqual(got, want) {
		t.Fatalf("folder holds %v, want %v", keys(got), keys(want))
	}
	// The cut push's temporaries remain (the connection was gone; a later
	// push removes them once an hour old); the successful push leaves none
	// of its own.
	for _, n := range dirNames(t, root) {
		if strings.HasPrefix(n, ".") && !strings.HasPrefix(n, ".products-00001-of-00003.parquet.tmp-") &&
			!strings.HasPrefix(n, ".products-00002-of-00003.parquet.tmp-") {
			t.Errorf("unexpected hidden file %s", n)
		}
	}
	if !slices.Equal(res.Removed, []string{"products-00001-of-00002.parquet", "products-00002-of-00002.parquet"}) {
		t.Errorf("Removed = %v", res.Removed)
	}
	if len(res.Files) != 4 || res.Files[3].RemotePath != "products-manifest.json" {
		t.Fatalf("Files = %+v", res.Files)
	}
	for i, s := range shards {
		sum := sha256.Sum256(s)
		if res.Files[i].SHA256 != hex.EncodeToString(sum[:]) || res.Files[i].Bytes != int64(len(s)) {
			t.Errorf("%s: result %+v", files[i].Name, res.Files[i])
		}
	}

	// A set naming a file twice, or a name with a path, is refused.
	if _, err := delivery.PushSFTPSet(t.Context(), tgt, append(files, files[0]), manifest, isShard); err == nil {
		t.Error("a set naming a file twice was pushed")
	}
	if _, err := delivery.PushSFTPSet(t.Context(), tgt, []delivery.SetFile{setFile("../x.parquet", nil)}, manifest, isShard); err == nil {
		t.Error("a file name with a path was pushed")
	}
}

func mapsEqual(a, b map[string]string) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if w, ok := b[k]; !ok || w != v {
			return false
		}
	}
	return true
}

func keys(m map[string]string) []string {
	var out []string
	for k := range m {
		out = append(out, k)
	}
	slices.Sort(out)
	return out
}
