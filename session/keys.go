package session

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/hkdf"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"strings"
	"time"
)

// Keys derives the signing and encryption keys from POKOR_SECRET_KEY, one per purpose, so that a
// signature can never be replayed as a ciphertext or the other way round.
type Keys struct {
	sign []byte
	aead cipher.AEAD
}

// NewKeys derives the keys from secret, which must be at least 32 bytes of high-entropy text.
func NewKeys(secret string) (*Keys, error) {
	if len(secret) < 32 {
		return nil, errors.New("POKOR_SECRET_KEY must be at least 32 characters")
	}
	sign, err := hkdf.Key(sha256.New, []byte(secret), nil, "pokor link signing v1", 32)
	if err != nil {
		return nil, err
	}
	enc, err := hkdf.Key(sha256.New, []byte(secret), nil, "pokor secret encryption v1", 32)
	if err != nil {
		return nil, err
	}
	block, err := aes.NewCipher(enc)
	if err != nil {
		return nil, err
	}
	aead, err := cipher.NewGCM(block)
	if err != nil {
		return nil, err
	}
	return &Keys{sign: sign, aead: aead}, nil
}

// Seal encrypts a secret (a bot token, a tracker token) for storage: AES-256-GCM, random nonce.
func (k *Keys) Seal(plain string) string {
	nonce := make([]byte, k.aead.NonceSize())
	_, _ = rand.Read(nonce)
	out := k.aead.Seal(nonce, nonce, []byte(plain), nil)
	return "v1:" + base64.RawStdEncoding.EncodeToString(out)
}

// Open decrypts what Seal produced.
func (k *Keys) Open(sealed string) (string, error) {
	raw, ok := strings.CutPrefix(sealed, "v1:")
	if !ok {
		return "", errors.New("unknown secret format")
	}
	b, err := base64.RawStdEncoding.DecodeString(raw)
	if err != nil || len(b) < k.aead.NonceSize() {
		return "", errors.New("malformed secret")
	}
	plain, err := k.aead.Open(nil, b[:k.aead.NonceSize()], b[k.aead.NonceSize():], nil)
	if err != nil {
		return "", errors.New("secret does not decrypt: was POKOR_SECRET_KEY changed?")
	}
	return string(plain), nil
}

// Link is what a pre-signed join link grants.
type Link struct {
	SessionID string `json:"s"`
	Role      Role   `json:"r"`
	// ChatID and Name identify the chat user the link was made for ("slack:T1:U2", "Ann").
	ChatID string `json:"c,omitempty"`
	Name   string `json:"n,omitempty"`
	// ParticipantID names the participant an organizer link of the room belongs to: opening it
	// makes the device that participant, while it is an organizer.
	ParticipantID string `json:"p,omitempty"`
	// Epoch is the session's organizer link generation the link was made under; an organizer
	// link from an older one is refused (see Service.RotateOrganizerLinks).
	Epoch   int   `json:"g,omitempty"`
	Expires int64 `json:"e"`
}

// Errors of VerifyLink and JoinWithLink.
var (
	ErrLinkInvalid = &Error{Code: CodeForbidden, Message: "this link is not valid: it was altered or not made by this Pokor server"}
	ErrLinkExpired = &Error{Code: CodeForbidden, Message: "this link has expired"}
	// ErrLinkRotated is an organizer link made before an organizer replaced the session's links.
	ErrLinkRotated = &Error{Code: CodeForbidden, Message: "this organizer link was replaced by a newer one: ask an organizer of the session for the current link"}
	// ErrLinkNotOrganizer is the organizer link of someone who is no longer an organizer.
	ErrLinkNotOrganizer = &Error{Code: CodeForbidden, Message: "this organizer link no longer works: the person it belongs to is not an organizer of this session any more"}
)

// SignLink returns the token of a pre-signed link: base64url(JSON) "." base64url(HMAC-SHA256).
func (k *Keys) SignLink(l Link) string {
	payload, _ := json.Marshal(l)
	p := base64.RawURLEncoding.EncodeToString(payload)
	return p + "." + base64.RawURLEncoding.EncodeToString(k.mac(p))
}

// VerifyLink checks a link token's signature, then its expiry at now.
func (k *Keys) VerifyLink(token string, now time.Time) (Link, error) {
	p, sig, ok := strings.Cut(token, ".")
	if !ok {
		return Link{}, ErrLinkInvalid
	}
	// Strict decoding: a signature has one spelling, so a changed character always fails.
	got, err := base64.RawURLEncoding.Strict().DecodeString(sig)
	if err != nil || !hmac.Equal(got, k.mac(p)) {
		return Link{}, ErrLinkInvalid
	}
	payload, err := base64.RawURLEncoding.Strict().DecodeString(p)
	if err != nil {
		return Link{}, ErrLinkInvalid
	}
	var l Link
	if err := json.Unmarshal(payload, &l); err != nil || l.SessionID == "" || !l.Role.valid() {
		return Link{}, ErrLinkInvalid
	}
	if now.Unix() > l.Expires {
		return l, ErrLinkExpired
	}
	return l, nil
}

// Sign returns a signature (base64url HMAC-SHA256) of msg for one purpose ("slack oauth state").
// Each purpose signs with its own key derived from the link key, so a signature made for one use
// is never accepted for another, nor as a link.
func (k *Keys) Sign(purpose, msg string) string {
	return base64.RawURLEncoding.EncodeToString(k.purposeMAC(purpose, msg))
}

// Verify reports, in constant time, whether sig is Sign(purpose, msg).
func (k *Keys) Verify(purpose, msg, sig string) bool {
	// Strict decoding: a signature has one spelling, so a changed character always fails.
	got, err := base64.RawURLEncoding.Strict().DecodeString(sig)
	return err == nil && hmac.Equal(got, k.purposeMAC(purpose, msg))
}

func (k *Keys) purposeMAC(purpose, msg string) []byte {
	key, err := hkdf.Key(sha256.New, k.sign, nil, "pokor purpose v1: "+purpose, 32)
	if err != nil {
		panic(err) // hkdf.Key fails only for lengths above 255*32 bytes
	}
	m := hmac.New(sha256.New, key)
	m.Write([]byte(msg))
	return m.Sum(nil)
}

func (k *Keys) mac(s string) []byte {
	m := hmac.New(sha256.New, k.sign)
	m.Write([]byte(s))
	return m.Sum(nil)
}
