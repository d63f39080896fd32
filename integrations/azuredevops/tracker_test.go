package azuredevops

import (
	"context"
	"net/url"
	"strings"
	"testing"

	"github.com/pokor/pokor/bots"
	"github.com/pokor/pokor/session"
)

// TestGrammarFromDescriptor: "/pokor … from azure <query>" reaches Azure DevOps with the query
// whole: quotes, backslashes and WIQL brackets.
func TestGrammarFromDescriptor(t *testing.T) {
	g := bots.NewGrammar([]session.Tracker{Tracker(func(string) string { return "" })})
	for _, q := range []string{
		`iteration:"Fabrikam\Sprint 42" type:"User Story"`,
		`SELECT [System.Id] FROM WorkItems WHERE [System.TeamProject] = 'Fabrikam' AND [System.Tags] CONTAINS 'poker'`,
	} {
		cmd, err := g.Parse("Sprint 42 from azure " + q)
		if err != nil {
			t.Fatal(err)
		}
		if cmd.Title != "Sprint 42" || cmd.Source != "azure" || cmd.Query != q {
			t.Fatalf("parsed %+v", cmd)
		}
		if _, err := parseQuery(cmd.Query); err != nil {
			t.Fatalf("the query the grammar passes on does not parse: %v", err)
		}
	}
	if help := g.Help(); !strings.Contains(help, "from azure iteration:\"Fabrikam\\Sprint 42\"` import by WIQL, area path or iteration") {
		t.Errorf("help = %q", help)
	}
}

// TestOpenNeedsCredentialsAndGuardsTheOrganization: without an organization and a token Open
// says where to set them; an organization a session names must be public or allowed and never
// gets the server's token.
func TestOpenNeedsCredentialsAndGuardsTheOrganization(t *testing.T) {
	f := newFakeAzure(t)
	f.addProject("Fabrikam", "Agile")
	f.addItem(1, "Fabrikam", "User Story", "a", "New", "Fabrikam", "Fabrikam", nil)
	env := map[string]string{}
	tr := Tracker(func(k string) string { return env[k] })
	if _, err := tr.Open(nil); session.ErrorCode(err) != session.CodeForbidden || !strings.Contains(err.Error(), "AZURE_DEVOPS_ORG_URL and AZURE_DEVOPS_TOKEN") {
		t.Fatalf("no credentials: %v", err)
	}
	env["AZURE_DEVOPS_ORG_URL"], env["AZURE_DEVOPS_TOKEN"] = "https://dev.azure.com/fabrikam", f.pat
	if _, err := tr.Open(session.Credentials{FieldOrgURL: f.srv.URL + f.org}); session.ErrorCode(err) != session.CodeForbidden {
		t.Fatalf("another organization without a token of its own: %v", err)
	}
	if _, err := tr.Open(session.Credentials{FieldOrgURL: f.srv.URL + f.org, FieldToken: f.pat}); session.ErrorCode(err) != session.CodeInvalid {
		t.Fatalf("a private organization URL: %v", err)
	}
	u, _ := url.Parse(f.srv.URL)
	env["AZURE_DEVOPS_ALLOWED_HOSTS"] = u.Hostname()
	c, err := tr.Open(session.Credentials{FieldOrgURL: f.srv.URL + f.org, FieldToken: f.pat})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.WriteEstimate(context.Background(), "1", session.WriteBack{Value: "2"}); err != nil || f.field(1, FieldStoryPoints) != 2.0 {
		t.Fatalf("allowed organization: %v", err)
	}
}
