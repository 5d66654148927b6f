package main

import (
	"context"
	"io"
	"maps"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"go.temporal.io/sdk/client"

	"github.com/cloudpartners/onboarding/internal/domain"
	"github.com/cloudpartners/onboarding/internal/links"
	"github.com/cloudpartners/onboarding/internal/onboarding"
	"github.com/cloudpartners/onboarding/internal/store"
	"github.com/cloudpartners/onboarding/internal/testenv"
	"github.com/cloudpartners/onboarding/workflows"
)

// The secrets the worker and the webhook of a test share.
const (
	testSecret      = "webhook-test-secret-0123456789abcdef-0123456789"
	testLoginSecret = "webhook-test-login-secret-0123456789abcdef-0123"
	// testBrand has characters that must be escaped on every page.
	testBrand = `Test Cloud <&> "quoted"`
)

// env is one test's world: its own database, task queue and partner, the
// real worker as a child process, and the webhook running in-process
// through run, exactly as main wires it.
type env struct {
	st          *store.Store
	c           client.Client
	drv         *testenv.Driver // launches as `starter add` does
	base        string          // the webhook's URL
	tq          string
	suffix      string
	partnerID   string
	partnerName string
	logs        *testenv.Buffer // the webhook's log
	http        *http.Client
	worker      *testenv.Process
	stop        func()            // stops the webhook; at cleanup if not before
	shared      map[string]string // the environment the worker and the webhook share
}

// newEnv starts everything; webhookVars are added to the webhook's environment.
func newEnv(t *testing.T, webhookVars map[string]string) *env {
	t.Helper()
	return startEnv(t, nil, webhookVars)
}

// startEnv starts everything; sharedVars are added to the environment of
// the worker and the webhook, webhookVars to the webhook's.
func startEnv(t *testing.T, sharedVars, webhookVars map[string]string) *env {
	t.Helper()
	testenv.RequireStack(t)
	st, dsn := testenv.NewStore(t)
	e := &env{st: st, suffix: testenv.Suffix(), logs: &testenv.Buffer{}, http: &http.Client{Timeout: 30 * time.Second}}
	e.tq = "tq-" + e.suffix
	addr := testenv.FreePort(t)
	e.base = "http://" + addr
	shared := map[string]string{
		"DATABASE_URL": dsn, "TASK_QUEUE": e.tq, "ONBOARDING_SECRET": testSecret,
		"LOGIN_HOOK_SECRET": testLoginSecret, "PUBLIC_BASE_URL": e.base, "BRAND": testBrand,
	}
	maps.Copy(shared, sharedVars)
	e.shared = shared
	workerVars := map[string]string{"WORKER_ADDR": testenv.FreePort(t)}
	webhookVars2 := map[string]string{"WEBHOOK_ADDR": addr}
	for k, v := range shared {
		workerVars[k], webhookVars2[k] = v, v
	}
	for k, v := range webhookVars {
		webhookVars2[k] = v
	}
	e.worker = testenv.Start(t, "worker", workerVars)

	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- run(ctx, nil, testenv.Getenv(webhookVars2), e.logs, e.logs) }()
	var stopOnce sync.Once
	e.stop = func() {
		stopOnce.Do(func() {
			cancel()
			if err := <-done; err != nil {
				t.Errorf("webhook run: %v", err)
			}
		})
	}
	t.Cleanup(func() {
		e.stop()
		if t.Failed() {
			t.Logf("--- webhook log ---\n%s", e.logs.String())
		}
	})
	testenv.Eventually(t, 20*time.Second, "the webhook's /healthz", func() bool {
		select {
		case err := <-done:
			t.Fatalf("webhook run ended early: %v\n%s", err, e.logs.String())
		default:
		}
		resp, err := e.http.Get(e.base + "/healthz")
		if err != nil {
			return false
		}
		resp.Body.Close()
		return resp.StatusCode == http.StatusOK
	})

	e.drv = testenv.NewDriver(t, shared)
	e.c = e.drv.Temporal

	e.partnerID = "p-" + e.suffix
	e.partnerName = `Partner <b>& "Sons"</b> ` + e.suffix
	if _, err := st.AddPartner(context.Background(), e.partnerID, e.partnerName, nil); err != nil {
		t.Fatal(err)
	}
	return e
}

// invited is one launched onboarding, with the link from its real email.
type invited struct {
	run   client.WorkflowRun
	name  string
	email string
	link  string
	token string
	sa    domain.Subaccount
}

// launch starts an onboarding the way the starter does and waits for its email.
func (e *env) launch(t *testing.T, key string, within time.Duration) *invited {
	t.Helper()
	ctx := context.Background()
	o := &invited{
		name:  `<script>alert("x")</script> & Co ` + key,
		email: "customer-" + key + "-" + e.suffix + "@example.com",
	}
	l := e.drv.Launch(e.partnerID, onboarding.NewCustomer{Name: o.name, Email: o.email, Cloud: "cloud-" + key, ConfirmWithin: within})
	o.run = e.c.GetWorkflow(ctx, l.OnboardingID, l.RunID)
	o.link = e.drv.Link(o.email, 1)
	if !strings.HasPrefix(o.link, e.base+"/confirm?token=") {
		t.Fatalf("the email links to %q, want the webhook at %s", o.link, e.base)
	}
	u, err := url.Parse(o.link)
	if err != nil {
		t.Fatal(err)
	}
	o.token = u.Query().Get("token")
	o.sa, err = e.st.SubaccountByOnboarding(ctx, "", o.run.GetID())
	if err != nil {
		t.Fatal(err)
	}
	// The email leaves before the workflow records that it waits.
	testenv.Eventually(t, 30*time.Second, "the onboarding to await confirmation", func() bool {
		return e.status(t, o).Stage == workflows.StageAwaiting
	})
	e.awaiting(t, o)
	return o
}

// awaiting asserts that nothing changed: the onboarding still waits for the
// customer and the subaccount still requires acceptance.
func (e *env) awaiting(t *testing.T, o *invited) {
	t.Helper()
	if s := e.status(t, o); s.Stage != workflows.StageAwaiting || s.ConfirmedVia != "" {
		t.Errorf("onboarding stage %s, confirmed via %q; want %s and no confirmation", s.Stage, s.ConfirmedVia, workflows.StageAwaiting)
	}
	if sa := e.row(t, o); sa.Status != domain.StatusAcceptanceRequired || sa.CloudID != "" {
		t.Errorf("subaccount %s with cloud %q, want %s and no cloud", sa.Status, sa.CloudID, domain.StatusAcceptanceRequired)
	}
}

func (e *env) status(t *testing.T, o *invited) workflows.Status {
	t.Helper()
	v, err := e.c.QueryWorkflow(context.Background(), o.run.GetID(), o.run.GetRunID(), workflows.QueryStatus)
	if err != nil {
		t.Fatalf("query status: %v", err)
	}
	var s workflows.Status
	if err := v.Get(&s); err != nil {
		t.Fatal(err)
	}
	return s
}

func (e *env) row(t *testing.T, o *invited) domain.Subaccount {
	t.Helper()
	sa, err := e.st.Subaccount(context.Background(), "", o.sa.ID)
	if err != nil {
		t.Fatal(err)
	}
	return sa
}

// result waits for the onboarding to finish.
func (e *env) result(t *testing.T, o *invited) workflows.Result {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	var r workflows.Result
	if err := o.run.Get(ctx, &r); err != nil {
		t.Fatalf("onboarding result: %v", err)
	}
	return r
}

// activeWithCloud asserts the onboarding ended ACTIVE with its cloud.
func (e *env) activeWithCloud(t *testing.T, o *invited, via string) {
	t.Helper()
	r := e.result(t, o)
	if r.Outcome != workflows.OutcomeActive || r.CloudID == "" {
		t.Fatalf("outcome %s with cloud %q, want ACTIVE with a cloud", r.Outcome, r.CloudID)
	}
	sa := e.row(t, o)
	if sa.Status != domain.StatusActive || sa.CloudID != r.CloudID {
		t.Errorf("subaccount %s with cloud %q, want ACTIVE with cloud %s", sa.Status, sa.CloudID, r.CloudID)
	}
	if s := e.status(t, o); s.ConfirmedVia != via {
		t.Errorf("confirmed via %q, want %q", s.ConfirmedVia, via)
	}
}

// answer is a response, read.
type answer struct {
	status int
	header http.Header
	body   string
}

func (e *env) do(t *testing.T, req *http.Request) answer {
	t.Helper()
	resp, err := e.http.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", req.Method, req.URL.Path, err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return answer{resp.StatusCode, resp.Header, string(b)}
}

func (e *env) get(t *testing.T, method, u string) answer {
	t.Helper()
	req, err := http.NewRequest(method, u, nil)
	if err != nil {
		t.Fatal(err)
	}
	return e.do(t, req)
}

// submit posts the confirm form with its fields and headers (a browser's
// or a proxy's).
func (e *env) submit(t *testing.T, form url.Values, header map[string]string) answer {
	t.Helper()
	req, err := http.NewRequest(http.MethodPost, e.base+"/confirm", strings.NewReader(form.Encode()))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	for k, v := range header {
		req.Header.Set(k, v)
	}
	return e.do(t, req)
}

// post submits the confirm form, as the page's button does.
func (e *env) post(t *testing.T, token string) answer {
	t.Helper()
	return e.submit(t, url.Values{"token": {token}}, nil)
}

// decline submits the form with the Decline button.
func (e *env) decline(t *testing.T, token string) answer {
	t.Helper()
	return e.submit(t, url.Values{"token": {token}, "action": {"decline"}}, nil)
}

// hook calls the login hook with a body and an X-Signature header.
func (e *env) hook(t *testing.T, body, signature string) answer {
	t.Helper()
	req, err := http.NewRequest(http.MethodPost, e.base+"/hooks/login", strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/json")
	if signature != "" {
		req.Header.Set("X-Signature", signature)
	}
	return e.do(t, req)
}

// expect checks an answer's status and that its body holds every want.
func expect(t *testing.T, a answer, status int, want ...string) {
	t.Helper()
	if a.status != status {
		t.Errorf("status %d, want %d; body:\n%s", a.status, status, a.body)
	}
	for _, w := range want {
		if !strings.Contains(a.body, w) {
			t.Errorf("the answer does not contain %q:\n%s", w, a.body)
		}
	}
}

// noSecretsLogged asserts the webhook's log shows neither tokens nor emails.
func (e *env) noSecretsLogged(t *testing.T, os ...*invited) {
	t.Helper()
	logs := e.logs.String()
	if !strings.Contains(logs, "webhook listening") {
		t.Errorf("the webhook log is empty or lost:\n%s", logs)
	}
	for _, o := range os {
		if strings.Contains(logs, o.token) || strings.Contains(logs, o.email) {
			t.Errorf("the webhook log shows a token or an email address:\n%s", logs)
		}
	}
	if strings.Contains(logs, "@example.com") {
		t.Errorf("the webhook log shows an email address:\n%s", logs)
	}
}

// escaped is how html/template shows s in text.
func escaped(s string) string {
	r := strings.NewReplacer("&", "&amp;", "<", "&lt;", ">", "&gt;", `"`, "&#34;", "'", "&#39;")
	return r.Replace(s)
}

// forge makes a token for a subaccount under another secret.
func forge(t *testing.T, subaccountID string, deadline time.Time) string {
	t.Helper()
	tok, err := links.NewSigner([]byte("not-the-server-secret-0123456789abcdef")).Token(subaccountID, deadline)
	if err != nil {
		t.Fatal(err)
	}
	return tok
}

// flip changes one character in the middle of a token.
func flip(token string) string {
	b := []byte(token)
	i := len(b) / 2
	if b[i] == 'A' {
		b[i] = 'B'
	} else {
		b[i] = 'A'
	}
	return string(b)
}
