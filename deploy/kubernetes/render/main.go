// Command render prints an overlay of deploy/kubernetes rendered by
// kustomize's Go API — `go run ./deploy/kubernetes/render local` — for the
// deploy test and for operators without kustomize (with kubectl, `kubectl
// apply -k deploy/kubernetes/overlays/production` renders the same). An
// argument that is not a shipped overlay's name is a directory holding a
// kustomization, such as an operator's own overlay over the base.
//
// For podman 4.3's kube play, -podman prints the manifests without their
// Secrets, and -podman-secret NAME prints that Secret as `podman secret
// create NAME -` reads it:
//
//	render -podman-secret onboarding-secrets local | podman secret create onboarding-secrets -
//	render -podman local > local.yaml && podman kube play --build=false local.yaml
package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"slices"

	"github.com/cloudpartners/onboarding/deploy/kubernetes"
)

func main() {
	if err := run(os.Args[1:], os.Stdout); err != nil {
		fmt.Fprintf(os.Stderr, "render: %v\n", err)
		os.Exit(1)
	}
}

func run(args []string, stdout io.Writer) error {
	fs := flag.NewFlagSet("render", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	podman := fs.Bool("podman", false, "leave the Secrets out, for podman kube play")
	secret := fs.String("podman-secret", "", "print this Secret as podman secret create reads it")
	usage := fmt.Errorf("usage: render [-podman | -podman-secret NAME] OVERLAY|DIR, with OVERLAY one of %v", kubernetes.Overlays())
	if err := fs.Parse(args); err != nil || fs.NArg() != 1 {
		return usage
	}
	var out []byte
	var err error
	if dir := fs.Arg(0); slices.Contains(kubernetes.Overlays(), dir) {
		out, err = kubernetes.Render(dir)
	} else {
		out, err = kubernetes.RenderDir(dir)
	}
	if err != nil {
		return err
	}
	if *podman || *secret != "" {
		kube, secrets, err := kubernetes.ForPodman(out)
		switch {
		case err != nil:
			return err
		case *secret == "":
			out = kube
		case secrets[*secret] == nil:
			return errors.New("no Secret " + *secret + " in " + fs.Arg(0))
		default:
			out = secrets[*secret]
		}
	}
	_, err = stdout.Write(out)
	return err
}
