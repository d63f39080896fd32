package mattermost

import (
	"context"
	"errors"
	"net/http"
)

// Identity is what Pokor finds on a Mattermost server with the bot's token.
type Identity struct {
	Server    string `json:"server"`
	Version   string `json:"version,omitempty"`
	BotUser   string `json:"bot_user"`
	BotUserID string `json:"bot_user_id"`
	IsBot     bool   `json:"is_bot"`
}

// Check pings the server at MATTERMOST_URL and reads the bot account the token belongs to
// (GET /api/v4/system/ping, GET /api/v4/users/me). hc may be nil. Its errors say what to do and
// never contain the token.
func Check(ctx context.Context, serverURL, token string, hc *http.Client) (Identity, error) {
	server, err := ServerURL(serverURL)
	if err != nil {
		return Identity{}, err
	}
	if server == "" {
		return Identity{}, errors.New("mattermost: MATTERMOST_URL is not set: set it to the server's URL, e.g. https://chat.acme.com")
	}
	if hc == nil {
		hc = &http.Client{Timeout: postTimeout}
	}
	id := Identity{Server: server}
	ctx, cancel := context.WithTimeout(ctx, 2*postTimeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, server+"/api/v4/system/ping", nil)
	if err != nil {
		return id, errors.New("mattermost: MATTERMOST_URL is not a URL")
	}
	resp, err := hc.Do(req)
	if err != nil {
		return id, errors.New("mattermost: the server at MATTERMOST_URL could not be reached from Pokor")
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return id, explain(resp.StatusCode, nil)
	}
	id.Version = resp.Header.Get("X-Version-Id")
	if token == "" {
		return id, errors.New("mattermost: MATTERMOST_BOT_TOKEN is not set: summaries reach the channel only for 30 minutes after /pokor, and reminders not at all")
	}
	u, err := Me(ctx, hc, server, token)
	if err != nil {
		return id, err
	}
	id.BotUser, id.BotUserID, id.IsBot = u.Username, u.ID, u.IsBot
	return id, nil
}
