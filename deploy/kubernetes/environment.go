package kubernetes

import (
	"fmt"
	"strings"

	appsv1 "k8s.io/api/apps/v1"
	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/yaml"
)

// Placeholder is the value of every credential, and of Temporal's
// address, that the production overlay leaves to the operator.
const Placeholder = "REPLACE-ME"

// Environment is the environment a workload's container gets in an
// overlay, as the kubelet would set it: its ConfigMaps' settings, its
// literals, and its Secrets' values (placeholders in production), so that
// each binary's tests can load the settings the manifests give it.
// kind is Deployment or Job.
func Environment(overlay, kind, name string) (map[string]string, error) {
	out, err := Render(overlay)
	if err != nil {
		return nil, err
	}
	configMaps, secrets := map[string]map[string]string{}, map[string]map[string]string{}
	var pod *corev1.PodSpec
	for _, doc := range documents.Split(string(out), -1) {
		var tm struct {
			metav1.TypeMeta `json:",inline"`
			Metadata        metav1.ObjectMeta `json:"metadata"`
		}
		if err := yaml.Unmarshal([]byte(doc), &tm); err != nil {
			return nil, fmt.Errorf("environment: %w", err)
		}
		switch {
		case tm.Kind == "ConfigMap":
			var cm corev1.ConfigMap
			err = yaml.UnmarshalStrict([]byte(doc), &cm)
			configMaps[cm.Name] = cm.Data
		case tm.Kind == "Secret":
			var s corev1.Secret
			err = yaml.UnmarshalStrict([]byte(doc), &s)
			values := map[string]string{}
			for k, v := range s.Data {
				values[k] = string(v)
			}
			for k, v := range s.StringData {
				values[k] = v
			}
			secrets[s.Name] = values
		case tm.Kind == kind && tm.Metadata.Name == name && kind == "Deployment":
			var d appsv1.Deployment
			err = yaml.UnmarshalStrict([]byte(doc), &d)
			pod = &d.Spec.Template.Spec
		case tm.Kind == kind && tm.Metadata.Name == name && kind == "Job":
			var j batchv1.Job
			err = yaml.UnmarshalStrict([]byte(doc), &j)
			pod = &j.Spec.Template.Spec
		}
		if err != nil {
			return nil, fmt.Errorf("environment: %s %s: %w", tm.Kind, tm.Metadata.Name, err)
		}
	}
	if pod == nil || len(pod.Containers) != 1 {
		return nil, fmt.Errorf("environment: overlay %s has no %s %s of one container", overlay, kind, name)
	}
	c := pod.Containers[0]
	env := map[string]string{}
	for _, from := range c.EnvFrom {
		var values map[string]string
		switch {
		case from.ConfigMapRef != nil:
			values = configMaps[from.ConfigMapRef.Name]
		case from.SecretRef != nil:
			values = secrets[from.SecretRef.Name]
		}
		for k, v := range values {
			env[from.Prefix+k] = v
		}
	}
	for _, e := range c.Env {
		switch {
		case e.ValueFrom == nil:
			env[e.Name] = e.Value
		case e.ValueFrom.SecretKeyRef != nil:
			if v, ok := secrets[e.ValueFrom.SecretKeyRef.Name][e.ValueFrom.SecretKeyRef.Key]; ok {
				env[e.Name] = v
			}
		case e.ValueFrom.ConfigMapKeyRef != nil:
			if v, ok := configMaps[e.ValueFrom.ConfigMapKeyRef.Name][e.ValueFrom.ConfigMapKeyRef.Key]; ok {
				env[e.Name] = v
			}
		}
	}
	return env, nil
}

// HasPlaceholder reports whether any value of env is, or holds, the
// Placeholder.
func HasPlaceholder(env map[string]string) bool {
	for _, v := range env {
		if strings.Contains(v, Placeholder) {
			return true
		}
	}
	return false
}
