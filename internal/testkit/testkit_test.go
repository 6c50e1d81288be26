package testkit_test

import (
	"bytes"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"reflect"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/acpbridge/acpbridge/internal/testkit"
)

func decode(t *testing.T, s string) any {
	t.Helper()
	dec := json.NewDecoder(strings.NewReader(s))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		t.Fatalf("decode %q: %v", s, err)
	}
	return v
}

// TestRespellJSON: a respelling decodes to the same document and is spelt
// differently, and RespellJSON keeps each number's spelling while
// RespellJSONNumbers changes it but not its value.
func TestRespellJSON(t *testing.T) {
	t.Parallel()
	for _, doc := range []string{
		`null`, `true`, `"é😀\n"`, `[]`, `{}`, `[1,2.5,-3e2]`,
		`{"b":{"z":[true,null,"x"]},"a":1,"c":0.10}`,
	} {
		v := decode(t, doc)
		for name, respell := range map[string]func(any) string{
			"RespellJSON": testkit.RespellJSON, "RespellJSONNumbers": testkit.RespellJSONNumbers,
		} {
			got := respell(v)
			if got == doc {
				t.Errorf("%s(%s) = the same spelling", name, doc)
			}
			back := decode(t, got)
			if name == "RespellJSON" && !reflect.DeepEqual(back, v) {
				t.Errorf("%s(%s) = %s, decodes to %v", name, doc, got, back)
			}
			var want, have any
			_ = json.Unmarshal([]byte(doc), &want)
			_ = json.Unmarshal([]byte(got), &have)
			if !reflect.DeepEqual(have, want) {
				t.Errorf("%s(%s) = %s, value %v, want %v", name, doc, got, have, want)
			}
		}
	}
	if got := testkit.RespellJSONNumbers(decode(t, `7`)); strings.TrimSpace(got) != "7.0E+00" {
		t.Errorf("RespellJSONNumbers(7) = %q, want 7.0E+00", got)
	}
}

// TestLogBufferConcurrent: many writers and a reader at once; run with
// -race, a bare bytes.Buffer fails here.
func TestLogBufferConcurrent(t *testing.T) {
	t.Parallel()
	var buf testkit.LogBuffer
	var wg sync.WaitGroup
	for i := range 8 {
		wg.Go(func() {
			for j := range 100 {
				fmt.Fprintf(&buf, "w%d-%d\n", i, j)
				_ = buf.String()
			}
		})
	}
	wg.Wait()
	if n := bytes.Count([]byte(buf.String()), []byte("\n")); n != 800 {
		t.Errorf("%d lines, want 800", n)
	}
}

// TestClock: the clock reads its start until advanced, and advances add up.
func TestClock(t *testing.T) {
	t.Parallel()
	start := time.Date(2026, 10, 5, 12, 0, 0, 0, time.UTC)
	c := testkit.NewClock(start)
	if !c.Now().Equal(start) {
		t.Fatalf("Now() = %v, want %v", c.Now(), start)
	}
	c.Advance(time.Minute)
	c.Advance(time.Second)
	if got := c.Now().Sub(start); got != time.Minute+time.Second {
		t.Errorf("advanced by %v, want 1m1s", got)
	}
}

// TestReferenceMAC: the reference is HMAC-SHA256 over timestamp "." body
// (the value computed with Python's hmac module).
func TestReferenceMAC(t *testing.T) {
	t.Parallel()
	got := hex.EncodeToString(testkit.ReferenceMAC([]byte("key"), "1700000000", []byte(`{"a":1}`)))
	if want := "a438e398bfafc57e4396bb7fc2304422f0f768e965d073ca313cb52e22e6ad03"; got != want {
		t.Errorf("ReferenceMAC = %s, want %s", got, want)
	}
}

// TestCountingListener: nothing dialled, nothing counted; a connection is
// counted (and closed by the listener, which the client sees as EOF).
func TestCountingListener(t *testing.T) {
	t.Parallel()
	addr, accepted := testkit.CountingListener(t)
	if n := accepted(); n != 0 {
		t.Fatalf("accepted() = %d before any dial", n)
	}
	c, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if _, err := io.ReadAll(c); err != nil {
		t.Fatal(err)
	}
	if n := accepted(); n != 1 {
		t.Errorf("accepted() = %d after one connection, want 1", n)
	}
}
