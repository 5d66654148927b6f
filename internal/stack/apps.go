package stack

import (
	"context"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"go.temporal.io/sdk/client"
)

// Apps are the repository's worker and webhook built for a private stack,
// with the settings they share.
type Apps struct {
	Worker, Webhook         string   // the built binaries
	WorkerAddr, WebhookAddr string   // free loopback addresses for them to listen on
	Secret                  string   // their ONBOARDING_SECRET, fresh
	Env                     []string // the stack's addresses, the secret, the task queue, the webhook as PUBLIC_BASE_URL, JSON logs
}

// BuildApps builds the worker and the webhook into the state folder's bin,
// picks their addresses and a secret, and sets the environment they share;
// taskQueue is the worker's TASK_QUEUE.
func (s *Stack) BuildApps(ctx context.Context, taskQueue string) (*Apps, error) {
	bin, err := s.Dir("bin")
	if err != nil {
		return nil, err
	}
	bins, err := Build(ctx, s.Root, bin, "worker", "webhook")
	if err != nil {
		return nil, err
	}
	a := &Apps{Worker: bins[0], Webhook: bins[1], Secret: Secret()}
	if a.WorkerAddr, err = FreeAddr(); err != nil {
		return nil, err
	}
	if a.WebhookAddr, err = FreeAddr(); err != nil {
		return nil, err
	}
	a.Env = append(s.Env(), "ONBOARDING_SECRET="+a.Secret, "TASK_QUEUE="+taskQueue,
		"PUBLIC_BASE_URL="+a.WebhookURL(), "LOG_FORMAT=json")
	return a, nil
}

// WebhookURL is the webhook's base URL.
func (a *Apps) WebhookURL() string { return "http://" + a.WebhookAddr }

// WorkerEnv is the worker's environment: the shared one, its address, and
// extra settings last so that they win.
func (a *Apps) WorkerEnv(extra ...string) []string {
	return append(append(append([]string{}, a.Env...), "WORKER_ADDR="+a.WorkerAddr), extra...)
}

// WebhookEnv is the webhook's environment: the shared one, its address, and
// its per-address rate limit set to rate requests a second (a driver posts
// every confirm from one address).
func (a *Apps) WebhookEnv(rate int) []string {
	r := strconv.Itoa(rate)
	return append(append([]string{}, a.Env...), "WEBHOOK_ADDR="+a.WebhookAddr, "WEBHOOK_RATE="+r, "WEBHOOK_BURST="+r)
}

// Client connects to the stack's Temporal, the SDK's warnings in
// logs/<name>-sdk.log under the state folder.
func (s *Stack) Client(ctx context.Context, name string) (client.Client, error) {
	logs, err := s.Dir("logs")
	if err != nil {
		return nil, err
	}
	f, err := os.Create(filepath.Join(logs, name+"-sdk.log"))
	if err != nil {
		return nil, err
	}
	return s.Dial(ctx, f)
}

// Getenv is the environment the apps run with, with extra NAME=VALUE
// settings last so that they win: what a program needs to take the same
// actions as the starter against this stack (OpenDriver).
func (a *Apps) Getenv(extra ...string) func(string) string {
	vars := map[string]string{}
	for _, kv := range append(append([]string{}, a.Env...), extra...) {
		if k, v, ok := strings.Cut(kv, "="); ok {
			vars[k] = v
		}
	}
	return func(k string) string { return vars[k] }
}
