package discord

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/bwmarrin/discordgo"
	"github.com/gin-gonic/gin"

	"github.com/pokor/pokor/bots"
	"github.com/pokor/pokor/session"
)

const (
	// maxInteraction bounds the body read before the signature is checked. Interactions are a
	// few kilobytes; resolved users and members in large commands stay far below this.
	maxInteraction = 1 << 20
	// replyWindow is how long Discord accepts follow-ups with an interaction token.
	replyWindow = 15 * time.Minute
	// linkTTL is how long the Join as organizer link works.
	linkTTL = 24 * time.Hour
	// maxButtonURL is Discord's limit on a link button's url.
	maxButtonURL = 512
	// invitePrefix starts the custom_id of the Invite channel button; the session id follows.
	invitePrefix = "pokor:invite:"
	// commandName is the slash command registered from manifests/discord/commands.json.
	commandName = "pokor"
)

// interactions serves POST /discord/interactions. The signature is checked before anything
// else: Discord probes the endpoint with bad signatures and drops an endpoint that accepts them.
func (b *Bot) interactions(c *gin.Context) {
	c.Request.Body = http.MaxBytesReader(c.Writer, c.Request.Body, maxInteraction)
	if b.key == nil || !discordgo.VerifyInteraction(c.Request, b.key) {
		c.String(http.StatusUnauthorized, "invalid request signature")
		return
	}
	var in discordgo.Interaction
	if err := json.NewDecoder(c.Request.Body).Decode(&in); err != nil {
		c.JSON(http.StatusBadRequest, gin.H{"error": "the interaction is not valid JSON"})
		return
	}
	switch in.Type {
	case discordgo.InteractionPing:
		c.JSON(http.StatusOK, &discordgo.InteractionResponse{Type: discordgo.InteractionResponsePong})
	case discordgo.InteractionApplicationCommand:
		b.command(c, &in)
	case discordgo.InteractionMessageComponent:
		b.component(c, &in)
	default:
		c.JSON(http.StatusBadRequest, gin.H{"error": fmt.Sprintf("interaction type %d is not handled", in.Type)})
	}
}

// command answers /pokor: a new session and, in a message only the caller sees, a pre-signed
// Join as organizer link and an Invite channel button. An import is deferred (type 5) and the
// answer is edited in when it is done, since trackers may take longer than Discord's 3 seconds.
func (b *Bot) command(c *gin.Context, in *discordgo.Interaction) {
	data := in.ApplicationCommandData()
	m := b.userMarkup(in)
	if data.Name != commandName {
		c.JSON(http.StatusOK, ephemeral(b.help(m, "")))
		return
	}
	cmd, err := bots.NewGrammar(b.svc.Trackers()).FromOptions(option(data, "title"), option(data, "source"), option(data, "query"))
	var perr *bots.ParseError
	switch {
	case errors.As(err, &perr):
		c.JSON(http.StatusOK, ephemeral(b.help(m, perr.Text(m))))
		return
	case err != nil:
		c.JSON(http.StatusOK, b.failure(m, "bot.failure.read", err))
		return
	case cmd.Help:
		c.JSON(http.StatusOK, ephemeral(b.help(m, "")))
		return
	}
	user := invoker(in)
	if user == nil || user.ID == "" {
		c.JSON(http.StatusOK, ephemeral(m.T("bot.discord.no_user")))
		return
	}
	appID := in.AppID
	if appID == "" {
		appID = b.cfg.ApplicationID
	}
	now := b.now()
	// What is posted in the channel later (summaries, reminders) speaks the server's language.
	origin := session.Origin{Platform: "discord", Team: in.GuildID, Channel: in.ChannelID, Language: b.channelMarkup(in).Tag()}
	if appID != "" && in.Token != "" {
		// The webhook URL is a credential for 15 minutes; the store keeps Origin sealed.
		origin.ReplyURL = discordgo.EndpointWebhookToken(appID, in.Token)
		origin.ReplyExpires = now.Add(replyWindow).UTC()
	}
	chatID := "discord:" + in.GuildID + ":" + user.ID
	sess, org, _, err := b.svc.CreateSession(c.Request.Context(), session.CreateInput{
		Title: cmd.Title, Organizer: user.DisplayName(), ChatID: chatID, Origin: origin,
	})
	if err != nil {
		c.JSON(http.StatusOK, b.failure(m, "bot.failure.start", err, "guild", in.GuildID))
		return
	}
	link := b.organizerLink(sess.ID, chatID, user.DisplayName(), now)
	if cmd.Source == "" {
		c.JSON(http.StatusOK, sessionMessage(m, sess, link, ""))
		return
	}
	actor := session.Actor{SessionID: sess.ID, ParticipantID: org.ID}
	if origin.ReplyURL == "" {
		// Without an application id there is no webhook to edit later: let the room follow the
		// import instead.
		outcome := m.T("bot.discord.importing", "source", cmd.Source)
		if err := b.svc.StartImport(c.Request.Context(), actor, cmd.Source, cmd.Query); err != nil {
			outcome = bots.ImportOutcome(m, sess.Title, cmd, session.ImportResult{}, err, false)
		}
		c.JSON(http.StatusOK, sessionMessage(m, sess, link, outcome))
		return
	}
	c.JSON(http.StatusOK, &discordgo.InteractionResponse{
		Type: discordgo.InteractionResponseDeferredChannelMessageWithSource,
		Data: &discordgo.InteractionResponseData{Flags: discordgo.MessageFlagsEphemeral},
	})
	// Send the deferral now, so that Discord knows the response before the edit arrives.
	c.Writer.Flush()
	b.work.Go(func(ctx context.Context) {
		b.finishImport(ctx, m, appID, in.Token, sess, actor, link, cmd)
	})
}

// finishImport runs the import of a deferred /pokor and edits the answer with its outcome, in
// the language of m (the caller's).
func (b *Bot) finishImport(ctx context.Context, m bots.Markup, appID, token string, sess *session.Session, actor session.Actor, link string, cmd bots.Command) {
	// Leave a minute of the token's life for the edit itself.
	ictx, cancel := context.WithTimeout(ctx, replyWindow-time.Minute)
	res, err := b.svc.Import(ictx, actor, cmd.Source, cmd.Query)
	cancel()
	if err != nil && session.ErrorCode(err) == session.CodeInternal {
		b.log.Error("discord: import failed", "session", sess.ID, "source", cmd.Source, "err", err)
	}
	content := ready(m, sess, bots.ImportOutcome(m, sess.Title, cmd, res, err, b.work.Stopping()))
	components := buttons(m, sess.ID, link)
	// The edit must go out even when the bot is closing, or the answer stays "thinking".
	ectx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 30*time.Second)
	defer cancel()
	if err := b.editOriginal(ectx, appID, token, &discordgo.WebhookEdit{
		Content: &content, Components: &components, AllowedMentions: noMentions(),
	}); err != nil {
		b.log.Warn("discord: editing the /pokor answer", "session", sess.ID, "err", err)
	}
}

// editOriginal edits the interaction's original response. A 404 is retried a few times: the
// deferral may not have reached Discord yet when a fast import is done.
func (b *Bot) editOriginal(ctx context.Context, appID, token string, edit *discordgo.WebhookEdit) error {
	wait := b.retryWait
	for attempt := 1; ; attempt++ {
		_, err := b.api.WebhookMessageEdit(appID, token, "@original", edit, discordgo.WithContext(ctx))
		if err == nil {
			return nil
		}
		if !notFound(err) || attempt == 4 {
			return apiError("editing the /pokor answer", err)
		}
		t := time.NewTimer(wait)
		select {
		case <-ctx.Done():
			t.Stop()
			return apiError("editing the /pokor answer", err)
		case <-t.C:
		}
		wait *= 2
	}
}

// component answers the Invite channel button with a public message holding the room's link, in
// the server's language; what only the presser sees is in theirs.
func (b *Bot) component(c *gin.Context, in *discordgo.Interaction) {
	m := b.userMarkup(in)
	id, ok := strings.CutPrefix(in.MessageComponentData().CustomID, invitePrefix)
	if !ok || id == "" {
		c.JSON(http.StatusOK, ephemeral(m.T("bot.button_gone")))
		return
	}
	sess, err := b.svc.Session(c.Request.Context(), id)
	switch {
	case session.ErrorCode(err) == session.CodeNotFound:
		c.JSON(http.StatusOK, ephemeral(bots.Gone(m, false)))
		return
	case err != nil:
		c.JSON(http.StatusOK, b.failure(m, "bot.failure.load", err, "session", id))
		return
	case sess.Closed():
		c.JSON(http.StatusOK, ephemeral(bots.Gone(m, true)))
		return
	}
	ch := b.channelMarkup(in)
	room := b.svc.RoomURL(sess.ID)
	pairs := []string{"title", ch.Bold(ch.Escape(sess.Title)), "link", "<" + room + ">"}
	content := ch.T("bot.discord.invited", pairs...)
	if u := invoker(in); u != nil && u.ID != "" {
		// A mention shows the name; allowed_mentions keeps it from pinging anyone.
		content = ch.T("bot.discord.invite", append(pairs, "inviter", "<@"+u.ID+">")...)
	}
	c.JSON(http.StatusOK, &discordgo.InteractionResponse{
		Type: discordgo.InteractionResponseChannelMessageWithSource,
		Data: &discordgo.InteractionResponseData{
			Content: content,
			Components: []discordgo.MessageComponent{discordgo.ActionsRow{Components: []discordgo.MessageComponent{
				discordgo.Button{Label: ch.T("bot.join_session"), Style: discordgo.LinkButton, URL: room},
			}}},
			AllowedMentions: noMentions(),
		},
	})
}

// organizerLink signs the Join as organizer link for the Discord user.
func (b *Bot) organizerLink(sessionID, chatID, name string, now time.Time) string {
	l := session.Link{SessionID: sessionID, Role: session.RoleOrganizer, ChatID: chatID, Name: name, Expires: now.Add(linkTTL).Unix()}
	link := b.svc.LinkURL(l)
	if len(link) > maxButtonURL {
		// The participant already exists under ChatID, so the name is not needed to join; a
		// long name must not push the link past Discord's limit for buttons.
		l.Name = ""
		link = b.svc.LinkURL(l)
	}
	return link
}

// sessionMessage is the answer to /pokor that only its caller sees, in their language.
func sessionMessage(m bots.Markup, sess *session.Session, link, outcome string) *discordgo.InteractionResponse {
	return &discordgo.InteractionResponse{
		Type: discordgo.InteractionResponseChannelMessageWithSource,
		Data: &discordgo.InteractionResponseData{
			Content: ready(m, sess, outcome), Components: buttons(m, sess.ID, link),
			Flags: discordgo.MessageFlagsEphemeral, AllowedMentions: noMentions(),
		},
	}
}

// buttons are the Join as organizer link and the Invite channel button.
func buttons(m bots.Markup, sessionID, link string) []discordgo.MessageComponent {
	return []discordgo.MessageComponent{discordgo.ActionsRow{Components: []discordgo.MessageComponent{
		discordgo.Button{Label: m.T("bot.join_organizer"), Style: discordgo.LinkButton, URL: link},
		discordgo.Button{Label: m.T("bot.invite_channel"), Style: discordgo.PrimaryButton, CustomID: invitePrefix + sessionID},
	}}}
}

// ready is the text of the answer to /pokor, with the outcome of an import when there was one.
func ready(m bots.Markup, sess *session.Session, outcome string) string {
	var s strings.Builder
	s.WriteString(m.T("bot.discord.ready", "title", m.Bold(m.Escape(sess.Title))) + "\n")
	if outcome != "" {
		s.WriteString(outcome + "\n")
	}
	s.WriteString(m.T("bot.discord.buttons", "join", m.Bold(m.T("bot.join_organizer")), "invite", m.Bold(m.T("bot.invite_channel"))))
	return s.String()
}

// userMarkup writes to the person who interacted, in their Discord language (the interaction's
// locale), else POKOR_LANGUAGE.
func (b *Bot) userMarkup(in *discordgo.Interaction) bots.Markup {
	return Markup.In(bots.Language(string(in.Locale), b.cfg.Language))
}

// channelMarkup writes what everyone in the channel reads, in the server's language
// (guild_locale: a Community server's primary language, set by its admins); outside a server, a
// direct message, in the person's own. Every other server sends Discord's default, en-US, which
// says nothing of its members: that is answered in POKOR_LANGUAGE, so that a German team's
// Pokor posts German summaries in its (non-Community) server.
func (b *Bot) channelMarkup(in *discordgo.Interaction) bots.Markup {
	if in.GuildID == "" {
		return b.userMarkup(in)
	}
	if in.GuildLocale != nil && *in.GuildLocale != "" && *in.GuildLocale != discordgo.EnglishUS {
		return Markup.In(bots.Language(string(*in.GuildLocale), b.cfg.Language))
	}
	return Markup.In(bots.Language("", b.cfg.Language))
}

// ephemeral is a message only the user who interacted sees.
func ephemeral(content string) *discordgo.InteractionResponse {
	return &discordgo.InteractionResponse{
		Type: discordgo.InteractionResponseChannelMessageWithSource,
		Data: &discordgo.InteractionResponseData{Content: content, Flags: discordgo.MessageFlagsEphemeral, AllowedMentions: noMentions()},
	}
}

// noMentions keeps titles and names typed by users from pinging @everyone or anyone else.
func noMentions() *discordgo.MessageAllowedMentions {
	return &discordgo.MessageAllowedMentions{Parse: []discordgo.AllowedMentionType{}}
}

// invoker is the user who interacted: member.user in a guild, user in a DM.
func invoker(in *discordgo.Interaction) *discordgo.User {
	if in.Member != nil && in.Member.User != nil {
		return in.Member.User
	}
	return in.User
}

// option returns a string option of the command, "" when absent.
func option(d discordgo.ApplicationCommandInteractionData, name string) string {
	for _, o := range d.Options {
		if o.Name == name {
			if s, ok := o.Value.(string); ok {
				return s
			}
		}
	}
	return ""
}

// help is the shared grammar, introduced for Discord's options, in m's language, after what was
// wrong when there is something. The option names are the command's, in English.
func (b *Bot) help(m bots.Markup, problem string) string {
	g := bots.NewGrammar(b.svc.Trackers())
	text := m.T("bot.discord.options", "names", g.NamesIn(m)) + "\n\n" + g.HelpIn(m, "")
	if problem != "" {
		text = m.Warn + " " + problem + "\n\n" + text
	}
	return text
}

// failure is the reply to a domain error from Discord, mapped once for every call site: the
// internal ones are logged with attrs, and the user sees what to do in m's language. key is the
// catalog text saying what could not be done.
func (b *Bot) failure(m bots.Markup, key string, err error, attrs ...any) *discordgo.InteractionResponse {
	if session.ErrorCode(err) == session.CodeInternal {
		b.log.Error("discord: a command failed", append(attrs, "failure", key, "err", err)...)
	}
	return ephemeral(bots.Failure(m, key, err))
}
