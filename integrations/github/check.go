package github

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/pokor/pokor/integrations/httpx"
	"github.com/pokor/pokor/session"
)

// Check reports who the token belongs to, whether it can read and write issues in repo
// ("acme/api"; empty skips the repository) and how much of the rate limit is left. Findings
// are facts in words. It returns an error, along with the facts gathered so far, only when the
// token or the server cannot be used at all: a bad token, an unreachable server, a rate limit.
func (c *Client) Check(ctx context.Context, repo string) (session.CheckReport, error) {
	ch := session.CheckReport{Provider: provider, Site: c.site, Facts: []session.Fact{}}
	var ref repoRef
	if repo = strings.TrimSpace(repo); repo != "" {
		var ok bool
		if ref, ok = parseRepo(repo); !ok {
			return ch, httpx.Errorf(provider, session.CodeInvalid,
				"%q is not a repository; expected OWNER/REPO, for example acme/api", repo)
		}
	}
	add := func(name, text string, ok bool, value any) { ch.Add(name, ok, text, value) }

	if err := c.checkUser(ctx, &ch, add, ref); err != nil {
		ch.OK = false
		return ch, err
	}
	if repo != "" {
		if err := c.checkRepo(ctx, ref, add); err != nil {
			return ch, err
		}
	}
	c.checkRateLimit(ctx, add)

	ch.Settle()
	return ch, nil
}

type addFact func(name, text string, ok bool, value any)

// checkUser finds who the token is. App installation tokens cannot read /user; that is noted
// rather than failed, since they can still work with issues.
func (c *Client) checkUser(ctx context.Context, ch *session.CheckReport, add addFact, ref repoRef) error {
	if !c.hasToken {
		add("token", "none configured; set GITHUB_TOKEN", false, map[string]any{"set": false})
		return nil
	}
	user, resp, err := c.gh.Users.Get(ctx, "")
	if err != nil {
		fe := asError(c.fail(err, access{repo: ref.String(), what: "the user"}))
		if isStatus(err, http.StatusForbidden) && fe.RetryAfter == 0 {
			add("token", "not a user token (an app installation token cannot read its user)", true, map[string]any{"set": true, "user": false})
			return nil
		}
		add("token", text(fe), false, map[string]any{"set": true, "valid": false})
		return fe
	}
	ch.Identity = user.GetLogin()
	who := user.GetLogin()
	if name := user.GetName(); name != "" {
		who += " (" + name + ")"
	}
	add("token belongs to", who, true, map[string]any{"login": user.GetLogin(), "id": user.GetID(), "name": user.GetName()})

	if resp != nil {
		// Classic tokens list their scopes; fine-grained tokens send no such header.
		if scopes, ok := resp.Header[http.CanonicalHeaderKey("X-OAuth-Scopes")]; ok {
			list := strings.TrimSpace(strings.Join(scopes, ","))
			ok := hasScope(list, "repo") || hasScope(list, "public_repo")
			names := []string{}
			for _, sc := range strings.Split(list, ",") {
				if sc = strings.TrimSpace(sc); sc != "" {
					names = append(names, sc)
				}
			}
			if list == "" {
				list = "none"
			}
			if !ok {
				list += " (issues need the repo scope, or public_repo for public repositories)"
			}
			add("token scopes", list, ok, names)
		}
		if exp := resp.TokenExpiration.Time; !exp.IsZero() {
			left := time.Until(exp)
			add("token expires", fmt.Sprintf("%s (in %s)", exp.UTC().Format("2006-01-02 15:04 UTC"), roughDuration(left)), left > 0,
				map[string]any{"expires_at": exp.UTC(), "expired": left <= 0})
		}
	}
	return nil
}

func hasScope(list, scope string) bool {
	for _, s := range strings.Split(list, ",") {
		if strings.TrimSpace(s) == scope {
			return true
		}
	}
	return false
}

// checkRepo reads the repository's permissions object, which says what the token's user may do
// there. Triage is enough for labels; push, maintain and admin include it.
func (c *Client) checkRepo(ctx context.Context, ref repoRef, add addFact) error {
	r, _, err := c.gh.Repositories.Get(ctx, ref.owner, ref.name)
	if err != nil {
		fe := asError(c.fail(err, readRepo(ref)))
		add("repository "+ref.String(), text(fe), false, map[string]any{"repository": ref.String(), "found": false})
		if fe.Code == session.CodeNotFound || fe.Code == session.CodeForbidden {
			// A finding about the repository, not a failure of the check.
			return nil
		}
		return fe
	}
	visibility := "public"
	if r.GetPrivate() {
		visibility = "private"
	}
	add("repository "+ref.String(), "found ("+visibility+")", true,
		map[string]any{"repository": ref.String(), "found": true, "id": r.GetID(), "private": r.GetPrivate()})
	if !r.GetHasIssues() {
		add("issues in "+ref.String(), "disabled in the repository settings", false, false)
	}
	p := r.Permissions
	if p == nil {
		// GitHub omits the object for anonymous requests.
		add("can read issues in "+ref.String(), yesNo(true), true, true)
		add("can write issues in "+ref.String(), "unknown (GitHub did not report permissions)", false, nil)
		return nil
	}
	write := p["push"] || p["triage"] || p["maintain"] || p["admin"]
	read := write || p["pull"]
	add("can read issues in "+ref.String(), yesNo(read), read, read)
	if write {
		add("can write issues in "+ref.String(), yesNo(true), true, true)
	} else {
		add("can write issues in "+ref.String(), "no: it needs the Issues: write permission", false, false)
	}
	return nil
}

// checkRateLimit reports the core rate limit. GitHub Enterprise Server answers 404 when rate
// limiting is turned off, which is good news rather than a failure.
func (c *Client) checkRateLimit(ctx context.Context, add addFact) {
	limits, _, err := c.gh.RateLimit.Get(ctx)
	if err != nil {
		if isStatus(err, http.StatusNotFound) {
			add("rate limit", "not enabled on this server", true, map[string]any{"enabled": false})
			return
		}
		add("rate limit", "unknown: "+text(asError(c.fail(err, access{what: "the rate limit"}))), false, nil)
		return
	}
	core := limits.GetCore()
	if core == nil {
		add("rate limit", "unknown (GitHub did not report it)", false, nil)
		return
	}
	add("rate limit", fmt.Sprintf("%d of %d requests left, resets at %s",
		core.Remaining, core.Limit, core.Reset.UTC().Format("15:04 UTC")), core.Remaining > 0,
		map[string]any{"enabled": true, "remaining": core.Remaining, "limit": core.Limit, "reset": core.Reset.UTC()})
}

// asError returns err as an *session.Error, wrapping any other error as unavailable.
func asError(err error) *session.Error {
	var ie *session.Error
	if errors.As(err, &ie) {
		return ie
	}
	return &session.Error{Code: session.CodeUnavailable, Message: provider + ": " + err.Error(), Err: err}
}

// text is an error's message for a fact, without the "github: " the report already implies.
func text(e *session.Error) string { return strings.TrimPrefix(e.Message, provider+": ") }

func yesNo(b bool) string {
	if b {
		return "yes"
	}
	return "no"
}

// roughDuration says how long in the largest sensible unit ("12 days", "5 hours").
func roughDuration(d time.Duration) string {
	if d < 0 {
		return "the past; create a new token"
	}
	switch {
	case d >= 48*time.Hour:
		return fmt.Sprintf("%d days", int(d.Hours()/24))
	case d >= 2*time.Hour:
		return fmt.Sprintf("%d hours", int(d.Hours()))
	default:
		return fmt.Sprintf("%d minutes", int(d.Minutes()))
	}
}
