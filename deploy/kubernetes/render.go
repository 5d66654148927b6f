// Package kubernetes holds the Kubernetes manifests of every tier — a
// kustomize base and its overlays (local: podman kube play on one machine
// against the stack; production) — and renders an overlay with
// kustomize's own Go API, so that neither the deploy test nor an operator
// without kubectl needs the kustomize binary (with kubectl: kubectl apply -k).
package kubernetes

import (
	"embed"
	"encoding/json"
	"fmt"
	"io/fs"
	"maps"
	"os"
	"path"
	"regexp"
	"slices"
	"strings"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/kustomize/api/krusty"
	"sigs.k8s.io/kustomize/kyaml/filesys"
	"sigs.k8s.io/yaml"
)

// tree is the base and the overlays, as committed.
//
//go:embed base overlays
var tree embed.FS

// Overlays are the overlays shipped here, by name.
func Overlays() []string {
	entries, err := fs.ReadDir(tree, "overlays")
	if err != nil {
		panic(err) // embedded at build time
	}
	var names []string
	for _, e := range entries {
		if e.IsDir() {
			names = append(names, e.Name())
		}
	}
	return names
}

// Render renders an overlay shipped here (Overlays) to multi-document YAML.
func Render(overlay string) ([]byte, error) {
	if !slices.Contains(Overlays(), overlay) {
		return nil, fmt.Errorf("no overlay %q: want one of %v, or a directory", overlay, Overlays())
	}
	mem := filesys.MakeFsInMemory()
	err := fs.WalkDir(tree, ".", func(p string, d fs.DirEntry, err error) error {
		switch {
		case err != nil:
			return err
		case d.IsDir():
			return mem.MkdirAll(path.Join("/", p))
		}
		b, err := tree.ReadFile(p)
		if err != nil {
			return err
		}
		return mem.WriteFile(path.Join("/", p), b)
	})
	if err != nil {
		return nil, fmt.Errorf("render %s: %w", overlay, err)
	}
	return build(mem, path.Join("/overlays", overlay))
}

// RenderDir renders the kustomization in a directory on disk: an
// operator's own overlay over this base.
func RenderDir(dir string) ([]byte, error) {
	if _, err := os.Stat(dir); err != nil {
		return nil, fmt.Errorf("render: %w", err)
	}
	return build(filesys.MakeFsOnDisk(), dir)
}

func build(fsys filesys.FileSystem, dir string) ([]byte, error) {
	m, err := krusty.MakeKustomizer(krusty.MakeDefaultOptions()).Run(fsys, dir)
	if err != nil {
		return nil, fmt.Errorf("render %s: %w", dir, err)
	}
	out, err := m.AsYaml()
	if err != nil {
		return nil, fmt.Errorf("render %s: %w", dir, err)
	}
	return out, nil
}

// documents splits multi-document YAML as kustomize writes it.
var documents = regexp.MustCompile(`(?m)^---\s*$`)

// ForPodman prepares rendered manifests for `podman kube play` (4.3): the
// Secrets are taken out of the YAML — podman stores a played Secret in a
// form its own secretKeyRef then cannot read — and returned by name, each
// as what `podman secret create NAME -` wants: a JSON object of its keys
// to their base64 values.
func ForPodman(rendered []byte) (kube []byte, secrets map[string][]byte, err error) {
	secrets = map[string][]byte{}
	var keep []string
	for _, doc := range documents.Split(string(rendered), -1) {
		if strings.TrimSpace(doc) == "" {
			continue
		}
		var tm metav1.TypeMeta
		if err := yaml.Unmarshal([]byte(doc), &tm); err != nil {
			return nil, nil, fmt.Errorf("for podman: %w", err)
		}
		if tm.APIVersion != "v1" || tm.Kind != "Secret" {
			keep = append(keep, strings.TrimPrefix(doc, "\n"))
			continue
		}
		var s corev1.Secret
		if err := yaml.UnmarshalStrict([]byte(doc), &s); err != nil {
			return nil, nil, fmt.Errorf("for podman: secret: %w", err)
		}
		values := map[string][]byte{}
		maps.Copy(values, s.Data)
		for k, v := range s.StringData {
			values[k] = []byte(v)
		}
		if secrets[s.Name], err = json.Marshal(values); err != nil {
			return nil, nil, fmt.Errorf("for podman: secret %s: %w", s.Name, err)
		}
	}
	return []byte(strings.Join(keep, "---\n")), secrets, nil
}
