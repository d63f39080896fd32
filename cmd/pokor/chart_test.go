package main

import (
	"bytes"
	"errors"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/goccy/go-yaml"

	"github.com/pokor/pokor/session/sessiontest"
)

// The Helm chart is checked with Helm itself (lint, then template with the value sets an operator
// uses), and what it renders against what Pokor and a rolling restart need, the same as
// manifests/kubernetes.

// helmBin finds helm on PATH or where `go install` puts it (.ci/run installs it there).
func helmBin(t *testing.T) string {
	t.Helper()
	if p, err := exec.LookPath("helm"); err == nil {
		return p
	}
	gopath := os.Getenv("GOPATH")
	if gopath == "" {
		home, _ := os.UserHomeDir()
		gopath = filepath.Join(home, "go")
	}
	if p := filepath.Join(gopath, "bin", "helm"); fileExists(p) {
		return p
	}
	if sessiontest.CI() {
		t.Fatal("helm is required with CI=true (.ci/run installs it: go install helm.sh/helm/v3/cmd/helm@v3.21.4)")
	}
	t.Skip("skipping: helm is not installed (go install helm.sh/helm/v3/cmd/helm@v3.21.4, or run .ci/run)")
	return ""
}

func fileExists(p string) bool {
	_, err := os.Stat(p)
	return err == nil
}

func runHelm(t *testing.T, args ...string) (string, error) {
	t.Helper()
	cmd := exec.Command(helmBin(t), args...)
	home := t.TempDir()
	cmd.Env = []string{"PATH=" + os.Getenv("PATH"), "HOME=" + home, "HELM_CACHE_HOME=" + home, "HELM_CONFIG_HOME=" + home, "HELM_DATA_HOME=" + home}
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		err = errors.New(strings.TrimSpace(err.Error() + ": " + stderr.String()))
	}
	return string(out), err
}

// helmObject is the part of a rendered object the tests read.
type helmObject struct {
	Kind     string `yaml:"kind"`
	Metadata struct {
		Name        string            `yaml:"name"`
		Annotations map[string]string `yaml:"annotations"`
	} `yaml:"metadata"`
	Data map[string]string `yaml:"data"`
	Spec struct {
		Replicas     int            `yaml:"replicas"`
		MinAvailable *int           `yaml:"minAvailable"`
		Selector     map[string]any `yaml:"selector"`
		Endpoints    []struct {
			Port string `yaml:"port"`
			Path string `yaml:"path"`
		} `yaml:"endpoints"`
		Rules []struct {
			Host string `yaml:"host"`
		} `yaml:"rules"`
		Template struct {
			Spec podSpec `yaml:"spec"`
		} `yaml:"template"`
	} `yaml:"spec"`
}

func parseObjects(t *testing.T, manifest string) map[string]helmObject {
	t.Helper()
	objs := map[string]helmObject{}
	dec := yaml.NewDecoder(strings.NewReader(manifest))
	for {
		var o helmObject
		err := dec.Decode(&o)
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			t.Fatalf("parsing helm template output: %v\n%s", err, manifest)
		}
		if o.Kind == "" {
			continue
		}
		objs[o.Kind] = o
	}
	return objs
}

// TestHelmChart lints charts/pokor and renders it the ways an operator installs it.
func TestHelmChart(t *testing.T) {
	chart := filepath.Join(repoRoot, "charts", "pokor")
	if out, err := runHelm(t, "lint", "--strict", chart, "-f", filepath.Join(chart, "ci", "existing-secret-values.yaml")); err != nil {
		t.Fatalf("helm lint: %v\n%s", err, out)
	}

	t.Run("existing secret, ingress, service monitor, tracing", func(t *testing.T) {
		out, err := runHelm(t, "template", "poker", chart, "--namespace", "team",
			"--set", "existingSecret=pokor-secrets",
			"--set", "ingress.enabled=true,ingress.hosts[0]=poker.acme.test",
			"--set", "serviceMonitor.enabled=true",
			"--set", "tracing.otlpEndpoint=http://collector:4318",
			"--set", "config.POKOR_BASE_URL=https://poker.acme.test")
		if err != nil {
			t.Fatalf("helm template: %v", err)
		}
		objs := parseObjects(t, out)
		for _, kind := range []string{"ConfigMap", "Deployment", "Service", "PodDisruptionBudget", "Ingress", "ServiceMonitor"} {
			if _, ok := objs[kind]; !ok {
				t.Errorf("no %s rendered", kind)
			}
		}
		if _, ok := objs["Secret"]; ok {
			t.Error("a Secret was rendered although existingSecret is set")
		}
		d := objs["Deployment"].Spec
		if d.Replicas != 2 {
			t.Errorf("%d replicas, want 2", d.Replicas)
		}
		secretRef, configRef := checkPod(t, d.Template.Spec)
		if secretRef != "pokor-secrets" || configRef != objs["ConfigMap"].Metadata.Name {
			t.Errorf("envFrom: secret %q, config map %q", secretRef, configRef)
		}
		if p := objs["PodDisruptionBudget"].Spec.MinAvailable; p == nil || *p != 1 {
			t.Errorf("PodDisruptionBudget minAvailable %v, want 1", p)
		}
		if ep := objs["ServiceMonitor"].Spec.Endpoints; len(ep) != 1 || ep[0].Path != "/metrics" || ep[0].Port != "http" {
			t.Errorf("ServiceMonitor endpoints %+v", ep)
		}
		ing := objs["Ingress"]
		if len(ing.Spec.Rules) != 1 || ing.Spec.Rules[0].Host != "poker.acme.test" ||
			ing.Metadata.Annotations["nginx.ingress.kubernetes.io/proxy-read-timeout"] == "" {
			t.Errorf("Ingress: %+v %v", ing.Spec.Rules, ing.Metadata.Annotations)
		}

		// The pod's environment, with what the operator's Secret holds, is a configuration Pokor
		// accepts, listening on the container port, with tracing on.
		env := map[string]string{
			"POKOR_SECRET_KEY":   "0123456789abcdef0123456789abcdef0123456789abcdef",
			"POKOR_DATABASE_URL": "postgres://pokor:pw@postgres:5432/pokor",
			"POKOR_REDIS_URL":    "redis://:pw@redis:6379/0",
		}
		for k, v := range objs["ConfigMap"].Data {
			env[k] = v
		}
		cfg, err := loadConfig(nil, func(k string) string { return env[k] })
		if err != nil {
			t.Errorf("Pokor refuses the chart's configuration: %v", err)
		}
		if cfg.Get("POKOR_ADDR") != ":8080" || env["OTEL_EXPORTER_OTLP_ENDPOINT"] != "http://collector:4318" {
			t.Errorf("POKOR_ADDR %q, OTEL_EXPORTER_OTLP_ENDPOINT %q", cfg.Get("POKOR_ADDR"), env["OTEL_EXPORTER_OTLP_ENDPOINT"])
		}
	})

	t.Run("what the chart mirrors of manifests/kubernetes", func(t *testing.T) {
		out, err := runHelm(t, "template", "pokor", chart, "--set", "existingSecret=pokor")
		if err != nil {
			t.Fatal(err)
		}
		chartPod := parseObjects(t, out)["Deployment"].Spec.Template.Spec
		b, err := os.ReadFile(filepath.Join(repoRoot, "manifests", "kubernetes", "deployment.yaml"))
		if err != nil {
			t.Fatal(err)
		}
		manifest := parseObjects(t, string(b))["Deployment"].Spec.Template.Spec
		if chartPod.TerminationGracePeriodSeconds != manifest.TerminationGracePeriodSeconds {
			t.Errorf("terminationGracePeriodSeconds: chart %d, manifests %d", chartPod.TerminationGracePeriodSeconds, manifest.TerminationGracePeriodSeconds)
		}
		cc, mc := chartPod.Containers[0], manifest.Containers[0]
		if cc.Lifecycle != mc.Lifecycle || cc.LivenessProbe != mc.LivenessProbe || cc.ReadinessProbe != mc.ReadinessProbe {
			t.Errorf("chart and manifests differ in probes or preStop:\nchart %+v %+v %+v\nmanifests %+v %+v %+v",
				cc.Lifecycle, cc.LivenessProbe, cc.ReadinessProbe, mc.Lifecycle, mc.LivenessProbe, mc.ReadinessProbe)
		}
	})

	t.Run("one replica on SQLite", func(t *testing.T) {
		out, err := runHelm(t, "template", "pokor", chart, "--set", "replicaCount=1,persistence.enabled=true",
			"--set", "secrets.POKOR_SECRET_KEY=0123456789abcdef0123456789abcdef0123")
		if err != nil {
			t.Fatal(err)
		}
		objs := parseObjects(t, out)
		if _, ok := objs["PersistentVolumeClaim"]; !ok {
			t.Error("no PersistentVolumeClaim")
		}
		if objs["ConfigMap"].Data["POKOR_DATABASE_URL"] != "sqlite:/data/pokor.db" {
			t.Errorf("database %q", objs["ConfigMap"].Data["POKOR_DATABASE_URL"])
		}
		if _, ok := objs["Secret"]; !ok {
			t.Error("no Secret made from secrets.*")
		}
		if p := objs["PodDisruptionBudget"].Spec.MinAvailable; p != nil {
			t.Errorf("a single replica with minAvailable %d blocks node drains", *p)
		}
	})

	// Configurations that cannot work are refused with the value to change.
	for _, c := range []struct {
		name string
		set  []string
		want string
	}{
		{"no secret", nil, "set existingSecret"},
		{"short key", []string{"secrets.POKOR_SECRET_KEY=short"}, "at least 32 characters"},
		{"SQLite with two replicas", []string{"existingSecret=x,persistence.enabled=true"}, "replicaCount: 1"},
		{"two replicas without Redis", []string{"secrets.POKOR_SECRET_KEY=0123456789abcdef0123456789abcdef0123,secrets.POKOR_DATABASE_URL=postgres://db/pokor"}, "needs Redis"},
		{"listen address", []string{"existingSecret=x,config.POKOR_ADDR=:9090"}, "config.POKOR_ADDR"},
	} {
		t.Run("refused: "+c.name, func(t *testing.T) {
			args := []string{"template", "pokor", chart}
			for _, s := range c.set {
				args = append(args, "--set", s)
			}
			_, err := runHelm(t, args...)
			if err == nil || !strings.Contains(err.Error(), c.want) {
				t.Errorf("helm template %v: %v, want an error saying %q", c.set, err, c.want)
			}
		})
	}
}
