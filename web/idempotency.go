package web

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"slices"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/acpbridge/acpbridge/app"
	"github.com/acpbridge/acpbridge/app/idempotency"
)

// Idempotency headers of the ACP checkout API (ACP 2026-04-17 §2.1-2.2).
const (
	HeaderIdempotencyKey     = "Idempotency-Key"
	HeaderIdempotentReplayed = "Idempotent-Replayed"
)

// unreplayedHeaders are never stored with a response for replay: they
// describe one exchange, not the answer (the outer middleware sets the
// request's own id again on the replay).
var unreplayedHeaders = []string{
	"Content-Length", "Date", "Set-Cookie", HeaderRequestID, "Request-Id",
	HeaderIdempotencyKey, HeaderIdempotentReplayed,
}

// idempotencyFinishTimeout bounds storing (or releasing) a claim after the
// response is sent; it runs even when the client has gone.
const idempotencyFinishTimeout = 10 * time.Second

// acpIdempotency applies the ACP idempotency rules (app.Idempotency) to
// the POSTs of the checkout API. It runs after version negotiation and
// authentication, as it needs acpVersion and acpShop, and before the
// handler:
//
//	version negotiation → authentication → acpIdempotency → handler
//
// It reads the whole body (the server's bodyLimit caps it) and gives it back
// to the handler. A replay is answered here with the stored status, headers
// and body plus Idempotent-Replayed: true, and the handler does not run.
// Otherwise the handler runs with its response captured on the way to the
// client; an error it returns is rendered here by the error handler so the
// rendered answer is captured too. The response is then stored for replay,
// unless it is a 5xx; a 5xx, or a panic (re-raised afterwards), releases the
// key instead so a retry is a fresh request. The Idempotency-Key is echoed
// on every response that carried a valid one.
//
// GETs, unauthenticated requests (no acpShop) and a server without
// idempotency pass straight through.
func (s *Server) acpIdempotency(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		req := c.Request()
		shop := acpShop(c)
		if s.idempotency == nil || req.Method != http.MethodPost || shop == nil {
			return next(c)
		}
		res := c.Response()
		values := req.Header.Values(HeaderIdempotencyKey)
		key := ""
		switch len(values) {
		case 0:
		case 1:
			key = values[0]
			// Present but empty is malformed, not missing.
			if err := idempotency.ValidateIdempotencyKey(key); err != nil {
				return err
			}
			res.Header().Set(HeaderIdempotencyKey, key)
		default:
			return &app.Error{Code: app.CodeInvalid, Reason: idempotency.ReasonInvalidIdempotencyKey,
				Message: "Send one Idempotency-Key header, not several."}
		}

		// acpVersionMW has read the body already (and put it back).
		body, ok := c.Get(ctxACPBody).([]byte)
		if !ok {
			var err error
			if body, err = io.ReadAll(req.Body); err != nil {
				return err // the body limit's 413, or a broken connection
			}
			req.Body = io.NopCloser(bytes.NewReader(body))
		}

		scope := idempotency.IdempotencyScope{ShopID: shop.ID, Method: req.Method, Path: req.URL.Path}
		replay, claim, err := s.idempotency.Begin(req.Context(), scope, key, acpVersion(c), body)
		switch {
		case err != nil:
			return err
		case replay != nil:
			h := res.Header()
			for k, v := range replay.Header {
				h[k] = slices.Clone(v)
			}
			h.Set(HeaderIdempotentReplayed, "true")
			res.WriteHeader(replay.Status)
			_, _ = res.Write(replay.Body) // a client gone away is no error of ours
			return nil
		case claim == nil:
			return next(c) // not tracked (no key, 2025-09-29)
		}
		return s.runClaimed(c, claim, next)
	}
}

// runClaimed runs the handler holding claim, capturing what it sends, then
// stores the response or releases the claim.
func (s *Server) runClaimed(c echo.Context, claim *idempotency.IdempotencyClaim, next echo.HandlerFunc) error {
	res := c.Response()
	before := res.Header().Clone()
	capture := &captureWriter{ResponseWriter: res.Writer}
	res.Writer = capture
	done := false
	defer func() {
		res.Writer = capture.ResponseWriter
		if done {
			return
		}
		// A panic: release the key, then let recoverPanic have it.
		p := recover()
		ctx, cancel := s.finishContext(c)
		defer cancel()
		if err := claim.Release(ctx); err != nil {
			s.logger.ErrorContext(ctx, "idempotency release after panic", "err", err)
		}
		if p != nil {
			panic(p)
		}
	}()

	if err := next(c); err != nil {
		c.Error(err) // render now, into the capture
	}
	if !res.Committed {
		res.WriteHeader(res.Status) // a handler that wrote nothing
	}
	done = true

	resp := idempotency.StoredResponse{Status: res.Status, Header: handlerHeaders(before, res.Header()), Body: capture.body.Bytes()}
	ctx, cancel := s.finishContext(c)
	defer cancel()
	if err := claim.Finish(ctx, resp); err != nil {
		// The answer is sent; only its record failed. The key stays in
		// flight until its lease lapses (or was taken over already).
		s.logger.ErrorContext(ctx, "idempotency finish", "err", err, "status", resp.Status)
	}
	return nil
}

// finishContext outlives the request's cancellation: the claim must be
// settled even when the client hung up.
func (s *Server) finishContext(c echo.Context) (context.Context, context.CancelFunc) {
	return context.WithTimeout(context.WithoutCancel(c.Request().Context()), idempotencyFinishTimeout)
}

// handlerHeaders are the response headers the handler (or the error
// handler) set or changed, less those that never replay.
func handlerHeaders(before, after http.Header) http.Header {
	out := http.Header{}
	for k, v := range after {
		if slices.Contains(unreplayedHeaders, k) || slices.Equal(before[k], v) {
			continue
		}
		out[k] = slices.Clone(v)
	}
	return out
}

// captureWriter passes a response through to the client and keeps a copy
// of its body.
type captureWriter struct {
	http.ResponseWriter
	body bytes.Buffer
}

func (w *captureWriter) Write(b []byte) (int, error) {
	w.body.Write(b)
	return w.ResponseWriter.Write(b)
}

// Unwrap lets http.ResponseController reach the connection's writer.
func (w *captureWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }
