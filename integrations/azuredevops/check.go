package azuredevops

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"

	"github.com/pokor/pokor/integrations/httpx"
	"github.com/pokor/pokor/session"
)

// Check reports who the token belongs to and, for a project (empty lists the projects the
// token sees), its process and, for each type of its backlog (the requirement category), the
// field Pokor will write and why. It returns an error, with the facts gathered so far, only
// when Azure DevOps could not be asked at all.
func (c *Client) Check(ctx context.Context, project string) (session.CheckReport, error) {
	ch := session.CheckReport{Provider: provider, Site: c.site, Facts: []session.Fact{}}
	add := addFact(ch.Add)
	if !c.hasToken {
		add("token", false, missingCredentials, nil)
		return ch, httpx.Errorf(provider, session.CodeForbidden, "%s", missingCredentials)
	}
	add("organization", true, c.org, c.org)

	var projects struct {
		Count int `json:"count"`
		Value []struct {
			Name string `json:"name"`
		} `json:"value"`
	}
	if err := c.call(ctx, request{method: http.MethodGet, path: "_apis/projects", query: url.Values{"$top": {"100"}}, what: "list the projects"}, &projects); err != nil {
		add("token", false, errorText(err), nil)
		return ch, err
	}
	var cd struct {
		AuthenticatedUser struct {
			ProviderDisplayName string `json:"providerDisplayName"`
		} `json:"authenticatedUser"`
	}
	// connectionData is a location-service endpoint that takes no api-version.
	if err := c.call(ctx, request{method: http.MethodGet, path: "_apis/connectionData", noVersion: true, what: "read who the token belongs to"}, &cd); err == nil {
		ch.Identity = cd.AuthenticatedUser.ProviderDisplayName
	}
	who := ch.Identity
	if who == "" {
		who = "a user whose name Azure DevOps did not tell"
	}
	add("token", true, "personal access token of "+who, map[string]any{"user": ch.Identity})

	if project = strings.TrimSpace(project); project == "" {
		names := make([]string, 0, len(projects.Value))
		for _, p := range projects.Value {
			names = append(names, p.Name)
		}
		add("projects", len(names) > 0, fmt.Sprintf("%d visible: %s", len(names), strings.Join(names, ", ")), names)
	} else if err := c.checkProject(ctx, project, add); err != nil {
		ch.OK = false
		return ch, err
	}
	ch.Settle()
	return ch, nil
}

// addFact appends one finding: its name, whether it is fine, the words and the typed value.
type addFact func(name string, ok bool, text string, value any)

// checkProject names the project's process and, per backlog type, the field Pokor writes.
func (c *Client) checkProject(ctx context.Context, project string, add addFact) error {
	if q, err := parseQuery(project); err == nil && q.project != "" {
		project = q.project // an area path or a query names its project
	}
	var p struct {
		Name         string `json:"name"`
		Capabilities struct {
			ProcessTemplate struct {
				TemplateName string `json:"templateName"`
			} `json:"processTemplate"`
		} `json:"capabilities"`
	}
	if err := c.call(ctx, request{method: http.MethodGet, path: "_apis/projects/" + url.PathEscape(project),
		query: url.Values{"includeCapabilities": {"true"}}, what: "read project " + project}, &p); err != nil {
		add("project", false, errorText(err), nil)
		return err
	}
	process := p.Capabilities.ProcessTemplate.TemplateName
	if process == "" {
		process = "unknown"
	}
	add("project", true, p.Name+" (process "+process+")", map[string]any{"name": p.Name, "process": process})

	var cat struct {
		DefaultWorkItemType struct {
			Name string `json:"name"`
		} `json:"defaultWorkItemType"`
		WorkItemTypes []struct {
			Name string `json:"name"`
		} `json:"workItemTypes"`
	}
	if err := c.call(ctx, request{method: http.MethodGet, path: url.PathEscape(p.Name) + "/_apis/wit/workitemtypecategories/" + requirementCategory,
		what: "read the backlog types of " + p.Name}, &cat); err != nil {
		add("backlog types", false, errorText(err), nil)
		return err
	}
	if len(cat.WorkItemTypes) == 0 {
		add("backlog types", false, "none: the project's requirement category is empty", nil)
		return nil
	}
	for _, t := range cat.WorkItemTypes {
		f, err := c.estimateField(ctx, p.Name, t.Name, "")
		var e *session.Error
		switch {
		case err == nil:
			add(t.Name, true, "Pokor writes "+f.label()+", the type's own estimate field", f.ReferenceName)
		case errors.As(err, &e) && (e.Code == session.CodeInvalid || e.Code == session.CodeConflict):
			msg := strings.TrimPrefix(e.Message, provider+": ")
			for i, ch := range e.Choices {
				if i == 0 {
					msg += ": "
				} else {
					msg += ", "
				}
				msg += ch.Name + " (" + ch.ID + ")"
			}
			add(t.Name, false, msg, nil)
		default:
			add(t.Name, false, errorText(err), nil)
			return err
		}
	}
	return nil
}

// errorText is an adapter error's message without the provider prefix, for a fact.
func errorText(err error) string {
	var e *session.Error
	if errors.As(err, &e) {
		return strings.TrimPrefix(e.Message, provider+": ")
	}
	return err.Error()
}
