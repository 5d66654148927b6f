// Command render prints an overlay of deploy/kubernetes rendered by
// kustomize's Go API — `go run ./deploy/kubernetes/render local` — for the
// deploy test and for operators without kustomize (with kubectl, `kubectl
// apply -k deploy/kubernetes/overlays/production` renders the same). An
// argument that is not a shipped overlay's name is a directory holding a
// kustomization, such as an operator's own overlay over the base.
package main

import (
	"fmt"
	"os"
	"slices"

	"github.com/cloudpartners/onboarding/deploy/kubernetes"
)

func main() {
	if err := run(os.Args[1:]); err != nil {
		fmt.Fprintf(os.Stderr, "render: %v\n", err)
		os.Exit(1)
	}
}

func run(args []string) error {
	if len(args) != 1 || args[0] == "-h" || args[0] == "--help" {
		return fmt.Errorf("usage: render OVERLAY|DIR, with OVERLAY one of %v", kubernetes.Overlays())
	}
	var out []byte
	var err error
	if slices.Contains(kubernetes.Overlays(), args[0]) {
		out, err = kubernetes.Render(args[0])
	} else {
		out, err = kubernetes.RenderDir(args[0])
	}
	if err != nil {
		return err
	}
	_, err = os.Stdout.Write(out)
	return err
}
