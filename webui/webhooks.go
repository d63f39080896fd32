package webui

import (
	"context"
	"net/http"

	"github.com/gin-gonic/gin"

	"github.com/pokor/pokor/session"
)

// webhookActions let organizers send the session's events to their own systems
// (docs/webhooks.md), over the API and the WebSocket alike.
var webhookActions = map[string]actionFunc{
	"webhook": func(ctx context.Context, svc *session.Service, a session.Actor, _ request) (any, error) {
		return svc.SessionWebhook(ctx, a)
	},
	"set_webhook": func(ctx context.Context, svc *session.Service, a session.Actor, r request) (any, error) {
		var in session.WebhookInput
		if err := r.decode(&in); err != nil {
			return nil, err
		}
		return svc.SetSessionWebhook(ctx, a, in)
	},
	"delete_webhook": func(ctx context.Context, svc *session.Service, a session.Actor, _ request) (any, error) {
		return nil, svc.DeleteSessionWebhook(ctx, a)
	},
}

// webhookRoutes mounts a session's webhook endpoints.
func (s *Server) webhookRoutes(api gin.IRouter) {
	api.GET("/sessions/:id/webhook", s.act("webhook"))
	api.PUT("/sessions/:id/webhook", s.act("set_webhook"))
	api.DELETE("/sessions/:id/webhook", s.act("delete_webhook"))
	// A team's webhook: every event of the sessions in the team, set by whoever holds its link.
	api.GET("/teams/:id/webhook", s.teamAPI(func(c *gin.Context, t *session.Team) (any, error) {
		return s.svc.TeamWebhook(c.Request.Context(), t)
	}))
	api.PUT("/teams/:id/webhook", s.teamAPI(func(c *gin.Context, t *session.Team) (any, error) {
		var in session.WebhookInput
		if err := decodeJSON(c, &in); err != nil {
			return nil, err
		}
		return s.svc.SetTeamWebhook(c.Request.Context(), t, in)
	}))
	api.DELETE("/teams/:id/webhook", func(c *gin.Context) {
		c.Header("Cache-Control", "no-store")
		t, err := s.team(c)
		if err == nil {
			err = s.svc.DeleteTeamWebhook(c.Request.Context(), t)
		}
		if err != nil {
			writeError(c, err)
			return
		}
		c.Status(http.StatusNoContent)
	})
}
