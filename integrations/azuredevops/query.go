package azuredevops

import (
	"fmt"
	"strings"

	"github.com/pokor/pokor/integrations/httpx"
	"github.com/pokor/pokor/integrations/querytext"
	"github.com/pokor/pokor/session"
)

// QueryGrammar is the syntax List accepts, shown to organizers when a query cannot be read.
const QueryGrammar = `PROJECT | PROJECT\AREA | area:"Project\Area" | iteration:"Project\Sprint 5" | iteration:current [team:"Team"] — each with [type:"User Story"|all] [state:Active|all]; or a WIQL query: SELECT [System.Id] FROM WorkItems WHERE …`

// completedStates are the states of the standard processes (Agile, Scrum, CMMI, Basic) in which
// an item needs no estimate; a built query leaves them out unless state: says otherwise.
var completedStates = []string{"Closed", "Done", "Removed", "Resolved"}

// requirementCategory is the category of the work item types a team estimates on its backlog
// (User Story, Product Backlog Item, Requirement, Issue; Bug when bugs are managed as
// requirements). WIQL filters on it with IN GROUP.
const requirementCategory = "Microsoft.RequirementCategory"

// wiqlQuery is a parsed List query: the WIQL to run, and where (a project and a team scope
// macros such as @CurrentIteration).
type wiqlQuery struct {
	wiql    string
	project string
	team    string
}

// parseQuery reads a query written in QueryGrammar.
func parseQuery(s string) (wiqlQuery, error) {
	bad := func(format string, args ...any) error {
		return httpx.Errorf(provider, session.CodeInvalid, "%s; write the query as %s",
			fmt.Sprintf(format, args...), QueryGrammar)
	}
	s = strings.TrimSpace(s)
	if s == "" {
		return wiqlQuery{}, bad("the query is empty")
	}
	if f := strings.Fields(s); strings.EqualFold(f[0], "select") {
		if strings.Contains(strings.ToLower(s), "@project") || strings.Contains(strings.ToLower(s), "@currentiteration") {
			return wiqlQuery{}, bad("a WIQL query given as is cannot use @project or @CurrentIteration: name the project ([System.TeamProject] = 'Fabrikam'), or use iteration:current team:\"Team\"")
		}
		return wiqlQuery{wiql: s}, nil
	}
	tokens, err := querytext.Split(s)
	if err != nil {
		return wiqlQuery{}, bad("%v", err)
	}
	var area, iter, typ, state, project, team string
	seen := map[string]bool{}
	for i, tok := range tokens {
		key, value, ok := strings.Cut(tok, ":")
		if !ok {
			if i > 0 {
				return wiqlQuery{}, bad("%q is not a filter", tok)
			}
			if strings.Contains(tok, `\`) {
				area = tok
			} else {
				project = tok
			}
			continue
		}
		key = strings.ToLower(strings.TrimSpace(key))
		value = strings.TrimSpace(value)
		if value == "" {
			return wiqlQuery{}, bad("%s: needs a value", key)
		}
		if seen[key] {
			return wiqlQuery{}, bad("%s: is given twice", key)
		}
		seen[key] = true
		switch key {
		case "area":
			area = value
		case "iteration", "sprint":
			iter = value
		case "type":
			typ = value
		case "state":
			state = value
		case "project":
			project = value
		case "team":
			team = value
		default:
			return wiqlQuery{}, bad("unknown filter %q", key+":")
		}
	}
	for _, p := range []string{area, iter} {
		if p == "" || strings.EqualFold(p, "current") {
			continue
		}
		first, _, _ := strings.Cut(p, `\`)
		switch {
		case project == "":
			project = first
		case !strings.EqualFold(project, first):
			return wiqlQuery{}, bad(`the path %q is not in project %q: area and iteration paths start with their project`, p, project)
		}
	}
	if project == "" {
		return wiqlQuery{}, bad("name a project, an area path or an iteration path")
	}
	if strings.EqualFold(area, "current") {
		return wiqlQuery{}, bad("area:current means nothing; name the area path")
	}

	where := []string{"[System.TeamProject] = " + literal(project)}
	if area != "" {
		where = append(where, "[System.AreaPath] UNDER "+literal(area))
	}
	if strings.EqualFold(iter, "current") || strings.EqualFold(iter, "@CurrentIteration") {
		if team == "" {
			// Every project has a default team named after it.
			team = project + " Team"
		}
		where = append(where, "[System.IterationPath] = @CurrentIteration")
	} else if iter != "" {
		where = append(where, "[System.IterationPath] UNDER "+literal(iter))
	}
	switch {
	case typ == "":
		where = append(where, "[System.WorkItemType] IN GROUP "+literal(requirementCategory))
	case strings.EqualFold(typ, "all"):
	default:
		where = append(where, "[System.WorkItemType] = "+literal(typ))
	}
	switch {
	case state == "":
		quoted := make([]string, len(completedStates))
		for i, st := range completedStates {
			quoted[i] = literal(st)
		}
		where = append(where, "[System.State] NOT IN ("+strings.Join(quoted, ", ")+")")
	case strings.EqualFold(state, "all"):
	default:
		where = append(where, "[System.State] = "+literal(state))
	}
	wiql := "SELECT [System.Id] FROM WorkItems WHERE " + strings.Join(where, " AND ") + " ORDER BY [System.Id]"
	return wiqlQuery{wiql: wiql, project: project, team: team}, nil
}

// literal quotes a WIQL string: single quotes, doubled inside.
func literal(s string) string { return "'" + strings.ReplaceAll(s, "'", "''") + "'" }
