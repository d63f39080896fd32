package main

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/goccy/go-yaml"

	"github.com/pokor/pokor/session/sessiontest"
)

// The deployment files are checked here without a container engine: the compose file by
// docker-compose itself, the Kubernetes manifests by parsing them, and what the image runs by
// running the same binary with the image's configuration.

const repoRoot = "../.."

// needTool returns the path of a command, skipping the test outside CI when it is missing.
func needTool(t *testing.T, name string) string {
	t.Helper()
	path, err := exec.LookPath(name)
	if err != nil {
		if sessiontest.CI() {
			t.Fatalf("%s is required with CI=true (.ci/run installs it): %v", name, err)
		}
		t.Skipf("skipping: %s is not installed (apt-get install %s)", name, name)
	}
	return path
}

// composeEnv is what an operator's .env holds.
var composeEnv = map[string]string{
	"POKOR_BASE_URL":    "https://poker.example.com",
	"POKOR_SECRET_KEY":  "0123456789abcdef0123456789abcdef0123456789abcdef",
	"POSTGRES_PASSWORD": "5f2b6c1d9e",
	"REDIS_PASSWORD":    "8a7c3e21f0",
}

func runCompose(t *testing.T, env map[string]string, args ...string) ([]byte, error) {
	t.Helper()
	file, err := filepath.Abs(filepath.Join(repoRoot, "docker-compose.yml"))
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(needTool(t, "docker-compose"), append([]string{"-f", file}, args...)...)
	cmd.Dir = t.TempDir() // no .env there: every value comes from env
	cmd.Env = []string{"PATH=" + os.Getenv("PATH"), "HOME=" + t.TempDir()}
	for k, v := range env {
		cmd.Env = append(cmd.Env, k+"="+v)
	}
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		err = fmt.Errorf("%w: %s", err, stderr.String())
	}
	return out, err
}

type composeFile struct {
	Services map[string]struct {
		Image       string            `yaml:"image"`
		Ports       []any             `yaml:"ports"`
		Environment map[string]string `yaml:"environment"`
		Networks    map[string]any    `yaml:"networks"`
		Healthcheck struct {
			Test []string `yaml:"test"`
		} `yaml:"healthcheck"`
		StopGracePeriod string `yaml:"stop_grace_period"`
		Volumes         []any  `yaml:"volumes"`
	} `yaml:"services"`
	Networks map[string]struct {
		Internal bool `yaml:"internal"`
	} `yaml:"networks"`
}

// TestComposeConfig checks docker-compose.yml with docker-compose itself, then what it says: only
// Caddy publishes ports, PostgreSQL and Redis are on an internal network, both Pokor slots get a
// configuration Pokor accepts.
func TestComposeConfig(t *testing.T) {
	if _, err := runCompose(t, composeEnv, "config", "-q"); err != nil {
		t.Fatalf("docker-compose config -q: %v", err)
	}
	out, err := runCompose(t, composeEnv, "config")
	if err != nil {
		t.Fatal(err)
	}
	var cf composeFile
	if err := yaml.Unmarshal(out, &cf); err != nil {
		t.Fatalf("parsing the resolved compose file: %v", err)
	}
	for _, name := range []string{"caddy", "pokor-blue", "pokor-green", "postgres", "redis"} {
		if _, ok := cf.Services[name]; !ok {
			t.Errorf("no service %s", name)
		}
	}
	for name, svc := range cf.Services {
		if name != "caddy" && len(svc.Ports) > 0 {
			t.Errorf("%s publishes ports %v; only Caddy may", name, svc.Ports)
		}
	}
	if !cf.Networks["back"].Internal {
		t.Error(`the "back" network is not internal`)
	}
	for _, name := range []string{"postgres", "redis"} {
		if _, front := cf.Services[name].Networks["front"]; front || len(cf.Services[name].Networks) != 1 {
			t.Errorf("%s is on networks %v, want only back", name, cf.Services[name].Networks)
		}
	}
	for _, name := range []string{"pokor-blue", "pokor-green"} {
		svc := cf.Services[name]
		if strings.Join(svc.Healthcheck.Test, " ") != "CMD /pokor healthcheck" {
			t.Errorf("%s healthcheck: %v", name, svc.Healthcheck.Test)
		}
		if svc.StopGracePeriod == "" {
			t.Errorf("%s has no stop_grace_period", name)
		}
		cfg, err := loadConfig(nil, func(k string) string { return svc.Environment[k] })
		if err != nil {
			t.Errorf("%s: Pokor refuses the compose configuration: %v", name, err)
			continue
		}
		if !strings.HasPrefix(cfg.Get("POKOR_DATABASE_URL"), "postgres://pokor:"+composeEnv["POSTGRES_PASSWORD"]+"@postgres:5432/") ||
			cfg.Get("POKOR_REDIS_URL") != "redis://:"+composeEnv["REDIS_PASSWORD"]+"@redis:6379/0" {
			t.Errorf("%s: database %s, redis %s", name, cfg.Get("POKOR_DATABASE_URL"), cfg.Get("POKOR_REDIS_URL"))
		}
		if d, _ := cfg.Duration("POKOR_SHUTDOWN_DELAY"); d <= 0 {
			t.Errorf("%s: no shutdown delay behind Caddy", name)
		}
	}

	// Without the operator's secrets compose refuses to start, naming what is missing.
	_, err = runCompose(t, map[string]string{"POKOR_BASE_URL": "https://poker.example.com"}, "config", "-q")
	if err == nil || !strings.Contains(err.Error(), "in .env") {
		t.Errorf("docker-compose config without secrets: %v", err)
	}
}

type k8sObject struct {
	APIVersion string `yaml:"apiVersion"`
	Kind       string `yaml:"kind"`
	Metadata   struct {
		Name        string            `yaml:"name"`
		Annotations map[string]string `yaml:"annotations"`
	} `yaml:"metadata"`
	Data       map[string]string `yaml:"data"`
	StringData map[string]string `yaml:"stringData"`
	Spec       struct {
		Replicas int `yaml:"replicas"`
		Template struct {
			Spec podSpec `yaml:"spec"`
		} `yaml:"template"`
		Rules []struct {
			Host string `yaml:"host"`
		} `yaml:"rules"`
	} `yaml:"spec"`
}

// podSpec is the part of a Deployment's pod that the Kubernetes manifests and the Helm chart
// must both get right (checkPod).
type podSpec struct {
	TerminationGracePeriodSeconds int `yaml:"terminationGracePeriodSeconds"`
	SecurityContext               struct {
		RunAsNonRoot bool `yaml:"runAsNonRoot"`
	} `yaml:"securityContext"`
	Containers []struct {
		Image string `yaml:"image"`
		Ports []struct {
			ContainerPort int `yaml:"containerPort"`
		} `yaml:"ports"`
		LivenessProbe  probe `yaml:"livenessProbe"`
		ReadinessProbe probe `yaml:"readinessProbe"`
		Lifecycle      struct {
			PreStop struct {
				Sleep struct {
					Seconds int `yaml:"seconds"`
				} `yaml:"sleep"`
			} `yaml:"preStop"`
		} `yaml:"lifecycle"`
		EnvFrom []struct {
			ConfigMapRef *struct{ Name string } `yaml:"configMapRef"`
			SecretRef    *struct{ Name string } `yaml:"secretRef"`
		} `yaml:"envFrom"`
	} `yaml:"containers"`
}

// checkPod checks what a rolling restart relies on: time to drain, a non-root pod with one
// container, the probes on /healthz and /readyz, a preStop sleep while the endpoints update, and
// port 8080. It returns the names of the Secret and the ConfigMap the container takes its
// environment from.
func checkPod(t *testing.T, pod podSpec) (secretRef, configRef string) {
	t.Helper()
	if pod.TerminationGracePeriodSeconds < 30 || !pod.SecurityContext.RunAsNonRoot || len(pod.Containers) != 1 {
		t.Fatalf("pod spec: %+v", pod)
	}
	c := pod.Containers[0]
	if c.LivenessProbe.HTTPGet.Path != "/healthz" || c.ReadinessProbe.HTTPGet.Path != "/readyz" {
		t.Errorf("probes: liveness %q, readiness %q", c.LivenessProbe.HTTPGet.Path, c.ReadinessProbe.HTTPGet.Path)
	}
	if c.Lifecycle.PreStop.Sleep.Seconds <= 0 {
		t.Error("no preStop sleep")
	}
	if len(c.Ports) != 1 || c.Ports[0].ContainerPort != 8080 {
		t.Errorf("container ports %+v, want 8080", c.Ports)
	}
	for _, e := range c.EnvFrom {
		if e.SecretRef != nil {
			secretRef = e.SecretRef.Name
		}
		if e.ConfigMapRef != nil {
			configRef = e.ConfigMapRef.Name
		}
	}
	return secretRef, configRef
}

type probe struct {
	HTTPGet struct {
		Path string `yaml:"path"`
	} `yaml:"httpGet"`
}

// TestKubernetesManifests parses every manifest and checks what a rolling restart relies on.
func TestKubernetesManifests(t *testing.T) {
	files, err := filepath.Glob(filepath.Join(repoRoot, "manifests", "kubernetes", "*.yaml"))
	if err != nil || len(files) == 0 {
		t.Fatalf("no manifests: %v", err)
	}
	objs := map[string]k8sObject{}
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		dec := yaml.NewDecoder(bytes.NewReader(b))
		for {
			var o k8sObject
			err := dec.Decode(&o)
			if errors.Is(err, io.EOF) {
				break
			}
			if err != nil {
				t.Fatalf("%s: %v", filepath.Base(f), err)
			}
			if o.Kind == "" || o.APIVersion == "" {
				t.Errorf("%s: a document without kind or apiVersion", filepath.Base(f))
				continue
			}
			objs[o.Kind] = o
		}
	}
	for _, kind := range []string{"Namespace", "Secret", "ConfigMap", "Deployment", "Service", "Ingress", "PodDisruptionBudget", "Kustomization"} {
		if _, ok := objs[kind]; !ok {
			t.Errorf("no %s in manifests/kubernetes", kind)
		}
	}
	d := objs["Deployment"].Spec
	if d.Replicas < 2 {
		t.Errorf("%d replicas, want 2 or more", d.Replicas)
	}
	if secret, config := checkPod(t, d.Template.Spec); secret == "" || config == "" {
		t.Errorf("envFrom: secret %q, config map %q", secret, config)
	}
	ann := objs["Ingress"].Metadata.Annotations
	if ann["nginx.ingress.kubernetes.io/proxy-read-timeout"] == "" || ann["nginx.ingress.kubernetes.io/proxy-send-timeout"] == "" {
		t.Errorf("the Ingress does not lengthen the proxy timeouts WebSockets need: %v", ann)
	}
	// The pod's environment (ConfigMap + Secret) is a configuration Pokor accepts.
	env := map[string]string{}
	for k, v := range objs["ConfigMap"].Data {
		env[k] = v
	}
	for k, v := range objs["Secret"].StringData {
		env[k] = v
	}
	if _, err := loadConfig(nil, func(k string) string { return env[k] }); err != nil {
		t.Errorf("Pokor refuses the Kubernetes configuration: %v", err)
	}
	if _, err := exec.LookPath("kubectl"); err == nil {
		if out, err := exec.Command("kubectl", "kustomize", filepath.Join(repoRoot, "manifests", "kubernetes")).CombinedOutput(); err != nil {
			t.Errorf("kubectl kustomize: %v\n%s", err, out)
		}
	}
}

// dockerfile reads the final stage's ENV settings and HEALTHCHECK command.
func dockerfile(t *testing.T) (env map[string]string, health []string, user string) {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(repoRoot, "Dockerfile"))
	if err != nil {
		t.Fatal(err)
	}
	// Join continued lines, then keep the last stage.
	text := strings.ReplaceAll(string(b), "\\\n", " ")
	stages := strings.Split(text, "\nFROM ")
	last := stages[len(stages)-1]
	env = map[string]string{}
	sc := bufio.NewScanner(strings.NewReader(last))
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		switch {
		case strings.HasPrefix(line, "ENV "):
			for _, kv := range strings.Fields(strings.TrimPrefix(line, "ENV ")) {
				k, v, _ := strings.Cut(kv, "=")
				env[k] = v
			}
		case strings.HasPrefix(line, "HEALTHCHECK "):
			_, cmd, _ := strings.Cut(line, " CMD ")
			if err := yaml.Unmarshal([]byte(cmd), &health); err != nil {
				t.Fatalf("HEALTHCHECK CMD %s: %v", cmd, err)
			}
		case strings.HasPrefix(line, "USER "):
			user = strings.TrimPrefix(line, "USER ")
		}
	}
	return env, health, user
}

func freePort(t *testing.T) string {
	t.Helper()
	// On every interface, as Caddy binds it: a port free on the loopback only may not be.
	ln, err := net.Listen("tcp", ":0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	_, port, _ := net.SplitHostPort(ln.Addr().String())
	return port
}

// TestImageConfiguration runs the binary the way the image does: its ENV (the /data volume
// mapped to a temp dir), its HEALTHCHECK command, and SIGTERM to stop.
func TestImageConfiguration(t *testing.T) {
	env, health, user := dockerfile(t)
	if env["POKOR_DATABASE_URL"] != "sqlite:/data/pokor.db" || env["POKOR_ADDR"] != ":8080" {
		t.Fatalf("the image's ENV: %v", env)
	}
	if len(health) < 2 || health[0] != "/pokor" || health[1] != "healthcheck" {
		t.Fatalf("HEALTHCHECK CMD %v, want /pokor healthcheck", health)
	}
	if user == "" || strings.HasPrefix(user, "0") || user == "root" {
		t.Errorf("the image runs as %q, want a non-root user", user)
	}
	data := t.TempDir()
	run := map[string]string{}
	for k, v := range env {
		run[k] = strings.ReplaceAll(v, "/data", data)
	}
	run["POKOR_ADDR"] = ":0" // every interface, as in the image, on a port of the system's choosing
	p := startPokor(t, "image", run)
	_, port, _ := net.SplitHostPort(p.addr)
	run["POKOR_ADDR"] = ":" + port // what the image's healthcheck sees: POKOR_ADDR=:8080
	cmdEnv := []string{"PATH=" + os.Getenv("PATH")}
	for k, v := range run {
		cmdEnv = append(cmdEnv, k+"="+v)
	}
	hc := exec.Command(pokorBin, health[1:]...)
	hc.Env = cmdEnv
	if out, err := hc.CombinedOutput(); err != nil {
		t.Errorf("the HEALTHCHECK command failed on a healthy server: %v\n%s", err, out)
	}
	ready := exec.Command(pokorBin, "healthcheck", "--ready")
	ready.Env = cmdEnv
	if out, err := ready.CombinedOutput(); err != nil || !strings.Contains(string(out), "ready") {
		t.Errorf("pokor healthcheck --ready: %v %s", err, out)
	}
	for _, f := range []string{"pokor.db", "secret.key"} {
		if _, err := os.Stat(filepath.Join(data, f)); err != nil {
			t.Errorf("the data volume has no %s: %v", f, err)
		}
	}
	p.terminate()
	if err := p.wait(20 * time.Second); err != nil {
		t.Errorf("exit after SIGTERM: %v", err)
	}
	hc = exec.Command(pokorBin, health[1:]...)
	hc.Env = cmdEnv
	if err := hc.Run(); err == nil {
		t.Error("the HEALTHCHECK command succeeded with the server stopped")
	}
}

// TestCaddyInFront puts Caddy, with Caddyfile, in front of two instances and stops one in
// the middle of a round: the team reconnects through Caddy to the other and finishes the round.
func TestCaddyInFront(t *testing.T) {
	caddy := needTool(t, "caddy")
	env := clusterEnv(t)
	env["POKOR_SHUTDOWN_DELAY"] = "3s" // longer than Caddy's health_interval, as in the compose file
	blue, green := startPokor(t, "blue", env), startPokor(t, "green", env)
	blue.waitReady()
	green.waitReady()

	b, err := os.ReadFile(filepath.Join(repoRoot, "Caddyfile"))
	if err != nil {
		t.Fatal(err)
	}
	conf := strings.NewReplacer("pokor-blue:8080", blue.addr, "pokor-green:8080", green.addr).Replace(string(b))
	port := freePort(t)
	dir := t.TempDir()
	path := filepath.Join(dir, "Caddyfile")
	// The admin API is off so that parallel runs on one machine do not fight over its port.
	if err := os.WriteFile(path, []byte("{\n\tadmin off\n}\n\n"+conf), 0o600); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(caddy, "run", "--config", path, "--adapter", "caddyfile")
	cmd.Env = []string{"PATH=" + os.Getenv("PATH"), "HOME=" + dir, "XDG_DATA_HOME=" + dir, "XDG_CONFIG_HOME=" + dir,
		"POKOR_SITE=http://127.0.0.1:" + port}
	var logs bytes.Buffer
	cmd.Stdout, cmd.Stderr = &logs, &logs
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
		if t.Failed() {
			t.Logf("caddy:\n%s", logs.String())
		}
	})
	front := &proc{t: t, name: "caddy", addr: "127.0.0.1:" + port, done: make(chan struct{})}
	front.waitReady()

	org := createSession(t, front, "Olga", nil)
	people := []*person{org}
	for _, name := range []string{"Ann", "Bob", "Cid", "Dee"} {
		people = append(people, joinSession(t, front, org.sid, name))
	}
	st := addStory(t, org, front, "Through Caddy")
	for _, c := range people {
		c.connect(front)
	}
	vote(people[1], st, "3")
	vote(people[2], st, "5")
	org.waitCount("voted", st, 2)
	if blue.logs() == "" || green.logs() == "" {
		t.Fatal("no logs")
	}

	blue.terminate()
	if err := blue.wait(30 * time.Second); err != nil {
		t.Errorf("blue after SIGTERM: %v", err)
	}
	// Clients of blue were told to reconnect before it exited; they come back through Caddy,
	// which sends them to green. Clients of green noticed nothing.
	moved := 0
	for _, c := range people {
		if c.count("reconnect", "") > 0 {
			moved++
			c.closed()
			c.connect(front)
		}
	}
	t.Logf("%d of %d clients were on blue and moved", moved, len(people))
	vote(people[3], st, "8")
	vote(people[4], st, "8")
	org.request("reveal", map[string]any{"story_id": st})
	want := map[string]string{people[1].id: "3", people[2].id: "5", people[3].id: "8", people[4].id: "8"}
	for _, c := range people {
		c.waitCount("revealed", st, 1)
		if got := revealedCards(c.lastData("revealed", st)); !equalMaps(got, want) {
			t.Errorf("%s saw %v, want %v", c.name, got, want)
		}
	}
	if code, body := front.get("/readyz"); code != http.StatusOK {
		t.Errorf("through Caddy with one instance left: %d %s", code, body)
	}
}
