package github

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/pokor/pokor/integrations"
)

// Check reports who the token belongs to, whether it can read and write issues in repo
// ("acme/api"; empty skips the repository) and how much of the rate limit is left. Findings
// are facts in words. It returns an error, along with the facts gathered so far, only when the
// token or the server cannot be used at all: a bad token, an unreachable server, a rate limit.
func (c *Client) Check(ctx context.Context, repo string) (integrations.Check, error) {
	ch := integrations.Check{Provider: provider, Site: c.site, Facts: []integrations.Fact{}}
	var ref repoRef
	if repo = strings.TrimSpace(repo); repo != "" {
		var ok bool
		if ref, ok = parseRepo(repo); !ok {
			return ch, integrations.Errorf(provider, integrations.KindInvalid,
				"%q is not a repository; expected OWNER/REPO, for example acme/api", repo)
		}
	}
	add := func(name, value string, ok bool) {
		ch.Facts = append(ch.Facts, integrations.Fact{Name: name, Value: value, OK: ok})
	}

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

	ch.OK = true
	for _, f := range ch.Facts {
		ch.OK = ch.OK && f.OK
	}
	return ch, nil
}

type addFact func(name, value string, ok bool)

// checkUser finds who the token is. App installation tokens cannot read /user; that is noted
// rather than failed, since they can still work with issues.
func (c *Client) checkUser(ctx context.Context, ch *integrations.Check, add addFact, ref repoRef) error {
	if !c.hasToken {
		add("token", "none configured; set GITHUB_TOKEN", false)
		return nil
	}
	user, resp, err := c.gh.Users.Get(ctx, "")
	if err != nil {
		fe := asError(c.fail(err, access{repo: ref.String(), what: "the user"}))
		if fe.Kind == integrations.KindPermission {
			add("token", "not a user token (an app installation token cannot read its user)", true)
			return nil
		}
		add("token", fe.Message, false)
		return fe
	}
	ch.Identity = user.GetLogin()
	who := user.GetLogin()
	if name := user.GetName(); name != "" {
		who += " (" + name + ")"
	}
	add("token belongs to", who, true)

	if resp != nil {
		// Classic tokens list their scopes; fine-grained tokens send no such header.
		if scopes, ok := resp.Header[http.CanonicalHeaderKey("X-OAuth-Scopes")]; ok {
			list := strings.TrimSpace(strings.Join(scopes, ","))
			ok := hasScope(list, "repo") || hasScope(list, "public_repo")
			if list == "" {
				list = "none"
			}
			if !ok {
				list += " (issues need the repo scope, or public_repo for public repositories)"
			}
			add("token scopes", list, ok)
		}
		if exp := resp.TokenExpiration.Time; !exp.IsZero() {
			left := time.Until(exp)
			add("token expires", fmt.Sprintf("%s (in %s)", exp.UTC().Format("2006-01-02 15:04 UTC"), roughDuration(left)), left > 0)
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
		add("repository "+ref.String(), fe.Message, false)
		if fe.Kind == integrations.KindNotFound || fe.Kind == integrations.KindPermission {
			// A finding about the repository, not a failure of the check.
			return nil
		}
		return fe
	}
	visibility := "public"
	if r.GetPrivate() {
		visibility = "private"
	}
	add("repository "+ref.String(), "found ("+visibility+")", true)
	if !r.GetHasIssues() {
		add("issues in "+ref.String(), "disabled in the repository settings", false)
	}
	p := r.Permissions
	if p == nil {
		// GitHub omits the object for anonymous requests.
		add("can read issues in "+ref.String(), yesNo(true), true)
		add("can write issues in "+ref.String(), "unknown (GitHub did not report permissions)", false)
		return nil
	}
	write := p["push"] || p["triage"] || p["maintain"] || p["admin"]
	read := write || p["pull"]
	add("can read issues in "+ref.String(), yesNo(read), read)
	if write {
		add("can write issues in "+ref.String(), yesNo(true), true)
	} else {
		add("can write issues in "+ref.String(), "no: it needs the Issues: write permission", false)
	}
	return nil
}

// checkRateLimit reports the core rate limit. GitHub Enterprise Server answers 404 when rate
// limiting is turned off, which is good news rather than a failure.
func (c *Client) checkRateLimit(ctx context.Context, add addFact) {
	limits, _, err := c.gh.RateLimit.Get(ctx)
	if err != nil {
		if isStatus(err, http.StatusNotFound) {
			add("rate limit", "not enabled on this server", true)
			return
		}
		add("rate limit", "unknown: "+asError(c.fail(err, access{what: "the rate limit"})).Message, false)
		return
	}
	core := limits.GetCore()
	if core == nil {
		add("rate limit", "unknown (GitHub did not report it)", false)
		return
	}
	add("rate limit", fmt.Sprintf("%d of %d requests left, resets at %s",
		core.Remaining, core.Limit, core.Reset.UTC().Format("15:04 UTC")), core.Remaining > 0)
}

// asError returns err as an *integrations.Error, wrapping any other error as unavailable.
func asError(err error) *integrations.Error {
	var ie *integrations.Error
	if errors.As(err, &ie) {
		return ie
	}
	return &integrations.Error{Provider: provider, Kind: integrations.KindUnavailable, Message: err.Error(), Err: err}
}

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
