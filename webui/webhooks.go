package webui

import (
	"context"

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
}
