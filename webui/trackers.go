package webui

import (
	"context"
	"errors"
	"io"
	"net/http"
	"strings"

	"github.com/gin-gonic/gin"

	"github.com/pokor/pokor/integrations"
	"github.com/pokor/pokor/integrations/csv"
	"github.com/pokor/pokor/session"
)

// The tracker actions join the room's action table, so the WebSocket and the JSON API run the
// same code for imports, connections and write-back retries.
func init() {
	for name, f := range trackerActions {
		actions[name] = f
	}
}

// importInput names what to import: a tracker and a query in its grammar.
type importInput struct {
	Source string `json:"source"`
	Query  string `json:"query"`
}

// connectionInput is a session's connection to a tracker as an organizer enters it. Empty
// credentials keep the stored ones, so options can change alone.
type connectionInput struct {
	Tracker     string              `json:"tracker"`
	Credentials session.Credentials `json:"credentials"`
	Options     map[string]string   `json:"options"`
}

// importStarted answers a started import; its progress arrives as "import" events.
type importStarted struct {
	State  string `json:"state"`
	Source string `json:"source"`
	Query  string `json:"query"`
}

var trackerActions = map[string]actionFunc{
	"import": func(ctx context.Context, svc *session.Service, a session.Actor, r request) (any, error) {
		var in importInput
		if err := r.decode(&in); err != nil {
			return nil, err
		}
		if err := svc.StartImport(ctx, a, in.Source, in.Query); err != nil {
			return nil, err
		}
		return importStarted{State: "running", Source: in.Source, Query: strings.TrimSpace(in.Query)}, nil
	},
	"preview_import": func(ctx context.Context, svc *session.Service, a session.Actor, r request) (any, error) {
		var in importInput
		if err := r.decode(&in); err != nil {
			return nil, err
		}
		return svc.PreviewImport(ctx, a, in.Source, in.Query)
	},
	"import_csv": func(ctx context.Context, svc *session.Service, a session.Actor, r request) (any, error) {
		in := struct {
			CSV string `json:"csv"`
		}{}
		if err := r.decode(&in); err != nil {
			return nil, err
		}
		return ImportCSV(ctx, svc, a, strings.NewReader(in.CSV))
	},
	"connections": func(ctx context.Context, svc *session.Service, a session.Actor, _ request) (any, error) {
		return svc.Connections(ctx, a)
	},
	"set_connection": func(ctx context.Context, svc *session.Service, a session.Actor, r request) (any, error) {
		var in connectionInput
		if err := r.decode(&in); err != nil {
			return nil, err
		}
		return svc.SetConnection(ctx, a, in.Tracker, in.Credentials, in.Options)
	},
	"delete_connection": func(ctx context.Context, svc *session.Service, a session.Actor, r request) (any, error) {
		var in connectionInput
		if err := r.decode(&in); err != nil {
			return nil, err
		}
		return nil, svc.DeleteConnection(ctx, a, in.Tracker)
	},
	"check_connection": func(ctx context.Context, svc *session.Service, a session.Actor, r request) (any, error) {
		in := struct {
			Tracker string `json:"tracker"`
			// Target is what to test access to: a repository, a database, an issue or a project.
			Target string `json:"target"`
		}{}
		if err := r.decode(&in); err != nil {
			return nil, err
		}
		return svc.CheckConnection(ctx, a, in.Tracker, in.Target)
	},
	"retry_sync": func(ctx context.Context, svc *session.Service, a session.Actor, r request) (any, error) {
		return svc.RetryWriteBack(ctx, a, r.StoryID)
	},
}

// ImportCSV adds the stories of a CSV file to the session as the actor: rows with a key update
// the story imported with that key before. A file that cannot be read is refused as invalid
// with the line to fix. The command line's `pokor import` uses it too.
func ImportCSV(ctx context.Context, svc *session.Service, a session.Actor, r io.Reader) (session.ImportResult, error) {
	items, err := csv.Parse(r)
	if err != nil {
		// Who may import comes before what is wrong with the file: with no stories the service
		// checks only the actor, and answers invalid when the actor may import.
		if _, aerr := svc.ImportStories(ctx, a, "csv", nil); session.ErrorCode(aerr) != session.CodeInvalid {
			return session.ImportResult{}, aerr
		}
		var ie *integrations.Error
		if errors.As(err, &ie) {
			return session.ImportResult{}, &session.Error{Code: session.CodeInvalid, Field: "csv", Message: ie.Error(), Err: err}
		}
		return session.ImportResult{}, &session.Error{Code: session.CodeInvalid, Field: "csv", Message: "the file cannot be read as CSV", Err: err}
	}
	stories := make([]session.ExternalStory, 0, len(items))
	for _, it := range items {
		stories = append(stories, session.ExternalStory{Key: it.Key, Title: it.Title, Description: it.Description, URL: it.URL, Type: it.Type, Estimate: it.Estimate})
	}
	return svc.ImportStories(ctx, a, "csv", stories)
}

// trackerRoutes mounts the import, connection and write-back endpoints (docs/api.md).
func (s *Server) trackerRoutes(api gin.IRouter) {
	api.POST("/sessions/:id/import", s.actAs("import", http.StatusAccepted))
	api.POST("/sessions/:id/import/preview", s.actAs("preview_import", http.StatusOK))
	api.POST("/sessions/:id/import/csv", s.actAs("import_csv", http.StatusOK))
	api.GET("/sessions/:id/connections", s.actAs("connections", http.StatusOK))
	api.PUT("/sessions/:id/connections/:tracker", s.actAs("set_connection", http.StatusOK))
	api.DELETE("/sessions/:id/connections/:tracker", s.actAs("delete_connection", http.StatusOK))
	api.POST("/sessions/:id/connections/:tracker/check", s.actAs("check_connection", http.StatusOK))
	api.POST("/sessions/:id/stories/:sid/retry-sync", s.actAs("retry_sync", http.StatusOK))
}
