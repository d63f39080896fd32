package slack

import (
	"html/template"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/gin-gonic/gin"
	slackgo "github.com/slack-go/slack"

	"github.com/pokor/pokor/session"
)

const (
	// authorizeURL is where a workspace admin approves the install
	// (https://docs.slack.dev/authentication/installing-with-oauth).
	authorizeURL = "https://slack.com/oauth/v2/authorize"
	// botScopes are the least Pokor needs: the /pokor command and posting summaries.
	botScopes = "commands,chat:write"
	// stateLifetime is how long an install may take between /slack/install and the callback.
	stateLifetime = 10 * time.Minute
	// statePurpose separates the state's signatures from every other use of the keys.
	statePurpose = "slack oauth state"
	// stateCookie binds the state to the browser that started the install, so a callback link
	// made by someone else cannot complete an install in this browser.
	stateCookie = "pokor_slack_oauth"
)

// install sends the browser to Slack to approve the app, with a signed state. The state carries
// its own expiry and signature, so the callback may reach any instance: nothing is kept in memory.
func (b *Bot) install(c *gin.Context) {
	if b.cfg.ClientID == "" {
		b.page(c, http.StatusNotFound, "Install not configured",
			"This Pokor server does not offer the Slack install for other workspaces.",
			"An operator can enable it by setting SLACK_CLIENT_ID and SLACK_CLIENT_SECRET (see docs/slack.md).")
		return
	}
	nonce := session.NewToken()
	state := b.signState(nonce, b.now().Add(stateLifetime))
	http.SetCookie(c.Writer, &http.Cookie{Name: stateCookie, Value: nonce, Path: "/slack/oauth",
		MaxAge: int(stateLifetime / time.Second), HttpOnly: true, Secure: strings.HasPrefix(b.baseURL, "https://"),
		// Lax: the cookie comes back on the top-level redirect from slack.com to the callback.
		SameSite: http.SameSiteLaxMode})
	q := url.Values{"client_id": {b.cfg.ClientID}, "scope": {botScopes}, "redirect_uri": {b.redirectURL()}, "state": {state}}
	c.Header("Cache-Control", "no-store")
	c.Redirect(http.StatusFound, authorizeURL+"?"+q.Encode())
}

func (b *Bot) redirectURL() string { return b.baseURL + "/slack/oauth/callback" }

// signState returns "nonce.expiry.signature".
func (b *Bot) signState(nonce string, expires time.Time) string {
	msg := nonce + "." + strconv.FormatInt(expires.Unix(), 10)
	return msg + "." + b.keys.Sign(statePurpose, msg)
}

// checkState returns the nonce of a state this server signed and that has not expired.
func (b *Bot) checkState(state string) (string, bool) {
	i := strings.LastIndexByte(state, '.')
	if i < 0 || !b.keys.Verify(statePurpose, state[:i], state[i+1:]) {
		return "", false
	}
	nonce, exp, ok := strings.Cut(state[:i], ".")
	sec, err := strconv.ParseInt(exp, 10, 64)
	if !ok || err != nil || b.now().Unix() > sec {
		return "", false
	}
	return nonce, true
}

// callback completes the install: it checks the state, exchanges the code for a bot token
// (oauth.v2.access) and stores the installation with the token sealed.
func (b *Bot) callback(c *gin.Context) {
	c.Header("Cache-Control", "no-store")
	if b.cfg.ClientID == "" {
		b.page(c, http.StatusNotFound, "Install not configured", "This Pokor server does not offer the Slack install.", "")
		return
	}
	nonce, ok := b.checkState(c.Query("state"))
	cookie, _ := c.Cookie(stateCookie)
	if !ok || cookie == "" || cookie != nonce {
		b.log.Warn("refused a Slack install callback", "reason", "state missing, altered, expired or from another browser")
		b.page(c, http.StatusForbidden, "This install link is not valid",
			"It expired, was altered, or was started in another browser.", "Start again from "+b.baseURL+"/slack/install.")
		return
	}
	http.SetCookie(c.Writer, &http.Cookie{Name: stateCookie, Value: "", Path: "/slack/oauth", MaxAge: -1, HttpOnly: true})
	if e := c.Query("error"); e != "" {
		b.page(c, http.StatusOK, "Pokor was not installed",
			"Slack says: "+e+" (the install was cancelled or not approved).", "Start again from "+b.baseURL+"/slack/install when you are ready.")
		return
	}
	code := c.Query("code")
	if code == "" {
		b.page(c, http.StatusBadRequest, "Pokor was not installed", "Slack sent no authorization code.", "Start again from "+b.baseURL+"/slack/install.")
		return
	}
	ctx := c.Request.Context()
	res, err := slackgo.GetOAuthV2ResponseContext(ctx, b.http, b.cfg.ClientID, b.cfg.ClientSecret, code, b.redirectURL(),
		slackgo.OAuthOptionAPIURL(b.apiURL))
	if err != nil {
		b.log.Warn("Slack refused the install", "err", explain(err))
		b.page(c, http.StatusBadGateway, "Pokor was not installed", "Slack refused the install: "+explain(err)+".",
			"Start again from "+b.baseURL+"/slack/install.")
		return
	}
	if res.AccessToken == "" || res.Team.ID == "" {
		b.page(c, http.StatusBadGateway, "Pokor was not installed",
			"Slack returned no bot token for a workspace. Organization-wide (Enterprise Grid) installs are not supported yet; install Pokor in each workspace.", "")
		return
	}
	if err := b.cfg.Installations.SaveSlackInstallation(ctx, res.Team.ID, res.Team.Name, b.keys.Seal(res.AccessToken), b.now().UTC()); err != nil {
		b.log.Error("storing a Slack installation", "team", res.Team.ID, "err", err)
		b.page(c, http.StatusInternalServerError, "Pokor was not installed", "The installation could not be saved.", "Try again in a moment.")
		return
	}
	b.log.Info("installed in a Slack workspace", "team", res.Team.ID, "team_name", res.Team.Name, "scopes", res.Scope)
	b.page(c, http.StatusOK, "Pokor is installed",
		"Pokor is installed in "+res.Team.Name+". Type /pokor followed by a title in any channel to start a session.",
		"Summaries are posted to the channel a session started in; in a private channel, invite the app first with /invite @Pokor.")
}

// pageTmpl is the small page the install answers with. It needs no stylesheet: the server's
// Content-Security-Policy refuses inline styles anyway.
var pageTmpl = template.Must(template.New("page").Parse(`<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>{{.Title}} · Pokor</title><link rel="icon" href="/static/favicon.svg"></head>
<body><main><h1>{{.Title}}</h1><p>{{.Message}}</p>{{if .Hint}}<p>{{.Hint}}</p>{{end}}<p><a href="/">Pokor</a></p></main></body></html>
`))

func (b *Bot) page(c *gin.Context, status int, title, message, hint string) {
	c.Header("Content-Type", "text/html; charset=utf-8")
	c.Status(status)
	if err := pageTmpl.Execute(c.Writer, map[string]string{"Title": title, "Message": message, "Hint": hint}); err != nil {
		b.log.Error("rendering a page", "err", err)
	}
}
