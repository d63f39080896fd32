package github

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"

	gh "github.com/google/go-github/v66/github"

	"github.com/pokor/pokor/integrations/httpx"
	"github.com/pokor/pokor/session"
)

// Write-back options, read from session.WriteBack.Options.
const (
	// OptionMode selects what WriteEstimate writes: ModeLabel, ModeComment or ModeLabelComment.
	OptionMode = "mode"
	// OptionLabelPrefix is the start shared by all estimate labels ("estimate: " gives "estimate: 5").
	OptionLabelPrefix = "label_prefix"
)

// Write-back modes.
const (
	// ModeLabel sets an estimate label such as "estimate: 5".
	ModeLabel = "label"
	// ModeComment posts, or on re-estimation edits, one Pokor comment on the issue.
	ModeComment = "comment"
	// ModeLabelComment does both; it is the default.
	ModeLabelComment = "label+comment"
)

// DefaultLabelPrefix starts every estimate label unless the session sets another prefix.
const DefaultLabelPrefix = "estimate: "

// CommentMarker is hidden in Pokor's comment so that a later estimate of the same issue finds
// and edits that comment instead of posting another.
const CommentMarker = "<!-- pokor-estimate -->"

// labelColor and labelDescription dress the labels Pokor creates, so that they are recognizable
// in the repository's label list.
const (
	labelColor       = "c5def5"
	labelDescription = "Estimated in Pokor planning poker"
)

// WriteEstimate writes est to the issue key ("acme/api#42") as a label, a comment or both,
// according to est.Options (see OptionMode and OptionLabelPrefix). It changes only what differs,
// so writing the same estimate again leaves the issue as it was.
func (c *Client) WriteEstimate(ctx context.Context, key string, est session.WriteBack) (session.WriteResult, error) {
	if !c.hasToken {
		return session.WriteResult{}, httpx.Errorf(provider, session.CodeForbidden, "%s", missingToken)
	}
	ref, err := parseKey(key)
	if err != nil {
		return session.WriteResult{}, err
	}
	value := strings.TrimSpace(est.Value)
	if value == "" {
		return session.WriteResult{}, httpx.Errorf(provider, session.CodeInvalid, "the estimate for %s is empty", ref)
	}
	withLabel, withComment, err := parseMode(est.Options[OptionMode])
	if err != nil {
		return session.WriteResult{}, err
	}
	prefix := est.Options[OptionLabelPrefix]
	if strings.TrimSpace(prefix) == "" {
		// An empty prefix would make every label on the issue look like an old estimate and
		// remove it.
		prefix = DefaultLabelPrefix
	}

	var done []string
	if withLabel {
		d, err := c.writeLabel(ctx, ref, prefix+value, prefix)
		if err != nil {
			return session.WriteResult{}, err
		}
		done = append(done, d)
	}
	if withComment {
		d, err := c.writeComment(ctx, ref, commentBody(value, est))
		if err != nil {
			return session.WriteResult{}, err
		}
		done = append(done, d)
	}
	return session.WriteResult{Detail: strings.Join(done, "; ")}, nil
}

// parseMode reads the mode option; "label+comment" and "comment+label" are the same.
func parseMode(mode string) (label, comment bool, err error) {
	mode = strings.ToLower(strings.TrimSpace(mode))
	if mode == "" {
		return true, true, nil
	}
	for _, part := range strings.Split(mode, "+") {
		switch strings.TrimSpace(part) {
		case ModeLabel:
			label = true
		case ModeComment:
			comment = true
		default:
			return false, false, httpx.Errorf(provider, session.CodeInvalid,
				"unknown write-back mode %q; use %s, %s or %s", mode, ModeLabel, ModeComment, ModeLabelComment)
		}
	}
	return label, comment, nil
}

// writeLabel puts the label want on the issue and takes off any other label starting with
// prefix, leaving the issue's other labels alone.
func (c *Client) writeLabel(ctx context.Context, ref issueRef, want, prefix string) (string, error) {
	issue, _, err := c.gh.Issues.Get(ctx, ref.repo.owner, ref.repo.name, ref.number)
	if err != nil {
		return "", c.fail(err, readIssue(ref))
	}
	has := false
	var stale []string
	for _, l := range issue.Labels {
		name := l.GetName()
		switch {
		case strings.EqualFold(name, want):
			has = true
		case hasPrefixFold(name, prefix):
			stale = append(stale, name)
		}
	}
	if has && len(stale) == 0 {
		return fmt.Sprintf("label %q already set", want), nil
	}

	for _, name := range stale {
		if err := c.removeLabel(ctx, ref, name); err != nil {
			return "", err
		}
	}
	detail := fmt.Sprintf("label %q already set", want)
	if !has {
		if err := c.ensureLabel(ctx, ref, want); err != nil {
			return "", err
		}
		if _, _, err := c.gh.Issues.AddLabelsToIssue(ctx, ref.repo.owner, ref.repo.name, ref.number, []string{want}); err != nil {
			return "", c.fail(err, writeIssue(ref))
		}
		detail = fmt.Sprintf("label %q added", want)
	}
	if len(stale) > 0 {
		quoted := make([]string, len(stale))
		for i, s := range stale {
			quoted[i] = strconv.Quote(s)
		}
		detail += " (removed " + strings.Join(quoted, ", ") + ")"
	}
	return detail, nil
}

func hasPrefixFold(s, prefix string) bool {
	_, ok := cutPrefixFold(s, prefix)
	return ok
}

// labelPath appends a label name to a URL path. go-github v66 pastes label names into paths
// unescaped, so a name holding '/', '?', '#' or '%' would address the wrong resource; the name is
// escaped here and the request built by hand. '+' is escaped too, since some servers read it as
// a space.
func labelPath(base, name string) string {
	return base + "/" + strings.ReplaceAll(url.PathEscape(name), "+", "%2B")
}

// removeLabel takes one label off the issue; a label already gone is not an error, since
// someone may have removed it by hand since the issue was read.
func (c *Client) removeLabel(ctx context.Context, ref issueRef, name string) error {
	path := labelPath(fmt.Sprintf("repos/%s/%s/issues/%d/labels", ref.repo.owner, ref.repo.name, ref.number), name)
	req, err := c.gh.NewRequest(http.MethodDelete, path, nil)
	if err != nil {
		return c.fail(err, writeIssue(ref))
	}
	if _, err := c.gh.Do(ctx, req, nil); err != nil && !isStatus(err, http.StatusNotFound) {
		return c.fail(err, writeIssue(ref))
	}
	return nil
}

// ensureLabel creates the label in the repository when it is missing. GitHub would create it
// on its own when added to an issue, but with a random color and no description.
func (c *Client) ensureLabel(ctx context.Context, ref issueRef, name string) error {
	req, err := c.gh.NewRequest(http.MethodGet, labelPath(fmt.Sprintf("repos/%s/%s/labels", ref.repo.owner, ref.repo.name), name), nil)
	if err != nil {
		return c.fail(err, readIssue(ref))
	}
	_, err = c.gh.Do(ctx, req, new(gh.Label))
	if err == nil {
		return nil
	}
	if !isStatus(err, http.StatusNotFound) {
		return c.fail(err, readIssue(ref))
	}
	_, _, err = c.gh.Issues.CreateLabel(ctx, ref.repo.owner, ref.repo.name, &gh.Label{
		Name:        gh.String(name),
		Color:       gh.String(labelColor),
		Description: gh.String(labelDescription),
	})
	// Another writer may have created it between the two requests.
	if err != nil && !hasErrorCode(err, "already_exists") {
		return c.fail(err, writeIssue(ref))
	}
	return nil
}

// commentBody is the text of Pokor's comment for value.
func commentBody(value string, est session.WriteBack) string {
	what := value
	if n, ok := est.Numeric(); ok {
		if n == 1 {
			what += " point"
		} else {
			what += " points"
		}
	}
	text := "Estimated " + what + " in Pokor"
	if link := sessionLink(est); link != "" {
		text += ": " + link
	} else {
		text += "."
	}
	return text + "\n\n" + CommentMarker
}

// sessionLink renders the link to the session, titled when the session has a title.
func sessionLink(est session.WriteBack) string {
	u := strings.TrimSpace(est.SessionURL)
	if u == "" {
		return ""
	}
	title := strings.TrimSpace(est.SessionTitle)
	if title == "" {
		return u
	}
	// Escape what Markdown would read as the end of the link text.
	title = strings.NewReplacer(`\`, `\\`, `[`, `\[`, `]`, `\]`).Replace(title)
	return "[" + title + "](" + u + ")"
}

// writeComment edits Pokor's earlier comment on the issue to say body, or posts it when there
// is none.
func (c *Client) writeComment(ctx context.Context, ref issueRef, body string) (string, error) {
	existing, err := c.findComment(ctx, ref)
	if err != nil {
		return "", err
	}
	if existing != nil {
		if normalizeBody(existing.GetBody()) == normalizeBody(body) {
			return "comment already up to date", nil
		}
		_, _, err := c.gh.Issues.EditComment(ctx, ref.repo.owner, ref.repo.name, existing.GetID(), &gh.IssueComment{Body: gh.String(body)})
		if err != nil {
			return "", c.fail(err, writeIssue(ref))
		}
		return "comment updated", nil
	}
	if _, _, err := c.gh.Issues.CreateComment(ctx, ref.repo.owner, ref.repo.name, ref.number, &gh.IssueComment{Body: gh.String(body)}); err != nil {
		return "", c.fail(err, writeIssue(ref))
	}
	return "comment posted", nil
}

// findComment returns the oldest comment on the issue carrying CommentMarker, nil when none.
// All pages are read: a busy issue may have Pokor's comment far back.
func (c *Client) findComment(ctx context.Context, ref issueRef) (*gh.IssueComment, error) {
	opts := &gh.IssueListCommentsOptions{ListOptions: gh.ListOptions{PerPage: pageSize}}
	for {
		comments, resp, err := c.gh.Issues.ListComments(ctx, ref.repo.owner, ref.repo.name, ref.number, opts)
		if err != nil {
			return nil, c.fail(err, readIssue(ref))
		}
		for _, cm := range comments {
			if strings.Contains(cm.GetBody(), CommentMarker) {
				return cm, nil
			}
		}
		if resp == nil || resp.NextPage == 0 {
			return nil, nil
		}
		opts.Page = resp.NextPage
	}
}

// normalizeBody compares comment bodies the way GitHub may store them (CRLF line ends,
// trailing white space).
func normalizeBody(s string) string {
	return strings.TrimSpace(strings.ReplaceAll(s, "\r\n", "\n"))
}
