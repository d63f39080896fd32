package notion

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/pokor/pokor/integrations"
)

// maxListedDatabases bounds how many database titles a Check fact spells out.
const maxListedDatabases = 10

// CheckDetail is the structured part of a Check, for `pokor check notion --json`.
type CheckDetail struct {
	Bot         string          `json:"bot,omitempty"`
	Workspace   string          `json:"workspace,omitempty"`
	Databases   []Database      `json:"databases"`
	Database    *Database       `json:"database,omitempty"`
	Title       string          `json:"title_property,omitempty"`
	Description string          `json:"description_property,omitempty"`
	Estimate    *EstimateTarget `json:"estimate,omitempty"`
}

// Check reports the integration's bot user, the databases shared with it and, when ref (a
// database ID, URL or title) is given, that database's title, description and estimate
// properties with their types. Findings about the database (not shared, no estimate property)
// are failed facts with a nil error; the error is set only when Notion could not be asked at
// all (an invalid token, a network failure, a rate limit), and the Check then says so too.
func (c *Client) Check(ctx context.Context, ref string) (integrations.Check, error) {
	detail := &CheckDetail{}
	check := integrations.Check{Provider: provider, Site: c.site, Detail: detail}
	add := func(name, value string, ok bool) {
		check.Facts = append(check.Facts, integrations.Fact{Name: name, Value: value, OK: ok})
	}
	fail := func(name string, err error) (integrations.Check, error) {
		add(name, message(err), false)
		check.OK = false
		return check, err
	}

	me, err := c.me(ctx)
	if err != nil {
		return fail("token", err)
	}
	detail.Bot = me.Name
	check.Identity = me.Name
	token := fmt.Sprintf("valid: bot %q", me.Name)
	if me.Bot != nil && me.Bot.WorkspaceName != "" {
		detail.Workspace = me.Bot.WorkspaceName
		check.Site = me.Bot.WorkspaceName
		token += fmt.Sprintf(" in workspace %q", me.Bot.WorkspaceName)
	}
	add("token", token, true)

	dbs, err := c.Databases(ctx)
	if err != nil {
		return fail("databases shared with the integration", err)
	}
	detail.Databases = dbs
	if len(dbs) == 0 {
		add("databases shared with the integration",
			fmt.Sprintf("none: open a database in Notion → ••• → Connections → add %q", me.Name), false)
	} else {
		add("databases shared with the integration", summarize(dbs), true)
	}

	if strings.TrimSpace(ref) != "" {
		s, err := c.database(ctx, ref)
		if err != nil {
			if retry, _ := integrations.Retryable(err); retry || kindOf(err) == integrations.KindAuth {
				return fail("database", err)
			}
			add("database", message(err), false)
		} else {
			detail.Database = &s.Database
			detail.Title = s.title
			detail.Description = s.description
			add("database", fmt.Sprintf("%q (%s)", s.Title, s.ID), true)
			add("title property", fmt.Sprintf("%s (%s)", s.title, typeTitle), s.title != "")
			if s.description != "" {
				add("description property", fmt.Sprintf("%s (%s)", s.description, typeRichText), true)
			} else {
				add("description property", "none: stories are imported without a description", true)
			}
			if t, err := s.estimate(""); err != nil {
				add("estimate property", message(err), false)
			} else {
				detail.Estimate = &t
				add("estimate property", fmt.Sprintf("%s (%s): %s", t.Property, t.Type, t.Reason), true)
			}
		}
	}

	check.OK = true
	for _, f := range check.Facts {
		check.OK = check.OK && f.OK
	}
	return check, nil
}

// summarize lists database titles for a fact, the first few by name.
func summarize(dbs []Database) string {
	titles := make([]string, 0, min(len(dbs), maxListedDatabases))
	for _, db := range dbs[:min(len(dbs), maxListedDatabases)] {
		titles = append(titles, fmt.Sprintf("%q", db.Title))
	}
	s := fmt.Sprintf("%d: %s", len(dbs), strings.Join(titles, ", "))
	if len(dbs) > maxListedDatabases {
		s += fmt.Sprintf(" and %d more", len(dbs)-maxListedDatabases)
	}
	return s
}

// message is an error's text for a fact, without the "notion: " prefix the Check already implies.
func message(err error) string {
	return strings.TrimPrefix(err.Error(), provider+": ")
}

// kindOf returns the Kind of an *integrations.Error, "" for anything else.
func kindOf(err error) integrations.Kind {
	var e *integrations.Error
	if errors.As(err, &e) {
		return e.Kind
	}
	return ""
}
