package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/http"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/pokor/pokor/integrations"
	"github.com/pokor/pokor/integrations/github"
	"github.com/pokor/pokor/integrations/jira"
	"github.com/pokor/pokor/integrations/notion"
	"github.com/pokor/pokor/integrations/trackers"
	"github.com/pokor/pokor/session"
	"github.com/pokor/pokor/webui"
)

func init() {
	serviceHooks = append(serviceHooks, func(_ context.Context, m *Main, cfg *session.Config) error {
		d := trackerDefaults(m.Config)
		// The adapters' own default: 30 s per exchange.
		hc := tracedClient(&http.Client{Timeout: 30 * time.Second}, m.Tracing)
		d.GitHub.HTTPClient, d.Jira.HTTPClient, d.Notion.HTTPClient = hc, hc, hc
		cfg.Trackers = trackers.New(d)
		owner := writeBackOwner()
		m.OnStart(func(ctx context.Context) { m.Service.RunWriteBack(ctx, owner) })
		return nil
	})
	checkers["github"] = checkGitHub
	checkers["notion"] = checkNotion
	checkers["jira"] = checkJira
	commands["import"] = importCmd
}

// trackerDefaults reads the server-wide tracker credentials from the configuration table.
func trackerDefaults(cfg Config) trackers.Defaults {
	return trackers.Defaults{
		GitHub:           github.Config{Token: cfg.Get("GITHUB_TOKEN"), BaseURL: cfg.Get("GITHUB_API_URL")},
		Notion:           notion.Config{Token: cfg.Get("NOTION_TOKEN"), BaseURL: cfg.Get("NOTION_API_URL")},
		Jira:             jira.Config{BaseURL: cfg.Get("JIRA_BASE_URL"), Email: cfg.Get("JIRA_EMAIL"), APIToken: cfg.Get("JIRA_API_TOKEN")},
		JiraAllowedHosts: strings.FieldsFunc(cfg.Get("JIRA_ALLOWED_HOSTS"), func(r rune) bool { return r == ',' || r == ' ' }),
	}
}

// writeBackOwner names this instance in the outbox leases: host, process and a random part, so
// that two instances on one host, or a restarted process with a recycled pid, never share one.
func writeBackOwner() string {
	host, err := os.Hostname()
	if err != nil || host == "" {
		host = "pokor"
	}
	return host + ":" + strconv.Itoa(os.Getpid()) + ":" + session.NewToken()[:8]
}

// checkGitHub is `pokor check github [--repo OWNER/REPO]`.
func checkGitHub(ctx context.Context, cfg Config, args []string) (integrations.Check, error) {
	return checkTracker(ctx, cfg, "github", "repo", "OWNER/REPO whose issues Pokor should read and write", args)
}

// checkNotion is `pokor check notion [--database ID, URL or title]`.
func checkNotion(ctx context.Context, cfg Config, args []string) (integrations.Check, error) {
	return checkTracker(ctx, cfg, "notion", "database", "database (ID, URL or title) to import from", args)
}

// checkJira is `pokor check jira [--issue KEY | --project KEY]`: with an issue or a project it
// also says which story-points field Pokor would write and why.
func checkJira(ctx context.Context, cfg Config, args []string) (integrations.Check, error) {
	fs := flag.NewFlagSet("pokor check jira", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	issue := fs.String("issue", "", "issue key, e.g. API-12")
	project := fs.String("project", "", "project key, e.g. API")
	usage := errors.New("usage: pokor check jira [--json] [--issue KEY | --project KEY]")
	if err := fs.Parse(args); err != nil || fs.NArg() > 1 || *issue != "" && *project != "" {
		return integrations.Check{}, usage
	}
	target := *issue + *project
	if target == "" {
		target = fs.Arg(0)
	} else if fs.NArg() > 0 {
		return integrations.Check{}, usage
	}
	return trackers.New(trackerDefaults(cfg)).CheckTracker(ctx, "jira", nil, target)
}

// checkTracker tests a tracker with the server's default credentials against the target named by
// the flag (or the one argument), through the same registry the server uses.
func checkTracker(ctx context.Context, cfg Config, name, flagName, help string, args []string) (integrations.Check, error) {
	fs := flag.NewFlagSet("pokor check "+name, flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	target := fs.String(flagName, "", help)
	if err := fs.Parse(args); err != nil {
		return integrations.Check{}, fmt.Errorf("usage: pokor check %s [--json] [--%s VALUE]: %w", name, flagName, err)
	}
	if *target == "" && fs.NArg() == 1 {
		*target = fs.Arg(0)
	} else if fs.NArg() > 0 {
		return integrations.Check{}, fmt.Errorf("usage: pokor check %s [--json] [--%s VALUE]", name, flagName)
	}
	return trackers.New(trackerDefaults(cfg)).CheckTracker(ctx, name, nil, *target)
}

// importCmd is `pokor import SESSION_ID FILE.csv`: it adds the stories of a CSV file to a
// session as the session's first organizer, updating stories imported from the same keys
// before. FILE may be "-" for standard input. Rooms open meanwhile see the stories on their
// next reconnect: this process has no connection to the server's rooms.
func importCmd(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	if len(args) != 2 {
		return errors.New("usage: pokor import SESSION_ID FILE.csv (FILE may be - for standard input)")
	}
	id, path := args[0], args[1]
	in := io.Reader(os.Stdin)
	if path != "-" {
		f, err := os.Open(path)
		if err != nil {
			return err
		}
		defer f.Close()
		in = f
	}
	m, err := openOffline(ctx)
	if err != nil {
		return err
	}
	defer m.Close()
	org, err := firstOrganizer(ctx, m.Store, id)
	if err != nil {
		return err
	}
	res, err := webui.ImportCSV(ctx, m.Service, session.Actor{SessionID: id, ParticipantID: org.ID}, in)
	if err != nil {
		return errors.New(session.ErrorMessage(err))
	}
	fmt.Fprintf(stdout, "imported %d new and updated %d stories into session %s\n", res.Added, res.Updated, id)
	return nil
}

// firstOrganizer returns the earliest active organizer of a session, in whose name the command
// line acts.
func firstOrganizer(ctx context.Context, st session.Store, sessionID string) (*session.Participant, error) {
	if _, err := st.Session(ctx, sessionID); err != nil {
		if session.ErrorCode(err) == session.CodeNotFound {
			return nil, fmt.Errorf("session %q does not exist", sessionID)
		}
		return nil, err
	}
	ps, err := st.Participants(ctx, sessionID)
	if err != nil {
		return nil, err
	}
	for _, p := range ps {
		if p.Role == session.RoleOrganizer && p.Status == session.StatusActive {
			return p, nil
		}
	}
	return nil, fmt.Errorf("session %q has no active organizer to import as", sessionID)
}
