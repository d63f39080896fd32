package azuredevops

import (
	"strings"

	"github.com/pokor/pokor/integrations/httpx"
	"github.com/pokor/pokor/session"
)

// Settings of the server-wide Azure DevOps defaults, and the credential fields of a session's
// connection.
const (
	envOrgURL       = "AZURE_DEVOPS_ORG_URL"
	envToken        = "AZURE_DEVOPS_TOKEN"
	envAllowedHosts = "AZURE_DEVOPS_ALLOWED_HOSTS"

	// FieldOrgURL is the session connection's organization; one other than AZURE_DEVOPS_ORG_URL
	// never gets the server's token.
	FieldOrgURL = "org_url"
	// FieldToken is the session connection's personal access token.
	FieldToken = "token"
)

// missingCredentials says where to set credentials when there are none.
const missingCredentials = "no Azure DevOps credentials: set AZURE_DEVOPS_ORG_URL and AZURE_DEVOPS_TOKEN on the server, or enter the organization URL and a personal access token under Import → Connection to Azure DevOps in the room"

// Tracker describes Azure DevOps to Pokor: its query grammar, connection and options, and how
// to reach it. get reads the server's settings (AZURE_DEVOPS_ORG_URL, AZURE_DEVOPS_TOKEN,
// AZURE_DEVOPS_ALLOWED_HOSTS) when a client is built.
func Tracker(get func(string) string) session.Tracker {
	return session.Tracker{
		Name:  provider,
		Label: "Azure DevOps",
		Items: "Azure Boards work items",
		Query: session.QueryGrammar{
			Syntax:  QueryGrammar,
			Example: `iteration:"Fabrikam\Sprint 42"`,
			Help: `a project (its backlog items that are not done), an area path (Fabrikam\Web), area:"…", iteration:"Project\Sprint 5" or iteration:current team:"Team", ` +
				`with [type:"User Story"|all] [state:Active|all]; or a WIQL query (SELECT [System.Id] FROM WorkItems WHERE …)`,
			Summary: "import by WIQL, area path or iteration",
		},
		Credentials: []session.Field{
			{Key: FieldOrgURL, Label: "Organization URL", Type: "url", Placeholder: "https://dev.azure.com/fabrikam", Env: envOrgURL},
			{Key: FieldToken, Label: "Personal access token (Work Items: Read & write)", Type: "password", Env: envToken},
		},
		Options: []session.Option{
			{Key: OptionField, Label: "Estimate field", Placeholder: "Custom.Estimate",
				Help: "reference name of the field to write; empty: the work item type's Story Points, Effort or Size"},
			{Key: OptionValues, Label: "Word cards as values", Placeholder: "XS=1,S=2,M=3,L=5,XL=8",
				Help: "the number written for each word card; empty: word cards are not written"},
		},
		Check: session.CheckTarget{Target: "project (Fabrikam)", Flags: []string{"project"}},
		Settings: []session.Setting{
			{Env: envOrgURL, Help: "default organization, e.g. https://dev.azure.com/fabrikam (Azure DevOps Server: the collection URL)"},
			{Env: envToken, Help: "default personal access token (Work Items: Read & write)", Secret: true},
			{Env: envAllowedHosts, Help: "comma-separated hosts a session may name although they are on a private network (an intranet Azure DevOps Server)"},
		},
		Docs:       "docs/trackers.md#azure-devops",
		WritesBack: true,
		Open: func(creds session.Credentials) (session.TrackerClient, error) {
			def := Config{OrgURL: get(envOrgURL), Token: get(envToken)}
			cfg := def
			org := strings.TrimSpace(creds[FieldOrgURL])
			other := org != "" && !httpx.SameSite(org, def.OrgURL)
			if org != "" {
				cfg.OrgURL = org
			}
			if t := strings.TrimSpace(creds[FieldToken]); t != "" {
				cfg.Token = t
			} else if other {
				// The server's token is never sent to an organization a session names.
				cfg.Token = ""
			}
			if strings.TrimSpace(cfg.OrgURL) == "" || strings.TrimSpace(cfg.Token) == "" {
				return nil, httpx.Errorf(provider, session.CodeForbidden, "%s", missingCredentials)
			}
			if other {
				allowed := httpx.AllowedHosts(get(envAllowedHosts))
				guarded, err := httpx.PublicSite(provider, cfg.OrgURL, allowed, envAllowedHosts)
				if err != nil {
					return nil, err
				}
				cfg.HTTPClient = guarded
			}
			return New(cfg)
		},
	}
}
