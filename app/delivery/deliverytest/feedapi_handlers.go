package deliverytest

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"maps"
	"mime"
	"net/http"
	"regexp"
	"slices"
	"time"
)

var countryRE = regexp.MustCompile(`^[A-Z]{2}$`)

// apiError is the ACP error shape.
type apiError struct {
	Type    string `json:"type"`
	Code    string `json:"code"`
	Message string `json:"message"`
	Param   string `json:"param,omitempty"`
}

func invalid(code, param, format string, args ...any) *apiError {
	return &apiError{Type: "invalid_request", Code: code, Message: fmt.Sprintf(format, args...), Param: param}
}

func writeError(w http.ResponseWriter, status int, typ, code, message, param string) {
	writeJSON(w, status, apiError{Type: typ, Code: code, Message: message, Param: param})
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	b, err := json.Marshal(v)
	if err != nil {
		http.Error(w, err.Error(), http.StatusInternalServerError)
		return
	}
	writeRaw(w, status, b)
}

func writeRaw(w http.ResponseWriter, status int, b []byte) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_, _ = w.Write(b)
}

// createFeed handles POST /feeds.
func (a *FeedAPI) createFeed(w http.ResponseWriter, r *http.Request) {
	a.mutate(w, r, func(body []byte) (int, any) {
		var req struct {
			TargetCountry *string `json:"target_country"`
		}
		if len(bytes.TrimSpace(body)) > 0 {
			if err := decodeStrict(body, &req); err != nil {
				return http.StatusBadRequest, invalid("invalid_request", "", "request body must be a CreateFeedRequest: %v", err)
			}
		}
		country := ""
		if req.TargetCountry != nil {
			country = *req.TargetCountry
			if !countryRE.MatchString(country) {
				return http.StatusBadRequest, invalid("invalid_target_country", "target_country", "target_country must be an ISO 3166-1 alpha-2 code")
			}
		}
		return http.StatusCreated, a.newFeed(country).metadata()
	})
}

// getFeed handles GET /feeds/{id}.
func (a *FeedAPI) getFeed(w http.ResponseWriter, r *http.Request) {
	a.mu.Lock()
	defer a.mu.Unlock()
	f := a.feeds[r.PathValue("id")]
	if f == nil {
		writeJSON(w, http.StatusNotFound, notFound())
		return
	}
	writeJSON(w, http.StatusOK, f.metadata())
}

// getProducts handles GET /feeds/{id}/products, sorted by product id.
func (a *FeedAPI) getProducts(w http.ResponseWriter, r *http.Request) {
	a.mu.Lock()
	defer a.mu.Unlock()
	f := a.feeds[r.PathValue("id")]
	if f == nil {
		writeJSON(w, http.StatusNotFound, notFound())
		return
	}
	products := make([]json.RawMessage, 0, len(f.products))
	for _, id := range slices.Sorted(maps.Keys(f.products)) {
		products = append(products, f.products[id])
	}
	writeJSON(w, http.StatusOK, struct {
		Products []json.RawMessage `json:"products"`
	}{products})
}

// upsertProducts handles PATCH /feeds/{id}/products: all products are
// validated first, so a bad one leaves the feed unchanged.
func (a *FeedAPI) upsertProducts(w http.ResponseWriter, r *http.Request) {
	a.mutate(w, r, func(body []byte) (int, any) {
		f := a.feeds[r.PathValue("id")]
		if f == nil {
			return http.StatusNotFound, notFound()
		}
		products, apiErr := parseUpsert(body)
		if apiErr != nil {
			return http.StatusBadRequest, apiErr
		}
		for id, raw := range products {
			f.products[id] = raw
		}
		f.updatedAt = time.Now().UTC()
		a.applied++
		return http.StatusOK, struct {
			ID       string `json:"id"`
			Accepted bool   `json:"accepted"`
		}{f.id, true}
	})
}

func notFound() *apiError { return invalid("feed_not_found", "id", "Feed not found") }

// mutate runs apply for a state-changing request under the idempotency
// rules, holding the lock so that requests apply one at a time.
func (a *FeedAPI) mutate(w http.ResponseWriter, r *http.Request, apply func(body []byte) (int, any)) {
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, a.cfg.MaxBodyBytes))
	if err != nil {
		var tooBig *http.MaxBytesError
		if errors.As(err, &tooBig) {
			writeError(w, http.StatusRequestEntityTooLarge, "invalid_request", "request_too_large",
				fmt.Sprintf("request body exceeds %d bytes", tooBig.Limit), "")
			return
		}
		writeError(w, http.StatusBadRequest, "invalid_request", "invalid_body", "could not read the request body", "")
		return
	}
	if len(body) > 0 {
		if mt, _, err := mime.ParseMediaType(r.Header.Get("Content-Type")); err != nil || mt != "application/json" {
			writeError(w, http.StatusUnsupportedMediaType, "invalid_request", "unsupported_media_type", "Content-Type must be application/json", "")
			return
		}
	}
	key := r.Header.Get("Idempotency-Key")
	if len(key) > 255 {
		writeError(w, http.StatusBadRequest, "invalid_request", "invalid_idempotency_key", "Idempotency-Key is longer than 255 characters", "")
		return
	}
	scope := r.Method + " " + r.URL.Path + "\x00" + key
	hash := bodyHash(body)

	a.mu.Lock()
	defer a.mu.Unlock()
	if key != "" {
		w.Header().Set("Idempotency-Key", key)
		if e, ok := a.idem[scope]; ok {
			if e.bodyHash != hash {
				writeError(w, http.StatusUnprocessableEntity, "invalid_request", "idempotency_conflict",
					"Idempotency-Key has already been used with a different request body", "")
				return
			}
			a.replayed++
			w.Header().Set("Idempotent-Replayed", "true")
			writeRaw(w, e.status, e.body)
			return
		}
	}
	status, v := apply(body)
	answer, err := json.Marshal(v)
	if err != nil {
		writeError(w, http.StatusInternalServerError, "processing_error", "internal_error", "could not encode the answer", "")
		return
	}
	// 5xx answers are not remembered: a retry must be tried afresh.
	if key != "" && status < 500 {
		a.idem[scope] = idemEntry{bodyHash: hash, status: status, body: answer}
	}
	if status < 300 && a.dropN > 0 {
		a.dropN--
		// Closes the connection without an answer; net/http does not log it.
		panic(http.ErrAbortHandler)
	}
	writeRaw(w, status, answer)
}

// parseUpsert validates an UpsertProductsRequest and returns its products
// by id, compacted. It checks what the schema requires: product id and a
// non-empty variants array, each variant with an id and a title.
func parseUpsert(body []byte) (map[string]json.RawMessage, *apiError) {
	var req struct {
		Products *[]json.RawMessage `json:"products"`
	}
	if err := decodeStrict(body, &req); err != nil {
		return nil, invalid("invalid_product_payload", "$", "request body must be {\"products\": [Product, …]}: %v", err)
	}
	if req.Products == nil || len(*req.Products) == 0 {
		return nil, invalid("invalid_product_payload", "$.products", "products must contain at least one valid Product")
	}
	out := make(map[string]json.RawMessage, len(*req.Products))
	for i, raw := range *req.Products {
		at := fmt.Sprintf("$.products[%d]", i)
		id, fields, apiErr := objectWithID(raw, at)
		if apiErr != nil {
			return nil, apiErr
		}
		var variants []json.RawMessage
		if err := json.Unmarshal(fields["variants"], &variants); err != nil || len(variants) == 0 {
			return nil, invalid("invalid_product_payload", at+".variants", "variants must be a non-empty array of Variant")
		}
		for j, v := range variants {
			vat := fmt.Sprintf("%s.variants[%d]", at, j)
			_, vfields, apiErr := objectWithID(v, vat)
			if apiErr != nil {
				return nil, apiErr
			}
			var title *string
			if err := json.Unmarshal(vfields["title"], &title); err != nil || title == nil {
				return nil, invalid("invalid_product_payload", vat+".title", "title must be a string")
			}
		}
		var buf bytes.Buffer
		_ = json.Compact(&buf, raw) // raw came out of a successful decode
		out[id] = buf.Bytes()
	}
	return out, nil
}

// objectWithID checks that raw is a JSON object with a non-empty string id.
func objectWithID(raw json.RawMessage, at string) (string, map[string]json.RawMessage, *apiError) {
	var fields map[string]json.RawMessage
	if err := json.Unmarshal(raw, &fields); err != nil || fields == nil {
		return "", nil, invalid("invalid_product_payload", at, "must be a JSON object")
	}
	var id string
	if err := json.Unmarshal(fields["id"], &id); err != nil || id == "" {
		return "", nil, invalid("invalid_product_payload", at+".id", "id must be a non-empty string")
	}
	return id, fields, nil
}

// decodeStrict decodes exactly one JSON value with no unknown fields.
func decodeStrict(body []byte, v any) error {
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return err
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		return errors.New("unexpected data after the JSON value")
	}
	return nil
}
