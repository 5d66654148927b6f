//go:build deploytest

package deploytest

import (
	"encoding/base64"
	"encoding/json"
	"fmt"
	"regexp"
	"slices"
	"strconv"
	"strings"

	appsv1 "k8s.io/api/apps/v1"
	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/yaml"
)

// Manifests is a rendered overlay, decoded, with what podman 4.3's kube
// play cannot take set apart: it plays Pods, Deployments and ConfigMaps,
// ignores Jobs, runs no Service, autoscaler or disruption budget, and
// stores a Secret of the played file in a form its own secretKeyRef
// cannot read back.
type Manifests struct {
	ConfigMaps  []*corev1.ConfigMap
	Secrets     []*corev1.Secret
	Deployments []*appsv1.Deployment
	Jobs        []*batchv1.Job
	NotPlayed   []string // kind/name of what podman has no use for
}

// documents splits a multi-document YAML stream as kustomize writes it.
var documents = regexp.MustCompile(`(?m)^---[ \t]*$`)

// Parse decodes a rendered overlay strictly into the Kubernetes API types.
func Parse(rendered []byte) (*Manifests, error) {
	m := &Manifests{}
	for _, doc := range documents.Split(string(rendered), -1) {
		if strings.TrimSpace(doc) == "" {
			continue
		}
		var head struct {
			metav1.TypeMeta `json:",inline"`
			Metadata        metav1.ObjectMeta `json:"metadata"`
		}
		if err := yaml.Unmarshal([]byte(doc), &head); err != nil {
			return nil, fmt.Errorf("manifest: %w", err)
		}
		var into any
		switch head.Kind {
		case "ConfigMap":
			into = appendNew(&m.ConfigMaps)
		case "Secret":
			into = appendNew(&m.Secrets)
		case "Deployment":
			into = appendNew(&m.Deployments)
		case "Job":
			into = appendNew(&m.Jobs)
		default:
			m.NotPlayed = append(m.NotPlayed, head.Kind+"/"+head.Metadata.Name)
			continue
		}
		if err := yaml.UnmarshalStrict([]byte(doc), into); err != nil {
			return nil, fmt.Errorf("%s %s: %w", head.Kind, head.Metadata.Name, err)
		}
	}
	return m, nil
}

func appendNew[T any](list *[]*T) *T {
	v := new(T)
	*list = append(*list, v)
	return v
}

// Deployment returns the Deployment of that name.
func (m *Manifests) Deployment(name string) (*appsv1.Deployment, error) {
	for _, d := range m.Deployments {
		if d.Name == name {
			return d, nil
		}
	}
	return nil, fmt.Errorf("no Deployment %s in the overlay", name)
}

// Set sets a variable in every ConfigMap that already holds it (the
// settings of each binary that reads it), and in every Secret.
func (m *Manifests) Set(name, value string) {
	for _, c := range m.ConfigMaps {
		if _, ok := c.Data[name]; ok {
			c.Data[name] = value
		}
	}
	for _, s := range m.Secrets {
		if _, ok := s.Data[name]; ok {
			s.Data[name] = []byte(value)
		}
		if _, ok := s.StringData[name]; ok {
			s.StringData[name] = value
		}
	}
}

// Env is the environment a container of the overlay gets: its
// ConfigMaps, then its own variables, ConfigMap and Secret keys resolved.
func (m *Manifests) Env(c corev1.Container) (map[string]string, error) {
	env := map[string]string{}
	for _, from := range c.EnvFrom {
		switch {
		case from.ConfigMapRef != nil:
			cm, err := m.configMap(from.ConfigMapRef.Name)
			if err != nil {
				return nil, err
			}
			for k, v := range cm.Data {
				env[from.Prefix+k] = v
			}
		case from.SecretRef != nil:
			s, err := m.secret(from.SecretRef.Name)
			if err != nil {
				return nil, err
			}
			for k, v := range secretData(s) {
				env[from.Prefix+k] = string(v)
			}
		}
	}
	for _, e := range c.Env {
		switch {
		case e.ValueFrom == nil:
			env[e.Name] = e.Value
		case e.ValueFrom.ConfigMapKeyRef != nil:
			cm, err := m.configMap(e.ValueFrom.ConfigMapKeyRef.Name)
			if err != nil {
				return nil, err
			}
			env[e.Name] = cm.Data[e.ValueFrom.ConfigMapKeyRef.Key]
		case e.ValueFrom.SecretKeyRef != nil:
			s, err := m.secret(e.ValueFrom.SecretKeyRef.Name)
			if err != nil {
				return nil, err
			}
			env[e.Name] = string(secretData(s)[e.ValueFrom.SecretKeyRef.Key])
		}
	}
	return env, nil
}

// Settings gives a container a copy of its first ConfigMap, named after
// the copy's owner, with some values changed, and returns the copy (for a
// kube file).
func (m *Manifests) Settings(c corev1.Container, owner string, set map[string]string) (*corev1.ConfigMap, error) {
	for i, from := range c.EnvFrom {
		if from.ConfigMapRef == nil {
			continue
		}
		cm, err := m.configMap(from.ConfigMapRef.Name)
		if err != nil {
			return nil, err
		}
		cp := cm.DeepCopy()
		cp.Name = owner + "-settings"
		for k, v := range set {
			cp.Data[k] = v
		}
		c.EnvFrom[i].ConfigMapRef.Name = cp.Name
		return cp, nil
	}
	return nil, fmt.Errorf("container %s has no ConfigMap", c.Name)
}

func (m *Manifests) configMap(name string) (*corev1.ConfigMap, error) {
	for _, c := range m.ConfigMaps {
		if c.Name == name {
			return c, nil
		}
	}
	return nil, fmt.Errorf("no ConfigMap %s in the overlay", name)
}

func (m *Manifests) secret(name string) (*corev1.Secret, error) {
	for _, s := range m.Secrets {
		if s.Name == name {
			return s, nil
		}
	}
	return nil, fmt.Errorf("no Secret %s in the overlay", name)
}

// secretData is a Secret's keys as the API server stores them: data, with
// stringData over it.
func secretData(s *corev1.Secret) map[string][]byte {
	out := map[string][]byte{}
	for k, v := range s.Data {
		out[k] = v
	}
	for k, v := range s.StringData {
		out[k] = []byte(v)
	}
	return out
}

// PodmanSecret is a Secret as podman 4.3's secretKeyRef reads a podman
// secret: a JSON object of base64 values (a Secret in the played file is
// stored as YAML, which it then fails to read).
func PodmanSecret(s *corev1.Secret) []byte {
	obj := map[string]string{}
	for k, v := range secretData(s) {
		obj[k] = base64.StdEncoding.EncodeToString(v)
	}
	b, err := json.Marshal(obj)
	if err != nil {
		panic(err) // a map of strings always encodes
	}
	return b
}

// Probe is a readiness probe of the overlay, to be run from outside: podman
// turns a probe into a curl health check inside the container (a scratch
// image has no curl) that restarts it on failure, and schedules it only
// with systemd.
type Probe struct {
	Container string
	URL       string
}

// ForPodman returns a Deployment as podman 4.3 plays it: its probes taken
// out and returned as URLs on the host's loopback (the local overlay runs
// on the host's network and names the listener's port in each probe).
func ForPodman(d *appsv1.Deployment) (*appsv1.Deployment, []Probe, error) {
	d = d.DeepCopy()
	if !d.Spec.Template.Spec.HostNetwork {
		return nil, nil, fmt.Errorf("deployment %s: not on the host's network, where the local overlay must put it", d.Name)
	}
	var probes []Probe
	for i := range d.Spec.Template.Spec.Containers {
		c := &d.Spec.Template.Spec.Containers[i]
		if p := c.ReadinessProbe; p != nil && p.HTTPGet != nil {
			if p.HTTPGet.Port.IntValue() == 0 {
				return nil, nil, fmt.Errorf("deployment %s: the readiness probe names port %q, not a number", d.Name, p.HTTPGet.Port.String())
			}
			probes = append(probes, Probe{Container: c.Name,
				URL: "http://127.0.0.1:" + strconv.Itoa(p.HTTPGet.Port.IntValue()) + p.HTTPGet.Path})
		}
		c.ReadinessProbe, c.LivenessProbe, c.StartupProbe = nil, nil, nil
	}
	return d, probes, nil
}

// JobPod is a Job's pod template as a Pod that runs once: podman 4.3 plays
// no Job.
func JobPod(j *batchv1.Job) *corev1.Pod {
	spec := *j.Spec.Template.Spec.DeepCopy()
	spec.RestartPolicy = corev1.RestartPolicyNever
	spec.HostNetwork = true // the local overlay's Deployments are there; its Job is not patched
	return &corev1.Pod{
		TypeMeta:   metav1.TypeMeta{APIVersion: "v1", Kind: "Pod"},
		ObjectMeta: metav1.ObjectMeta{Name: j.Name, Labels: j.Spec.Template.Labels},
		Spec:       spec,
	}
}

// KubeFile is the file kube play reads: every ConfigMap, then the objects.
func (m *Manifests) KubeFile(objects ...any) ([]byte, error) {
	var docs []string
	for _, c := range slices.Concat(asAny(m.ConfigMaps), objects) {
		b, err := yaml.Marshal(c)
		if err != nil {
			return nil, fmt.Errorf("kube file: %w", err)
		}
		docs = append(docs, string(b))
	}
	return []byte(strings.Join(docs, "---\n")), nil
}

func asAny[T any](list []*T) []any {
	out := make([]any, len(list))
	for i, v := range list {
		out[i] = v
	}
	return out
}
