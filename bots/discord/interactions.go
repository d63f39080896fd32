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
	if data.Name != commandName {
		c.JSON(http.StatusOK, ephemeral(b.help("")))
		return
	}
	cmd, err := bots.NewGrammar(b.svc.Trackers()).FromOptions(option(data, "title"), option(data, "source"), option(data, "query"))
	var perr *bots.ParseError
	switch {
	case errors.As(err, &perr):
		c.JSON(http.StatusOK, ephemeral(b.help(perr.Msg)))
		return
	case err != nil:
		c.JSON(http.StatusOK, b.failure("read the command", err))
		return
	case cmd.Help:
		c.JSON(http.StatusOK, ephemeral(b.help("")))
		return
	}
	user := invoker(in)
	if user == nil || user.ID == "" {
		c.JSON(http.StatusOK, ephemeral("Discord did not say who ran the command; please try again."))
		return
	}
	appID := in.AppID
	if appID == "" {
		appID = b.cfg.ApplicationID
	}
	now := b.now()
	origin := session.Origin{Platform: "discord", Team: in.GuildID, Channel: in.ChannelID}
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
		c.JSON(http.StatusOK, b.failure("start the session", err, "guild", in.GuildID))
		return
	}
	link := b.organizerLink(sess.ID, chatID, user.DisplayName(), now)
	if cmd.Source == "" {
		c.JSON(http.StatusOK, sessionMessage(sess, link, ""))
		return
	}
	actor := session.Actor{SessionID: sess.ID, ParticipantID: org.ID}
	if origin.ReplyURL == "" {
		// Without an application id there is no webhook to edit later: let the room follow the
		// import instead.
		outcome := fmt.Sprintf("Importing from %s in the background; the room shows the progress.", cmd.Source)
		if err := b.svc.StartImport(c.Request.Context(), actor, cmd.Source, cmd.Query); err != nil {
			outcome = bots.ImportOutcome(Markup, sess.Title, cmd, session.ImportResult{}, err, false)
		}
		c.JSON(http.StatusOK, sessionMessage(sess, link, outcome))
		return
	}
	c.JSON(http.StatusOK, &discordgo.InteractionResponse{
		Type: discordgo.InteractionResponseDeferredChannelMessageWithSource,
		Data: &discordgo.InteractionResponseData{Flags: discordgo.MessageFlagsEphemeral},
	})
	// Send the deferral now, so that Discord knows the response before the edit arrives.
	c.Writer.Flush()
	b.work.Go(func(ctx context.Context) {
		b.finishImport(ctx, appID, in.Token, sess, actor, link, cmd)
	})
}

// finishImport runs the import of a deferred /pokor and edits the answer with its outcome.
func (b *Bot) finishImport(ctx context.Context, appID, token string, sess *session.Session, actor session.Actor, link string, cmd bots.Command) {
	// Leave a minute of the token's life for the edit itself.
	ictx, cancel := context.WithTimeout(ctx, replyWindow-time.Minute)
	res, err := b.svc.Import(ictx, actor, cmd.Source, cmd.Query)
	cancel()
	if err != nil && session.ErrorCode(err) == session.CodeInternal {
		b.log.Error("discord: import failed", "session", sess.ID, "source", cmd.Source, "err", err)
	}
	content := ready(sess, bots.ImportOutcome(Markup, sess.Title, cmd, res, err, b.work.Stopping()))
	components := buttons(sess.ID, link)
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

// component answers the Invite channel button with a public message holding the room's link.
func (b *Bot) component(c *gin.Context, in *discordgo.Interaction) {
	id, ok := strings.CutPrefix(in.MessageComponentData().CustomID, invitePrefix)
	if !ok || id == "" {
		c.JSON(http.StatusOK, ephemeral("This button is no longer supported; run /pokor again."))
		return
	}
	sess, err := b.svc.Session(c.Request.Context(), id)
	switch {
	case session.ErrorCode(err) == session.CodeNotFound:
		c.JSON(http.StatusOK, ephemeral(bots.Gone(Markup, false)))
		return
	case err != nil:
		c.JSON(http.StatusOK, b.failure("load the session", err, "session", id))
		return
	case sess.Closed():
		c.JSON(http.StatusOK, ephemeral(bots.Gone(Markup, true)))
		return
	}
	room := b.svc.RoomURL(sess.ID)
	inviter := "You are invited"
	if u := invoker(in); u != nil && u.ID != "" {
		// A mention shows the name; allowed_mentions keeps it from pinging anyone.
		inviter = "<@" + u.ID + "> invites you"
	}
	content := fmt.Sprintf("%s to estimate **%s** with planning poker. Join here: <%s>", inviter, Markup.Escape(sess.Title), room)
	c.JSON(http.StatusOK, &discordgo.InteractionResponse{
		Type: discordgo.InteractionResponseChannelMessageWithSource,
		Data: &discordgo.InteractionResponseData{
			Content: content,
			Components: []discordgo.MessageComponent{discordgo.ActionsRow{Components: []discordgo.MessageComponent{
				discordgo.Button{Label: "Join the session", Style: discordgo.LinkButton, URL: room},
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

// sessionMessage is the answer to /pokor that only its caller sees.
func sessionMessage(sess *session.Session, link, outcome string) *discordgo.InteractionResponse {
	return &discordgo.InteractionResponse{
		Type: discordgo.InteractionResponseChannelMessageWithSource,
		Data: &discordgo.InteractionResponseData{
			Content: ready(sess, outcome), Components: buttons(sess.ID, link),
			Flags: discordgo.MessageFlagsEphemeral, AllowedMentions: noMentions(),
		},
	}
}

// buttons are the Join as organizer link and the Invite channel button.
func buttons(sessionID, link string) []discordgo.MessageComponent {
	return []discordgo.MessageComponent{discordgo.ActionsRow{Components: []discordgo.MessageComponent{
		discordgo.Button{Label: "Join as organizer", Style: discordgo.LinkButton, URL: link},
		discordgo.Button{Label: "Invite channel", Style: discordgo.PrimaryButton, CustomID: invitePrefix + sessionID},
	}}}
}

// ready is the text of the answer to /pokor, with the outcome of an import when there was one.
func ready(sess *session.Session, outcome string) string {
	var s strings.Builder
	fmt.Fprintf(&s, "**%s** is ready.\n", Markup.Escape(sess.Title))
	if outcome != "" {
		s.WriteString(outcome + "\n")
	}
	s.WriteString("The **Join as organizer** button is for you alone and works for 24 hours. " +
		"**Invite channel** posts a join link for everyone here.")
	return s.String()
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

// help is the shared grammar, introduced for Discord's options, after what was wrong when there
// is something.
func (b *Bot) help(problem string) string {
	g := bots.NewGrammar(b.svc.Trackers())
	text := "In Discord, fill in the options of `/pokor`: `title`, `source` (" + g.Names() + ") and `query`. " +
		"They mean the same as the words of the text form:\n\n" + g.HelpIn(Markup, "")
	if problem != "" {
		text = Markup.Warn + " " + problem + "\n\n" + text
	}
	return text
}

// failure is the reply to a domain error from Discord, mapped once for every call site: the
// internal ones are logged with attrs, and the user sees what to do.
func (b *Bot) failure(what string, err error, attrs ...any) *discordgo.InteractionResponse {
	if session.ErrorCode(err) == session.CodeInternal {
		b.log.Error("discord: could not "+what, append(attrs, "err", err)...)
	}
	return ephemeral(bots.Failure(Markup, what, err))
}
