package notion

import (
	"context"
	"fmt"
	"strings"

	"github.com/pokor/pokor/session"
)

// maxListedDatabases bounds how many database titles a Check fact spells out.
const maxListedDatabases = 10

// Check reports the integration's bot user, the databases shared with it and, when ref (a
// database ID, URL or title) is given, that database's title, description and estimate
// properties with their types. Findings about the database (not shared, no estimate property)
// are failed facts with a nil error; the error is set only when Notion could not be asked at
// all (an invalid token, a network failure, a rate limit), and the Check then says so too.
func (c *Client) Check(ctx context.Context, ref string) (session.CheckReport, error) {
	check := session.CheckReport{Provider: provider, Site: c.site, Facts: []session.Fact{}}
	add := func(name, text string, ok bool, value any) { check.Add(name, ok, text, value) }
	fail := func(name string, err error) (session.CheckReport, error) {
		add(name, message(err), false, nil)
		check.OK = false
		return check, err
	}

	me, err := c.me(ctx)
	if err != nil {
		return fail("token", err)
	}
	check.Identity = me.Name
	token := fmt.Sprintf("valid: bot %q", me.Name)
	workspace := ""
	if me.Bot != nil && me.Bot.WorkspaceName != "" {
		workspace = me.Bot.WorkspaceName
		check.Site = workspace
		token += fmt.Sprintf(" in workspace %q", workspace)
	}
	add("token", token, true, map[string]any{"valid": true, "bot": me.Name, "bot_id": me.ID, "workspace": workspace})

	dbs, err := c.Databases(ctx)
	if err != nil {
		return fail("databases shared with the integration", err)
	}
	if dbs == nil {
		dbs = []Database{}
	}
	shared := map[string]any{"count": len(dbs), "databases": dbs}
	if len(dbs) == 0 {
		add("databases shared with the integration",
			fmt.Sprintf("none: open a database in Notion → ••• → Connections → add %q", me.Name), false, shared)
	} else {
		add("databases shared with the integration", summarize(dbs), true, shared)
	}

	if strings.TrimSpace(ref) != "" {
		s, err := c.database(ctx, ref)
		if err != nil {
			if retry, _ := session.Retryable(err); retry || session.ErrorCode(err) == session.CodeForbidden {
				return fail("database", err)
			}
			add("database", message(err), false, map[string]any{"ref": ref, "found": false})
		} else {
			add("database", fmt.Sprintf("%q (%s)", s.Title, s.ID), true, map[string]any{"found": true, "id": s.ID, "title": s.Title})
			add("title property", fmt.Sprintf("%s (%s)", s.title, typeTitle), s.title != "", map[string]any{"property": s.title, "type": typeTitle})
			if s.description != "" {
				add("description property", fmt.Sprintf("%s (%s)", s.description, typeRichText), true,
					map[string]any{"property": s.description, "type": typeRichText})
			} else {
				add("description property", "none: stories are imported without a description", true, map[string]any{"property": nil})
			}
			if t, err := s.estimate(""); err != nil {
				add("estimate property", message(err), false, nil)
			} else {
				add("estimate property", fmt.Sprintf("%s (%s): %s", t.Property, t.Type, t.Reason), true, t)
			}
		}
	}

	check.Settle()
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
	return strings.TrimPrefix(session.ErrorMessage(err), provider+": ")
}
