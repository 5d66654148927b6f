// Package kubernetes holds the Kubernetes manifests of every tier — a
// kustomize base and its overlays (local: podman kube play on one machine
// against the stack; production) — and renders an overlay with
// kustomize's own Go API, so that neither the deploy test nor an operator
// without kubectl needs the kustomize binary (with kubectl: kubectl apply -k).
package kubernetes

import (
	"embed"
	"fmt"
	"io/fs"
	"os"
	"path"
	"slices"

	"sigs.k8s.io/kustomize/api/krusty"
	"sigs.k8s.io/kustomize/kyaml/filesys"
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
