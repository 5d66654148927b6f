//go:build deploytest

// Package deploytest is make deploy-test: the local overlay of
// deploy/kubernetes played with podman kube play, on the images of make
// images, against the stack's Postgres, Temporal and mailpit; and a
// release rolled through it. It runs only with the build tag deploytest
// (scripts/deploy-test.sh builds the images first), never in make test.
package deploytest

import (
	"context"
	"encoding/json"
	"net/http"
	"os"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"go.temporal.io/sdk/client"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"

	"github.com/cloudpartners/onboarding/deploy/kubernetes"
	"github.com/cloudpartners/onboarding/internal/domain"
	"github.com/cloudpartners/onboarding/internal/stack"
	"github.com/cloudpartners/onboarding/internal/testenv"
	"github.com/cloudpartners/onboarding/workflows"
)

// releasedCommit is the code in production before the decline branch and
// the customer workflow (testenv.ReleasedCommit, as worker/deploy_test.go).
// Its worker and starter, built into images (scripts/images.sh at), start
// the onboardings that this commit's worker image must finish after the roll.
const releasedCommit = testenv.ReleasedCommit

// repo is where make images tags the images.
const repo = "localhost/onboarding/"

// TestDeploy plays the local overlay and rolls a release through it:
//
//  1. the released worker image runs alone, on the released schema, and
//     the released starter image launches an onboarding that waits;
//  2. the release: the migration Job, run once as a Pod, then this
//     commit's worker, webhook, codec server and portal; the released
//     worker is stopped with SIGTERM once the new one is ready, as a
//     rolling update does, and must drain and exit 0;
//  3. this commit's starter image launches a customer; both confirmation
//     links, read from mailpit, are confirmed through the webhook
//     container, the worker container creates the clouds, and the
//     starter image reports both ACTIVE, with no workflow task failed.
func TestDeploy(t *testing.T) {
	testenv.RequireStack(t)
	ctx := t.Context()
	root := testenv.ModuleRoot(t)
	pm := NewPodman(t, root)
	tag := envOr("DEPLOY_IMAGE_TAG", "dev")
	released := releasedCommit[:12]
	for _, img := range []string{"worker:" + tag, "webhook:" + tag, "portal:" + tag, "codecserver:" + tag, "starter:" + tag,
		"worker:" + released, "starter:" + released} {
		if _, err := pm.Run(ctx, "image", "exists", repo+img); err != nil {
			t.Fatalf("no image %s%s: run make deploy-test, which builds it (scripts/images.sh, scripts/images.sh at %s worker starter)", repo, img, releasedCommit)
		}
	}

	m, err := Parse(render(t))
	if err != nil {
		t.Fatal(err)
	}
	if len(m.NotPlayed) > 0 {
		t.Logf("not played by podman: %s", strings.Join(m.NotPlayed, ", "))
	}
	// The stack's addresses, a database and a task queue of this test's own.
	sfx := testenv.Suffix()
	dsn := testenv.NewDatabase(t)
	m.Set("DATABASE_URL", dsn)
	m.Set("MIGRATE_DATABASE_URL", dsn)
	m.Set("TEMPORAL_ADDRESS", testenv.TemporalAddress())
	m.Set("SMTP_ADDR", testenv.SMTPAddr())
	m.Set("OIDC_ISSUER", testenv.OIDCIssuer())
	m.Set("TASK_QUEUE", "deploy-"+sfx)
	m.Set("RESEND_MIN_INTERVAL", "1s")
	for _, d := range m.Deployments {
		retag(d.Spec.Template.Spec.Containers, tag)
	}
	for _, j := range m.Jobs {
		retag(j.Spec.Template.Spec.Containers, tag)
	}
	for _, s := range m.Secrets {
		pm.Secret(s.Name, PodmanSecret(s))
	}
	worker, err := m.Deployment("worker")
	if err != nil {
		t.Fatal(err)
	}
	starterEnv, err := m.Env(worker.Spec.Template.Spec.Containers[0])
	if err != nil {
		t.Fatal(err)
	}
	starterEnv["DB_MIGRATE"] = "check" // a starter never migrates: the Job does
	tc := testenv.Client(t)
	mail := stack.NewMailpit(testenv.MailpitURL())

	// 1. The released worker, on its own port (on the host's network two
	// pods cannot share one; in a cluster each has its own address).
	old := worker.DeepCopy()
	old.Name = "worker-released"
	old.Spec.Template.Spec.Containers[0].Image = repo + "worker:" + released
	// podman 4.3 lets envFrom win over env, so the port is set in a copy
	// of the settings.
	oldAddr := testenv.FreePort(t)
	settings, err := m.Settings(old.Spec.Template.Spec.Containers[0], old.Name, map[string]string{"WORKER_ADDR": oldAddr})
	if err != nil {
		t.Fatal(err)
	}
	oldPod, _, err := ForPodman(old)
	if err != nil {
		t.Fatal(err)
	}
	oldKube, err := m.KubeFile(settings, oldPod)
	if err != nil {
		t.Fatal(err)
	}
	oldFile := pm.Play("worker-released", oldKube)
	waitHTTP(t, "the released worker", "http://"+oldAddr+"/healthz", 60*time.Second) // it has no /readyz
	oldStarter := starter(pm, released, starterEnv)
	partner := "deploy-" + sfx
	oldStarter("partner", "add", "--id", partner, "--name", "Deploy partner")
	before := launch(t, oldStarter, partner, "Launched before the release", "before-"+sfx+"@deploy.example")
	waitStage(t, tc, before.id, workflows.StageAwaiting)

	// 2. The release: the migration, then every tier, then the old worker goes.
	start := time.Now()
	if len(m.Jobs) != 1 {
		t.Fatalf("the overlay has %d Jobs, want the one migration", len(m.Jobs))
	}
	migrate := JobPod(m.Jobs[0])
	migrateKube, err := m.KubeFile(migrate)
	if err != nil {
		t.Fatal(err)
	}
	pm.Play("migrate", migrateKube)
	if code, err := pm.Wait(migrate.Name+"-"+migrate.Spec.Containers[0].Name, 2*time.Minute); err != nil || code != 0 {
		t.Fatalf("the migration job's pod exited %d (%v)", code, err)
	}
	var probes []Probe
	var containers []string
	for _, d := range m.Deployments {
		pod, ps, err := ForPodman(d)
		if err != nil {
			t.Fatal(err)
		}
		kube, err := m.KubeFile(pod)
		if err != nil {
			t.Fatal(err)
		}
		pm.Play(d.Name, kube)
		probes = append(probes, ps...)
		for _, c := range d.Spec.Template.Spec.Containers {
			containers = append(containers, d.Name+"-pod-0-"+c.Name)
		}
	}
	for _, p := range probes {
		waitHTTP(t, p.Container, p.URL, 90*time.Second)
	}
	t.Logf("the release is ready %s after the migration began", time.Since(start).Round(100*time.Millisecond))
	stopGracefully(t, pm, "worker-released-pod-0", "worker-released-pod-0-worker", grace(old))
	pm.Down(oldFile)
	hardened(t, pm, containers)

	// 3. A customer launched by this commit's starter, and both confirmed
	// through the webhook container.
	newStarter := starter(pm, tag, starterEnv)
	after := launch(t, newStarter, partner, "Launched after the release", "after-"+sfx+"@deploy.example")
	for _, o := range []launched{before, after} {
		wctx, cancel := context.WithTimeout(ctx, 60*time.Second)
		msgs, err := mail.WaitMail(wctx, o.email, 1)
		cancel()
		if err != nil {
			t.Fatalf("the confirmation email to %s: %v", o.email, err)
		}
		link := stack.LinkIn(msgs[0].Text)
		if !strings.HasPrefix(link, starterEnv["PUBLIC_BASE_URL"]+"/confirm?") {
			t.Fatalf("link %q does not point at the webhook container (%s)", link, starterEnv["PUBLIC_BASE_URL"])
		}
		token, err := stack.TokenOf(link)
		if err != nil {
			t.Fatal(err)
		}
		code, _, err := stack.PostAnswer(ctx, http.DefaultClient, starterEnv["PUBLIC_BASE_URL"], token, "confirm")
		if err != nil || code != http.StatusOK {
			t.Fatalf("confirm %s through the webhook container: %d %v", o.id, code, err)
		}
	}
	for _, o := range []launched{before, after} {
		v := waitActive(t, newStarter, o.id)
		if v.CloudName != "deploy-cloud" {
			t.Errorf("%s: cloud %q, want deploy-cloud", o.id, v.CloudName)
		}
		cost, err := stack.History(ctx, tc, o.id, "")
		if err != nil {
			t.Fatal(err)
		}
		if cost.WorkflowTaskFailed != 0 || cost.NonDeterministic != 0 {
			t.Errorf("%s: %d workflow tasks failed, %d non-deterministic", o.id, cost.WorkflowTaskFailed, cost.NonDeterministic)
		}
	}
}

// render is the local overlay, rendered by deploy/kubernetes's renderer
// (DEPLOY_MANIFESTS names a rendered file instead).
func render(t *testing.T) []byte {
	t.Helper()
	if f := os.Getenv("DEPLOY_MANIFESTS"); f != "" {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	out, err := kubernetes.Render("local")
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// retag points the overlay's images at the tag under test.
func retag(cs []corev1.Container, tag string) {
	for i := range cs {
		if name, _, ok := strings.Cut(cs[i].Image, ":"); ok && strings.HasPrefix(name, repo) {
			cs[i].Image = name + ":" + tag
		}
	}
}

func envOr(name, def string) string {
	if v := os.Getenv(name); v != "" {
		return v
	}
	return def
}

// starter runs the starter image of a tag as a Job's container would run:
// on the host's network, read-only, as 65532, with no capability, and the
// worker's settings and credentials (an env file, so that no credential is
// on a command line).
func starter(pm *Podman, tag string, env map[string]string) func(args ...string) []byte {
	var lines []string
	for k, v := range env {
		lines = append(lines, k+"="+v)
	}
	slices.Sort(lines)
	envFile := pm.File("starter-"+tag+".env", []byte(strings.Join(lines, "\n")+"\n"))
	return func(args ...string) []byte {
		pm.tb.Helper()
		return []byte(pm.Must(slices.Concat([]string{"run", "--rm", "--network", "host", "--read-only", "--user", "65532:65532",
			"--cap-drop", "ALL", "--security-opt", "no-new-privileges", "--env-file", envFile, repo + "starter:" + tag}, args)...))
	}
}

type launched struct{ id, email string }

// launch adds a customer with a starter image and returns its onboarding.
func launch(t *testing.T, run func(...string) []byte, partner, name, email string) launched {
	t.Helper()
	var l struct {
		OnboardingID string `json:"onboarding_id"`
	}
	out := run("add", "--json", "--partner", partner, "--name", name, "--email", email, "--cloud", "deploy-cloud")
	if err := json.Unmarshal(out, &l); err != nil || l.OnboardingID == "" {
		t.Fatalf("starter add printed %q (%v)", out, err)
	}
	return launched{id: l.OnboardingID, email: email}
}

// waitStage waits until the onboarding's workflow reports the stage.
func waitStage(t *testing.T, tc client.Client, id, stage string) {
	t.Helper()
	testenv.Eventually(t, 60*time.Second, id+" to reach "+stage, func() bool {
		v, err := tc.QueryWorkflow(t.Context(), id, "", workflows.QueryStatus)
		var s workflows.Status
		return err == nil && v.Get(&s) == nil && s.Stage == stage
	})
}

// view is what starter status --json prints, the part this test reads.
type view struct {
	Stage            string `json:"stage"`
	SubaccountStatus string `json:"subaccount_status"`
	CloudName        string `json:"cloud_name"`
}

// waitActive waits, at most a minute, until the starter image reports the
// onboarding's customer ACTIVE.
func waitActive(t *testing.T, run func(...string) []byte, id string) view {
	t.Helper()
	var v view
	testenv.Eventually(t, 60*time.Second, id+" to be ACTIVE", func() bool {
		v = view{}
		return json.Unmarshal(run("status", "--json", id), &v) == nil && v.SubaccountStatus == domain.StatusActive
	})
	return v
}

// waitHTTP waits until a URL answers 200.
func waitHTTP(t *testing.T, what, url string, timeout time.Duration) {
	t.Helper()
	c := &http.Client{Timeout: 2 * time.Second}
	testenv.Eventually(t, timeout, what+" at "+url, func() bool {
		resp, err := c.Get(url)
		if err != nil {
			return false
		}
		resp.Body.Close()
		return resp.StatusCode == http.StatusOK
	})
}

// grace is a Deployment's termination grace period.
func grace(d *appsv1.Deployment) time.Duration {
	if g := d.Spec.Template.Spec.TerminationGracePeriodSeconds; g != nil {
		return time.Duration(*g) * time.Second
	}
	return 30 * time.Second
}

// stopGracefully stops a pod as the kubelet does — SIGTERM, then SIGKILL
// after the grace period — and fails unless its container drained and
// exited 0 within it.
func stopGracefully(t *testing.T, pm *Podman, pod, container string, grace time.Duration) {
	t.Helper()
	began := time.Now()
	pm.Must("pod", "stop", "--time", strconv.Itoa(int(grace.Seconds())), pod)
	code := pm.Inspect(container, "{{.State.ExitCode}}")
	if code != "0" {
		t.Fatalf("%s exited %s on SIGTERM, want 0 (drained)", container, code)
	}
	t.Logf("%s drained and exited 0 in %s", container, time.Since(began).Round(100*time.Millisecond))
}

// hardened fails unless podman honoured the overlay's securityContext:
// the read-only root, the non-root user, no capability, no privilege
// escalation.
func hardened(t *testing.T, pm *Podman, containers []string) {
	t.Helper()
	for _, c := range containers {
		got := pm.Inspect(c, "{{.HostConfig.ReadonlyRootfs}} {{.Config.User}} {{len .EffectiveCaps}} {{.HostConfig.SecurityOpt}}")
		if !strings.HasPrefix(got, "true 65532") || !strings.Contains(got, " 0 ") || !strings.Contains(got, "no-new-privileges") {
			t.Errorf("%s: read-only root, user, capabilities, options = %q; want true, 65532, 0, no-new-privileges", c, got)
		}
	}
}
