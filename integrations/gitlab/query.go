package gitlab

import (
	"fmt"
	"net/url"
	"regexp"
	"strconv"
	"strings"

	"github.com/pokor/pokor/integrations/httpx"
	"github.com/pokor/pokor/integrations/querytext"
	"github.com/pokor/pokor/session"
)

// QueryGrammar is the syntax List accepts, shown to organizers when a query cannot be read.
const QueryGrammar = `GROUP/PROJECT or GROUP [label:NAME]... [milestone:"Title"|none|any] [iteration:ID|"Title"|current|none|any] [state:opened|closed|all] [type:issue|incident|task] [search:"words"]`

// pathPattern is a project or group full path: segments of letters, digits, '_', '-' and '.',
// separated by slashes (subgroups nest). Checking it up front keeps stray characters out of
// request paths.
var pathPattern = regexp.MustCompile(`^[A-Za-z0-9_.][A-Za-z0-9_.-]*(/[A-Za-z0-9_.][A-Za-z0-9_.-]*)*$`)

// issueRef names one issue: the item key "group/project#42" (the issue's IID in its project).
type issueRef struct {
	project string
	iid     int64
}

func (k issueRef) String() string { return fmt.Sprintf("%s#%d", k.project, k.iid) }

// parseKey reads an item key "group/sub/project#42".
func parseKey(key string) (issueRef, error) {
	key = strings.TrimSpace(key)
	i := strings.LastIndex(key, "#")
	if i > 0 {
		n, err := strconv.ParseInt(key[i+1:], 10, 64)
		if p := key[:i]; err == nil && n > 0 && validPath(p) && strings.Contains(p, "/") {
			return issueRef{project: p, iid: n}, nil
		}
	}
	return issueRef{}, httpx.Errorf(provider, session.CodeInvalid,
		"%q is not a GitLab issue key; expected GROUP/PROJECT#IID, for example acme/api#42", key)
}

func validPath(p string) bool {
	if !pathPattern.MatchString(p) {
		return false
	}
	for _, seg := range strings.Split(p, "/") {
		if seg == "." || seg == ".." {
			return false
		}
	}
	return true
}

// issueQuery is a parsed List query.
type issueQuery struct {
	path      string   // project or group full path
	labels    []string // all must be present
	milestone string   // a title, "None" or "Any"
	iteration string   // an id, a title, "current", "None" or "Any"
	state     string   // opened, closed or all
	typ       string   // issue, incident, task or test_case; empty: all
	search    string
}

// parseQuery reads a query written in QueryGrammar. A URL of a project or group on the
// instance (copied from the address bar, "/-/issues" and all) may stand for the path.
func parseQuery(s, web string) (issueQuery, error) {
	bad := func(format string, args ...any) error {
		return httpx.Errorf(provider, session.CodeInvalid, "%s; write the query as %s",
			fmt.Sprintf(format, args...), QueryGrammar)
	}
	tokens, err := querytext.Split(s)
	if err != nil {
		return issueQuery{}, bad("%v", err)
	}
	if len(tokens) == 0 {
		return issueQuery{}, bad("the query is empty")
	}
	path, err := pathOf(tokens[0], web)
	if err != nil {
		return issueQuery{}, bad("%v", err)
	}
	q := issueQuery{path: path, state: "opened"}
	seen := map[string]bool{}
	for _, tok := range tokens[1:] {
		key, value, ok := strings.Cut(tok, ":")
		key = strings.ToLower(strings.TrimSpace(key))
		value = strings.TrimSpace(value)
		if !ok {
			return issueQuery{}, bad("%q is not a filter", tok)
		}
		if value == "" {
			return issueQuery{}, bad("%s: needs a value", key)
		}
		if key == "labels" {
			key = "label"
		}
		if key != "label" && seen[key] {
			return issueQuery{}, bad("%s: is given twice", key)
		}
		seen[key] = true
		switch key {
		case "label":
			// GitLab takes labels as one comma-separated list (all must match), so
			// label:a,b is two labels.
			for _, l := range strings.Split(value, ",") {
				if l = strings.TrimSpace(l); l != "" {
					q.labels = append(q.labels, l)
				}
			}
		case "milestone":
			q.milestone = special(value)
		case "iteration":
			q.iteration = special(value)
			if strings.EqualFold(value, "current") {
				q.iteration = "current"
			}
		case "state":
			switch v := strings.ToLower(value); v {
			case "opened", "open":
				q.state = "opened"
			case "closed", "all":
				q.state = v
			default:
				return issueQuery{}, bad("state:%s is not one of opened, closed, all", value)
			}
		case "search":
			q.search = value
		case "type":
			switch v := strings.ToLower(value); v {
			case "issue", "incident", "task", "test_case":
				q.typ = v
			default:
				return issueQuery{}, bad("type:%s is not one of issue, incident, task, test_case", value)
			}
		default:
			return issueQuery{}, bad("unknown filter %q", key+":")
		}
	}
	return q, nil
}

// special spells GitLab's predefined filter values as the API documents them.
func special(v string) string {
	switch strings.ToLower(v) {
	case "none":
		return "None"
	case "any":
		return "Any"
	}
	return v
}

// pathOf reads the project or group of a query: a full path, or a URL on the instance.
func pathOf(tok, web string) (string, error) {
	// Chat clients may wrap a pasted link as <URL> or <URL|text>.
	tok = strings.TrimSuffix(strings.TrimPrefix(tok, "<"), ">")
	if i := strings.Index(tok, "|"); i > 0 && strings.HasPrefix(tok, "http") {
		tok = tok[:i]
	}
	p := tok
	if strings.HasPrefix(tok, "http://") || strings.HasPrefix(tok, "https://") {
		u, err := url.Parse(tok)
		w, _ := url.Parse(web)
		if err != nil || w == nil || !strings.EqualFold(u.Host, w.Host) {
			return "", fmt.Errorf("%q is not on this GitLab (%s)", tok, web)
		}
		p = strings.TrimPrefix(u.Path, w.Path)
		if i := strings.Index(p, "/-/"); i >= 0 {
			p = p[:i]
		}
		p = strings.TrimPrefix(p, "/groups/")
	}
	p = strings.Trim(strings.TrimSpace(p), "/")
	if !validPath(p) {
		return "", fmt.Errorf("the query must start with a project or group path such as acme/api or acme, not %q", tok)
	}
	return p, nil
}
