package github

import (
	"fmt"
	"regexp"
	"strconv"
	"strings"

	"github.com/pokor/pokor/integrations/httpx"
	"github.com/pokor/pokor/integrations/querytext"
	"github.com/pokor/pokor/session"
)

// QueryGrammar is the syntax List accepts, shown to organizers when a query cannot be read.
const QueryGrammar = `OWNER/REPO [label:NAME]... [milestone:"Title or number"] [assignee:LOGIN] [state:open|closed|all]`

// GitHub's own limits: an owner is at most 39 letters, digits and single hyphens; a repository
// name uses letters, digits, '.', '-' and '_'. Checking them up front keeps a stray character
// from reaching a request path, which go-github does not escape.
var (
	ownerPattern = regexp.MustCompile(`^[A-Za-z0-9](?:[A-Za-z0-9-]{0,38})$`)
	repoPattern  = regexp.MustCompile(`^[A-Za-z0-9._-]{1,100}$`)
)

// repoRef names one repository.
type repoRef struct{ owner, name string }

func (r repoRef) String() string { return r.owner + "/" + r.name }

// issueRef names one issue: the item key "owner/repo#42".
type issueRef struct {
	repo   repoRef
	number int
}

func (k issueRef) String() string { return fmt.Sprintf("%s#%d", k.repo, k.number) }

// parseRepo reads "owner/repo".
func parseRepo(s string) (repoRef, bool) {
	owner, name, ok := strings.Cut(s, "/")
	if !ok || !ownerPattern.MatchString(owner) || !repoPattern.MatchString(name) || name == "." || name == ".." {
		return repoRef{}, false
	}
	return repoRef{owner: owner, name: name}, true
}

// parseKey reads an item key "owner/repo#42".
func parseKey(key string) (issueRef, error) {
	repo, num, ok := strings.Cut(strings.TrimSpace(key), "#")
	r, okRepo := parseRepo(repo)
	n, err := strconv.Atoi(num)
	if !ok || !okRepo || err != nil || n <= 0 {
		return issueRef{}, httpx.Errorf(provider, session.CodeInvalid,
			"%q is not a GitHub issue key; expected OWNER/REPO#NUMBER, for example acme/api#42", key)
	}
	return issueRef{repo: r, number: n}, nil
}

// issueQuery is a parsed List query.
type issueQuery struct {
	repo      repoRef
	labels    []string
	milestone string // as written: a title, a number, "none" or "*"
	assignee  string
	state     string
}

// parseQuery reads a query written in QueryGrammar.
func parseQuery(s string) (issueQuery, error) {
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
	repo, ok := parseRepo(tokens[0])
	if !ok {
		return issueQuery{}, bad("the query must start with a repository as OWNER/REPO, not %q", tokens[0])
	}
	q := issueQuery{repo: repo, state: "open"}
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
		if key != "label" && seen[key] {
			return issueQuery{}, bad("%s: is given twice", key)
		}
		seen[key] = true
		switch key {
		case "label":
			// The API takes labels as one comma-separated list, so a comma inside a name
			// cannot be expressed.
			if strings.Contains(value, ",") {
				return issueQuery{}, bad("label %q contains a comma, which GitHub cannot filter on", value)
			}
			q.labels = append(q.labels, value)
		case "milestone":
			q.milestone = value
		case "assignee":
			q.assignee = value
		case "state":
			switch v := strings.ToLower(value); v {
			case "open", "closed", "all":
				q.state = v
			default:
				return issueQuery{}, bad("state:%s is not one of open, closed, all", value)
			}
		default:
			return issueQuery{}, bad("unknown filter %q", key+":")
		}
	}
	return q, nil
}
