package web

import (
	"context"
	"errors"
	"io"
	"mime"
	"net/http"
	"strings"

	"github.com/labstack/echo/v4"

	"github.com/acpbridge/acpbridge/acp"
	"github.com/acpbridge/acpbridge/app"
	"github.com/acpbridge/acpbridge/app/acpapi"
	"github.com/acpbridge/acpbridge/app/agents"
	"github.com/acpbridge/acpbridge/app/idempotency"
	"github.com/acpbridge/acpbridge/shopify"
)

// The ACP checkout API. Every shop has its own base URL,
//
//	<APP_URL>/acp/<shop>.myshopify.com
//
// under which agents call /checkout_sessions… (and /carts… where the shop
// has carts) and read the public /.well-known/acp.json. This file is only the REST glue: a handler reads
// the body (bounded), builds an acpapi.Request from the path and headers,
// calls the ACP pipeline (app/acpapi: version negotiation, body limit,
// authentication, rate limit, signature, idempotency, decode, the one
// checkout call, encode) once, and renders its Result: the session with
// 201 or 200, or the error through the one error→status table
// (errors.go), with the headers REST adds (Request-Id, Idempotency-Key,
// Idempotent-Replayed, Retry-After).

// CheckoutService is the checkout use-case (checkout.Sessions): the
// pipeline's operations plus the public discovery document.
type CheckoutService interface {
	acpapi.Checkout
	// Discovery is the shop's public discovery document; ErrNotFound for
	// an unknown or uninstalled shop.
	Discovery(ctx context.Context, shopDomain, baseURL string) ([]byte, error)
}

// AgentAuth authenticates agents (agents.Access).
type AgentAuth = acpapi.Agents

// Idempotency headers of the ACP checkout API (ACP 2026-04-17 §2.1-2.2).
const (
	HeaderIdempotencyKey     = "Idempotency-Key"
	HeaderIdempotentReplayed = "Idempotent-Replayed"
)

// ACPBasePath is the prefix of every shop's ACP base URL.
const ACPBasePath = "/acp/"

// ACPBaseURL is the shop's ACP base URL under the app's public URL.
func ACPBaseURL(appURL, shop string) string {
	return strings.TrimRight(appURL, "/") + ACPBasePath + shop
}

// maxACPBody is the largest body an agent may send: 413 above it. It is
// the decoders' own limit, enforced while reading, before the signature,
// the idempotency hash or anything else spends CPU on the body (issue 13:
// a 1 MB body of one huge number cost seconds in the hash).
const maxACPBody = acp.MaxBodyBytes

// acpRoutes adds the checkout API of every shop.
func (s *Server) acpRoutes() {
	g := s.echo.Group(ACPBasePath+":shop", s.acpShopParam)
	g.GET("/.well-known/acp.json", s.handleDiscovery, s.limitIP(s.ipLimits))

	api := g.Group("/checkout_sessions")
	// A path or method under /checkout_sessions with no route still goes
	// through the pipeline (version, body, authentication) before its 404,
	// as every ACP request does.
	api.RouteNotFound("", s.acpHandler(""))
	api.RouteNotFound("/*", s.acpHandler(""))
	api.POST("", s.acpHandler(acpapi.OpCreate))
	api.GET("/:id", s.acpHandler(acpapi.OpGet))
	api.POST("/:id", s.acpHandler(acpapi.OpUpdate))
	api.POST("/:id/complete", s.acpHandler(acpapi.OpComplete))
	api.POST("/:id/cancel", s.acpHandler(acpapi.OpCancel))

	// Carts (2026-04-17 cart capability), through the same pipeline.
	carts := g.Group("/carts")
	carts.RouteNotFound("", s.acpHandler(""))
	carts.RouteNotFound("/*", s.acpHandler(""))
	carts.POST("", s.acpHandler(acpapi.OpCreateCart))
	carts.GET("/:id", s.acpHandler(acpapi.OpGetCart))
	carts.PUT("/:id", s.acpHandler(acpapi.OpUpdateCart))
	carts.POST("/:id/cancel", s.acpHandler(acpapi.OpCancelCart))
}

// acpShopParam checks the shop in the path before anything else runs.
func (s *Server) acpShopParam(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		if _, err := shopify.NormalizeShop(c.Param("shop")); err != nil {
			return &app.Error{Code: app.CodeNotFound, Reason: "not_found", Message: "no such shop"}
		}
		return next(c)
	}
}

// acpHandler serves one ACP operation through the pipeline ("": a route
// that does not exist).
func (s *Server) acpHandler(op acpapi.Operation) echo.HandlerFunc {
	return func(c echo.Context) error {
		req := c.Request()
		defer func() {
			// A panic in the call: answer it in the ACP shape with the
			// key echoed, like any error of the call; recoverPanic logs it.
			if r := recover(); r != nil {
				if p, ok := r.(*acpapi.Panic); ok {
					s.setACPHeaders(c, acpapi.Result{Version: p.Version, IdempotencyKey: p.IdempotencyKey})
					r = p.Value
				}
				panic(r)
			}
		}()
		if id := req.Header.Get("Request-Id"); validRequestID(id) {
			c.Response().Header().Set("Request-Id", id)
		}
		in := acpapi.Request{
			Shop: c.Param("shop"), Operation: op, SessionID: c.Param("id"),
			APIVersion: req.Header.Get("API-Version"), Authorization: req.Header.Get("Authorization"),
			Timestamp: req.Header.Get("Timestamp"), Signature: req.Header.Get("Signature"),
			IdempotencyKeys: req.Header.Values(HeaderIdempotencyKey),
			// What a signature is bound to: a retry of this same request
			// (same method, path and key) may carry it again.
			Binding: agents.SignedRequest{Method: req.Method, Path: req.URL.Path, IdempotencyKey: req.Header.Get(HeaderIdempotencyKey)},
		}
		if req.Method == http.MethodPost || req.Method == http.MethodPut {
			in.Body, in.BodyTooLarge, in.BodyErr = readACPBody(req)
			in.CheckBody = func(body []byte) error {
				if len(body) > 0 || op == acpapi.OpCreate || op == acpapi.OpCreateCart || op == acpapi.OpUpdateCart {
					return checkJSONContentType(req.Header.Get("Content-Type"))
				}
				return nil
			}
		}
		return s.renderACP(c, s.acp.Run(req.Context(), in))
	}
}

// readACPBody reads at most maxACPBody+1 bytes: a declared length over the
// limit is not read at all, and the pipeline answers request_too_large.
func readACPBody(req *http.Request) (body []byte, tooLarge bool, err error) {
	if req.ContentLength > maxACPBody {
		return nil, true, nil // not worth reading
	}
	body, err = io.ReadAll(io.LimitReader(req.Body, maxACPBody+1))
	if err != nil {
		var mbe *http.MaxBytesError
		if errors.As(err, &mbe) {
			return nil, true, nil
		}
		return nil, false, &app.Error{Code: app.CodeInvalid, Reason: "invalid_body", Message: "the request body could not be read"}
	}
	return body, false, nil
}

func checkJSONContentType(ct string) error {
	mt, _, err := mime.ParseMediaType(ct)
	if err != nil || mt != "application/json" {
		return echo.NewHTTPError(http.StatusUnsupportedMediaType, "Content-Type must be application/json")
	}
	return nil
}

// renderACP writes the pipeline's result: a version negotiation error in
// its own shape; an error through handleError (in the negotiated
// version's shape); the session with 201 for a create, else 200.
func (s *Server) renderACP(c echo.Context, res acpapi.Result) error {
	if res.Version == "" {
		var ae *acp.Error
		if !errors.As(res.Err, &ae) {
			return res.Err
		}
		b, err := acp.EncodeVersionError(ae)
		if err != nil {
			return err
		}
		return c.JSONBlob(acp.VersionErrorStatus, b)
	}
	s.setACPHeaders(c, res)
	if errors.Is(res.Err, acpapi.ErrUnknownOperation) {
		return echo.ErrNotFound // no such route
	}
	if res.Err != nil {
		return res.Err
	}
	status := http.StatusOK
	if res.Outcome == idempotency.OutcomeCreated {
		status = http.StatusCreated
	}
	return c.JSONBlob(status, res.Session)
}

// setACPHeaders keeps the negotiated version for the error handler and
// sets the idempotency headers of the result.
func (s *Server) setACPHeaders(c echo.Context, res acpapi.Result) {
	if res.Version != "" {
		c.Set(ctxACPVersion, res.Version)
	}
	h := c.Response().Header()
	if res.IdempotencyKey != "" {
		h.Set(HeaderIdempotencyKey, res.IdempotencyKey)
	}
	if res.Replayed {
		h.Set(HeaderIdempotentReplayed, "true")
	}
}

// handleDiscovery serves the shop's public discovery document.
func (s *Server) handleDiscovery(c echo.Context) error {
	shop := c.Param("shop")
	b, err := s.checkout.Discovery(c.Request().Context(), shop, ACPBaseURL(s.appURL(), shop))
	if err != nil {
		return err
	}
	c.Response().Header().Set("Cache-Control", "public, max-age=3600")
	return c.JSONBlob(http.StatusOK, b)
}
