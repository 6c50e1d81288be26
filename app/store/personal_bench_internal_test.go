package store

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"testing"
	"time"

	"github.com/acpbridge/acpbridge/acp"
	"github.com/acpbridge/acpbridge/app"
	"github.com/acpbridge/acpbridge/app/checkout"
	"github.com/acpbridge/acpbridge/app/secret"
)

// benchSession is a session as a checkout request writes it: a buyer, an
// address, two priced lines and shipping options.
func benchSession() *checkout.Session {
	now := time.Now().UTC()
	return &checkout.Session{ID: "cs_benchbenchbenchbenchbenchbe", ShopID: 1, Version: acp.V20260417, Status: acp.StatusReadyForPayment,
		Currency: "USD", ExpiresAt: now, CreatedAt: now, UpdatedAt: now,
		State: checkout.State{
			Items:       []checkout.CartItem{{ItemID: "4242", Quantity: 1}, {ItemID: "4343", Quantity: 2}},
			Buyer:       &acp.Buyer{FirstName: "Ada", LastName: "Lovelace", Email: "ada@example.com", PhoneNumber: "+15035550101"},
			Fulfillment: &acp.FulfillmentDetails{Name: "Ada Lovelace", Address: &acp.Address{Name: "Ada Lovelace", LineOne: "1 Main St", City: "Portland", State: "OR", Country: "US", PostalCode: "97204"}},
			Quote: checkout.Quote{Key: "k", Lines: []checkout.QuotedLine{
				{ItemID: "4242", VariantID: 4242, ProductID: 42, Quantity: 1, UnitAmount: 1500, Title: "Engine", SKU: "E-1"},
				{ItemID: "4343", VariantID: 4343, ProductID: 43, Quantity: 2, UnitAmount: 900, Title: "Cog", SKU: "C-1"}},
				Options: []checkout.QuotedOption{{ID: "standard", Type: acp.FulfillmentShipping, Title: "Standard", Subtotal: 500},
					{ID: "express", Type: acp.FulfillmentShipping, Title: "Express", Subtotal: 1500}}},
		}}
}

func benchStore(b *testing.B) *Store {
	k, err := secret.ParseKeyring("bench:" + base64.StdEncoding.EncodeToString(bytes.Repeat([]byte{7}, 32)))
	if err != nil {
		b.Fatal(err)
	}
	return &Store{keys: k}
}

// BenchmarkSessionWrite: what a session write costs to encode, sealed
// (the buyer split off, sealed and its email indexed) against the whole
// state in plain JSON as before migration 00022.
func BenchmarkSessionWrite(b *testing.B) {
	cs := benchSession()
	b.Run("plain", func(b *testing.B) {
		for b.Loop() {
			if _, err := json.Marshal(cs.State); err != nil {
				b.Fatal(err)
			}
		}
	})
	s := benchStore(b)
	b.Run("sealed", func(b *testing.B) {
		for b.Loop() {
			if _, err := s.toCheckoutRow(cs); err != nil {
				b.Fatal(err)
			}
		}
	})
}

// BenchmarkSessionRead: the same for a read.
func BenchmarkSessionRead(b *testing.B) {
	cs := benchSession()
	plain, _ := json.Marshal(cs.State)
	s := benchStore(b)
	row, err := s.toCheckoutRow(cs)
	if err != nil {
		b.Fatal(err)
	}
	b.Run("plain", func(b *testing.B) {
		for b.Loop() {
			var st checkout.State
			if err := json.Unmarshal(plain, &st); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("sealed", func(b *testing.B) {
		for b.Loop() {
			if _, err := s.toCheckoutSession(row); err != nil {
				b.Fatal(err)
			}
		}
	})
}

// BenchmarkAnswerSeal: sealing an idempotency record's stored answer (the
// ACP examples' created session, 4.4 KB of JSON): deflated and sealed in
// binary as stored now ("deflated"), against sealing the JSON as text as
// before ("text"); B/stored is the stored size.
func BenchmarkAnswerSeal(b *testing.B) {
	s := benchStore(b)
	body := specAnswer(b)
	b.Run("deflated", func(b *testing.B) {
		b.SetBytes(int64(len(body)))
		n := 0
		for b.Loop() {
			v, err := s.sealAnswer(1, body)
			if err != nil {
				b.Fatal(err)
			}
			n = len(v)
		}
		b.ReportMetric(float64(n), "B/stored")
	})
	b.Run("text", func(b *testing.B) {
		b.SetBytes(int64(len(body)))
		n := 0
		for b.Loop() {
			v, err := s.keys.Seal(body, app.IdempotencyResultAAD(1))
			if err != nil {
				b.Fatal(err)
			}
			n = len(v)
		}
		b.ReportMetric(float64(n), "B/stored")
	})
}

// BenchmarkAnswerOpen: reading a stored answer back (a replay), in both
// forms of BenchmarkAnswerSeal.
func BenchmarkAnswerOpen(b *testing.B) {
	s := benchStore(b)
	body := specAnswer(b)
	deflated, err := s.sealAnswer(1, body)
	if err != nil {
		b.Fatal(err)
	}
	text, err := s.keys.Seal(body, app.IdempotencyResultAAD(1))
	if err != nil {
		b.Fatal(err)
	}
	for name, stored := range map[string][]byte{"deflated": deflated, "text": []byte(text)} {
		b.Run(name, func(b *testing.B) {
			b.SetBytes(int64(len(body)))
			for b.Loop() {
				if _, err := s.openAnswer(1, stored); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkUpdateRequestSealing is what sealing adds to one session update
// request, which reads the session (one open), writes it (one seal) and
// stores the answer for idempotency (one seal of the 4.4 KB example
// answer, deflated): the sealed path, against the same encoding in
// plaintext.
func BenchmarkUpdateRequestSealing(b *testing.B) {
	cs := benchSession()
	s := benchStore(b)
	row, err := s.toCheckoutRow(cs)
	if err != nil {
		b.Fatal(err)
	}
	plainState, _ := json.Marshal(cs.State)
	answer := specAnswer(b)
	b.Run("plain", func(b *testing.B) {
		for b.Loop() {
			var st checkout.State
			if err := json.Unmarshal(plainState, &st); err != nil {
				b.Fatal(err)
			}
			if _, err := json.Marshal(st); err != nil {
				b.Fatal(err)
			}
			_ = append([]byte(nil), answer...)
		}
	})
	b.Run("sealed", func(b *testing.B) {
		for b.Loop() {
			got, err := s.toCheckoutSession(row)
			if err != nil {
				b.Fatal(err)
			}
			if _, err := s.toCheckoutRow(got); err != nil {
				b.Fatal(err)
			}
			if _, err := s.sealAnswer(1, answer); err != nil {
				b.Fatal(err)
			}
		}
	})
}
