package kubernetes

import (
	"bytes"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	autoscalingv2 "k8s.io/api/autoscaling/v2"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	"k8s.io/apimachinery/pkg/util/intstr"
	"sigs.k8s.io/kustomize/api/types"
	"sigs.k8s.io/yaml"

	"github.com/cloudpartners/onboarding/internal/config"
	"github.com/cloudpartners/onboarding/internal/testenv"
)

// newChecker reads every binary's declared variables from
// docs/configuration.md, which each binary's own test keeps equal to what
// it reads (testenv.RequireDocumented).
func newChecker(t *testing.T) *checker {
	t.Helper()
	k := &checker{declared: map[string]map[string]string{}}
	for binary := range binaries {
		k.declared[binary] = map[string]string{}
		for _, v := range testenv.DocumentedVars(t, binary) {
			k.declared[binary][v.Name] = v.Default
		}
	}
	return k
}

// rendered is an overlay rendered and decoded afresh: each case of the
// attack table mutates its own copy.
func rendered(t *testing.T, overlay string) *manifest {
	t.Helper()
	out, ok := renders.Load(overlay)
	if !ok {
		b, err := Render(overlay)
		if err != nil {
			t.Fatal(err)
		}
		out, _ = renders.LoadOrStore(overlay, b)
	}
	return decodeOverlay(t, overlay, out.([]byte))
}

// renders are the overlays rendered once: kustomize takes a while, and the
// attack table decodes a fresh copy for each case.
var renders sync.Map

func decodeOverlay(t *testing.T, overlay string, out []byte) *manifest {
	t.Helper()
	b, err := tree.ReadFile("overlays/" + overlay + "/kustomization.yaml")
	if err != nil {
		t.Fatal(err)
	}
	var kust types.Kustomization
	if err := yaml.UnmarshalStrict(b, &kust); err != nil {
		t.Fatalf("overlays/%s/kustomization.yaml: %v", overlay, err)
	}
	m, err := decode(overlay, out, kust.Images)
	if err != nil {
		t.Fatalf("overlay %s: %v", overlay, err)
	}
	return m
}

// TestOverlaysKeepTheRules renders every overlay with kustomize's API,
// decodes each document strictly into the Kubernetes API types (KEDA's
// into ours) and checks every rule.
func TestOverlaysKeepTheRules(t *testing.T) {
	k := newChecker(t)
	for _, overlay := range Overlays() {
		t.Run(overlay, func(t *testing.T) {
			m := rendered(t, overlay)
			if err := joinErrs(k.check(m)); err != nil {
				t.Errorf("overlay %s breaks the rules:\n%v", overlay, err)
			}
			var names []string
			for _, d := range m.deployments {
				names = append(names, d.Name)
			}
			if got := strings.Join(names, ","); got != "worker,webhook,portal,codecserver" {
				t.Errorf("Deployments %s, want every tier", got)
			}
			tiers := 4 // a Service and a PodDisruptionBudget each; podman plays neither
			if overlay == "local" {
				tiers = 0
			}
			if len(m.jobs) != 1 || len(m.pdbs) != tiers || len(m.services) != tiers || len(m.secrets) != 1 {
				t.Errorf("%d jobs, %d PDBs, %d Services, %d Secrets", len(m.jobs), len(m.pdbs), len(m.services), len(m.secrets))
			}
		})
	}
	if m := rendered(t, "production"); len(m.hpas) != 2 || len(m.scaledObjects) != 1 {
		t.Errorf("production: %d HPAs and %d ScaledObjects, want one HPA per HTTP tier and KEDA's for the workers", len(m.hpas), len(m.scaledObjects))
	}
}

// kubectl apply -k reads the directories on disk; the renderer reads the
// same files embedded in it: both give the same manifests.
func TestRenderDirIsTheEmbeddedOverlay(t *testing.T) {
	for _, overlay := range Overlays() {
		embedded, err := Render(overlay)
		if err != nil {
			t.Fatal(err)
		}
		disk, err := RenderDir(filepath.Join("overlays", overlay))
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(embedded, disk) {
			t.Errorf("overlay %s renders differently from disk", overlay)
		}
	}
	if _, err := Render("staging"); err == nil || !strings.Contains(err.Error(), `no overlay "staging"`) {
		t.Errorf("an unknown overlay: %v", err)
	}
}

// The local overlay's credentials are the binaries' development defaults,
// those of the stack's own binaries, codec server and Web UI.
func TestLocalSecretsAreTheDevelopmentDefaults(t *testing.T) {
	m := rendered(t, "local")
	s := m.secret("onboarding-secrets")
	for key, want := range map[string]string{
		"DATABASE_URL": config.DefaultDatabaseURL, "MIGRATE_DATABASE_URL": config.DefaultDatabaseURL,
		"PAYLOAD_KEYS": config.DevPayloadKey, "ONBOARDING_SECRET": config.DevSecret, "LOGIN_HOOK_SECRET": config.DevSecret + "-login",
	} {
		if got, _ := secretValue(s, key); got != want {
			t.Errorf("local %s = %q, want the development default %q", key, got, want)
		}
	}
}

// TestStrictDecoding: a misspelt field, a duplicated one or an unknown
// kind is refused, not dropped.
func TestStrictDecoding(t *testing.T) {
	for name, doc := range map[string]string{
		"unknown field": "apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: x}\nspec:\n  replica: 2\n",
		"nested typo": "apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: x}\nspec:\n  template:\n    spec:\n      containers:\n" +
			"        - name: x\n          readinesProbe: {}\n",
		"duplicate field":   "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: x}\nmetadata: {name: y}\n",
		"unknown kind":      "apiVersion: v1\nkind: Pod\nmetadata: {name: x}\n",
		"keda unknown":      "apiVersion: keda.sh/v1alpha1\nkind: ScaledObject\nmetadata: {name: x}\nspec:\n  scaleTargetRef: {name: worker}\n  minReplicas: 2\n",
		"old autoscaling":   "apiVersion: autoscaling/v1\nkind: HorizontalPodAutoscaler\nmetadata: {name: x}\n",
		"wrong value types": "apiVersion: v1\nkind: Service\nmetadata: {name: x}\nspec:\n  ports: {name: http}\n",
	} {
		if _, err := decode("test", []byte(doc), nil); err == nil {
			t.Errorf("%s: decoded", name)
		}
	}
}

func container(m *manifest, deployment string) *corev1.Container {
	return &m.deployment(deployment).Spec.Template.Spec.Containers[0]
}

func ptr[T any](v T) *T { return &v }

// TestEveryRuleRefuses feeds the checker manifests that each break one
// rule, and wants each refused by that rule's name: the checks can fail.
func TestEveryRuleRefuses(t *testing.T) {
	k := newChecker(t)
	for _, tc := range []struct {
		name, overlay, rule, says string
		breakIt                   func(m *manifest)
	}{
		{"no readiness probe", "production", ruleProbes, "no readiness probe", func(m *manifest) { container(m, "webhook").ReadinessProbe = nil }},
		{"no liveness probe", "local", ruleProbes, "no liveness probe", func(m *manifest) { container(m, "worker").LivenessProbe = nil }},
		{"a path not served", "production", ruleProbes, "/live", func(m *manifest) { container(m, "portal").LivenessProbe.HTTPGet.Path = "/live" }},
		{"readiness on /healthz", "production", ruleProbes, "want /readyz", func(m *manifest) { container(m, "codecserver").ReadinessProbe.HTTPGet.Path = "/healthz" }},
		{"probe on another port", "production", ruleProbes, "port 9999", func(m *manifest) {
			container(m, "worker").ReadinessProbe.HTTPGet.Port = intstr.FromInt32(9999)
		}},
		{"listener moved, port not", "production", ruleProbes, "listens on 0.0.0.0:9000", func(m *manifest) { m.configMap(settingsOf(m, "webhook")).Data["WEBHOOK_ADDR"] = "0.0.0.0:9000" }},
		{"listener on loopback in a cluster", "production", ruleProbes, "cannot reach", func(m *manifest) {
			m.configMap(settingsOf(m, "worker")).Data["WORKER_ADDR"] = "127.0.0.1:9464"
		}},
		{"no memory limit", "production", ruleResources, "no memory request and limit", func(m *manifest) { delete(container(m, "worker").Resources.Limits, corev1.ResourceMemory) }},
		{"no cpu request on the job", "production", ruleResources, "no cpu request", func(m *manifest) {
			delete(m.jobs[0].Spec.Template.Spec.Containers[0].Resources.Requests, corev1.ResourceCPU)
		}},
		{"request above limit", "local", ruleResources, "above its limit", func(m *manifest) {
			container(m, "portal").Resources.Requests[corev1.ResourceMemory] = resource.MustParse("1Gi")
		}},
		{"root", "production", ruleSecurity, "65532", func(m *manifest) { container(m, "portal").SecurityContext.RunAsUser = ptr(int64(0)) }},
		{"runAsNonRoot off", "production", ruleSecurity, "runAsNonRoot", func(m *manifest) {
			c := container(m, "worker")
			c.SecurityContext.RunAsNonRoot = ptr(false)
		}},
		{"writable root", "local", ruleSecurity, "read-only", func(m *manifest) { container(m, "webhook").SecurityContext.ReadOnlyRootFilesystem = ptr(false) }},
		{"escalation", "production", ruleSecurity, "allowPrivilegeEscalation", func(m *manifest) {
			m.jobs[0].Spec.Template.Spec.Containers[0].SecurityContext.AllowPrivilegeEscalation = nil
		}},
		{"a capability kept", "production", ruleSecurity, "capabilities", func(m *manifest) {
			container(m, "codecserver").SecurityContext.Capabilities.Add = []corev1.Capability{"NET_BIND_SERVICE"}
		}},
		{"capabilities not dropped", "production", ruleSecurity, "capabilities", func(m *manifest) { container(m, "worker").SecurityContext.Capabilities = nil }},
		{"no seccomp", "production", ruleSecurity, "seccomp", func(m *manifest) {
			container(m, "webhook").SecurityContext.SeccompProfile = nil
			m.deployment("webhook").Spec.Template.Spec.SecurityContext.SeccompProfile = nil
		}},
		{"no securityContext", "production", ruleSecurity, "no securityContext", func(m *manifest) { container(m, "portal").SecurityContext = nil }},
		{"database URL in a ConfigMap", "production", ruleSecrets, "ConfigMap worker-settings", func(m *manifest) {
			m.configMap(settingsOf(m, "worker")).Data["DATABASE_URL"] = "postgres://app:pw@db/onboarding"
		}},
		{"a literal link secret", "production", ruleSecrets, "ONBOARDING_SECRET comes from a literal", func(m *manifest) {
			c := container(m, "webhook")
			for i := range c.Env {
				if c.Env[i].Name == "ONBOARDING_SECRET" {
					c.Env[i] = corev1.EnvVar{Name: "ONBOARDING_SECRET", Value: "0123456789abcdef0123456789abcdef"}
				}
			}
		}},
		{"a literal API key", "production", ruleSecrets, "TEMPORAL_API_KEY comes from a literal", func(m *manifest) {
			c := container(m, "portal")
			for i := range c.Env {
				if c.Env[i].Name == "TEMPORAL_API_KEY" {
					c.Env[i] = corev1.EnvVar{Name: "TEMPORAL_API_KEY", Value: "eyJhbGciOi"}
				}
			}
		}},
		{"SMTP password in a ConfigMap", "local", ruleSecrets, "SMTP_PASSWORD", func(m *manifest) { m.configMap(settingsOf(m, "worker")).Data["SMTP_PASSWORD"] = "x" }},
		{"a missing Secret", "production", ruleReferences, `Secret "onboarding-credentials"`, func(m *manifest) {
			container(m, "worker").Env[0].ValueFrom.SecretKeyRef.Name = "onboarding-credentials"
		}},
		{"a missing key", "local", ruleReferences, `no such key`, func(m *manifest) { container(m, "codecserver").Env[0].ValueFrom.SecretKeyRef.Key = "CODEC_KEYS" }},
		{"a missing ConfigMap", "production", ruleReferences, "envFrom ConfigMap", func(m *manifest) { container(m, "portal").EnvFrom[0].ConfigMapRef.Name = "portal-config" }},
		{"KEDA's Secret missing", "production", ruleReferences, "TriggerAuthentication temporal", func(m *manifest) { m.triggerAuths[0].Spec.SecretTargetRef[0].Key = "API_KEY" }},
		{"KEDA's authentication missing", "production", ruleReferences, `TriggerAuthentication "temporal-cloud"`, func(m *manifest) {
			m.scaledObjects[0].Spec.Triggers[0].AuthenticationRef.Name = "temporal-cloud"
		}},
		{"a misspelt variable", "production", ruleVariables, "TEMPORAL_ADRESS", func(m *manifest) { m.configMap(settingsOf(m, "webhook")).Data["TEMPORAL_ADRESS"] = "x:7233" }},
		{"another binary's variable", "local", ruleVariables, "SMTP_ADDR", func(m *manifest) { m.configMap(settingsOf(m, "portal")).Data["SMTP_ADDR"] = "127.0.0.1:1025" }},
		{"the job given the worker's settings", "production", ruleVariables, "WORKFLOW_CACHE_SIZE", func(m *manifest) {
			m.jobs[0].Spec.Template.Spec.Containers[0].EnvFrom[0].ConfigMapRef.Name = settingsOf(m, "worker")
		}},
		{"grace below the drain", "production", ruleGrace, "DRAIN_DELAY 15s", func(m *manifest) {
			m.deployment("webhook").Spec.Template.Spec.TerminationGracePeriodSeconds = ptr(int64(30))
		}},
		{"drain raised, grace not", "production", ruleGrace, "DRAIN_DELAY 30s", func(m *manifest) { m.configMap(settingsOf(m, "portal")).Data["DRAIN_DELAY"] = "30s" }},
		{"grace below the worker's stop", "production", ruleGrace, "WORKER_STOP_TIMEOUT", func(m *manifest) {
			m.deployment("worker").Spec.Template.Spec.TerminationGracePeriodSeconds = ptr(int64(20))
		}},
		{"the default grace below a long stop", "local", ruleGrace, "WORKER_STOP_TIMEOUT 1m0s", func(m *manifest) {
			m.deployment("worker").Spec.Template.Spec.TerminationGracePeriodSeconds = nil
			m.configMap(settingsOf(m, "worker")).Data["WORKER_STOP_TIMEOUT"] = "1m"
		}},
		{"a PDB of nothing", "production", ruleSelectors, "PodDisruptionBudget worker", func(m *manifest) {
			for _, p := range m.pdbs {
				if p.Name == "worker" {
					p.Spec.Selector.MatchLabels["app.kubernetes.io/name"] = "workers"
				}
			}
		}},
		{"an HPA of nothing", "production", ruleSelectors, "HorizontalPodAutoscaler portal", func(m *manifest) { hpa(m, "portal").Spec.ScaleTargetRef.Name = "portals" }},
		{"an HPA of a StatefulSet", "production", ruleSelectors, "StatefulSet", func(m *manifest) { hpa(m, "webhook").Spec.ScaleTargetRef.Kind = "StatefulSet" }},
		{"KEDA scaling nothing", "production", ruleSelectors, "ScaledObject worker", func(m *manifest) { m.scaledObjects[0].Spec.ScaleTargetRef.Name = "workers" }},
		{"a Service of nothing", "production", ruleSelectors, "Service webhook", func(m *manifest) { service(m, "webhook").Spec.Selector = map[string]string{"app": "webhook"} }},
		{"a Service to no port", "production", ruleSelectors, `target port "web"`, func(m *manifest) { service(m, "portal").Spec.Ports[0].TargetPort = intstr.FromString("web") }},
		{"an unpinned image", "production", ruleImages, "not pinned", func(m *manifest) { container(m, "worker").Image = "registry.example.com/onboarding/worker:1.2.3" }},
		{"latest", "local", ruleImages, "latest", func(m *manifest) {
			m.images[0].NewTag = "latest"
			container(m, "worker").Image = m.images[0].NewName + ":latest"
		}},
		{"an image of another project", "production", ruleImages, "no binary of this project", func(m *manifest) { container(m, "portal").Image = "nginx:1.27" }},
		{"replicas under an HPA", "production", ruleAutoscaling, "Deployment webhook sets replicas", func(m *manifest) { m.deployment("webhook").Spec.Replicas = ptr(int32(3)) }},
		{"an HPA down to one", "production", ruleAutoscaling, "minReplicas", func(m *manifest) { hpa(m, "webhook").Spec.MinReplicas = ptr(int32(1)) }},
		{"KEDA on another queue", "production", ruleKEDA, `taskQueue "onboarding-v2"`, func(m *manifest) { m.scaledObjects[0].Spec.Triggers[0].Metadata["taskQueue"] = "onboarding-v2" }},
		{"KEDA on another frontend", "production", ruleKEDA, "TEMPORAL_ADDRESS", func(m *manifest) {
			m.configMap(settingsOf(m, "worker")).Data["TEMPORAL_ADDRESS"] = "temporal.internal:7233"
		}},
		{"KEDA's typo", "production", ruleKEDA, `"targetQueuesize"`, func(m *manifest) { m.scaledObjects[0].Spec.Triggers[0].Metadata["targetQueuesize"] = "5" }},
		{"KEDA without a target", "production", ruleKEDA, "targetQueueSize", func(m *manifest) { delete(m.scaledObjects[0].Spec.Triggers[0].Metadata, "targetQueueSize") }},
		{"KEDA on CPU", "production", ruleKEDA, `trigger "cpu"`, func(m *manifest) { m.scaledObjects[0].Spec.Triggers[0].Type = "cpu" }},
		{"a binary that migrates", "production", ruleMigrate, "DB_MIGRATE is \"auto\"", func(m *manifest) { m.configMap(settingsOf(m, "worker")).Data["DB_MIGRATE"] = "auto" }},
		{"DB_MIGRATE left to its default", "local", ruleMigrate, "DB_MIGRATE is \"auto\"", func(m *manifest) { delete(m.configMap(settingsOf(m, "portal")).Data, "DB_MIGRATE") }},
		{"no migration job", "production", ruleMigrate, "0 jobs", func(m *manifest) { m.jobs = nil }},
		{"a job that does not migrate", "local", ruleMigrate, "0 jobs", func(m *manifest) { m.jobs[0].Spec.Template.Spec.Containers[0].Args = []string{"list"} }},
		{"local on the pod network", "local", ruleLocal, "host's network", func(m *manifest) { m.deployment("portal").Spec.Template.Spec.HostNetwork = false }},
		{"two on one port", "local", ruleLocal, "takes port 18088", func(m *manifest) {
			m.configMap(settingsOf(m, "portal")).Data["PORTAL_ADDR"] = "127.0.0.1:18088"
		}},
		{"metrics on the worker's port", "local", ruleLocal, "takes port 19464", func(m *manifest) {
			m.configMap(settingsOf(m, "webhook")).Data["METRICS_ADDR"] = "127.0.0.1:19464"
		}},
		{"a container port on the host's network", "local", ruleLocal, "container ports", func(m *manifest) {
			container(m, "worker").Ports = []corev1.ContainerPort{{Name: "http", ContainerPort: 19464}}
		}},
		{"a named probe port without the port", "local", ruleProbes, "port 0", func(m *manifest) {
			container(m, "codecserver").LivenessProbe.HTTPGet.Port = intstr.FromString("http")
		}},
		{"local in production mode", "local", ruleLocal, "ONBOARDING_ENV", func(m *manifest) { m.configMap(settingsOf(m, "codecserver")).Data["ONBOARDING_ENV"] = "production" }},
		{"production in development mode", "production", ruleProduction, "ONBOARDING_ENV", func(m *manifest) {
			m.configMap(settingsOf(m, "webhook")).Data["ONBOARDING_ENV"] = "development"
		}},
		{"a real secret in production", "production", ruleProduction, "PAYLOAD_KEYS is not the REPLACE-ME placeholder", func(m *manifest) {
			m.secrets[0].StringData["PAYLOAD_KEYS"] = config.DevPayloadKey
		}},
		{"no TLS to Temporal", "production", ruleProduction, "TEMPORAL_TLS", func(m *manifest) { delete(m.configMap(settingsOf(m, "portal")).Data, "TEMPORAL_TLS") }},
		{"one codec server", "production", ruleProduction, "1 replica", func(m *manifest) { m.deployment("codecserver").Spec.Replicas = ptr(int32(1)) }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			m := rendered(t, tc.overlay)
			tc.breakIt(m)
			errs := k.check(m)
			for _, err := range errs {
				if strings.HasPrefix(err.Error(), tc.rule+": ") && strings.Contains(err.Error(), tc.says) {
					return
				}
			}
			t.Errorf("not refused by rule %q saying %q; got:\n%v", tc.rule, tc.says, joinErrs(errs))
		})
	}
}

func hpa(m *manifest, name string) *autoscalingv2.HorizontalPodAutoscaler {
	for _, h := range m.hpas {
		if h.Name == name {
			return h
		}
	}
	panic("no HPA " + name)
}

func service(m *manifest, name string) *corev1.Service {
	for _, s := range m.services {
		if s.Name == name {
			return s
		}
	}
	panic("no Service " + name)
}

// settingsOf is the name of the ConfigMap a Deployment takes its settings
// from (the generator gives it a hash suffix).
func settingsOf(m *manifest, deployment string) string {
	return container(m, deployment).EnvFrom[0].ConfigMapRef.Name
}

// Environment is what a container gets: its ConfigMap's settings and its
// Secret's values under the names it maps them to.
func TestEnvironment(t *testing.T) {
	env, err := Environment("local", "Deployment", "worker")
	if err != nil {
		t.Fatal(err)
	}
	if env["WORKER_ADDR"] != "127.0.0.1:19464" || env["DATABASE_URL"] != config.DefaultDatabaseURL || env["DB_MIGRATE"] != "check" {
		t.Errorf("local worker: %v", env)
	}
	job, err := Environment("production", "Job", "migrate")
	if err != nil {
		t.Fatal(err)
	}
	if len(job) != 2 || job["DATABASE_URL"] != Placeholder || job["ONBOARDING_ENV"] != "production" || !HasPlaceholder(job) {
		t.Errorf("production migration job: %v, want only ONBOARDING_ENV and DATABASE_URL (from MIGRATE_DATABASE_URL)", job)
	}
	if _, err := Environment("local", "Deployment", "devidp"); err == nil {
		t.Error("a Deployment that is not there has an environment")
	}
}
