package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"sync"
	"testing"
	"time"

	"github.com/acpbridge/acpbridge/app/payment/stripeemu"
	"github.com/acpbridge/acpbridge/cmd/acpbench/bench"
)

// TestReplicas runs three replicas of the binary (`acpbridge serve`) on one
// PostgreSQL database, behind nothing but the agents' own round-robin: each
// request of a conversation goes to the next replica. Then:
//
//   - every conversation ends with exactly one captured charge, one Shopify
//     order and one order_create event delivered to the agent (a job that
//     any replica may work);
//   - a request retried on another replica with the same Idempotency-Key
//     replays the first answer byte for byte;
//   - completes of one session sent at once to all three replicas charge
//     once and order once, and all end completed.
func TestReplicas(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs the binary")
	}
	t.Parallel()
	st := startStack(t, 3)
	rep := drive(t, st.Target(false), bench.Config{Rate: 12, Concurrency: 32, Duration: 5 * time.Second, Timeout: 20 * time.Second})
	if rep.Completed != rep.Started || rep.Started < 50 || rep.ErrorAnswers() != 0 {
		t.Errorf("%d of %d conversations completed with %d error answers, want all (at least 50) and none", rep.Completed, rep.Started, rep.ErrorAnswers())
	}
	for i := range st.Replicas() {
		if !st.Ready(i) {
			t.Errorf("replica %d is not ready", i)
		}
	}
	// Order events are jobs: wait until they are all worked.
	deadline := time.Now().Add(20 * time.Second)
	for a := st.Audit(rep.Conversations); a.Notified < a.Completed && time.Now().Before(deadline); a = st.Audit(rep.Conversations) {
		time.Sleep(250 * time.Millisecond)
	}
	a := checkAudit(t, st, rep)
	if a.Notified != a.Completed || a.NotifiedTwice != 0 {
		t.Errorf("order_create delivered for %d of %d sessions (%d twice), want each exactly once", a.Notified, a.Completed, a.NotifiedTwice)
	}

	agent := &replicaAgent{t: t, st: st}
	item := st.Items[0]
	createBody := map[string]any{"line_items": []map[string]any{{"id": item, "quantity": 1}}, "currency": "usd", "capabilities": map[string]any{},
		"buyer": map[string]any{"email": "ada@example.com", "first_name": "Ada", "last_name": "Lovelace"},
		"fulfillment_details": map[string]any{"name": "Ada Lovelace", "address": map[string]any{"name": "Ada Lovelace", "line_one": "1 Market St",
			"city": "San Francisco", "state": "CA", "country": "US", "postal_code": "94105"}}}

	t.Run("IdempotencyAcrossReplicas", func(t *testing.T) {
		agent.t = t
		first := agent.post(0, "/checkout_sessions", createBody, "replica-key-1")
		if first.status != http.StatusCreated {
			t.Fatalf("create: %d %s", first.status, first.body)
		}
		for i := 1; i < st.Replicas(); i++ {
			again := agent.post(i, "/checkout_sessions", createBody, "replica-key-1")
			if again.status != first.status || !bytes.Equal(again.body, first.body) || again.header.Get("Idempotent-Replayed") != "true" {
				t.Errorf("replica %d: %d replayed=%q, want the first answer replayed byte for byte",
					i, again.status, again.header.Get("Idempotent-Replayed"))
			}
		}
	})

	t.Run("ConcurrentCompletesAcrossReplicas", func(t *testing.T) {
		agent.t = t
		var convs []bench.Conversation
		for n := range 4 {
			s := agent.post(n%3, "/checkout_sessions", createBody, fmt.Sprintf("cc-create-%d", n))
			var cs struct{ ID, Status string }
			_ = json.Unmarshal(s.body, &cs)
			if s.status != http.StatusCreated || cs.Status != "ready_for_payment" {
				t.Fatalf("create: %d %s", s.status, s.body)
			}
			token := st.Stripe.GrantToken(st.Account, stripeemu.KindApprove, "usd", 1_000_000, time.Time{})
			pay := map[string]any{"payment_data": map[string]any{"handler_id": "card_tokenized",
				"instrument": map[string]any{"type": "card", "credential": map[string]any{"type": "spt", "token": token}}}}
			// Two completes per replica at once, each with its own key.
			var wg sync.WaitGroup
			for k := range 6 {
				wg.Add(1)
				go func() {
					defer wg.Done()
					deadline := time.Now().Add(30 * time.Second)
					for attempt := 0; ; attempt++ {
						r := agent.post(k%3, "/checkout_sessions/"+cs.ID+"/complete", pay, fmt.Sprintf("cc-%s-%d-%d", cs.ID, k, attempt))
						var out struct{ Status string }
						_ = json.Unmarshal(r.body, &out)
						if r.status == http.StatusOK && out.Status == "completed" {
							return
						}
						if (r.status != http.StatusOK && r.status != http.StatusConflict) || time.Now().After(deadline) {
							t.Errorf("complete %s on replica %d: %d %s", cs.ID, k%3, r.status, r.body)
							return
						}
						time.Sleep(100 * time.Millisecond) // in progress elsewhere
					}
				}()
			}
			wg.Wait()
			convs = append(convs, bench.Conversation{N: n, SessionID: cs.ID})
		}
		a := st.Audit(convs)
		for _, p := range a.Problems {
			t.Error(p)
		}
		if a.Charged != len(convs) || a.Ordered != len(convs) {
			t.Errorf("%d sessions: %d charged, %d ordered, want each once", len(convs), a.Charged, a.Ordered)
		}
	})
}

// replicaAgent sends ACP requests to one replica at a time.
type replicaAgent struct {
	t  *testing.T
	st *bench.Stack
}

type answer struct {
	status int
	header http.Header
	body   []byte
}

func (a *replicaAgent) post(replica int, path string, body any, key string) answer {
	a.t.Helper()
	b, _ := json.Marshal(body)
	req, _ := http.NewRequest(http.MethodPost, bench.ACPBaseURL(a.st.ReplicaURL(replica), a.st.Shop)+path, bytes.NewReader(b))
	req.Header.Set("Authorization", "Bearer "+a.st.APIKey)
	req.Header.Set("API-Version", "2026-04-17")
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Idempotency-Key", key)
	resp, err := (&http.Client{Timeout: 30 * time.Second}).Do(req)
	if err != nil {
		a.t.Fatalf("POST %s on replica %d: %v", path, replica, err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	return answer{status: resp.StatusCode, header: resp.Header, body: raw}
}
