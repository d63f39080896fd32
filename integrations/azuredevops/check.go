package azuredevops

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"

	"github.com/pokor/pokor/integrations"
)

// Check reports who the token belongs to and, for a project (empty lists the projects the
// token sees), its process and, for each type of its backlog (the requirement category), the
// field Pokor will write and why. It returns an error, with the facts gathered so far, only
// when Azure DevOps could not be asked at all.
func (c *Client) Check(ctx context.Context, project string) (integrations.Check, error) {
	ch := integrations.Check{Provider: provider, Site: c.site, Facts: []integrations.Fact{}}
	add := func(name, value string, ok bool) {
		ch.Facts = append(ch.Facts, integrations.Fact{Name: name, Value: value, OK: ok})
	}
	if c.auth == "" {
		add("token", "none configured; set AZURE_DEVOPS_TOKEN to a personal access token with the Work Items (Read & write) scope", false)
		return ch, integrations.Errorf(provider, integrations.KindAuth, "no personal access token is configured; set AZURE_DEVOPS_TOKEN")
	}
	add("organization", c.org, true)

	var projects struct {
		Count int `json:"count"`
		Value []struct {
			Name string `json:"name"`
		} `json:"value"`
	}
	if err := c.call(ctx, request{method: http.MethodGet, path: "_apis/projects", query: url.Values{"$top": {"100"}}, what: "list the projects"}, &projects); err != nil {
		add("token", errorText(err), false)
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
	add("token", "personal access token of "+who, true)

	if project = strings.TrimSpace(project); project == "" {
		names := make([]string, 0, len(projects.Value))
		for _, p := range projects.Value {
			names = append(names, p.Name)
		}
		add("projects", fmt.Sprintf("%d visible: %s", len(names), strings.Join(names, ", ")), len(names) > 0)
	} else if err := c.checkProject(ctx, project, add); err != nil {
		ch.OK = false
		return ch, err
	}
	ch.OK = true
	for _, f := range ch.Facts {
		ch.OK = ch.OK && f.OK
	}
	return ch, nil
}

// checkProject names the project's process and, per backlog type, the field Pokor writes.
func (c *Client) checkProject(ctx context.Context, project string, add func(string, string, bool)) error {
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
		add("project", errorText(err), false)
		return err
	}
	process := p.Capabilities.ProcessTemplate.TemplateName
	if process == "" {
		process = "unknown"
	}
	add("project", p.Name+" (process "+process+")", true)

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
		add("backlog types", errorText(err), false)
		return err
	}
	if len(cat.WorkItemTypes) == 0 {
		add("backlog types", "none: the project's requirement category is empty", false)
		return nil
	}
	for _, t := range cat.WorkItemTypes {
		f, err := c.estimateField(ctx, p.Name, t.Name, "")
		var e *integrations.Error
		switch {
		case err == nil:
			why := "the type's own estimate field"
			if f.ReferenceName != FieldStoryPoints && f.ReferenceName != FieldEffort && f.ReferenceName != FieldSize {
				why = "the field chosen"
			}
			add(t.Name, "Pokor writes "+f.label()+", "+why, true)
		case errors.As(err, &e) && (e.Kind == integrations.KindInvalid || e.Kind == integrations.KindChoice):
			msg := e.Message
			for i, ch := range e.Choices {
				if i == 0 {
					msg += ": "
				} else {
					msg += ", "
				}
				msg += ch.Name + " (" + ch.ID + ")"
			}
			add(t.Name, msg, false)
		default:
			add(t.Name, errorText(err), false)
			return err
		}
	}
	return nil
}

// errorText is an adapter error's message without the provider prefix, for a fact.
func errorText(err error) string {
	var e *integrations.Error
	if errors.As(err, &e) {
		return e.Message
	}
	return err.Error()
}
