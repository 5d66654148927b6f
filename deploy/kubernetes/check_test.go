package kubernetes

// The rules every rendered overlay must keep, as a checker over the
// manifests decoded strictly into the Kubernetes API types. Each
// violation is an error whose text starts with the rule's name, so that
// the table of bad manifests in manifests_test.go can show each rule
// refuses what it should.

import (
	"bytes"
	"errors"
	"fmt"
	"net"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	autoscalingv2 "k8s.io/api/autoscaling/v2"
	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	policyv1 "k8s.io/api/policy/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"sigs.k8s.io/kustomize/api/types"
	"sigs.k8s.io/yaml"

	"github.com/cloudpartners/onboarding/internal/daemon"
)

// The rules, by the name their errors start with.
const (
	ruleProbes      = "probes"      // readiness /readyz and liveness /healthz on the port the binary listens on
	ruleResources   = "resources"   // cpu and memory requests and limits, requests within limits
	ruleSecurity    = "security"    // non-root 65532, read-only root, no escalation, no capability, RuntimeDefault seccomp
	ruleSecrets     = "secrets"     // credentials only from Secrets: never in a ConfigMap, never a literal
	ruleReferences  = "references"  // every ConfigMap, Secret and key referred to exists
	ruleVariables   = "variables"   // every variable set is one the binary declares
	ruleGrace       = "grace"       // the grace period outlasts the drain
	ruleSelectors   = "selectors"   // PDBs, Services and autoscalers select existing Deployments
	ruleImages      = "images"      // every image pinned through the overlay's images:
	ruleAutoscaling = "autoscaling" // an autoscaled Deployment leaves replicas to its autoscaler
	ruleKEDA        = "keda"        // the worker's scaler watches the queue the workers poll
	ruleMigrate     = "migrate"     // one migration job; the binaries only check
	ruleLocal       = "local"       // the local overlay: one host, development settings
	ruleProduction  = "production"  // the production overlay: production settings, placeholders only
)

// scaledObject is the part of KEDA's ScaledObject (keda.sh/v1alpha1) the
// manifests use, decoded as strictly as the Kubernetes types: a field
// not listed here is refused.
type scaledObject struct {
	metav1.TypeMeta `json:",inline"`
	Metadata        metav1.ObjectMeta `json:"metadata"`
	Spec            struct {
		ScaleTargetRef struct {
			APIVersion string `json:"apiVersion,omitempty"`
			Kind       string `json:"kind,omitempty"`
			Name       string `json:"name"`
		} `json:"scaleTargetRef"`
		MinReplicaCount *int32 `json:"minReplicaCount,omitempty"`
		MaxReplicaCount *int32 `json:"maxReplicaCount,omitempty"`
		PollingInterval *int32 `json:"pollingInterval,omitempty"`
		CooldownPeriod  *int32 `json:"cooldownPeriod,omitempty"`
		Triggers        []struct {
			Type              string            `json:"type"`
			Metadata          map[string]string `json:"metadata"`
			AuthenticationRef *struct {
				Name string `json:"name"`
				Kind string `json:"kind,omitempty"`
			} `json:"authenticationRef,omitempty"`
		} `json:"triggers"`
	} `json:"spec"`
}

// temporalScalerKeys are the metadata KEDA's temporal scaler reads
// (keda.sh/docs/2.17+/scalers/temporal): another key is a typo it would
// silently ignore.
var temporalScalerKeys = []string{"endpoint", "endpointFromEnv", "namespace", "taskQueue", "targetQueueSize",
	"activationTargetQueueSize", "queueTypes", "workerDeploymentName", "workerDeploymentBuildId", "includeRunningWorkflowCount",
	"workflowTaskQueueForCount", "minConnectTimeout", "unsafeSsl", "tlsServerName", "enableTLS"}

// triggerAuthentication is the part of KEDA's TriggerAuthentication used.
type triggerAuthentication struct {
	metav1.TypeMeta `json:",inline"`
	Metadata        metav1.ObjectMeta `json:"metadata"`
	Spec            struct {
		SecretTargetRef []struct {
			Parameter string `json:"parameter"`
			Name      string `json:"name"`
			Key       string `json:"key"`
		} `json:"secretTargetRef"`
	} `json:"spec"`
}

// manifest is one rendered overlay, decoded, with what its kustomization
// pins the images to.
type manifest struct {
	overlay       string
	images        []types.Image
	deployments   []*appsv1.Deployment
	jobs          []*batchv1.Job
	services      []*corev1.Service
	configMaps    []*corev1.ConfigMap
	secrets       []*corev1.Secret
	pdbs          []*policyv1.PodDisruptionBudget
	hpas          []*autoscalingv2.HorizontalPodAutoscaler
	scaledObjects []*scaledObject
	triggerAuths  []*triggerAuthentication
}

// decode decodes every document of rendered strictly: an unknown field, a
// duplicate field or a kind not known here is an error.
func decode(overlay string, rendered []byte, images []types.Image) (*manifest, error) {
	m := &manifest{overlay: overlay, images: images}
	for i, doc := range documents.Split(string(rendered), -1) {
		if strings.TrimSpace(doc) == "" {
			continue
		}
		var tm metav1.TypeMeta
		if err := yaml.Unmarshal([]byte(doc), &tm); err != nil {
			return nil, fmt.Errorf("document %d: %w", i, err)
		}
		var err error
		switch tm.APIVersion + " " + tm.Kind {
		case "apps/v1 Deployment":
			m.deployments, err = strict(doc, m.deployments)
		case "batch/v1 Job":
			m.jobs, err = strict(doc, m.jobs)
		case "v1 Service":
			m.services, err = strict(doc, m.services)
		case "v1 ConfigMap":
			m.configMaps, err = strict(doc, m.configMaps)
		case "v1 Secret":
			m.secrets, err = strict(doc, m.secrets)
		case "policy/v1 PodDisruptionBudget":
			m.pdbs, err = strict(doc, m.pdbs)
		case "autoscaling/v2 HorizontalPodAutoscaler":
			m.hpas, err = strict(doc, m.hpas)
		case "keda.sh/v1alpha1 ScaledObject":
			m.scaledObjects, err = strict(doc, m.scaledObjects)
		case "keda.sh/v1alpha1 TriggerAuthentication":
			m.triggerAuths, err = strict(doc, m.triggerAuths)
		default:
			err = fmt.Errorf("kind %q of %q is not one these manifests use", tm.Kind, tm.APIVersion)
		}
		if err != nil {
			return nil, fmt.Errorf("document %d (%s): %w", i, tm.Kind, err)
		}
	}
	return m, nil
}

// strict decodes one document into a new T, refusing unknown and
// duplicate fields, and appends it.
func strict[T any](doc string, to []*T) ([]*T, error) {
	v := new(T)
	if err := yaml.UnmarshalStrict([]byte(doc), v); err != nil {
		return to, err
	}
	return append(to, v), nil
}

// binaries describes each binary the images hold: the variable of its
// listener, and the paths it serves for the probes (its own tests show it
// serves them: daemon.Health's routes, the codec server's).
var binaries = map[string]struct {
	listen          string
	ready, live     string
	drainsRequests  bool // an HTTP tier: DRAIN_DELAY, then daemon.ShutdownTimeout
	stopsActivities bool // the worker: WORKER_STOP_TIMEOUT
}{
	"worker":      {listen: "WORKER_ADDR", ready: "/readyz", live: "/healthz", stopsActivities: true},
	"webhook":     {listen: "WEBHOOK_ADDR", ready: "/readyz", live: "/healthz", drainsRequests: true},
	"portal":      {listen: "PORTAL_ADDR", ready: "/readyz", live: "/healthz", drainsRequests: true},
	"codecserver": {listen: "CODEC_ADDR", ready: "/readyz", live: "/healthz", drainsRequests: true},
	"starter":     {}, // the migration job: no listener
}

// secretName is a variable that holds a credential.
var secretName = regexp.MustCompile(`^(DATABASE_URL|MIGRATE_DATABASE_URL|.*_SECRET|.*_KEYS?|.*_KEY_DATA|.*_TOKEN|.*_PASSWORD|.*API_KEY.*)$`)

// checker holds what the rules need besides the manifest: each binary's
// declared variables with their documented defaults.
type checker struct {
	declared map[string]map[string]string // binary → variable → default
}

// workload is a Deployment's or a Job's pod template, named.
type workload struct {
	kind, name string
	meta       *metav1.ObjectMeta
	spec       *corev1.PodSpec
	replicas   *int32
}

func (m *manifest) workloads() []workload {
	var ws []workload
	for _, d := range m.deployments {
		ws = append(ws, workload{"Deployment", d.Name, &d.Spec.Template.ObjectMeta, &d.Spec.Template.Spec, d.Spec.Replicas})
	}
	for _, j := range m.jobs {
		ws = append(ws, workload{"Job", j.Name, &j.Spec.Template.ObjectMeta, &j.Spec.Template.Spec, nil})
	}
	return ws
}

func (m *manifest) configMap(name string) *corev1.ConfigMap {
	for _, c := range m.configMaps {
		if c.Name == name {
			return c
		}
	}
	return nil
}

func (m *manifest) secret(name string) *corev1.Secret {
	for _, s := range m.secrets {
		if s.Name == name {
			return s
		}
	}
	return nil
}

func (m *manifest) deployment(name string) *appsv1.Deployment {
	for _, d := range m.deployments {
		if d.Name == name {
			return d
		}
	}
	return nil
}

// secretValue is a Secret's key, from stringData or data; ok says it is there.
func secretValue(s *corev1.Secret, key string) (string, bool) {
	if v, ok := s.StringData[key]; ok {
		return v, true
	}
	v, ok := s.Data[key]
	return string(v), ok
}

// binaryOf is the binary an image holds: the last element of its name.
func binaryOf(image string) string {
	name, _, _ := strings.Cut(image, "@")
	if i := strings.LastIndexByte(name, ':'); i > strings.LastIndexByte(name, '/') {
		name = name[:i]
	}
	return name[strings.LastIndexByte(name, '/')+1:]
}

// setting is one variable a container gets, and where from.
type setting struct {
	value  string // the value, unless it comes from a Secret
	secret bool   // from a Secret
	from   string // "ConfigMap NAME", "Secret NAME", "a literal"
}

// environment is every variable a container gets, as the kubelet would
// set them: envFrom first, env over it; dangling references are the
// references rule's.
func (m *manifest) environment(c *corev1.Container) map[string]setting {
	env := map[string]setting{}
	for _, from := range c.EnvFrom {
		switch {
		case from.ConfigMapRef != nil:
			if cm := m.configMap(from.ConfigMapRef.Name); cm != nil {
				for k, v := range cm.Data {
					env[from.Prefix+k] = setting{value: v, from: "ConfigMap " + cm.Name}
				}
			}
		case from.SecretRef != nil:
			if s := m.secret(from.SecretRef.Name); s != nil {
				for k := range s.StringData {
					env[from.Prefix+k] = setting{secret: true, from: "Secret " + s.Name}
				}
				for k := range s.Data {
					env[from.Prefix+k] = setting{secret: true, from: "Secret " + s.Name}
				}
			}
		}
	}
	for _, e := range c.Env {
		switch {
		case e.ValueFrom == nil:
			env[e.Name] = setting{value: e.Value, from: "a literal"}
		case e.ValueFrom.SecretKeyRef != nil:
			env[e.Name] = setting{secret: true, from: "Secret " + e.ValueFrom.SecretKeyRef.Name}
		case e.ValueFrom.ConfigMapKeyRef != nil:
			ref := e.ValueFrom.ConfigMapKeyRef
			s := setting{from: "ConfigMap " + ref.Name}
			if cm := m.configMap(ref.Name); cm != nil {
				s.value = cm.Data[ref.Key]
			}
			env[e.Name] = s
		default:
			env[e.Name] = setting{from: "the downward API"}
		}
	}
	return env
}

// value is a variable's effective value for a binary: set, or its
// documented default.
func (k *checker) value(env map[string]setting, binary, name string) string {
	if s, ok := env[name]; ok {
		return s.value
	}
	return k.declared[binary][name]
}

// check applies every rule to m and returns each violation.
func (k *checker) check(m *manifest) []error {
	var errs []error
	fail := func(rule, format string, args ...any) {
		errs = append(errs, fmt.Errorf("%s: %s", rule, fmt.Sprintf(format, args...)))
	}
	k.checkWorkloads(m, fail)
	k.checkConfig(m, fail)
	k.checkSelectors(m, fail)
	k.checkOverlay(m, fail)
	return errs
}

type failFunc func(rule, format string, args ...any)

func (k *checker) checkWorkloads(m *manifest, fail failFunc) {
	for _, w := range m.workloads() {
		pod := w.spec
		if pod.HostPID || pod.HostIPC {
			fail(ruleSecurity, "%s %s shares the host's PID or IPC namespace", w.kind, w.name)
		}
		if len(pod.Containers) != 1 || len(pod.InitContainers) > 0 {
			fail(ruleSecurity, "%s %s has %d containers and %d init containers, want one container (each rule reads its one binary)",
				w.kind, w.name, len(pod.Containers), len(pod.InitContainers))
		}
		for i := range pod.Containers {
			c := &pod.Containers[i]
			where := fmt.Sprintf("%s %s, container %s", w.kind, w.name, c.Name)
			binary := binaryOf(c.Image)
			if _, known := binaries[binary]; !known {
				fail(ruleImages, "%s: image %q holds no binary of this project", where, c.Image)
				continue
			}
			env := m.environment(c)
			k.checkImage(m, where, c, fail)
			checkResources(where, c, fail)
			checkSecurity(where, pod, c, fail)
			k.checkEnv(m, where, binary, c, env, fail)
			if w.kind == "Deployment" {
				k.checkProbes(where, binary, pod, c, env, fail)
				k.checkGrace(where, binary, pod, env, fail)
				if _, ok := k.declared[binary]["DB_MIGRATE"]; ok && k.value(env, binary, "DB_MIGRATE") != "check" {
					fail(ruleMigrate, "%s: DB_MIGRATE is %q, want check: the migration job migrates, once per release", where, k.value(env, binary, "DB_MIGRATE"))
				}
			}
		}
	}
	migrations := 0
	for _, j := range m.jobs {
		c := j.Spec.Template.Spec.Containers
		if len(c) == 1 && binaryOf(c[0].Image) == "starter" && slices.Equal(append(c[0].Command, c[0].Args...), []string{"migrate"}) {
			migrations++
		}
	}
	if migrations != 1 {
		fail(ruleMigrate, "%d jobs run `starter migrate`, want one", migrations)
	}
}

func (k *checker) checkImage(m *manifest, where string, c *corev1.Container, fail failFunc) {
	for _, im := range m.images {
		if im.NewName == "" || (im.NewTag == "" && im.Digest == "") {
			continue
		}
		if c.Image == im.NewName+":"+im.NewTag && im.Digest == "" || im.Digest != "" && c.Image == im.NewName+"@"+im.Digest {
			if im.NewTag == "latest" {
				fail(ruleImages, "%s: image %q is pinned to latest, which moves", where, c.Image)
			}
			return
		}
	}
	fail(ruleImages, "%s: image %q is not pinned by the overlay's images: (newName and newTag or digest)", where, c.Image)
}

func checkResources(where string, c *corev1.Container, fail failFunc) {
	for _, r := range []corev1.ResourceName{corev1.ResourceCPU, corev1.ResourceMemory} {
		req, hasReq := c.Resources.Requests[r]
		lim, hasLim := c.Resources.Limits[r]
		switch {
		case !hasReq || !hasLim:
			fail(ruleResources, "%s: no %s request and limit", where, r)
		case req.Cmp(lim) > 0:
			fail(ruleResources, "%s: %s request %s above its limit %s", where, r, req.String(), lim.String())
		case req.IsZero():
			fail(ruleResources, "%s: %s request of zero", where, r)
		}
	}
}

func checkSecurity(where string, pod *corev1.PodSpec, c *corev1.Container, fail failFunc) {
	sc := c.SecurityContext
	if sc == nil {
		fail(ruleSecurity, "%s: no securityContext", where)
		return
	}
	psc := pod.SecurityContext
	if psc == nil {
		psc = &corev1.PodSecurityContext{}
	}
	nonRoot := sc.RunAsNonRoot
	if nonRoot == nil {
		nonRoot = psc.RunAsNonRoot
	}
	user := sc.RunAsUser
	if user == nil {
		user = psc.RunAsUser
	}
	seccomp := sc.SeccompProfile
	if seccomp == nil {
		seccomp = psc.SeccompProfile
	}
	switch {
	case nonRoot == nil || !*nonRoot:
		fail(ruleSecurity, "%s: runAsNonRoot is not true", where)
	case user == nil || *user != 65532:
		fail(ruleSecurity, "%s: runAsUser is not the images' numeric user 65532", where)
	}
	if sc.ReadOnlyRootFilesystem == nil || !*sc.ReadOnlyRootFilesystem {
		fail(ruleSecurity, "%s: the root filesystem is not read-only", where)
	}
	if sc.AllowPrivilegeEscalation == nil || *sc.AllowPrivilegeEscalation {
		fail(ruleSecurity, "%s: allowPrivilegeEscalation is not false", where)
	}
	if sc.Privileged != nil && *sc.Privileged {
		fail(ruleSecurity, "%s: privileged", where)
	}
	if sc.Capabilities == nil || !slices.Contains(sc.Capabilities.Drop, "ALL") || len(sc.Capabilities.Add) > 0 {
		fail(ruleSecurity, "%s: capabilities are not drop ALL, add none", where)
	}
	if seccomp == nil || seccomp.Type != corev1.SeccompProfileTypeRuntimeDefault {
		fail(ruleSecurity, "%s: the seccomp profile is not RuntimeDefault", where)
	}
}

// checkEnv: every variable declared by the binary, credentials from
// Secrets only, every reference resolved.
func (k *checker) checkEnv(m *manifest, where, binary string, c *corev1.Container, env map[string]setting, fail failFunc) {
	for _, from := range c.EnvFrom {
		switch {
		case from.ConfigMapRef != nil && m.configMap(from.ConfigMapRef.Name) == nil && (from.ConfigMapRef.Optional == nil || !*from.ConfigMapRef.Optional):
			fail(ruleReferences, "%s: envFrom ConfigMap %q does not exist", where, from.ConfigMapRef.Name)
		case from.SecretRef != nil && m.secret(from.SecretRef.Name) == nil && (from.SecretRef.Optional == nil || !*from.SecretRef.Optional):
			fail(ruleReferences, "%s: envFrom Secret %q does not exist", where, from.SecretRef.Name)
		}
	}
	for _, e := range c.Env {
		if e.ValueFrom == nil {
			continue
		}
		if ref := e.ValueFrom.SecretKeyRef; ref != nil {
			s := m.secret(ref.Name)
			optional := ref.Optional != nil && *ref.Optional
			switch {
			case s == nil && !optional:
				fail(ruleReferences, "%s: %s comes from Secret %q, which does not exist", where, e.Name, ref.Name)
			case s != nil && !optional:
				if _, ok := secretValue(s, ref.Key); !ok {
					fail(ruleReferences, "%s: %s comes from key %q of Secret %q, which has no such key", where, e.Name, ref.Key, ref.Name)
				}
			}
		}
		if ref := e.ValueFrom.ConfigMapKeyRef; ref != nil {
			if cm := m.configMap(ref.Name); cm == nil {
				fail(ruleReferences, "%s: %s comes from ConfigMap %q, which does not exist", where, e.Name, ref.Name)
			} else if _, ok := cm.Data[ref.Key]; !ok && (ref.Optional == nil || !*ref.Optional) {
				fail(ruleReferences, "%s: %s comes from key %q of ConfigMap %q, which has no such key", where, e.Name, ref.Key, ref.Name)
			}
		}
	}
	for _, name := range sortedKeys(env) {
		s := env[name]
		if _, ok := k.declared[binary][name]; !ok {
			fail(ruleVariables, "%s: %s (from %s) is not a variable %s reads (docs/configuration.md)", where, name, s.from, binary)
		}
		if secretName.MatchString(name) && !s.secret {
			fail(ruleSecrets, "%s: the credential %s comes from %s, not from a Secret", where, name, s.from)
		}
	}
}

func (k *checker) checkProbes(where, binary string, pod *corev1.PodSpec, c *corev1.Container, env map[string]setting, fail failFunc) {
	b := binaries[binary]
	addr := k.value(env, binary, b.listen)
	host, portText, err := net.SplitHostPort(addr)
	if err != nil {
		fail(ruleProbes, "%s: %s=%q is not host:port", where, b.listen, addr)
		return
	}
	listen, _ := strconv.Atoi(portText)
	if !pod.HostNetwork && host != "0.0.0.0" && host != "" && host != "::" {
		fail(ruleProbes, "%s: %s=%s listens on %s alone, where the kubelet's probes cannot reach it (want 0.0.0.0)", where, b.listen, addr, host)
	}
	for _, p := range []struct {
		kind, want string
		probe      *corev1.Probe
	}{{"readiness", b.ready, c.ReadinessProbe}, {"liveness", b.live, c.LivenessProbe}} {
		switch {
		case p.probe == nil || p.probe.HTTPGet == nil:
			fail(ruleProbes, "%s: no %s probe (HTTP GET %s)", where, p.kind, p.want)
			continue
		case p.probe.HTTPGet.Path != p.want:
			fail(ruleProbes, "%s: the %s probe asks %s, which %s does not serve for it (want %s)", where, p.kind, p.probe.HTTPGet.Path, binary, p.want)
		}
		port := p.probe.HTTPGet.Port.IntValue()
		if name := p.probe.HTTPGet.Port.StrVal; name != "" {
			port = 0
			for _, cp := range c.Ports {
				if cp.Name == name {
					port = int(cp.ContainerPort)
				}
			}
		}
		if port != listen {
			fail(ruleProbes, "%s: the %s probe goes to port %d, but %s listens on %s (%s)", where, p.kind, port, binary, addr, b.listen)
		}
	}
}

func (k *checker) checkGrace(where, binary string, pod *corev1.PodSpec, env map[string]setting, fail failFunc) {
	b := binaries[binary]
	grace := 30 * time.Second // Kubernetes' default
	if pod.TerminationGracePeriodSeconds != nil {
		grace = time.Duration(*pod.TerminationGracePeriodSeconds) * time.Second
	}
	var drain time.Duration
	var says string
	switch {
	case b.drainsRequests:
		d := time.Duration(0)
		if _, ok := k.declared[binary]["DRAIN_DELAY"]; ok {
			v := k.value(env, binary, "DRAIN_DELAY")
			var err error
			if d, err = time.ParseDuration(v); err != nil {
				fail(ruleGrace, "%s: DRAIN_DELAY=%q is not a duration", where, v)
				return
			}
		}
		drain, says = d+daemon.ShutdownTimeout, fmt.Sprintf("DRAIN_DELAY %s + %s for requests in flight", d, daemon.ShutdownTimeout)
	case b.stopsActivities:
		v := k.value(env, binary, "WORKER_STOP_TIMEOUT")
		d, err := time.ParseDuration(v)
		if err != nil {
			fail(ruleGrace, "%s: WORKER_STOP_TIMEOUT=%q is not a duration", where, v)
			return
		}
		drain, says = d, "WORKER_STOP_TIMEOUT "+d.String()
	default:
		return
	}
	// A margin for the process to close its connections after the drain.
	if grace < drain+5*time.Second {
		fail(ruleGrace, "%s: terminationGracePeriodSeconds %s does not outlast the drain (%s) by 5 s", where, grace, says)
	}
}

// checkConfig: no credential in a ConfigMap; the Secrets KEDA reads exist.
func (k *checker) checkConfig(m *manifest, fail failFunc) {
	for _, cm := range m.configMaps {
		for _, key := range sortedKeys(cm.Data) {
			if secretName.MatchString(key) {
				fail(ruleSecrets, "ConfigMap %s holds the credential %s: put it in a Secret", cm.Name, key)
			}
		}
	}
	for _, ta := range m.triggerAuths {
		for _, ref := range ta.Spec.SecretTargetRef {
			s := m.secret(ref.Name)
			if s == nil {
				fail(ruleReferences, "TriggerAuthentication %s: Secret %q does not exist", ta.Metadata.Name, ref.Name)
			} else if _, ok := secretValue(s, ref.Key); !ok {
				fail(ruleReferences, "TriggerAuthentication %s: Secret %q has no key %q", ta.Metadata.Name, ref.Name, ref.Key)
			}
		}
	}
}

// selects reports whether a Deployment's pods carry every label of sel.
func selects(sel *metav1.LabelSelector, d *appsv1.Deployment) bool {
	s, err := metav1.LabelSelectorAsSelector(sel)
	return err == nil && sel != nil && !s.Empty() && s.Matches(labels.Set(d.Spec.Template.Labels))
}

func (k *checker) checkSelectors(m *manifest, fail failFunc) {
	for _, d := range m.deployments {
		if !selects(d.Spec.Selector, d) {
			fail(ruleSelectors, "Deployment %s: its selector does not select its own pods", d.Name)
		}
	}
	anyDeployment := func(sel *metav1.LabelSelector) bool {
		return slices.ContainsFunc(m.deployments, func(d *appsv1.Deployment) bool { return selects(sel, d) })
	}
	for _, p := range m.pdbs {
		if !anyDeployment(p.Spec.Selector) {
			fail(ruleSelectors, "PodDisruptionBudget %s selects no Deployment's pods", p.Name)
		}
	}
	for _, s := range m.services {
		if !anyDeployment(&metav1.LabelSelector{MatchLabels: s.Spec.Selector}) {
			fail(ruleSelectors, "Service %s selects no Deployment's pods", s.Name)
		}
		for _, p := range s.Spec.Ports {
			if p.TargetPort.StrVal == "" {
				continue
			}
			named := slices.ContainsFunc(m.deployments, func(d *appsv1.Deployment) bool {
				return selects(&metav1.LabelSelector{MatchLabels: s.Spec.Selector}, d) &&
					slices.ContainsFunc(d.Spec.Template.Spec.Containers[0].Ports, func(cp corev1.ContainerPort) bool { return cp.Name == p.TargetPort.StrVal })
			})
			if !named {
				fail(ruleSelectors, "Service %s: target port %q is no port of the pods it selects", s.Name, p.TargetPort.StrVal)
			}
		}
	}
	autoscaled := map[string]string{}
	for _, h := range m.hpas {
		ref := h.Spec.ScaleTargetRef
		if ref.Kind != "Deployment" || ref.APIVersion != "apps/v1" || m.deployment(ref.Name) == nil {
			fail(ruleSelectors, "HorizontalPodAutoscaler %s scales %s %s %q, which is no Deployment here", h.Name, ref.APIVersion, ref.Kind, ref.Name)
			continue
		}
		if h.Spec.MinReplicas == nil || *h.Spec.MinReplicas < 2 {
			fail(ruleAutoscaling, "HorizontalPodAutoscaler %s: minReplicas below 2 leaves a roll or a lost node without the tier", h.Name)
		}
		autoscaled[ref.Name] = "HorizontalPodAutoscaler " + h.Name
	}
	for _, so := range m.scaledObjects {
		ref := so.Spec.ScaleTargetRef
		if (ref.Kind != "" && ref.Kind != "Deployment") || m.deployment(ref.Name) == nil {
			fail(ruleSelectors, "ScaledObject %s scales %q, which is no Deployment here", so.Metadata.Name, ref.Name)
			continue
		}
		autoscaled[ref.Name] = "ScaledObject " + so.Metadata.Name
		k.checkScaler(m, so, fail)
	}
	for name, by := range autoscaled {
		if d := m.deployment(name); d.Spec.Replicas != nil {
			fail(ruleAutoscaling, "Deployment %s sets replicas, which every apply would reset under %s", name, by)
		}
	}
}

// checkScaler: the worker's scaler watches the task queue, namespace and
// frontend the workers use, with a target it can compute.
func (k *checker) checkScaler(m *manifest, so *scaledObject, fail failFunc) {
	d := m.deployment(so.Spec.ScaleTargetRef.Name)
	c := &d.Spec.Template.Spec.Containers[0]
	binary := binaryOf(c.Image)
	env := m.environment(c)
	if len(so.Spec.Triggers) == 0 {
		fail(ruleKEDA, "ScaledObject %s has no trigger", so.Metadata.Name)
	}
	for _, t := range so.Spec.Triggers {
		if t.Type != "temporal" {
			fail(ruleKEDA, "ScaledObject %s: trigger %q, want KEDA's temporal scaler", so.Metadata.Name, t.Type)
			continue
		}
		for _, key := range sortedKeys(t.Metadata) {
			if !slices.Contains(temporalScalerKeys, key) {
				fail(ruleKEDA, "ScaledObject %s: %q is no setting of the temporal scaler", so.Metadata.Name, key)
			}
		}
		for key, variable := range map[string]string{"endpoint": "TEMPORAL_ADDRESS", "namespace": "TEMPORAL_NAMESPACE", "taskQueue": "TASK_QUEUE"} {
			if got, want := t.Metadata[key], k.value(env, binary, variable); got != want {
				fail(ruleKEDA, "ScaledObject %s: %s %q, but the workers' %s is %q", so.Metadata.Name, key, got, variable, want)
			}
		}
		if n, err := strconv.Atoi(t.Metadata["targetQueueSize"]); err != nil || n < 1 {
			fail(ruleKEDA, "ScaledObject %s: targetQueueSize %q is not a whole number above 0", so.Metadata.Name, t.Metadata["targetQueueSize"])
		}
		if ref := t.AuthenticationRef; ref != nil && !slices.ContainsFunc(m.triggerAuths, func(a *triggerAuthentication) bool { return a.Metadata.Name == ref.Name }) {
			fail(ruleReferences, "ScaledObject %s: TriggerAuthentication %q does not exist", so.Metadata.Name, ref.Name)
		}
	}
}

// checkOverlay: what each shipped overlay promises.
func (k *checker) checkOverlay(m *manifest, fail failFunc) {
	switch m.overlay {
	case "local":
		ports := map[string]string{}
		for _, w := range m.workloads() {
			if w.kind != "Deployment" {
				continue
			}
			if !w.spec.HostNetwork || w.replicas == nil || *w.replicas != 1 {
				fail(ruleLocal, "Deployment %s: want one replica on the host's network", w.name)
			}
			c := &w.spec.Containers[0]
			if env := m.environment(c); k.value(env, binaryOf(c.Image), "ONBOARDING_ENV") != "development" {
				fail(ruleLocal, "Deployment %s: ONBOARDING_ENV is not development", w.name)
			}
			if !strings.HasPrefix(c.Image, "localhost/onboarding/"+binaryOf(c.Image)+":") {
				fail(ruleLocal, "Deployment %s: image %q is not localhost/onboarding/<binary>:<tag>, what make images builds", w.name, c.Image)
			}
			if len(c.Ports) > 0 {
				fail(ruleLocal, "Deployment %s: container ports, which podman refuses on the host's network", w.name)
			}
			// Every listener of every pod shares the host's ports.
			binary := binaryOf(c.Image)
			env := m.environment(c)
			for _, name := range []string{binaries[binary].listen, "METRICS_ADDR"} {
				if _, declared := k.declared[binary][name]; !declared || name == "" {
					continue
				}
				addr := k.value(env, binary, name)
				if addr == "" {
					continue
				}
				_, port, _ := net.SplitHostPort(addr)
				if other, taken := ports[port]; taken {
					fail(ruleLocal, "Deployment %s: %s=%s takes port %s, which %s takes too, on one host", w.name, name, addr, port, other)
				}
				ports[port] = w.name + "'s " + name
			}
		}
	case "production":
		for _, w := range m.workloads() {
			c := &w.spec.Containers[0]
			binary := binaryOf(c.Image)
			env := m.environment(c)
			if k.value(env, binary, "ONBOARDING_ENV") != "production" {
				fail(ruleProduction, "%s %s: ONBOARDING_ENV is not production", w.kind, w.name)
			}
			if _, ok := k.declared[binary]["TEMPORAL_TLS"]; ok && w.kind == "Deployment" && k.value(env, binary, "TEMPORAL_TLS") != "true" {
				fail(ruleProduction, "%s %s: no TLS to Temporal (TEMPORAL_TLS)", w.kind, w.name)
			}
			if w.kind == "Deployment" && w.replicas != nil && *w.replicas < 2 {
				fail(ruleProduction, "Deployment %s: %d replica, want several", w.name, *w.replicas)
			}
		}
		for _, s := range m.secrets {
			if len(s.Data) > 0 {
				fail(ruleProduction, "Secret %s carries data: only REPLACE-ME placeholders belong here", s.Name)
			}
			for _, key := range sortedKeys(s.StringData) {
				if s.StringData[key] != "REPLACE-ME" {
					fail(ruleProduction, "Secret %s: %s is not the REPLACE-ME placeholder: never a real value here", s.Name, key)
				}
			}
		}
	}
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}

// joinErrs is the violations as one error, one a line, or nil.
func joinErrs(errs []error) error {
	if len(errs) == 0 {
		return nil
	}
	var b bytes.Buffer
	for _, e := range errs {
		b.WriteString(e.Error() + "\n")
	}
	return errors.New(strings.TrimSpace(b.String()))
}
