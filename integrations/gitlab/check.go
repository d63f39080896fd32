package gitlab

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"

	gl "gitlab.com/gitlab-org/api/client-go/v2"

	"github.com/pokor/pokor/integrations/httpx"
	"github.com/pokor/pokor/session"
)

// Access levels of GitLab's members API that matter to Pokor.
const (
	accessGuest    = 10
	accessPlanner  = 15
	accessReporter = 20
)

// addFact appends one finding: its name, whether it is fine, the words and the typed value.
type addFact func(name string, ok bool, text string, value any)

// Check reports who the token belongs to, which GitLab it talks to, and, for a project or group
// path (empty checks the token alone), what Pokor will write there and why: the issue weight
// where the instance exposes weights, otherwise the estimate label. It returns an error, with
// the facts gathered so far, only when GitLab could not be asked at all.
func (c *Client) Check(ctx context.Context, path string) (session.CheckReport, error) {
	ch := session.CheckReport{Provider: provider, Site: c.site, Facts: []session.Fact{}}
	add := addFact(ch.Add)
	if !c.hasToken {
		add("token", false, missingToken, nil)
		return ch, httpx.Errorf(provider, session.CodeForbidden, "%s", missingToken)
	}
	var u user
	resp, err := c.do(ctx, http.MethodGet, "user", nil, &u, "read the token's user")
	if err != nil {
		add("token", false, errorText(err), nil)
		return ch, err
	}
	ch.Identity = "@" + u.Username
	who := ch.Identity
	if u.Name != "" && u.Name != u.Username {
		who += " (" + u.Name + ")"
	}
	if u.Bot {
		who += ", a project or group access token"
	}
	add("token", true, "belongs to "+who, map[string]any{"id": u.ID, "username": u.Username, "bot": u.Bot})
	c.checkInstance(ctx, add)
	remaining, rerr := strconv.Atoi(resp.Header.Get("RateLimit-Remaining"))
	limit, lerr := strconv.Atoi(resp.Header.Get("RateLimit-Limit"))
	if rerr == nil && lerr == nil {
		add("rate limit", remaining > 0, fmt.Sprintf("%d of %d requests left this minute", remaining, limit),
			map[string]any{"remaining": remaining, "limit": limit})
	}

	if path = strings.TrimSpace(path); path != "" {
		q, err := parseQuery(path, c.web)
		if err != nil {
			add("target", false, errorText(err), nil)
			return ch, err
		}
		t, err := c.resolve(ctx, q.path)
		if err != nil {
			add(q.path, false, errorText(err), nil)
			return ch, err
		}
		add(t.kind(), true, t.path, map[string]any{"id": t.id, "path": t.path})
		if err := c.checkTarget(ctx, t, add); err != nil {
			return ch, err
		}
	}
	ch.Settle()
	return ch, nil
}

// checkInstance names the version and edition. /metadata (GitLab 15.2+) tells the edition;
// older instances only have /version.
func (c *Client) checkInstance(ctx context.Context, add addFact) {
	var md gl.Metadata
	if _, err := c.do(ctx, http.MethodGet, "metadata", nil, &md, "read the instance version"); err == nil {
		edition := "Community Edition: no issue weights, labels are plain"
		if md.Enterprise {
			edition = "Enterprise Edition: weights and scoped labels depend on the license or plan"
		}
		add("instance", true, fmt.Sprintf("GitLab %s (%s)", md.Version, edition),
			map[string]any{"version": md.Version, "enterprise": md.Enterprise})
		return
	}
	var v struct {
		Version string `json:"version"`
	}
	if _, err := c.do(ctx, http.MethodGet, "version", nil, &v, "read the instance version"); err == nil {
		add("instance", true, "GitLab "+v.Version, map[string]any{"version": v.Version})
		return
	}
	add("instance", true, "version unknown: the token may not read /version", nil)
}

// checkTarget reports the token's role in a project and what Pokor writes, judged from one of
// the target's issues: a licensed instance sends "weight" in every issue payload.
func (c *Client) checkTarget(ctx context.Context, t target, add addFact) error {
	if !t.group {
		var p struct {
			Permissions struct {
				Project *struct {
					AccessLevel int `json:"access_level"`
				} `json:"project_access"`
				Group *struct {
					AccessLevel int `json:"access_level"`
				} `json:"group_access"`
			} `json:"permissions"`
		}
		if _, err := c.do(ctx, http.MethodGet, t.api(), nil, &p, "read project "+t.path); err != nil {
			add("role", false, errorText(err), nil)
			return err
		}
		level := 0
		if a := p.Permissions.Project; a != nil && a.AccessLevel > level {
			level = a.AccessLevel
		}
		if a := p.Permissions.Group; a != nil && a.AccessLevel > level {
			level = a.AccessLevel
		}
		value := map[string]any{"access_level": level, "role": roleName(level)}
		switch {
		case level >= accessReporter || level == accessPlanner:
			add("role", true, roleName(level)+": can set weights and labels and add notes", value)
		case level >= accessGuest:
			add("role", false, roleName(level)+": can add notes only; weights and labels need the Planner or Reporter role", value)
		default:
			add("role", true, "not a member (an administrator token, or a public project): writing may be refused", value)
		}
	}

	var issues []issue
	opt := listOptions{ListOptions: gl.ListOptions{Page: 1, PerPage: 1}, Scope: "all"}
	if _, err := c.do(ctx, http.MethodGet, t.api()+"/issues", &opt, &issues, "read an issue of "+t.path); err != nil {
		add("issues", false, errorText(err), nil)
		return err
	}
	if len(issues) == 0 {
		add("weights", true, "unknown: "+t.path+" has no issue yet; Pokor decides per issue when it writes (weight where GitLab sends one, else the label "+DefaultLabelPrefix+"N)", nil)
		return nil
	}
	sample := issues[0]
	ref := sample.References.Full
	if ref == "" {
		ref = "#" + strconv.FormatInt(sample.IID, 10)
	}
	if sample.hasWeights() {
		add("weights", true, "available: issues such as "+ref+" carry a weight", true)
		add("scoped labels", true, "available on the same tier: "+DefaultLabelPrefix+"N labels replace each other", true)
		add("write-back", true, "mode auto writes the accepted card to the issue weight (whole numbers; word cards through the values option, else the label "+DefaultLabelPrefix+"N)", ModeWeight)
		return nil
	}
	add("weights", true, "not available: issues such as "+ref+" carry no weight attribute (GitLab Free, or a namespace without Premium)", false)
	add("scoped labels", true, "plain labels on this tier: Pokor removes the previous "+DefaultLabelPrefix+"N label itself", false)
	add("write-back", true, "mode auto writes the label "+DefaultLabelPrefix+"N (for example "+DefaultLabelPrefix+"5); add mode label+note for a note too", ModeLabel)
	return nil
}

func roleName(level int) string {
	switch {
	case level >= 50:
		return "Owner"
	case level >= 40:
		return "Maintainer"
	case level >= 30:
		return "Developer"
	case level >= accessReporter:
		return "Reporter"
	case level >= accessPlanner:
		return "Planner"
	case level >= accessGuest:
		return "Guest"
	}
	return "no role"
}

// errorText is an adapter error's message without the provider prefix, for a fact.
func errorText(err error) string {
	var e *session.Error
	if errors.As(err, &e) {
		return strings.TrimPrefix(e.Message, provider+": ")
	}
	return err.Error()
}
