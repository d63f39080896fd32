// Command pokor-load drives a running Pokor the way browsers do and measures it: it creates
// sessions through the JSON API, connects R rooms of M members over the WebSocket, plays rounds
// (votes through the real, durable vote path; reveals; re-votes) at an open-loop rate, ends with
// a reveal storm in every room at once, and reports latencies from HDR histograms together with
// the server's memory, goroutines and CPU. docs/performance.md explains the figures.
//
// A process may hold only so many open files, so the generator spreads the connections over
// child processes (re-executions of itself with --child), each dialing from its own 127.0.0.x
// source address so that ephemeral ports never run out. A room lives in one child, so every
// latency of a room is measured on one monotonic clock.
package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"math"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"os/signal"
	"runtime"
	"strconv"
	"strings"
	"syscall"
	"time"
)

type options struct {
	url              string
	urls             listFlag // --url given more than once: every room is split across them
	instances        int
	serveEnv         listFlag
	serveCPUs        string
	postgres         string
	redis            string
	voteP99          time.Duration
	serve            string
	serverLog        string
	serverPID        int
	rooms            int
	members          int
	spectators       int
	duration         time.Duration
	voteRate         float64
	storm            bool
	settle           time.Duration
	perProc          int
	dialConcurrency  int
	setupConcurrency int
	sourceIPs        bool
	steps            string
	jsonPath         string
	slashRate        float64
	slashDuration    time.Duration
	slackSecret      string
}

func main() {
	if len(os.Args) > 2 && os.Args[1] == "--child" {
		if err := runChild(os.Args[2]); err != nil {
			fmt.Fprintln(os.Stderr, "pokor-load child:", err)
			os.Exit(1)
		}
		return
	}
	var o options
	fs := flag.NewFlagSet("pokor-load", flag.ExitOnError)
	fs.Var(&o.urls, "url", "base URL of a running Pokor (default http://127.0.0.1:8080; ignored with --serve); repeat it for several instances of one deployment: every room's members are split across them, so that every vote crosses instances")
	fs.StringVar(&o.serve, "serve", "", "start this pokor binary on a fresh SQLite database for each run, and stop it afterwards")
	fs.IntVar(&o.instances, "instances", 1, "with --serve, start this many instances (more than one needs --postgres and --redis)")
	fs.Var(&o.serveEnv, "serve-env", "with --serve, an environment variable for the servers, KEY=VALUE (repeatable), e.g. GOMAXPROCS=1")
	fs.StringVar(&o.serveCPUs, "serve-cpus", "", "with --serve, pin the servers to these CPUs (taskset -c LIST), e.g. 0")
	fs.StringVar(&o.postgres, "postgres", "", "with --serve, a PostgreSQL URL with the right to create databases: each run gets a fresh database there, dropped afterwards")
	fs.StringVar(&o.redis, "redis", "", "with --serve, a Redis URL: the instances share events through it, under a prefix of this run's own")
	fs.StringVar(&o.serverLog, "server-log", "", "with --serve, write the server's output to this file (default: a temporary file, removed)")
	fs.IntVar(&o.serverPID, "server-pid", 0, "pid of the server, for its memory and CPU (default: the process listening on --url's port)")
	fs.IntVar(&o.rooms, "rooms", 1900, "rooms (sessions)")
	fs.IntVar(&o.members, "members", 10, "members per room: one organizer, --spectators spectators, the rest voters (at most 64)")
	fs.IntVar(&o.spectators, "spectators", 1, "spectators per room")
	fs.DurationVar(&o.duration, "duration", 60*time.Second, "how long the connections are held while votes flow (0 skips the votes)")
	fs.Float64Var(&o.voteRate, "vote-rate", 1, "votes per room per second, on an open-loop schedule")
	fs.BoolVar(&o.storm, "storm", true, "end with a reveal in every room at the same instant")
	fs.DurationVar(&o.voteP99, "vote-p99", 0, "the vote target: vote → whole room p99 at most this (default 50ms, 150ms with several instances; bench-1core uses 100ms)")
	fs.DurationVar(&o.settle, "settle", 5*time.Second, "pause after connecting, before the idle memory is read")
	fs.IntVar(&o.perProc, "per-proc", 9000, "connections per child process (each process may hold 20,000 open files)")
	fs.IntVar(&o.dialConcurrency, "dial-concurrency", 500, "WebSocket dials in flight, over all processes (the server's accept backlog is 4,096)")
	fs.IntVar(&o.setupConcurrency, "setup-concurrency", 16, "HTTP setup requests in flight per process")
	fs.BoolVar(&o.sourceIPs, "source-ips", true, "with a loopback server, dial from 127.0.0.2, 127.0.0.3, … (one per process)")
	fs.StringVar(&o.steps, "steps", "", "comma-separated connection counts (e.g. 1000,5000,10000,19000): run the scenario at each and print how cost grows")
	fs.StringVar(&o.jsonPath, "json", "", "write the results as JSON to this file")
	printPath := fs.String("print", "", "print the tables of a JSON file written by --json, and run nothing")
	fs.Float64Var(&o.slashRate, "slash-rate", 200, "signed /pokor slash commands per second, after the storm, with the connections still open")
	fs.DurationVar(&o.slashDuration, "slash-duration", 20*time.Second, "how long to send slash commands (0 skips them)")
	fs.StringVar(&o.slackSecret, "slack-signing-secret", os.Getenv("SLACK_SIGNING_SECRET"), "the server's SLACK_SIGNING_SECRET, for a server not started with --serve (default $SLACK_SIGNING_SECRET)")
	_ = fs.Parse(os.Args[1:])
	if len(o.urls) == 0 {
		o.urls = listFlag{"http://127.0.0.1:8080"}
	}
	o.url = o.urls[0]
	if *printPath != "" {
		if err := printFile(*printPath, os.Stdout); err != nil {
			fmt.Fprintln(os.Stderr, "pokor-load:", err)
			os.Exit(1)
		}
		return
	}
	if err := o.validate(); err != nil {
		fmt.Fprintln(os.Stderr, "pokor-load:", err)
		os.Exit(2)
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, o, os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "pokor-load:", err)
		os.Exit(1)
	}
}

func (o options) validate() error {
	switch {
	case o.members < 2 || o.members > 64:
		return errors.New("--members must be between 2 and 64")
	case o.spectators < 0 || o.spectators > o.members-2:
		return errors.New("--spectators leaves no voter")
	case o.rooms < 1:
		return errors.New("--rooms must be at least 1")
	case o.voteRate <= 0:
		return errors.New("--vote-rate must be positive")
	case o.perProc < o.members:
		return errors.New("--per-proc must hold at least one room")
	case o.instances < 1:
		return errors.New("--instances must be at least 1")
	case o.serve != "" && o.instances > 1 && (o.postgres == "" || o.redis == ""):
		return errors.New("--instances > 1 needs --postgres and --redis: instances share a database and an event bus")
	case o.serve == "" && len(o.urls) > 1 && o.serverPID != 0:
		return errors.New("--server-pid names one server; with several --url each is found by its port")
	}
	return nil
}

// Report is everything one run measured; it is also the JSON output.
type Report struct {
	Machine     Machine            `json:"machine"`
	Command     string             `json:"command"`
	Connections int                `json:"connections"`
	Rooms       int                `json:"rooms"`
	Members     int                `json:"members"`
	Spectators  int                `json:"spectators"`
	Processes   int                `json:"processes"`
	Duration    string             `json:"duration"`
	VoteRate    float64            `json:"vote_rate_per_room"`
	Latency     map[string]Summary `json:"latency"`
	Counts      map[string]int64   `json:"counts"`
	Server      ServerReport       `json:"server"` // with several instances, their sums
	// Instances holds each instance's own figures when there are several.
	Instances []InstanceReport `json:"instances,omitempty"`
	// VotesPerSecond is the rate of acknowledged votes during play.
	VotesPerSecond float64  `json:"votes_per_second"`
	SlashRate      float64  `json:"slash_rate,omitempty"`
	Targets        []Target `json:"targets"`
	// VoteGoalMS is the p99 the votes target allows; 0 takes the default.
	VoteGoalMS float64 `json:"vote_goal_ms,omitempty"`

	all *metrics
}

// ServerReport holds the server's figures at the moments that matter.
type ServerReport struct {
	Baseline    serverSample `json:"baseline"` // rooms set up, nothing connected
	Idle        serverSample `json:"idle"`     // every member connected, nothing happening
	Peak        serverSample `json:"peak"`     // highest RSS while votes flow and during the storm
	RSSPerConn  float64      `json:"rss_per_connection_kb"`
	HeapPerConn float64      `json:"heap_per_connection_kb"`
	StackPer    float64      `json:"stack_per_connection_kb"`
	GorPerConn  float64      `json:"goroutines_per_connection"`
	CPUPlay     float64      `json:"cpu_play_percent"`     // server CPU while votes flow, % of one core
	GenCPUPlay  float64      `json:"gen_cpu_play_percent"` // the generator's
}

// InstanceReport is one instance of several: its server figures, the votes its members cast and
// the deliveries to the members connected to it.
type InstanceReport struct {
	URL     string             `json:"url"`
	PID     int                `json:"pid"`
	Server  ServerReport       `json:"server"`
	Latency map[string]Summary `json:"latency"`
}

// listFlag is a repeatable string flag.
type listFlag []string

func (l *listFlag) String() string     { return strings.Join(*l, ",") }
func (l *listFlag) Set(v string) error { *l = append(*l, v); return nil }

// Target is one line of the targets with what this run measured.
type Target struct {
	Name     string `json:"name"`
	Goal     string `json:"goal"`
	Measured string `json:"measured"`
	Pass     bool   `json:"pass"`
	Skipped  bool   `json:"skipped,omitempty"` // not meaningful at this size
}

// Machine describes where the run happened.
type Machine struct {
	CPUs   int    `json:"cpus"`
	CPU    string `json:"cpu"`
	Memory string `json:"memory"`
	Kernel string `json:"kernel"`
	Go     string `json:"go"`
}

func machine() Machine {
	m := Machine{CPUs: runtime.NumCPU(), Go: runtime.Version()}
	if b, err := os.ReadFile("/proc/sys/kernel/osrelease"); err == nil {
		m.Kernel = strings.TrimSpace(string(b))
	}
	if b, err := os.ReadFile("/proc/meminfo"); err == nil {
		for _, l := range strings.Split(string(b), "\n") {
			if f := strings.Fields(l); len(f) >= 2 && f[0] == "MemTotal:" {
				kb, _ := strconv.ParseFloat(f[1], 64)
				m.Memory = fmt.Sprintf("%.1f GiB", kb/(1<<20))
			}
		}
	}
	if b, err := os.ReadFile("/proc/cpuinfo"); err == nil {
		for _, l := range strings.Split(string(b), "\n") {
			if k, v, ok := strings.Cut(l, ":"); ok && strings.TrimSpace(k) == "model name" {
				m.CPU = strings.TrimSpace(v)
				break
			}
		}
	}
	return m
}

func run(ctx context.Context, o options, stdout io.Writer) error {
	if o.steps == "" {
		rep, err := runScenario(ctx, o)
		if err != nil {
			return err
		}
		printReport(stdout, rep)
		return writeJSON(o.jsonPath, rep)
	}
	var reps []*Report
	for _, s := range strings.Split(o.steps, ",") {
		n, err := strconv.Atoi(strings.TrimSpace(s))
		if err != nil || n < o.members {
			return fmt.Errorf("--steps: %q is not a connection count of at least one room", s)
		}
		step := o
		step.rooms = n / o.members
		rep, err := runScenario(ctx, step)
		if err != nil {
			return fmt.Errorf("step %d: %w", n, err)
		}
		printReport(stdout, rep)
		reps = append(reps, rep)
	}
	printGrowth(stdout, reps)
	return writeJSON(o.jsonPath, map[string]any{"steps": reps})
}

// printFile prints the tables of results written by --json: one run, or the steps of --steps.
func printFile(path string, w io.Writer) error {
	b, err := os.ReadFile(path)
	if err != nil {
		return err
	}
	var steps struct {
		Steps []*Report `json:"steps"`
	}
	if err := json.Unmarshal(b, &steps); err == nil && len(steps.Steps) > 0 {
		for _, r := range steps.Steps {
			printReport(w, r)
		}
		printGrowth(w, steps.Steps)
		return nil
	}
	var rep Report
	if err := json.Unmarshal(b, &rep); err != nil {
		return err
	}
	printReport(w, &rep)
	return nil
}

func writeJSON(path string, v any) error {
	if path == "" {
		return nil
	}
	b, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		return err
	}
	return os.WriteFile(path, append(b, '\n'), 0o644)
}

// childProc is a running child process and the channel of its replies.
type childProc struct {
	cfg     childConfig
	pid     int
	in      *json.Encoder
	replies chan reply
	done    chan error
}

func progress(format string, args ...any) {
	fmt.Fprintf(os.Stderr, "%s  "+format+"\n", append([]any{time.Now().Format("15:04:05")}, args...)...)
}

// runScenario runs one scenario against a server: set up, connect, idle, play, storm.
func runScenario(ctx context.Context, o options) (*Report, error) {
	bases, pids := append([]string(nil), o.urls...), []int{o.serverPID}
	run := strconv.FormatInt(time.Now().Unix(), 36)
	if o.serve != "" {
		o.slackSecret = newSigningSecret()
		env := append([]string{"SLACK_SIGNING_SECRET=" + o.slackSecret}, o.serveEnv...)
		if o.postgres != "" {
			dbURL, drop, err := freshDatabase(ctx, o.postgres, "pokorload_"+run)
			if err != nil {
				return nil, err
			}
			defer drop()
			env = append(env, "POKOR_DATABASE_URL="+dbURL, "POKOR_SECRET_KEY="+newSigningSecret()+newSigningSecret())
		}
		if o.redis != "" {
			env = append(env, "POKOR_REDIS_URL="+o.redis, "POKOR_REDIS_PREFIX=pokorload:"+run+":")
		}
		bases, pids = nil, nil
		for i := range o.instances {
			logPath := o.serverLog
			if logPath != "" && o.instances > 1 {
				logPath = fmt.Sprintf("%s.%d", logPath, i)
			}
			srv, err := startServer(ctx, o.serve, logPath, o.serveCPUs, env...)
			if err != nil {
				return nil, err
			}
			defer srv.stop()
			bases, pids = append(bases, srv.url), append(pids, srv.pid())
		}
	}
	for len(pids) < len(bases) {
		pids = append(pids, 0)
	}
	base := bases[0]
	var probes []*probe
	for i, b := range bases {
		u, err := url.Parse(b)
		if err != nil {
			return nil, err
		}
		if pids[i] == 0 {
			if pids[i], err = findListener(u.Host); err != nil {
				return nil, err
			}
		}
		probes = append(probes, &probe{pid: pids[i], base: strings.TrimRight(b, "/"), hc: &http.Client{Timeout: 10 * time.Second}})
	}
	u, err := url.Parse(base)
	if err != nil {
		return nil, err
	}
	pr := multiProbe(probes)
	pid := pids[0]
	conns := o.rooms * o.members
	nproc := (conns + o.perProc - 1) / o.perProc
	rep := &Report{
		Machine: machine(), Command: strings.Join(os.Args, " "),
		Connections: conns, Rooms: o.rooms, Members: o.members, Spectators: o.spectators, Processes: nproc,
		Duration: o.duration.String(), VoteRate: o.voteRate, VoteGoalMS: float64(o.voteP99.Milliseconds()),
	}
	progress("%d rooms × %d members = %d connections over %d processes; servers %v at %v", o.rooms, o.members, conns, nproc, pids, bases)

	loopback := false
	if ip := net.ParseIP(u.Hostname()); ip != nil && ip.IsLoopback() || u.Hostname() == "localhost" {
		loopback = true
	}
	var children []*childProc
	defer func() {
		for _, c := range children {
			_ = c.in.Encode(command{Cmd: "close"})
		}
		for _, c := range children {
			select {
			case <-c.done:
			case <-time.After(30 * time.Second):
				if p, err := os.FindProcess(c.pid); err == nil {
					_ = p.Kill()
				}
			}
		}
	}()
	first := 0
	for i := 0; i < nproc; i++ {
		n := o.rooms / nproc
		if i < o.rooms%nproc {
			n++
		}
		cfg := childConfig{
			Index: i, URL: strings.TrimRight(base, "/"), URLs: trimAll(bases), Run: run, FirstRoom: first, Rooms: n, TotalRooms: o.rooms,
			Members: o.members, Spectators: o.spectators, VoteRate: o.voteRate,
			DialConcurrency: max(1, o.dialConcurrency/nproc), SetupConcurrency: o.setupConcurrency,
		}
		if loopback && o.sourceIPs {
			cfg.SourceIP = fmt.Sprintf("127.0.0.%d", 2+i%250)
		}
		first += n
		c, err := spawn(cfg)
		if err != nil {
			return nil, err
		}
		children = append(children, c)
	}
	phase := func(c command, what string) error {
		start := time.Now()
		for _, ch := range children {
			if err := ch.in.Encode(c); err != nil {
				return err
			}
		}
		var errs []error
		for _, ch := range children {
			select {
			case r, ok := <-ch.replies:
				if !ok {
					return fmt.Errorf("%s: child %d exited: %v", what, ch.cfg.Index, <-ch.done)
				}
				if r.Err != "" {
					errs = append(errs, fmt.Errorf("%s: child %d: %s", what, ch.cfg.Index, r.Err))
				}
				if r.Metrics != nil {
					rep.mergeWire(*r.Metrics)
				}
			case <-ctx.Done():
				return ctx.Err()
			}
		}
		progress("%s done in %s", what, time.Since(start).Round(time.Millisecond))
		return errors.Join(errs...)
	}

	if err := phase(command{Cmd: "setup"}, "setup (create sessions, add stories, join)"); err != nil {
		return nil, err
	}
	time.Sleep(time.Second)
	if rep.Server.Baseline, err = pr.sample(ctx); err != nil {
		return nil, fmt.Errorf("reading the server: %w", err)
	}
	if err := phase(command{Cmd: "connect"}, "connect"); err != nil {
		return nil, err
	}
	time.Sleep(o.settle)
	if rep.Server.Idle, err = pr.sample(ctx); err != nil {
		return nil, fmt.Errorf("reading the server: %w", err)
	}
	peak := rep.Server.Idle
	sampleWhile := func(f func() error) (cpuSeconds, genSeconds float64, wall time.Duration, err error) {
		stop := make(chan struct{})
		done := make(chan struct{})
		go func() {
			defer close(done)
			t := time.NewTicker(2 * time.Second)
			defer t.Stop()
			for {
				select {
				case <-stop:
					return
				case <-t.C:
					if s, err := pr.sample(ctx); err == nil && s.RSS > peak.RSS {
						peak = s
					}
				}
			}
		}()
		c0 := pr.cpu()
		g0 := childrenCPU(children)
		start := time.Now()
		err = f()
		wall = time.Since(start)
		c1 := pr.cpu()
		g1 := childrenCPU(children)
		close(stop)
		<-done
		return c1 - c0, g1 - g0, wall, err
	}
	if o.duration > 0 {
		at := time.Now().Add(time.Second)
		progress("playing for %s at %g votes per room per second", o.duration, o.voteRate)
		cpu, gen, wall, err := sampleWhile(func() error {
			return phase(command{Cmd: "play", At: at.UnixNano(), Duration: o.duration}, "play")
		})
		if err != nil {
			return nil, err
		}
		rep.Server.CPUPlay = math.Round(cpu / wall.Seconds() * 100)
		for i, c := range pr.lastCPU {
			pr.insts[i].Server.CPUPlay = math.Round(c / wall.Seconds() * 100)
		}
		rep.Server.GenCPUPlay = math.Round(gen / wall.Seconds() * 100)
	}
	if o.storm {
		if err := phase(command{Cmd: "prepare"}, "prepare the storm (every voter votes)"); err != nil {
			return nil, err
		}
		time.Sleep(time.Second)
		at := time.Now().Add(time.Second)
		if _, _, _, err := sampleWhile(func() error { return phase(command{Cmd: "storm", At: at.UnixNano()}, "reveal storm") }); err != nil {
			return nil, err
		}
	}
	if s, err := pr.sample(ctx); err == nil && s.RSS > peak.RSS {
		peak = s
	}
	rep.Server.Peak = peak
	if o.slashDuration > 0 && o.slackSecret == "" {
		progress("no Slack signing secret (--slack-signing-secret or $SLACK_SIGNING_SECRET): slash commands skipped")
	} else if o.slashDuration > 0 {
		progress("sending /pokor slash commands for %s at %g a second", o.slashDuration, o.slashRate)
		if rep.all == nil {
			rep.all = newMetrics()
		}
		runSlash(ctx, strings.TrimRight(base, "/"), o.slackSecret, o.slashRate, o.slashDuration, rep.all)
		rep.SlashRate = o.slashRate
	}
	if err := phase(command{Cmd: "report"}, "report"); err != nil {
		return nil, err
	}
	if o.duration > 0 {
		rep.VotesPerSecond = math.Round(float64(rep.Latency[hVoteAck].Count) / o.duration.Seconds())
	}
	if len(bases) > 1 {
		rep.Instances = pr.insts
		for i := range rep.Instances {
			rep.Instances[i].URL, rep.Instances[i].PID = bases[i], pids[i]
			rep.Instances[i].Latency = map[string]Summary{}
			for name, s := range rep.Latency {
				if n, ok := strings.CutSuffix(name, fmt.Sprintf("@%d", i)); ok {
					rep.Instances[i].Latency[n] = s
				}
			}
		}
	}
	_ = pid
	rep.finish()
	return rep, nil
}

func trimAll(urls []string) []string {
	out := make([]string, len(urls))
	for i, u := range urls {
		out[i] = strings.TrimRight(u, "/")
	}
	return out
}

// mergeWire adds a child's metrics to the report.
func (rep *Report) mergeWire(w wire) {
	if rep.all == nil {
		rep.all = newMetrics()
	}
	if err := rep.all.merge(w); err != nil {
		progress("merging a child's histograms: %v", err)
	}
	rep.Latency = rep.all.summaries()
	rep.Counts = map[string]int64{}
	rep.all.mu.Lock()
	for k, v := range rep.all.counts {
		rep.Counts[k] = v
	}
	rep.all.mu.Unlock()
}

func childrenCPU(children []*childProc) float64 {
	var s float64
	for _, c := range children {
		v, _ := procCPU(c.pid)
		s += v
	}
	return s
}

func spawn(cfg childConfig) (*childProc, error) {
	exe, err := os.Executable()
	if err != nil {
		return nil, err
	}
	b, _ := json.Marshal(cfg)
	cmd := exec.Command(exe, "--child", string(b))
	stdin, err := cmd.StdinPipe()
	if err != nil {
		return nil, err
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		return nil, err
	}
	cmd.Stderr = os.Stderr
	if err := cmd.Start(); err != nil {
		return nil, err
	}
	c := &childProc{cfg: cfg, pid: cmd.Process.Pid, in: json.NewEncoder(stdin), replies: make(chan reply, 4), done: make(chan error, 1)}
	go func() {
		dec := json.NewDecoder(stdout)
		for {
			var r reply
			if err := dec.Decode(&r); err != nil {
				break
			}
			c.replies <- r
		}
		close(c.replies)
		c.done <- cmd.Wait()
	}()
	return c, nil
}
