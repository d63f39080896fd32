package session_test

import (
	"encoding/base64"
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/pokor/pokor/session"
)

const (
	testSecret  = "test-secret-0123456789-abcdefghijklmnopqrstuvwxyz"
	otherSecret = "another-secret-0123456789-abcdefghijklmnopqrstuvw"
)

func mustKeys(t *testing.T, secret string) *session.Keys {
	t.Helper()
	k, err := session.NewKeys(secret)
	if err != nil {
		t.Fatalf("NewKeys: %v", err)
	}
	return k
}

func TestNewKeysNeedsALongSecret(t *testing.T) {
	if _, err := session.NewKeys(strings.Repeat("x", 31)); err == nil || !strings.Contains(err.Error(), "POKOR_SECRET_KEY") {
		t.Errorf("a 31-character secret: got %v, want an error naming POKOR_SECRET_KEY", err)
	}
	if _, err := session.NewKeys(strings.Repeat("x", 32)); err != nil {
		t.Errorf("a 32-character secret: %v", err)
	}
}

// replaceAt returns s with the character at i replaced by one that differs from it.
func replaceAt(s string, i int) string {
	c := byte('A')
	if s[i] == 'A' {
		c = 'B'
	}
	return s[:i] + string(c) + s[i+1:]
}

func TestLinks(t *testing.T) {
	k := mustKeys(t, testSecret)
	now := time.Date(2025, 3, 1, 12, 0, 0, 0, time.UTC)
	link := session.Link{SessionID: "sess1", Role: session.RoleVoter, ChatID: "slack:T1:U2", Name: "Ann", Expires: now.Add(time.Hour).Unix()}
	token := k.SignLink(link)
	payload, sig, ok := strings.Cut(token, ".")
	if !ok {
		t.Fatalf("token %q has no signature part", token)
	}
	if strings.ContainsAny(token, "+/=?&# ") {
		t.Errorf("token %q is not safe in a URL query", token)
	}

	t.Run("round trip", func(t *testing.T) {
		got, err := k.VerifyLink(token, now)
		if err != nil {
			t.Fatal(err)
		}
		if got != link {
			t.Errorf("got %+v, want %+v", got, link)
		}
	})

	t.Run("valid until the second it expires", func(t *testing.T) {
		if _, err := k.VerifyLink(token, time.Unix(link.Expires, 0)); err != nil {
			t.Errorf("at expiry: %v", err)
		}
	})

	t.Run("expired", func(t *testing.T) {
		got, err := k.VerifyLink(token, now.Add(time.Hour+time.Second))
		if !errors.Is(err, session.ErrLinkExpired) {
			t.Fatalf("got %v, want ErrLinkExpired", err)
		}
		if session.ErrorCode(err) != session.CodeForbidden || !strings.Contains(session.ErrorMessage(err), "expired") {
			t.Errorf("got %s %q", session.ErrorCode(err), session.ErrorMessage(err))
		}
		if got.SessionID != "sess1" {
			t.Errorf("an expired link still names its session (to offer a fresh one); got %+v", got)
		}
	})

	// A payload granting more, signed with the original signature.
	elevated := link
	elevated.Role = session.RoleOrganizer
	raw, _ := json.Marshal(elevated)
	elevatedPayload := base64.RawURLEncoding.EncodeToString(raw)

	tampered := map[string]string{
		"payload elevated to organizer": elevatedPayload + "." + sig,
		"payload character changed":     replaceAt(payload, len(payload)/2) + "." + sig,
		"signature character changed":   payload + "." + replaceAt(sig, 0),
		"signature truncated":           payload + "." + sig[:len(sig)-4],
		"signature empty":               payload + ".",
		"signature not base64":          payload + ".!!!",
		"no signature":                  payload,
		"empty":                         "",
		"signed by another key":         mustKeys(t, otherSecret).SignLink(link),
	}
	for name, tok := range tampered {
		t.Run(name, func(t *testing.T) {
			_, err := k.VerifyLink(tok, now)
			if !errors.Is(err, session.ErrLinkInvalid) {
				t.Errorf("got %v, want ErrLinkInvalid", err)
			}
		})
	}

	t.Run("tampered and expired reports tampered", func(t *testing.T) {
		_, err := k.VerifyLink(elevatedPayload+"."+sig, now.Add(48*time.Hour))
		if !errors.Is(err, session.ErrLinkInvalid) {
			t.Errorf("got %v, want ErrLinkInvalid", err)
		}
	})

	bad := map[string]session.Link{
		"no session":   {Role: session.RoleVoter, Expires: now.Add(time.Hour).Unix()},
		"unknown role": {SessionID: "sess1", Role: "admin", Expires: now.Add(time.Hour).Unix()},
	}
	for name, l := range bad {
		t.Run("signed but "+name, func(t *testing.T) {
			if _, err := k.VerifyLink(k.SignLink(l), now); !errors.Is(err, session.ErrLinkInvalid) {
				t.Errorf("got %v, want ErrLinkInvalid", err)
			}
		})
	}
}

func TestSealOpen(t *testing.T) {
	k := mustKeys(t, testSecret)
	for _, plain := range []string{"", "xoxb-123-456-abcdef", "https://hooks.slack.com/commands/T1/2/abc", strings.Repeat("é", 1000)} {
		sealed := k.Seal(plain)
		if plain != "" && strings.Contains(sealed, plain) {
			t.Errorf("sealed text contains the secret: %q", sealed)
		}
		got, err := k.Open(sealed)
		if err != nil || got != plain {
			t.Errorf("Open(Seal(%.20q)) = %.20q, %v", plain, got, err)
		}
	}
	a, b := k.Seal("same"), k.Seal("same")
	if a == b {
		t.Error("two seals of the same text are equal: the nonce is not random")
	}

	sealed := k.Seal("xoxb-secret-token")
	body := strings.TrimPrefix(sealed, "v1:")
	tampered := map[string]string{
		"ciphertext changed": "v1:" + replaceAt(body, len(body)/2),
		"nonce changed":      "v1:" + replaceAt(body, 0),
		"truncated":          sealed[:len(sealed)-3],
		"too short":          "v1:AAAA",
		"not base64":         "v1:@@@@",
		"unknown version":    "v2:" + body,
		"no version":         body,
		"empty":              "",
		"other key":          mustKeys(t, otherSecret).Seal("xoxb-secret-token"),
	}
	for name, s := range tampered {
		t.Run(name, func(t *testing.T) {
			if got, err := k.Open(s); err == nil {
				t.Errorf("Open accepted a tampered secret and returned %q", got)
			}
		})
	}
}

func TestSignVerify(t *testing.T) {
	k := mustKeys(t, testSecret)
	const purpose, msg = "slack oauth state", "nonce.1740830400"
	sig := k.Sign(purpose, msg)
	if !k.Verify(purpose, msg, sig) {
		t.Fatal("Verify rejected its own signature")
	}
	link := k.SignLink(session.Link{SessionID: "s", Role: session.RoleVoter, Expires: 1})
	payload, linkSig, _ := strings.Cut(link, ".")
	tests := []struct {
		name              string
		k                 *session.Keys
		purpose, msg, sig string
	}{
		{"other message", k, purpose, msg + "x", sig},
		{"other purpose", k, "discord state", msg, sig},
		{"other key", mustKeys(t, otherSecret), purpose, msg, sig},
		{"signature altered", k, purpose, msg, replaceAt(sig, 3)},
		{"not base64", k, purpose, msg, "@@@"},
		{"empty signature", k, purpose, msg, ""},
		{"a link signature", k, "", payload, linkSig},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if tt.k.Verify(tt.purpose, tt.msg, tt.sig) {
				t.Errorf("Verify(%q, %q, %q) = true, want false", tt.purpose, tt.msg, tt.sig)
			}
		})
	}
}
