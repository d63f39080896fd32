package mattermost

// The payloads Pokor exchanges with Mattermost, as plain structs with the field names of
// Mattermost's documentation and of its Go model package
// (github.com/mattermost/mattermost/server/public/model: CommandResponse, SlackAttachment,
// PostAction, PostActionIntegrationRequest, PostActionIntegrationResponse, Post, AppError). The
// model package itself is not imported: for these few structs it brings some thirty modules
// (gRPC, hashicorp/go-plugin, an LDAP client, logging and i18n libraries) and 4.5 MB of binary.

// The slash command request is a form (application/x-www-form-urlencoded) with these fields:
// channel_id, channel_name, command, response_url, team_domain, team_id, text, token,
// trigger_id, user_id, user_name (https://developers.mattermost.com/integrate/slash-commands/custom/).

// Response types of a slash command's answer.
const (
	responseEphemeral = "ephemeral"
	responseInChannel = "in_channel"
)

// commandResponse is the answer to a slash command, and what its response_url takes
// (model.CommandResponse).
type commandResponse struct {
	ResponseType string       `json:"response_type"`
	Text         string       `json:"text"`
	Attachments  []attachment `json:"attachments,omitempty"`
	// SkipSlackParsing keeps Mattermost from reading Slack's <url|text> and <!channel> forms in
	// text Pokor writes in Markdown.
	SkipSlackParsing bool `json:"skip_slack_parsing,omitempty"`
}

// attachment is a message attachment (model.SlackAttachment), here only to carry buttons.
type attachment struct {
	Fallback string   `json:"fallback,omitempty"`
	Color    string   `json:"color,omitempty"`
	Text     string   `json:"text,omitempty"`
	Actions  []action `json:"actions,omitempty"`
}

// action is an interactive message button (model.PostAction). Its id must be alphanumeric:
// Mattermost routes the press to /api/v4/posts/{post_id}/actions/{id}.
type action struct {
	ID          string      `json:"id"`
	Type        string      `json:"type"`
	Name        string      `json:"name"`
	Style       string      `json:"style,omitempty"`
	Integration integration `json:"integration"`
}

// integration says where Mattermost posts a button press, and the context it posts with it
// (model.PostActionIntegration). The context goes through the user's browser; Mattermost keeps
// it in an encrypted cookie for ephemeral posts, but Pokor signs it anyway.
type integration struct {
	URL     string         `json:"url"`
	Context map[string]any `json:"context"`
}

// actionRequest is what Mattermost posts (JSON) to an integration URL when a button is pressed
// (model.PostActionIntegrationRequest). It carries no token nor signature.
type actionRequest struct {
	UserID      string         `json:"user_id"`
	UserName    string         `json:"user_name"`
	ChannelID   string         `json:"channel_id"`
	ChannelName string         `json:"channel_name"`
	TeamID      string         `json:"team_id"`
	TeamDomain  string         `json:"team_domain"`
	PostID      string         `json:"post_id"`
	TriggerID   string         `json:"trigger_id"`
	Type        string         `json:"type"`
	DataSource  string         `json:"data_source"`
	Context     map[string]any `json:"context,omitempty"`
}

// actionResponse answers a button press (model.PostActionIntegrationResponse): a message only
// the presser sees, and, from Mattermost 10.5 on, an error shown under the buttons.
type actionResponse struct {
	EphemeralText    string       `json:"ephemeral_text,omitempty"`
	SkipSlackParsing bool         `json:"skip_slack_parsing,omitempty"`
	Error            *actionError `json:"error,omitempty"`
}

type actionError struct {
	Message string `json:"message"`
}

// post is a message created through POST /api/v4/posts (model.Post).
type post struct {
	ID        string `json:"id,omitempty"`
	ChannelID string `json:"channel_id"`
	Message   string `json:"message"`
}

// User is the part of GET /api/v4/users/me Pokor reads (model.User).
type User struct {
	ID       string `json:"id"`
	Username string `json:"username"`
	IsBot    bool   `json:"is_bot"`
}

// channel is the part of POST /api/v4/channels/direct Pokor reads (model.Channel).
type channel struct {
	ID string `json:"id"`
}

// appError is the body of every failed API call (model.AppError).
type appError struct {
	ID         string `json:"id"`
	Message    string `json:"message"`
	StatusCode int    `json:"status_code"`
}
