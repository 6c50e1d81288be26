package web

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/acpbridge/acpbridge/acp"
	"github.com/acpbridge/acpbridge/app"
	"github.com/acpbridge/acpbridge/shopify"
)

// errorBody is the one error shape the app answers with: the ACP error
// object, so agents parse every error alike, whichever route produced it.
type errorBody = acp.Error

// statusClientClosed is the status logged for a request whose client went
// away before the answer (nginx's 499): not an HTTP status anyone reads.
const statusClientClosed = 499

// statusOf maps app error codes to HTTP statuses: the only such table.
var statusOf = map[app.Code]int{
	app.CodeInvalid:      http.StatusBadRequest,
	app.CodeNotFound:     http.StatusNotFound,
	app.CodeConflict:     http.StatusConflict,
	app.CodeUnauthorized: http.StatusUnauthorized,
	app.CodeForbidden:    http.StatusForbidden,
	app.CodeUnavailable:  http.StatusServiceUnavailable,

	app.CodeUnprocessable: http.StatusUnprocessableEntity,
	app.CodeNotAllowed:    http.StatusMethodNotAllowed,
	app.CodeRateLimited:   http.StatusTooManyRequests,
}

// handleError is echo's HTTPErrorHandler: expected errors get their status
// and message; anything else is logged and answered with a bare 500 that
// reveals nothing of the cause.
func (s *Server) handleError(err error, c echo.Context) {
	if c.Response().Committed {
		return
	}
	status, body := s.describe(err, c)
	switch {
	case c.Request().Method == http.MethodHead:
		err = c.NoContent(status)
	case isAdminPage(c):
		err = s.renderError(c, status, body)
	case isContinuePage(c):
		err = renderContinueError(c, status, body)
	case acpVersion(c) != "":
		// ACP routes answer in the error shape of the negotiated version.
		var b []byte
		if b, err = acp.EncodeError(acpVersion(c), &body); err == nil {
			err = c.JSONBlob(status, b)
		}
	default:
		err = c.JSON(status, body)
	}
	if err != nil {
		s.logger.ErrorContext(c.Request().Context(), "writing error response", "err", err)
	}
}

func (s *Server) describe(err error, c echo.Context) (int, errorBody) {
	status, body, retryAfter := s.describeErr(c.Request().Context(), err)
	if retryAfter > 0 {
		secs := int((retryAfter + time.Second - 1) / time.Second)
		c.Response().Header().Set("Retry-After", strconv.Itoa(secs))
	}
	return status, body
}

// describeErr is describe without an HTTP response (the MCP transport's
// tool errors use it too): the status, the ACP error, and the wait an
// answer asks for (REST's Retry-After).
func (s *Server) describeErr(ctx context.Context, err error) (int, errorBody, time.Duration) {
	if errors.Is(err, context.Canceled) && ctx.Err() != nil {
		// The client went away (a timeout, a closed connection): the
		// request's reads and calls stopped with its context. Nobody is
		// there to answer and nothing failed here: no 500, no error log.
		s.logger.InfoContext(ctx, "client went away before the answer", "reason", context.Cause(ctx), "err", err)
		return statusClientClosed, errorBody{Type: acp.ErrInvalidRequest, Code: "client_closed_request",
			Message: "The client closed the request before the answer."}, 0
	}
	if errors.Is(err, shopify.ErrThrottled) {
		// The shop's Shopify API budget (its rate limit) cannot pay for
		// the call in time: nothing was run, the same request can be sent
		// again when the points are back.
		wait, ok := shopify.RetryAfter(err)
		if !ok {
			wait = time.Second
		}
		secs := int((wait + time.Second - 1) / time.Second)
		return http.StatusTooManyRequests, errorBody{Type: errorType(http.StatusTooManyRequests), Code: "rate_limit_exceeded",
			Message: fmt.Sprintf("The store's Shopify connection is at its rate limit; retry in %d s.", secs)}, wait
	}
	var pe *acp.Error // a protocol decoder's precise answer
	if errors.As(err, &pe) {
		if pe.Code == acp.CodeTooLarge {
			return http.StatusRequestEntityTooLarge, *pe, 0
		}
		return http.StatusBadRequest, *pe, 0
	}
	var ae *app.Error
	if errors.As(err, &ae) {
		status, ok := statusOf[ae.Code]
		if !ok {
			status = http.StatusBadRequest
		}
		code := string(ae.Code)
		if ae.Reason != "" {
			code = ae.Reason
		}
		msg := ae.Message
		if msg == "" {
			msg = http.StatusText(status)
		}
		return status, errorBody{Type: errorType(status), Code: code, Message: msg, Param: ae.Field}, ae.RetryAfter
	}
	var he *echo.HTTPError
	if errors.As(err, &he) && he.Code < 500 {
		msg := http.StatusText(he.Code)
		if m, ok := he.Message.(string); ok && m != "" {
			msg = m
		}
		return he.Code, errorBody{Type: errorType(he.Code), Code: codeOf(he.Code), Message: msg}, 0
	}
	s.logger.ErrorContext(ctx, "internal error", "err", err)
	return http.StatusInternalServerError, errorBody{
		Type: acp.ErrProcessingError, Code: "internal_error",
		Message: "Internal error. Quote the X-Request-Id header when reporting it.",
	}, 0
}

// errorType is the ACP error type for a status.
func errorType(status int) acp.ErrorType {
	switch {
	case status == http.StatusServiceUnavailable:
		return acp.ErrServiceUnavailable
	case status >= 500:
		return acp.ErrProcessingError
	default:
		return acp.ErrInvalidRequest
	}
}

// codeOf names framework-level failures (unknown route, wrong method, body
// too large) in the ACP code style.
func codeOf(status int) string {
	switch status {
	case http.StatusNotFound:
		return "not_found"
	case http.StatusMethodNotAllowed:
		return "method_not_allowed"
	case http.StatusRequestEntityTooLarge:
		return "request_too_large"
	case http.StatusUnauthorized:
		return "unauthorized"
	case http.StatusForbidden:
		return "forbidden"
	case http.StatusTooManyRequests:
		return "rate_limit_exceeded"
	case http.StatusUnsupportedMediaType:
		return "unsupported_media_type"
	default:
		return "invalid_request"
	}
}
