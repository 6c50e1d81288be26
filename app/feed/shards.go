package feed

import (
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"
)

// ShardItems is the most items one shard holds. OpenAI's file upload
// takes a feed as shards of up to about 500,000 items (and under about
// 500 MB: a Parquet shard of 500,000 items is some 70 MB, a jsonl.gz one
// some 110 MB), and wants the same set of shard names on every update.
const ShardItems = 500_000

// ManifestName is the file that lists a shard set: written (or renamed
// into place) after every shard, it is the set's commit point. A reader
// that reads it first and checks each shard's SHA-256 never mixes two sets.
const ManifestName = "products-manifest.json"

// ShardName is the stable name of shard i (1-based) of n, such as
// products-00001-of-00003.parquet.
func ShardName(f Format, i, n int) string {
	return fmt.Sprintf("products-%05d-of-%05d.%s", i, n, f)
}

// ParseShardName is ShardName's inverse; ok is false for any other name.
func ParseShardName(name string) (f Format, i, n int, ok bool) {
	rest, ok := strings.CutPrefix(name, "products-")
	if !ok || len(rest) < len("00001-of-00001.") {
		return "", 0, 0, false
	}
	idx, rest, ok1 := strings.Cut(rest, "-of-")
	cnt, ext, ok2 := strings.Cut(rest, ".")
	if !ok1 || !ok2 || len(idx) != 5 || len(cnt) != 5 {
		return "", 0, 0, false
	}
	i, err1 := strconv.Atoi(idx)
	n, err2 := strconv.Atoi(cnt)
	f = Format(ext)
	if err1 != nil || err2 != nil || i < 1 || i > n || !f.Valid() || strings.ContainsAny(idx+cnt, "+-") {
		return "", 0, 0, false
	}
	return f, i, n, true
}

// ShardCount is the number of shards a feed of items is written as, given
// the previous build's count (0 when there is none). The count, and with it
// every shard's name, stays the same from build to build:
//
//   - it grows as soon as the items no longer fit (ceil(items/ShardItems));
//   - it shrinks only once the items fit the smaller count with half a shard
//     to spare, so that a catalog hovering around a multiple of ShardItems
//     does not rename its shards on every build (names that come and go
//     are what the stable set is meant to avoid: a consumer may keep a
//     vanished shard's items);
//   - it is at least 1: an empty catalog is one empty shard.
//
// Shards are filled in order, so the last ones may be short or empty.
func ShardCount(items, prev int) int {
	need := max(1, ceilDiv(items, ShardItems))
	if need >= prev {
		return need
	}
	spare := ceilDiv(items+ShardItems/2, ShardItems)
	return max(need, min(prev, spare))
}

func ceilDiv(a, b int) int { return (a + b - 1) / b }

// Manifest describes a shard set (ManifestName).
type Manifest struct {
	Format      Format          `json:"format"`
	FieldNames  FieldNames      `json:"field_names"`
	Items       int64           `json:"items"`
	Shards      []ManifestShard `json:"shards"`
	BuildID     int64           `json:"build_id"`
	GeneratedAt time.Time       `json:"generated_at"`
}

// ManifestShard is one file of a shard set.
type ManifestShard struct {
	Name   string `json:"name"`
	Items  int64  `json:"items"`
	Bytes  int64  `json:"bytes"`
	SHA256 string `json:"sha256"`
}

// Has reports whether name is one of the set's files.
func (m *Manifest) Has(name string) bool {
	for _, s := range m.Shards {
		if s.Name == name {
			return true
		}
	}
	return false
}

// ShardWriter writes a feed as consecutive shards of at most MaxItems
// items each, a Writer per shard on a file from Open (index 1, 2, …). The
// shards' names depend on their final count, which is known only at the
// end (see ShardCount), so Open gets an index, not a name. It is not safe
// for concurrent use.
type ShardWriter struct {
	// MaxItems is the most items per shard (0: ShardItems).
	MaxItems int

	format Format
	names  FieldNames
	open   func(index int) (io.WriteCloser, error)
	file   io.WriteCloser
	w      *Writer
	counts []int
	n      int
	err    error
	done   bool
}

// NewShardWriter starts a sharded feed of format f; Open is called for
// each shard as it is needed.
func NewShardWriter(f Format, names FieldNames, open func(index int) (io.WriteCloser, error)) (*ShardWriter, error) {
	if !f.Valid() {
		return nil, fmt.Errorf("feed: unknown format %q", f)
	}
	if !names.Valid() {
		return nil, fmt.Errorf("feed: unknown field names %q", names)
	}
	return &ShardWriter{format: f, names: names, open: open}, nil
}

func (s *ShardWriter) max() int {
	if s.MaxItems > 0 {
		return s.MaxItems
	}
	return ShardItems
}

// Write appends one item, starting the next shard when the current one is
// full. Errors are sticky.
func (s *ShardWriter) Write(it Item) error {
	if s.done {
		return ErrClosed
	}
	if s.err != nil {
		return s.err
	}
	if s.w == nil || s.w.Count() >= s.max() {
		if s.err = s.next(); s.err != nil {
			return s.err
		}
	}
	if s.err = s.w.Write(it); s.err == nil {
		s.n++
		s.counts[len(s.counts)-1]++
	}
	return s.err
}

// Count is the number of items written.
func (s *ShardWriter) Count() int { return s.n }

// next finishes the current shard and starts another.
func (s *ShardWriter) next() error {
	if err := s.finishShard(); err != nil {
		return err
	}
	file, err := s.open(len(s.counts) + 1)
	if err != nil {
		return err
	}
	w, err := NewWriter(file, s.format, s.names)
	if err != nil {
		_ = file.Close()
		return err
	}
	s.file, s.w = file, w
	s.counts = append(s.counts, 0)
	return nil
}

func (s *ShardWriter) finishShard() error {
	if s.w == nil {
		return nil
	}
	err := s.w.Close()
	if cerr := s.file.Close(); err == nil {
		err = cerr
	}
	s.w, s.file = nil, nil
	return err
}

// Finish ends the last shard and writes empty shards (a valid file with
// no rows) until there are n, and returns the items of each shard. n less
// than the shards written is an error: the items would not fit.
func (s *ShardWriter) Finish(n int) ([]int, error) {
	if s.done {
		return nil, ErrClosed
	}
	if s.err == nil && n < len(s.counts) {
		s.err = fmt.Errorf("feed: %d shards written, more than the %d asked for", len(s.counts), n)
	}
	for s.err == nil && len(s.counts) < n {
		s.err = s.next()
	}
	if err := s.finishShard(); s.err == nil {
		s.err = err
	}
	s.done = true
	return s.counts, s.err
}

// Close abandons the shard set after an error: the open shard is closed
// as it stands.
func (s *ShardWriter) Close() error {
	if s.done {
		return nil
	}
	s.done = true
	err := s.finishShard()
	return errors.Join(s.err, err)
}
