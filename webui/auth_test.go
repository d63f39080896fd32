package webui

import (
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/go-jose/go-jose/v4"

	"github.com/pokor/pokor/session"
)

// fakeOIDC is an OpenID provider as the specification describes one: discovery, JWKS, an
// authorization endpoint that signs the user in at once, and a token endpoint that checks the
// client secret and the PKCE verifier and returns an RS256-signed ID token.
type fakeOIDC struct {
	t      *testing.T
	srv    *httptest.Server
	key    *rsa.PrivateKey
	signer *rsa.PrivateKey // the key tokens are signed with; another one than key forges them
	claims map[string]any  // extra claims of the next ID tokens
	nonce  string          // when set, replaces the nonce the client sent

	mu    sync.Mutex
	codes map[string]authz
}

type authz struct{ nonce, challenge, redirect string }

const (
	oidcClientID     = "pokor-test"
	oidcClientSecret = "client-secret-for-tests"
)

func newFakeOIDC(t *testing.T) *fakeOIDC {
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	f := &fakeOIDC{t: t, key: key, signer: key, codes: map[string]authz{}}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /.well-known/openid-configuration", func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, map[string]any{
			"issuer": f.srv.URL, "authorization_endpoint": f.srv.URL + "/authorize", "token_endpoint": f.srv.URL + "/token",
			"jwks_uri": f.srv.URL + "/jwks", "response_types_supported": []string{"code"}, "subject_types_supported": []string{"public"},
			"id_token_signing_alg_values_supported": []string{"RS256"}, "code_challenge_methods_supported": []string{"S256"},
		})
	})
	mux.HandleFunc("GET /jwks", func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, jose.JSONWebKeySet{Keys: []jose.JSONWebKey{{Key: &f.key.PublicKey, KeyID: "k1", Algorithm: "RS256", Use: "sig"}}})
	})
	mux.HandleFunc("GET /authorize", func(w http.ResponseWriter, r *http.Request) {
		q := r.URL.Query()
		if q.Get("client_id") != oidcClientID || q.Get("response_type") != "code" || q.Get("code_challenge_method") != "S256" ||
			!strings.Contains(q.Get("scope"), "openid") || q.Get("nonce") == "" || q.Get("state") == "" {
			http.Error(w, "bad authorization request: "+r.URL.RawQuery, http.StatusBadRequest)
			return
		}
		code := "code-" + q.Get("state")[:8]
		f.mu.Lock()
		f.codes[code] = authz{nonce: q.Get("nonce"), challenge: q.Get("code_challenge"), redirect: q.Get("redirect_uri")}
		f.mu.Unlock()
		http.Redirect(w, r, q.Get("redirect_uri")+"?code="+code+"&state="+url.QueryEscape(q.Get("state")), http.StatusFound)
	})
	mux.HandleFunc("POST /token", func(w http.ResponseWriter, r *http.Request) {
		id, secret, ok := r.BasicAuth()
		if !ok {
			id, secret = r.PostFormValue("client_id"), r.PostFormValue("client_secret")
		}
		f.mu.Lock()
		a, found := f.codes[r.PostFormValue("code")]
		delete(f.codes, r.PostFormValue("code")) // a code is good once
		f.mu.Unlock()
		sum := sha256.Sum256([]byte(r.PostFormValue("code_verifier")))
		switch {
		case id != oidcClientID || secret != oidcClientSecret:
			w.WriteHeader(http.StatusUnauthorized)
			writeJSON(w, map[string]string{"error": "invalid_client"})
			return
		case !found || a.redirect != r.PostFormValue("redirect_uri") || base64.RawURLEncoding.EncodeToString(sum[:]) != a.challenge:
			w.WriteHeader(http.StatusBadRequest)
			writeJSON(w, map[string]string{"error": "invalid_grant"})
			return
		}
		nonce := a.nonce
		if f.nonce != "" {
			nonce = f.nonce
		}
		claims := map[string]any{"iss": f.srv.URL, "sub": "user-1", "aud": oidcClientID, "exp": time.Now().Add(time.Hour).Unix(),
			"iat": time.Now().Unix(), "nonce": nonce, "name": "Olga Organizer"}
		for k, v := range f.claims {
			claims[k] = v
		}
		writeJSON(w, map[string]any{"access_token": "at", "token_type": "Bearer", "expires_in": 3600, "id_token": f.sign(claims)})
	})
	f.srv = httptest.NewServer(mux)
	t.Cleanup(f.srv.Close)
	return f
}

func (f *fakeOIDC) sign(claims map[string]any) string {
	f.t.Helper()
	sig, err := jose.NewSigner(jose.SigningKey{Algorithm: jose.RS256, Key: f.signer}, (&jose.SignerOptions{}).WithType("JWT").WithHeader("kid", "k1"))
	if err != nil {
		f.t.Fatal(err)
	}
	payload, _ := json.Marshal(claims)
	obj, err := sig.Sign(payload)
	if err != nil {
		f.t.Fatal(err)
	}
	s, _ := obj.CompactSerialize()
	return s
}

func writeJSON(w http.ResponseWriter, v any) {
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(v)
}

// cookieBrowser is a client with cookies that follows redirects, as a browser does.
func cookieBrowser() *http.Client {
	jar, _ := cookiejar.New(nil)
	return &http.Client{Jar: jar, Timeout: 10 * time.Second}
}

func TestOIDCSignIn(t *testing.T) {
	tests := []struct {
		name    string
		domains []string
		groups  []string
		claims  map[string]any
		setup   func(f *fakeOIDC)
		status  int // of the sign-in's last page
		want    string
	}{
		{name: "signed in", domains: []string{"example.com"}, claims: map[string]any{"email": "olga@Example.com", "email_verified": true}, status: http.StatusOK},
		{name: "any address without a domain list", claims: map[string]any{"email": "olga@elsewhere.org"}, status: http.StatusOK},
		{name: "wrong domain", domains: []string{"example.com"}, claims: map[string]any{"email": "eve@evil.example", "email_verified": true},
			status: http.StatusForbidden, want: "not among the domains"},
		{name: "unverified address", domains: []string{"example.com"}, claims: map[string]any{"email": "olga@example.com", "email_verified": false},
			status: http.StatusForbidden, want: "verified e-mail"},
		{name: "in an allowed group", groups: []string{"poker-admins"}, claims: map[string]any{"groups": []string{"staff", "poker-admins"}}, status: http.StatusOK},
		{name: "in no allowed group", groups: []string{"poker-admins"}, claims: map[string]any{"groups": []string{"staff"}},
			status: http.StatusForbidden, want: "not in a group"},
		{name: "nonce replayed from another sign-in", setup: func(f *fakeOIDC) { f.nonce = "a-nonce-from-elsewhere" },
			status: http.StatusBadGateway, want: "Sign-in failed"},
		{name: "token signed by another key", setup: func(f *fakeOIDC) {
			other, _ := rsa.GenerateKey(rand.Reader, 2048)
			f.signer = other
		}, status: http.StatusBadGateway, want: "Sign-in failed"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			fp := newFakeOIDC(t)
			fp.claims = tt.claims
			if tt.setup != nil {
				tt.setup(fp)
			}
			ts := newTestServerWith(t, "", func(c *Config) {
				c.OIDC = &OIDC{Issuer: fp.srv.URL, ClientID: oidcClientID, ClientSecret: oidcClientSecret,
					AllowedDomains: tt.domains, AllowedGroups: tt.groups, Sealer: ts0keys(t)}
			})
			b := cookieBrowser()
			create := func() int {
				req, _ := http.NewRequest("POST", ts.http.URL+"/api/v1/sessions", strings.NewReader(`{"title":"Sprint 42"}`))
				req.Header.Set("Content-Type", "application/json")
				res, err := b.Do(req)
				if err != nil {
					t.Fatal(err)
				}
				res.Body.Close()
				return res.StatusCode
			}
			if st := create(); st != http.StatusForbidden {
				t.Fatalf("creating a session before signing in: %d, want 403", st)
			}
			res, err := b.Get(ts.http.URL + "/auth/login?next=/")
			if err != nil {
				t.Fatal(err)
			}
			body, _ := io.ReadAll(res.Body)
			res.Body.Close()
			if res.StatusCode != tt.status || !strings.Contains(string(body), tt.want) {
				t.Fatalf("sign-in ended with %d, want %d and %q:\n%s", res.StatusCode, tt.status, tt.want, body)
			}
			want := http.StatusForbidden
			if tt.status == http.StatusOK {
				want = http.StatusCreated
				if res.Request.URL.Path != "/" || !strings.Contains(string(body), "Signed in as") {
					t.Errorf("after sign-in: %s, landing without 'Signed in as'", res.Request.URL)
				}
			}
			if st := create(); st != want {
				t.Errorf("creating a session after the sign-in: %d, want %d", st, want)
			}
		})
	}
}

// TestOIDCStateAndParticipants: an answer whose state is not this browser's is refused, and
// participants join without signing in.
func TestOIDCStateAndParticipants(t *testing.T) {
	fp := newFakeOIDC(t)
	ts := newTestServerWith(t, "", func(c *Config) {
		c.OIDC = &OIDC{Issuer: fp.srv.URL, ClientID: oidcClientID, ClientSecret: oidcClientSecret, Sealer: ts0keys(t)}
	})
	b := cookieBrowser()
	b.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	res, err := b.Get(ts.http.URL + "/auth/login?next=//evil.example/")
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	auth, _ := url.Parse(res.Header.Get("Location"))
	if !strings.HasPrefix(auth.String(), fp.srv.URL+"/authorize") || auth.Query().Get("code_challenge") == "" {
		t.Fatalf("login redirected to %s", auth)
	}
	// The provider's answer, with the state changed: as if an attacker's code were planted.
	res, err = b.Get(fp.srv.URL + "/authorize?" + auth.RawQuery)
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	cb, _ := url.Parse(res.Header.Get("Location"))
	q := cb.Query()
	good := q.Get("state")
	q.Set("state", "not-the-state-sent")
	cb.RawQuery = q.Encode()
	res, err = b.Get(cb.String())
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(res.Body)
	res.Body.Close()
	if res.StatusCode != http.StatusBadRequest || !strings.Contains(string(body), "does not belong to this browser") {
		t.Errorf("callback with another state: %d %s", res.StatusCode, body)
	}
	// The flow cookie is gone after a failed callback: the right state no longer works either.
	q.Set("state", good)
	cb.RawQuery = q.Encode()
	if res, err = b.Get(cb.String()); err == nil {
		res.Body.Close()
		if res.StatusCode != http.StatusBadRequest {
			t.Errorf("a second callback: %d, want 400", res.StatusCode)
		}
	}
	// A new sign-in with a next that leaves the server lands on / instead.
	b.CheckRedirect = nil
	if res, err = b.Get(ts.http.URL + "/auth/login?next=//evil.example/"); err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.Request.URL.Host != mustURL(ts.http.URL).Host || res.Request.URL.Path != "/" {
		t.Errorf("signed in and sent to %s", res.Request.URL)
	}

	// An organizer who signed in creates a session; Ann joins it with a name only.
	req, _ := http.NewRequest("POST", ts.http.URL+"/api/v1/sessions", strings.NewReader(`{}`))
	req.Header.Set("Content-Type", "application/json")
	res, err = b.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	var out joinedResponse
	_ = json.NewDecoder(res.Body).Decode(&out)
	res.Body.Close()
	if res.StatusCode != http.StatusCreated || out.Participant.Name != "Olga Organizer" {
		t.Fatalf("create after sign-in: %d, organizer %+v", res.StatusCode, out.Participant)
	}
	ann := ts.newClient("Ann")
	ann.join(out.Session.ID, "voter")
	ann.connect(out.Session.ID)
	// Signing out forgets the organizer.
	req, _ = http.NewRequest("POST", ts.http.URL+"/auth/logout", nil)
	if res, err = b.Do(req); err != nil {
		t.Fatal(err)
	}
	body, _ = io.ReadAll(res.Body)
	res.Body.Close()
	if !strings.Contains(string(body), "Sign in to create a session") {
		t.Errorf("after signing out the landing page does not offer to sign in")
	}
}

// ts0keys are keys for sealing the sign-in cookies, derived from the test server's secret.
func ts0keys(t *testing.T) *session.Keys {
	k, err := session.NewKeys(testSecret)
	if err != nil {
		t.Fatal(err)
	}
	return k
}
