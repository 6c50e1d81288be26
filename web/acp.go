package web

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"strings"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/acpbridge/acpbridge/acp"
	"github.com/acpbridge/acpbridge/app"
	"github.com/acpbridge/acpbridge/app/agents"
	"github.com/acpbridge/acpbridge/app/checkout"
	"github.com/acpbridge/acpbridge/shopify"
)

// The ACP checkout API. Every shop has its own base URL,
//
//	<APP_URL>/acp/<shop>.myshopify.com
//
// under which agents call /checkout_sessions… and read the public
// /.well-known/acp.json. A request passes, in order: version negotiation
// (API-Version) and the body read (at most acp.MaxBodyBytes), authentication
// (Bearer API key of this shop, then the optional request signature and its
// replay check), idempotency (POST), and the handler, which
// decodes the body for its version, makes one app call and encodes the
// session for the same version.

// CheckoutService is the checkout use-case (app.Checkout).
type CheckoutService interface {
	Create(ctx context.Context, sh *app.Shop, v acp.Version, in *acp.CreateSessionInput) (*checkout.CheckoutSession, error)
	Get(ctx context.Context, sh *app.Shop, id string) (*checkout.CheckoutSession, error)
	Update(ctx context.Context, sh *app.Shop, v acp.Version, id string, in *acp.UpdateSessionInput) (*checkout.CheckoutSession, error)
	Cancel(ctx context.Context, sh *app.Shop, id string, in *acp.CancelSessionInput) (*checkout.CheckoutSession, error)
	Complete(ctx context.Context, sh *app.Shop, v acp.Version, id string, in *acp.CompleteSessionInput) (*checkout.CheckoutSession, error)
	View(ctx context.Context, sh *app.Shop, cs *checkout.CheckoutSession) (*acp.Session, error)
	// Discovery is the shop's public discovery document; ErrNotFound for
	// an unknown or uninstalled shop.
	Discovery(ctx context.Context, shopDomain, baseURL string) ([]byte, error)
}

// AgentAuth authenticates agents (agents.Agents).
type AgentAuth interface {
	Authenticate(ctx context.Context, shopDomain, authorization string) (*app.Agent, error)
	VerifySignature(ag *app.Agent, timestamp, signature string, body []byte) error
	// ConsumeSignature refuses a verified signature already used on
	// another request (replay protection, across replicas).
	ConsumeSignature(ctx context.Context, ag *app.Agent, timestamp, signature string, req agents.SignedRequest) error
}

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

const ctxACPBody = "acp.body"

// acpRoutes adds the checkout API of every shop.
func (s *Server) acpRoutes() {
	g := s.echo.Group(ACPBasePath+":shop", s.acpShopParam)
	g.GET("/.well-known/acp.json", s.handleDiscovery, s.limitIP(s.ipLimits))

	api := g.Group("/checkout_sessions", s.acpVersionMW, s.acpAuth)
	post := []echo.MiddlewareFunc{s.acpIdempotency}
	api.POST("", s.handleCreateSession, post...)
	api.GET("/:id", s.handleGetSession)
	api.POST("/:id", s.handleUpdateSession, post...)
	api.POST("/:id/complete", s.handleCompleteSession, post...)
	api.POST("/:id/cancel", s.handleCancelSession, post...)
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

// acpVersionMW negotiates API-Version, echoes Request-Id, and reads the
// body (bounded) so that signature, idempotency and the decoder all see the
// same bytes.
func (s *Server) acpVersionMW(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		if id := c.Request().Header.Get("Request-Id"); validRequestID(id) {
			c.Response().Header().Set("Request-Id", id)
		}
		v, err := acp.NegotiateVersion(c.Request().Header.Get("API-Version"))
		if err != nil {
			var ae *acp.Error
			errors.As(err, &ae)
			b, encErr := acp.EncodeVersionError(ae)
			if encErr != nil {
				return encErr
			}
			return c.JSONBlob(acp.VersionErrorStatus, b)
		}
		c.Set(ctxACPVersion, v)
		req := c.Request()
		if req.Method == http.MethodPost {
			if req.ContentLength > maxACPBody {
				return tooLarge() // not worth reading
			}
			body, err := io.ReadAll(io.LimitReader(req.Body, maxACPBody+1))
			if err != nil {
				var mbe *http.MaxBytesError
				if errors.As(err, &mbe) {
					return tooLarge()
				}
				return &app.Error{Code: app.CodeInvalid, Reason: "invalid_body", Message: "the request body could not be read"}
			}
			if len(body) > maxACPBody {
				return tooLarge()
			}
			if len(body) > 0 || c.Path() == ACPBasePath+":shop/checkout_sessions" {
				if err := checkJSONContentType(req.Header.Get("Content-Type")); err != nil {
					return err
				}
			}
			c.Set(ctxACPBody, body)
			req.Body = io.NopCloser(bytes.NewReader(body))
		}
		return next(c)
	}
}

// tooLarge is the decoders' own answer to an oversized body: 413 with the
// ACP error shape, code request_too_large.
func tooLarge() error {
	return &acp.Error{Type: acp.ErrInvalidRequest, Code: acp.CodeTooLarge,
		Message: fmt.Sprintf("the request body is larger than %d bytes", maxACPBody)}
}

func checkJSONContentType(ct string) error {
	mt, _, err := mime.ParseMediaType(ct)
	if err != nil || mt != "application/json" {
		return echo.NewHTTPError(http.StatusUnsupportedMediaType, "Content-Type must be application/json")
	}
	return nil
}

// acpAuth checks the API key (and the signature, when sent or required).
func (s *Server) acpAuth(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		req := c.Request()
		ag, err := s.agents.Authenticate(req.Context(), c.Param("shop"), req.Header.Get("Authorization"))
		if err != nil {
			return err
		}
		if err := s.keyLimits.allow(ag.Key.ID, time.Now()); err != nil {
			return err
		}
		ts, sig := req.Header.Get("Timestamp"), req.Header.Get("Signature")
		if err := s.agents.VerifySignature(ag, ts, sig, acpBody(c)); err != nil {
			return err
		}
		// After verifying, so that only genuine signatures are recorded;
		// before idempotency, which lets a retry of the same request (same
		// Idempotency-Key) through to its stored answer.
		signed := agents.SignedRequest{Method: req.Method, Path: req.URL.Path, IdempotencyKey: req.Header.Get(HeaderIdempotencyKey)}
		if err := s.agents.ConsumeSignature(req.Context(), ag, ts, sig, signed); err != nil {
			return err
		}
		c.Set(ctxACPShop, ag.Shop)
		c.Set(ctxACPKeyID, ag.Key.ID)
		c.SetRequest(req.WithContext(app.WithAgent(req.Context(), ag)))
		return next(c)
	}
}

func acpBody(c echo.Context) []byte {
	b, _ := c.Get(ctxACPBody).([]byte)
	return b
}

func (s *Server) handleCreateSession(c echo.Context) error {
	v := acpVersion(c)
	in, err := acp.DecodeCreateSession(v, acpBody(c))
	if err != nil {
		return err
	}
	cs, err := s.checkout.Create(c.Request().Context(), acpShop(c), v, in)
	if err != nil {
		return err
	}
	return s.renderSession(c, http.StatusCreated, cs)
}

func (s *Server) handleGetSession(c echo.Context) error {
	cs, err := s.checkout.Get(c.Request().Context(), acpShop(c), c.Param("id"))
	if err != nil {
		return err
	}
	return s.renderSession(c, http.StatusOK, cs)
}

func (s *Server) handleUpdateSession(c echo.Context) error {
	v := acpVersion(c)
	in, err := acp.DecodeUpdateSession(v, acpBody(c))
	if err != nil {
		return err
	}
	cs, err := s.checkout.Update(c.Request().Context(), acpShop(c), v, c.Param("id"), in)
	if err != nil {
		return err
	}
	return s.renderSession(c, http.StatusOK, cs)
}

func (s *Server) handleCompleteSession(c echo.Context) error {
	v := acpVersion(c)
	in, err := acp.DecodeCompleteSession(v, acpBody(c))
	if err != nil {
		return err
	}
	cs, err := s.checkout.Complete(c.Request().Context(), acpShop(c), v, c.Param("id"), in)
	if err != nil {
		return err
	}
	return s.renderSession(c, http.StatusOK, cs)
}

func (s *Server) handleCancelSession(c echo.Context) error {
	v := acpVersion(c)
	in := &acp.CancelSessionInput{}
	if body := acpBody(c); len(bytes.TrimSpace(body)) > 0 {
		var err error
		if in, err = acp.DecodeCancelSession(v, body); err != nil {
			return err
		}
	}
	cs, err := s.checkout.Cancel(c.Request().Context(), acpShop(c), c.Param("id"), in)
	if err != nil {
		return err
	}
	return s.renderSession(c, http.StatusOK, cs)
}

// renderSession encodes the session for the request's version.
func (s *Server) renderSession(c echo.Context, status int, cs *checkout.CheckoutSession) error {
	sess, err := s.checkout.View(c.Request().Context(), acpShop(c), cs)
	if err != nil {
		return err
	}
	b, err := acp.EncodeSession(acpVersion(c), sess)
	if err != nil {
		return err // a session we cannot encode is our bug: a 500
	}
	return c.JSONBlob(status, b)
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
