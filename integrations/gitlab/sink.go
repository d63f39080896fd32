package gitlab

import (
	"context"
	"fmt"
	"math"
	"net/http"
	"strconv"
	"strings"
	"sync"

	gl "gitlab.com/gitlab-org/api/client-go/v2"

	"github.com/pokor/pokor/integrations/httpx"
	"github.com/pokor/pokor/session"
)

// Write-back options, read from session.WriteBack.Options.
const (
	// OptionMode selects what WriteEstimate writes: ModeAuto (the default), ModeWeight,
	// ModeLabel, ModeNote, ModeWeightNote or ModeLabelNote.
	OptionMode = "mode"
	// OptionLabelPrefix starts every estimate label; the default "estimate::" makes scoped
	// labels ("estimate::5"), which GitLab Premium keeps to one per issue.
	OptionLabelPrefix = "label_prefix"
	// OptionValues maps word cards to weights, e.g. "XS=1,S=2,M=3,L=5,XL=8".
	OptionValues = "values"
)

// Write-back modes.
const (
	// ModeAuto writes the weight where the instance has weights and the card is a whole
	// number (or mapped to one by OptionValues), and the estimate label otherwise.
	ModeAuto = "auto"
	// ModeWeight writes the weight and fails when the instance has none.
	ModeWeight = "weight"
	// ModeLabel sets the estimate label, replacing an older estimate label.
	ModeLabel = "label"
	// ModeNote posts one Pokor note on the issue and edits it on re-estimation.
	ModeNote       = "note"
	ModeWeightNote = "weight+note"
	ModeLabelNote  = "label+note"
)

// Modes lists the write-back modes, for forms and help.
var Modes = []string{ModeAuto, ModeWeight, ModeLabel, ModeNote, ModeWeightNote, ModeLabelNote}

// DefaultLabelPrefix starts every estimate label unless the session sets another prefix.
const DefaultLabelPrefix = "estimate::"

// NoteMarker is hidden in Pokor's note so that a later estimate of the same issue finds and
// edits that note instead of posting another.
const NoteMarker = "<!-- pokor-estimate -->"

// WriteEstimate writes est to the issue key ("acme/api#42") as est.Options ask (see
// OptionMode). It changes only what differs, so writing the same estimate again leaves the
// issue as it was, and it reads the issue back: a value GitLab did not keep is an error, never
// a success.
func (c *Client) WriteEstimate(ctx context.Context, key string, est session.WriteBack) (session.WriteResult, error) {
	ref, err := parseKey(key)
	if err != nil {
		return session.WriteResult{}, err
	}
	value, err := cardValue(est.Value)
	if err != nil {
		return session.WriteResult{}, err
	}
	mode := strings.ToLower(strings.TrimSpace(est.Options[OptionMode]))
	if mode == "" {
		mode = ModeAuto
	}
	wantWeight, wantLabel, wantNote := false, false, false
	switch mode {
	case ModeAuto:
	case ModeWeight:
		wantWeight = true
	case ModeLabel:
		wantLabel = true
	case ModeNote:
		wantNote = true
	case ModeWeightNote:
		wantWeight, wantNote = true, true
	case ModeLabelNote:
		wantLabel, wantNote = true, true
	default:
		return session.WriteResult{}, httpx.Errorf(provider, session.CodeInvalid,
			"write-back mode %q is not one of %s", mode, strings.Join(Modes, ", "))
	}
	prefix := est.Options[OptionLabelPrefix]
	if strings.TrimSpace(prefix) == "" {
		// An empty prefix would make every label of the issue look like an old estimate.
		prefix = DefaultLabelPrefix
	}
	if strings.Contains(prefix+value, ",") {
		return session.WriteResult{}, httpx.Errorf(provider, session.CodeInvalid,
			"the label %q contains a comma, which GitLab cannot set through its API; change the label prefix or the card", prefix+value)
	}

	is, err := c.issue(ctx, ref)
	if err != nil {
		return session.WriteResult{}, err
	}
	weight, weightErr := weightOf(value, est)
	var done []string
	why := ""
	if mode == ModeAuto {
		switch {
		case !is.hasWeights():
			wantLabel = true
			why = " (this GitLab has no issue weights)"
		case weightErr != nil:
			wantLabel = true
			why = fmt.Sprintf(" (card %s is not a whole-number weight)", value)
		default:
			wantWeight = true
		}
	}
	if wantWeight {
		if !is.hasWeights() {
			return session.WriteResult{}, noWeights(ref)
		}
		if weightErr != nil {
			return session.WriteResult{}, weightErr
		}
		d, applied, err := c.writeWeight(ctx, ref, is, weight)
		if err != nil {
			return session.WriteResult{}, err
		}
		if !applied && mode == ModeAuto {
			// The payload had a weight but the update did not keep it: the plan changed
			// under us. The label still tells the team.
			wantLabel, why = true, " (GitLab did not keep the weight)"
		} else {
			if !applied {
				return session.WriteResult{}, noWeights(ref)
			}
			done = append(done, d)
		}
	}
	if wantLabel {
		d, err := c.writeLabel(ctx, ref, is, prefix, value)
		if err != nil {
			return session.WriteResult{}, err
		}
		done = append(done, d+why)
	}
	if wantNote {
		d, err := c.writeNote(ctx, ref, noteBody(value, est))
		if err != nil {
			return session.WriteResult{}, err
		}
		done = append(done, d)
	}
	return session.WriteResult{Detail: strings.Join(done, " and ")}, nil
}

func noWeights(ref issueRef) error {
	return httpx.Errorf(provider, session.CodeInvalid,
		"%s has no weight field: issue weights need GitLab Premium or Ultimate; set the GitLab write-back mode to auto or label to write the estimate label instead", ref)
}

// cardValue refuses the cards that are not estimates.
func cardValue(v string) (string, error) {
	v = strings.TrimSpace(v)
	switch v {
	case "":
		return "", httpx.Errorf(provider, session.CodeInvalid, "there is no accepted estimate to write")
	case "?":
		return "", httpx.Errorf(provider, session.CodeInvalid,
			`"?" means the team is unsure, which is not an estimate: re-vote or accept another card before writing to GitLab`)
	case "☕":
		return "", httpx.Errorf(provider, session.CodeInvalid,
			`"☕" asks for a break, which is not an estimate: re-vote or accept another card before writing to GitLab`)
	}
	return v, nil
}

// weightOf turns a card into a GitLab weight, a whole number of zero or more: number cards as
// they are ("½" and "0.5" have none), word cards through the values option.
func weightOf(value string, est session.WriteBack) (int64, error) {
	n, ok := session.NumericCard(value)
	if !ok {
		if raw := strings.TrimSpace(est.Options[OptionValues]); raw != "" {
			for _, pair := range strings.Split(raw, ",") {
				card, num, found := strings.Cut(pair, "=")
				if found && strings.EqualFold(strings.TrimSpace(card), value) {
					n, ok = session.NumericCard(num)
					break
				}
			}
		}
		if !ok {
			return 0, httpx.Errorf(provider, session.CodeInvalid,
				"card %q has no weight: map word cards to numbers in the session's GitLab settings (values such as XS=1,S=2,M=3), or write the estimate label instead", value)
		}
	}
	if n < 0 || n != math.Trunc(n) || n > math.MaxInt32 {
		return 0, httpx.Errorf(provider, session.CodeInvalid,
			"%s cannot be a GitLab weight, which is a whole number of zero or more; accept a whole number or write the estimate label instead", value)
	}
	return int64(n), nil
}

// issue reads one issue.
func (c *Client) issue(ctx context.Context, ref issueRef) (issue, error) {
	var is issue
	_, err := c.do(ctx, http.MethodGet, issuePath(ref), nil, &is, "read "+ref.String())
	return is, err
}

func issuePath(ref issueRef) string {
	return "projects/" + gl.PathEscape(ref.project) + "/issues/" + strconv.FormatInt(ref.iid, 10)
}

// writeWeight sets the weight unless the issue already has it. applied is false when GitLab
// answered without a weight: the instance ignores the attribute.
func (c *Client) writeWeight(ctx context.Context, ref issueRef, is issue, w int64) (string, bool, error) {
	if cur, ok := is.weight(); ok && cur == w {
		return fmt.Sprintf("weight %d was already set on %s", w, ref), true, nil
	}
	var after issue
	if _, err := c.do(ctx, http.MethodPut, issuePath(ref), map[string]any{"weight": w}, &after, "set the weight of "+ref.String()); err != nil {
		return "", false, err
	}
	if !after.hasWeights() {
		return "", false, nil
	}
	if got, ok := after.weight(); !ok || got != w {
		return "", false, httpx.Errorf(provider, session.CodeUnavailable,
			"GitLab answered the update of %s without the weight %d; Pokor will try again", ref, w)
	}
	return fmt.Sprintf("weight set to %d on %s", w, ref), true, nil
}

// writeLabel sets prefix+value and removes other labels with the prefix. Scoped labels would
// replace themselves on GitLab Premium; removing them here makes Free behave the same.
func (c *Client) writeLabel(ctx context.Context, ref issueRef, is issue, prefix, value string) (string, error) {
	want := prefix + value
	has := false
	var stale []string
	for _, l := range is.Labels {
		switch {
		case l == want:
			has = true
		case strings.HasPrefix(strings.ToLower(l), strings.ToLower(prefix)):
			stale = append(stale, l)
		}
	}
	if has && len(stale) == 0 {
		return fmt.Sprintf("label %s was already on %s", want, ref), nil
	}
	body := map[string]any{}
	if !has {
		body["add_labels"] = want
	}
	if len(stale) > 0 {
		body["remove_labels"] = strings.Join(stale, ",")
	}
	var after issue
	if _, err := c.do(ctx, http.MethodPut, issuePath(ref), body, &after, "set the label "+want+" on "+ref.String()); err != nil {
		return "", err
	}
	got := false
	for _, l := range after.Labels {
		if l == want {
			got = true
		}
	}
	if !got {
		return "", httpx.Errorf(provider, session.CodeForbidden,
			"GitLab did not add the label %s to %s: the token's user may not create labels there; create the label in the project or group, or give the token the Reporter role", want, ref)
	}
	return fmt.Sprintf("label %s set on %s", want, ref), nil
}

// note is the part of GitLab's note payload Pokor reads.
type note struct {
	ID     int64  `json:"id"`
	Body   string `json:"body"`
	System bool   `json:"system"`
	Author struct {
		ID int64 `json:"id"`
	} `json:"author"`
}

// maxNotePages bounds the search for Pokor's note on very long discussions.
const maxNotePages = 20

// writeNote posts the note, or edits Pokor's earlier note (found by NoteMarker and written by
// the same user) in place.
func (c *Client) writeNote(ctx context.Context, ref issueRef, body string) (string, error) {
	me, err := c.me(ctx)
	if err != nil {
		return "", err
	}
	path := issuePath(ref) + "/notes"
	opt := struct {
		gl.ListOptions
		Sort    string `url:"sort"`
		OrderBy string `url:"order_by"`
	}{ListOptions: gl.ListOptions{Page: 1, PerPage: 100}, Sort: "asc", OrderBy: "created_at"}
	for i := 0; i < maxNotePages; i++ {
		var notes []note
		resp, err := c.do(ctx, http.MethodGet, path, &opt, &notes, "read the notes of "+ref.String())
		if err != nil {
			return "", err
		}
		for _, n := range notes {
			if n.System || n.Author.ID != me.ID || !strings.Contains(n.Body, NoteMarker) {
				continue
			}
			if strings.TrimSpace(n.Body) == strings.TrimSpace(body) {
				return "note already up to date on " + ref.String(), nil
			}
			var edited note
			if _, err := c.do(ctx, http.MethodPut, path+"/"+strconv.FormatInt(n.ID, 10), map[string]string{"body": body}, &edited, "edit Pokor's note on "+ref.String()); err != nil {
				return "", err
			}
			return "note updated on " + ref.String(), nil
		}
		if resp.NextPage == 0 {
			break
		}
		opt.Page = resp.NextPage
	}
	var created note
	if _, err := c.do(ctx, http.MethodPost, path, map[string]string{"body": body}, &created, "add a note to "+ref.String()); err != nil {
		return "", err
	}
	return "note added to " + ref.String(), nil
}

// noteBody is the text of Pokor's note.
func noteBody(value string, est session.WriteBack) string {
	var b strings.Builder
	fmt.Fprintf(&b, "**Estimate: %s**", value)
	if est.SessionTitle != "" {
		b.WriteString(", agreed in planning poker session ")
		if est.SessionURL != "" {
			fmt.Fprintf(&b, "[%s](%s)", strings.NewReplacer("[", "", "]", "").Replace(est.SessionTitle), est.SessionURL)
		} else {
			fmt.Fprintf(&b, "%q", est.SessionTitle)
		}
	}
	b.WriteString(" with Pokor.\n\n")
	b.WriteString(NoteMarker)
	return b.String()
}

// user is who the token belongs to.
type user struct {
	ID       int64  `json:"id"`
	Username string `json:"username"`
	Name     string `json:"name"`
	Bot      bool   `json:"bot"`
}

// meCache keeps the token's user: it never changes for a client.
type meCache struct {
	mu sync.Mutex
	u  *user
}

func (c *Client) me(ctx context.Context) (user, error) {
	c.self.mu.Lock()
	defer c.self.mu.Unlock()
	if c.self.u != nil {
		return *c.self.u, nil
	}
	var u user
	if _, err := c.do(ctx, http.MethodGet, "user", nil, &u, "read the token's user"); err != nil {
		return user{}, err
	}
	c.self.u = &u
	return u, nil
}

// labelValue finds the estimate in labels such as "estimate::5".
func labelValue(labels []string, prefix string) (string, bool) {
	for _, l := range labels {
		if len(l) > len(prefix) && strings.EqualFold(l[:len(prefix)], prefix) {
			return l[len(prefix):], true
		}
	}
	return "", false
}
