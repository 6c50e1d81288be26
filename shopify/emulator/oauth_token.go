package emulator

import (
	"crypto/subtle"
	"encoding/json"
	"fmt"
	"mime"
	"net/http"
	"strconv"
	"strings"

	"github.com/acpbridge/acpbridge/shopify"
)

// OAuth grant and token type identifiers (docs/shopify.md §1.7, §1.8).
const (
	grantTokenExchange = "urn:ietf:params:oauth:grant-type:token-exchange"
	typeIDToken        = "urn:ietf:params:oauth:token-type:id_token"
	typeOfflineToken   = "urn:shopify:params:oauth:token-type:offline-access-token"
	typeOnlineToken    = "urn:shopify:params:oauth:token-type:online-access-token"
)

// tokenResponse is Shopify's access_token response; empty fields are left out
// as Shopify leaves them out for non-expiring tokens.
type tokenResponse struct {
	AccessToken           string          `json:"access_token"`
	Scope                 string          `json:"scope"`
	ExpiresIn             int             `json:"expires_in,omitempty"`
	RefreshToken          string          `json:"refresh_token,omitempty"`
	RefreshTokenExpiresIn int             `json:"refresh_token_expires_in,omitempty"`
	AssociatedUserScope   string          `json:"associated_user_scope,omitempty"`
	AssociatedUser        *associatedUser `json:"associated_user,omitempty"`
}

// associatedUser is the staff member behind an online token.
type associatedUser struct {
	ID            int64  `json:"id"`
	FirstName     string `json:"first_name"`
	LastName      string `json:"last_name"`
	Email         string `json:"email"`
	EmailVerified bool   `json:"email_verified"`
	AccountOwner  bool   `json:"account_owner"`
	Locale        string `json:"locale"`
	Collaborator  bool   `json:"collaborator"`
}

// oauthError is the OAuth error body: 400/401 {"error","error_description"}.
type oauthError struct {
	status      int
	Code        string `json:"error"`
	Description string `json:"error_description,omitempty"`
}

func (o *oauthError) Error() string { return o.Code + ": " + o.Description }

// handleAccessToken is POST /admin/oauth/access_token for the authorization
// code, refresh token and token exchange grants.
func (e *Emulator) handleAccessToken(w http.ResponseWriter, r *http.Request) {
	if f := e.injectFault(w, r, false); f.handled {
		return
	}
	s := e.hostShop(r)
	if s == nil {
		notFound(w)
		return
	}
	form, err := readTokenForm(r)
	if err != nil {
		writeJSON(w, http.StatusBadRequest, &oauthError{Code: "invalid_request", Description: err.Error()})
		return
	}
	idOK := subtle.ConstantTimeCompare([]byte(form["client_id"]), []byte(e.cfg.APIKey)) == 1
	secretOK := subtle.ConstantTimeCompare([]byte(form["client_secret"]), []byte(e.cfg.APISecret)) == 1
	if !idOK || !secretOK {
		writeJSON(w, http.StatusUnauthorized, &oauthError{Code: "invalid_client"})
		return
	}
	var resp *tokenResponse
	var oerr *oauthError
	switch gt := form["grant_type"]; gt {
	case "", "authorization_code":
		resp, oerr = e.grantCode(s, form)
	case "refresh_token":
		resp, oerr = e.grantRefresh(s, form)
	case grantTokenExchange:
		resp, oerr = e.grantExchange(s, form)
	default:
		oerr = &oauthError{status: http.StatusBadRequest, Code: "unsupported_grant_type", Description: fmt.Sprintf("grant_type %q is not supported", gt)}
	}
	if oerr != nil {
		e.log.InfoContext(r.Context(), "token grant refused", "shop", s.domain, "err", oerr)
		writeJSON(w, oerr.status, oerr)
		return
	}
	writeJSON(w, http.StatusOK, resp)
}

// grantCode redeems an authorization code; codes are single use.
func (e *Emulator) grantCode(s *shopState, form map[string]string) (*tokenResponse, *oauthError) {
	e.mu.Lock()
	defer e.mu.Unlock()
	c := e.codes[form["code"]]
	delete(e.codes, form["code"])
	if c == nil || c.shop != s.domain || !e.now().Before(c.expires) {
		return nil, &oauthError{status: http.StatusBadRequest, Code: "invalid_request", Description: "The authorization code was not found or was already used"}
	}
	e.installLocked(s, c.scopes)
	s.stats.TokenGrants++
	if c.perUser {
		return e.onlineTokenLocked(s, c.scopes, "1"), nil
	}
	return e.offlineTokenLocked(s, c.scopes, form["expiring"] == "1"), nil
}

// grantRefresh rotates a refresh token: the one presented dies, a new pair is
// issued, and earlier access tokens live on until they expire.
func (e *Emulator) grantRefresh(s *shopState, form map[string]string) (*tokenResponse, *oauthError) {
	e.mu.Lock()
	defer e.mu.Unlock()
	rt := e.refreshes[form["refresh_token"]]
	if rt == nil || rt.shop != s.domain || !e.now().Before(rt.expires) {
		return nil, &oauthError{status: http.StatusBadRequest, Code: "invalid_grant", Description: "refresh token is invalid, expired or already used"}
	}
	delete(e.refreshes, rt.token)
	s.stats.Refreshes++
	return e.offlineTokenLocked(s, rt.scopes, true), nil
}

// grantExchange swaps an App Bridge ID token for an offline or online token;
// like a managed install it installs the app with its configured scopes.
func (e *Emulator) grantExchange(s *shopState, form map[string]string) (*tokenResponse, *oauthError) {
	if form["subject_token_type"] != typeIDToken {
		return nil, &oauthError{status: http.StatusBadRequest, Code: "invalid_request", Description: "subject_token_type must be " + typeIDToken}
	}
	requested := form["requested_token_type"]
	if requested != typeOfflineToken && requested != typeOnlineToken {
		return nil, &oauthError{status: http.StatusBadRequest, Code: "invalid_request", Description: "unsupported requested_token_type"}
	}
	claims, err := shopify.VerifyIDToken(form["subject_token"], e.cfg.APIKey, e.cfg.APISecret, e.now())
	if err != nil || claims.Shop != s.domain {
		return nil, &oauthError{status: http.StatusBadRequest, Code: "invalid_subject_token", Description: "the subject token is invalid, expired or for another shop"}
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	scopes := s.scopes
	if !s.installed || len(scopes) == 0 {
		scopes = e.cfg.Scopes
	}
	e.installLocked(s, scopes)
	s.stats.TokenGrants++
	if requested == typeOnlineToken {
		return e.onlineTokenLocked(s, scopes, claims.Subject), nil
	}
	return e.offlineTokenLocked(s, scopes, form["expiring"] == "1"), nil
}

// installLocked marks the app installed with these scopes.
func (e *Emulator) installLocked(s *shopState, scopes []string) {
	if !s.installed {
		e.log.Info("app installed", "shop", s.domain, "scopes", strings.Join(scopes, ","))
	}
	s.installed = true
	s.scopes = scopes
}

// offlineTokenLocked issues an offline token, expiring with a refresh token or
// not.
func (e *Emulator) offlineTokenLocked(s *shopState, scopes []string, expiring bool) *tokenResponse {
	if !expiring {
		t := e.issueAccessToken(s, scopes, 0, false)
		return &tokenResponse{AccessToken: t.token, Scope: strings.Join(scopes, ",")}
	}
	t := e.issueAccessToken(s, scopes, e.cfg.AccessTokenTTL, false)
	rt := e.issueRefreshToken(s, scopes)
	return &tokenResponse{
		AccessToken:           t.token,
		Scope:                 strings.Join(scopes, ","),
		ExpiresIn:             int(e.cfg.AccessTokenTTL.Seconds()),
		RefreshToken:          rt.token,
		RefreshTokenExpiresIn: int(e.cfg.RefreshTokenTTL.Seconds()),
	}
}

// onlineTokenLocked issues a per-user token for the shop owner.
func (e *Emulator) onlineTokenLocked(s *shopState, scopes []string, userID string) *tokenResponse {
	t := e.issueAccessToken(s, scopes, onlineTokenTTL, false)
	id, err := strconv.ParseInt(userID, 10, 64)
	if err != nil {
		id = 1 // the shop owner
	}
	joined := strings.Join(scopes, ",")
	return &tokenResponse{
		AccessToken: t.token, Scope: joined, ExpiresIn: int(onlineTokenTTL.Seconds()), AssociatedUserScope: joined,
		AssociatedUser: &associatedUser{ID: id, FirstName: "Demo", LastName: "Owner", Email: s.email(), EmailVerified: true, AccountOwner: true, Locale: "en"},
	}
}

// readTokenForm reads a JSON or form-encoded token request into strings;
// "expiring" becomes "1" or "0" whichever way it was written.
func readTokenForm(r *http.Request) (map[string]string, error) {
	r.Body = http.MaxBytesReader(nil, r.Body, 64<<10)
	out := map[string]string{}
	mt, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type"))
	if mt == "application/json" {
		var raw map[string]any
		if err := json.NewDecoder(r.Body).Decode(&raw); err != nil {
			return nil, fmt.Errorf("malformed JSON body: %w", err)
		}
		for k, v := range raw {
			out[k] = fmt.Sprint(v)
		}
	} else {
		if err := r.ParseForm(); err != nil {
			return nil, fmt.Errorf("malformed form body: %w", err)
		}
		for k := range r.PostForm {
			out[k] = r.PostForm.Get(k)
		}
	}
	switch out["expiring"] {
	case "1", "true":
		out["expiring"] = "1"
	default:
		out["expiring"] = "0"
	}
	return out, nil
}
