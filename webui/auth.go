package webui

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/coreos/go-oidc/v3/oidc"
	"github.com/gin-gonic/gin"
	"golang.org/x/oauth2"

	"github.com/pokor/pokor/session"
)

// OIDC is the optional sign-in for organizers (POKOR_OIDC_*). When it is set, creating a session
// on the web requires a signed-in organizer; joining a room never does, and sessions created
// from a chat platform are not affected.
type OIDC struct {
	Issuer, ClientID, ClientSecret string
	// AllowedDomains, when not empty, admits only verified e-mail addresses of these domains.
	AllowedDomains []string
	// AllowedGroups, when not empty, admits only members of one of these groups, read from the
	// ID token's GroupsClaim ("groups" when empty).
	AllowedGroups []string
	GroupsClaim   string
	// Sealer encrypts the sign-in cookies (session.Keys).
	Sealer interface {
		Seal(plain string) string
		Open(sealed string) (string, error)
	}
	// HTTPClient talks to the provider; nil uses http.DefaultClient.
	HTTPClient *http.Client
}

// The cookies of the sign-in: the flow in progress (state, nonce, PKCE verifier) and the
// signed-in organizer. Both are sealed (encrypted and authenticated) with POKOR_SECRET_KEY.
const (
	flowCookie   = "pokor_oidc_flow"
	signInCookie = "pokor_organizer"
	flowMaxAge   = 10 * time.Minute
	signInMaxAge = 12 * time.Hour
)

// auth runs the OpenID Connect authorization code flow with PKCE, state and nonce.
type auth struct {
	cfg    OIDC
	srv    *Server
	mu     sync.Mutex
	prov   *oidc.Provider // discovered on first use, so a provider down at start does not stop Pokor
	oauth2 oauth2.Config
}

// flow is what the flow cookie holds between the redirect to the provider and the callback.
type flow struct {
	State, Nonce, Verifier, Next string
	Expires                      time.Time
}

// Organizer is the signed-in organizer, as the sign-in cookie holds it.
type Organizer struct {
	Subject string    `json:"sub"`
	Email   string    `json:"email,omitempty"`
	Name    string    `json:"name,omitempty"`
	Expires time.Time `json:"exp"`
}

func (a *auth) ctx(ctx context.Context) context.Context {
	if a.cfg.HTTPClient != nil {
		return oidc.ClientContext(ctx, a.cfg.HTTPClient)
	}
	return ctx
}

// provider discovers the issuer's endpoints and keys once.
func (a *auth) provider(ctx context.Context) (*oidc.Provider, error) {
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.prov != nil {
		return a.prov, nil
	}
	ctx, cancel := context.WithTimeout(a.ctx(ctx), 10*time.Second)
	defer cancel()
	p, err := oidc.NewProvider(ctx, a.cfg.Issuer)
	if err != nil {
		return nil, err
	}
	a.prov = p
	a.oauth2 = oauth2.Config{
		ClientID: a.cfg.ClientID, ClientSecret: a.cfg.ClientSecret, Endpoint: p.Endpoint(),
		RedirectURL: strings.TrimRight(a.srv.cfg.BaseURL, "/") + "/auth/callback",
		Scopes:      []string{oidc.ScopeOpenID, "email", "profile"},
	}
	return p, nil
}

func (a *auth) routes(r gin.IRouter) {
	r.GET("/auth/login", a.login)
	r.GET("/auth/callback", a.callback)
	r.POST("/auth/logout", a.logout)
}

// localPath keeps a redirect target on this server: a path, never another host.
func localPath(next string) string {
	if !strings.HasPrefix(next, "/") || strings.HasPrefix(next, "//") || strings.HasPrefix(next, "/\\") {
		return "/"
	}
	return next
}

func (a *auth) login(c *gin.Context) {
	c.Header("Cache-Control", "no-store")
	if _, err := a.provider(c.Request.Context()); err != nil {
		a.srv.log.Error("OIDC discovery failed", "issuer", a.cfg.Issuer, "err", err)
		a.fail(c, http.StatusBadGateway, "The sign-in provider does not answer", "Try again in a minute; if it goes on, tell the administrator of this Pokor.")
		return
	}
	f := flow{State: session.NewToken(), Nonce: session.NewToken(), Verifier: oauth2.GenerateVerifier(),
		Next: localPath(c.Query("next")), Expires: time.Now().Add(flowMaxAge)}
	b, _ := json.Marshal(f)
	// SameSite=Lax: the provider's redirect back is a top-level GET, which carries Lax cookies.
	http.SetCookie(c.Writer, &http.Cookie{Name: flowCookie, Value: a.cfg.Sealer.Seal(string(b)), Path: "/auth/",
		MaxAge: int(flowMaxAge / time.Second), HttpOnly: true, Secure: a.srv.secure, SameSite: http.SameSiteLaxMode})
	c.Redirect(http.StatusFound, a.oauth2.AuthCodeURL(f.State, oidc.Nonce(f.Nonce), oauth2.S256ChallengeOption(f.Verifier)))
}

// errSignIn is a refused sign-in; its message is shown to the person.
type errSignIn struct {
	status      int
	title, hint string
}

func (e *errSignIn) Error() string { return e.title }

func (a *auth) callback(c *gin.Context) {
	c.Header("Cache-Control", "no-store")
	org, next, err := a.finish(c)
	http.SetCookie(c.Writer, &http.Cookie{Name: flowCookie, Path: "/auth/", MaxAge: -1, HttpOnly: true, Secure: a.srv.secure})
	if err != nil {
		var e *errSignIn
		if !errors.As(err, &e) {
			a.srv.log.Warn("OIDC sign-in failed", "err", err)
			e = &errSignIn{http.StatusBadGateway, "Sign-in failed", "The sign-in provider's answer could not be checked. Try again; if it goes on, tell the administrator of this Pokor."}
		}
		a.fail(c, e.status, e.title, e.hint)
		return
	}
	b, _ := json.Marshal(org)
	http.SetCookie(c.Writer, &http.Cookie{Name: signInCookie, Value: a.cfg.Sealer.Seal(string(b)), Path: "/",
		MaxAge: int(time.Until(org.Expires) / time.Second), HttpOnly: true, Secure: a.srv.secure, SameSite: http.SameSiteLaxMode})
	a.srv.log.Info("organizer signed in", "subject", org.Subject)
	c.Redirect(http.StatusSeeOther, next)
}

// finish checks the provider's answer: the state against the flow cookie, the code exchanged
// with the PKCE verifier, the ID token's signature, issuer, audience and expiry (go-oidc), its
// nonce against the flow cookie, and the allowed domains and groups.
func (a *auth) finish(c *gin.Context) (*Organizer, string, error) {
	if e := c.Query("error"); e != "" {
		return nil, "", &errSignIn{http.StatusForbidden, "Sign-in was not completed", "The provider said: " + e + " " + c.Query("error_description")}
	}
	restart := "Open the sign-in again from the start page."
	raw, err := rawCookie(c, flowCookie)
	if err != nil {
		return nil, "", &errSignIn{http.StatusBadRequest, "This sign-in has expired", restart}
	}
	plain, err := a.cfg.Sealer.Open(raw)
	var f flow
	if err != nil || json.Unmarshal([]byte(plain), &f) != nil || time.Now().After(f.Expires) {
		return nil, "", &errSignIn{http.StatusBadRequest, "This sign-in has expired", restart}
	}
	if c.Query("state") == "" || c.Query("state") != f.State {
		return nil, "", &errSignIn{http.StatusBadRequest, "This sign-in answer does not belong to this browser", restart}
	}
	p, err := a.provider(c.Request.Context())
	if err != nil {
		return nil, "", err
	}
	ctx, cancel := context.WithTimeout(a.ctx(c.Request.Context()), 15*time.Second)
	defer cancel()
	tok, err := a.oauth2.Exchange(ctx, c.Query("code"), oauth2.VerifierOption(f.Verifier))
	if err != nil {
		return nil, "", fmt.Errorf("exchanging the code: %w", err)
	}
	rawID, ok := tok.Extra("id_token").(string)
	if !ok {
		return nil, "", errors.New("the token response has no id_token")
	}
	idt, err := p.Verifier(&oidc.Config{ClientID: a.cfg.ClientID}).Verify(ctx, rawID)
	if err != nil {
		return nil, "", fmt.Errorf("verifying the ID token: %w", err)
	}
	if idt.Nonce != f.Nonce {
		return nil, "", errors.New("the ID token's nonce is not the one sent")
	}
	var claims map[string]any
	if err := idt.Claims(&claims); err != nil {
		return nil, "", err
	}
	org := &Organizer{Subject: idt.Subject, Expires: time.Now().Add(signInMaxAge)}
	org.Email, _ = claims["email"].(string)
	org.Name, _ = claims["name"].(string)
	if err := a.admit(org, claims); err != nil {
		a.srv.log.Info("organizer sign-in refused", "subject", idt.Subject, "reason", err.Error())
		return nil, "", &errSignIn{http.StatusForbidden, "You may not create sessions here", err.Error() + " Participants do not need to sign in: ask an organizer for the room link."}
	}
	return org, f.Next, nil
}

// admit applies POKOR_OIDC_ALLOWED_DOMAINS and POKOR_OIDC_ALLOWED_GROUPS.
func (a *auth) admit(org *Organizer, claims map[string]any) error {
	if len(a.cfg.AllowedDomains) > 0 {
		verified, present := claims["email_verified"].(bool)
		_, domain, _ := strings.Cut(strings.ToLower(org.Email), "@")
		if org.Email == "" || (present && !verified) {
			return errors.New("This server admits organizers by verified e-mail address, and the provider gave none.")
		}
		if !slices.ContainsFunc(a.cfg.AllowedDomains, func(d string) bool { return strings.EqualFold(d, domain) }) {
			return fmt.Errorf("Addresses at %s are not among the domains this server admits.", domain)
		}
	}
	if len(a.cfg.AllowedGroups) > 0 {
		claim := a.cfg.GroupsClaim
		if claim == "" {
			claim = "groups"
		}
		list, _ := claims[claim].([]any)
		for _, g := range list {
			if s, ok := g.(string); ok && slices.Contains(a.cfg.AllowedGroups, s) {
				return nil
			}
		}
		return errors.New("You are not in a group this server admits.")
	}
	return nil
}

func (a *auth) logout(c *gin.Context) {
	http.SetCookie(c.Writer, &http.Cookie{Name: signInCookie, Path: "/", MaxAge: -1, HttpOnly: true, Secure: a.srv.secure})
	c.Redirect(http.StatusSeeOther, "/")
}

func (a *auth) fail(c *gin.Context, status int, title, hint string) {
	c.Status(status)
	a.srv.page(c, "error.html", pageData{Title: title, Message: title + ".", Hint: hint})
}

// organizer returns the signed-in organizer of the request, or nil.
func (a *auth) organizer(c *gin.Context) *Organizer {
	raw, err := rawCookie(c, signInCookie)
	if err != nil {
		return nil
	}
	plain, err := a.cfg.Sealer.Open(raw)
	var org Organizer
	if err != nil || json.Unmarshal([]byte(plain), &org) != nil || time.Now().After(org.Expires) {
		return nil
	}
	return &org
}

// signedIn reports whether the request may create a session: always without OIDC; with it, when
// an organizer is signed in.
func (s *Server) signedIn(c *gin.Context) (*Organizer, bool) {
	if s.auth == nil {
		return nil, true
	}
	org := s.auth.organizer(c)
	return org, org != nil
}

// rawCookie returns a cookie's value as sent: gin's c.Cookie unescapes it as a query string,
// which turns the '+' of base64 into spaces.
func rawCookie(c *gin.Context, name string) (string, error) {
	ck, err := c.Request.Cookie(name)
	if err != nil {
		return "", err
	}
	return ck.Value, nil
}
