package slack

import (
	"slices"
	"strings"
	"testing"

	"github.com/goccy/go-yaml"
	slackgo "github.com/slack-go/slack"
)

// TestManifest reads manifests/slack/manifest.yaml as slack-go's Manifest and checks that it
// points Slack at the endpoints Mount serves, with the least scopes.
func TestManifest(t *testing.T) {
	raw := readFile(t, "../../manifests/slack/manifest.yaml")
	var m slackgo.Manifest
	if err := yaml.Unmarshal(raw, &m); err != nil {
		t.Fatalf("manifest.yaml: %v", err)
	}
	const base = "https://pokor.example.com"
	if n := strings.Count(string(raw), base+"/slack/"); n != 3 {
		t.Errorf("%d URLs use the placeholder base, want 3", n)
	}
	if len(m.Features.SlashCommands) != 1 || m.Features.SlashCommands[0].Command != "/pokor" || m.Features.SlashCommands[0].Url != base+"/slack/commands" {
		t.Errorf("slash commands = %+v, want /pokor at %s/slack/commands", m.Features.SlashCommands, base)
	}
	if !m.Settings.Interactivity.IsEnabled || m.Settings.Interactivity.RequestUrl != base+"/slack/interactions" {
		t.Errorf("interactivity = %+v", m.Settings.Interactivity)
	}
	if !slices.Equal(m.OAuthConfig.RedirectUrls, []string{base + "/slack/oauth/callback"}) {
		t.Errorf("redirect URLs = %v", m.OAuthConfig.RedirectUrls)
	}
	if got := strings.Join(m.OAuthConfig.Scopes.Bot, ","); got != botScopes || len(m.OAuthConfig.Scopes.User) != 0 {
		t.Errorf("bot scopes %q and user scopes %v, want %q and none: the install asks for those", got, m.OAuthConfig.Scopes.User, botScopes)
	}
	if m.Display.Name == "" || m.Features.BotUser.DisplayName == "" {
		t.Error("the app needs a name and a bot user")
	}
}
