package stack

import (
	"context"
	"database/sql"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"

	enumspb "go.temporal.io/api/enums/v1"
	"go.temporal.io/api/operatorservice/v1"
	"go.temporal.io/api/workflowservice/v1"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/temporal"

	"github.com/cloudpartners/onboarding/workflows"
)

// TestFullServer runs the full Temporal server (TEMPORAL_SERVER=full) as
// `make up` does, whatever server the rest of the tests use: its schema is
// the newest the pinned server ships, the namespace and the workflows'
// search attributes are registered, SQL visibility answers a query on a
// custom attribute, and a workflow started before the server is SIGKILLed
// is there, still running, after `up` brings it back; a second `up` changes
// nothing.
func TestFullServer(t *testing.T) {
	s, log, ctx := serverStack(t, &Stack{Server: "full"})
	t.Cleanup(func() {
		if b, err := os.ReadFile(filepath.Join(s.State, "temporal.log")); err == nil && t.Failed() {
			t.Logf("temporal.log:\n%s", Tail(string(b), 4000))
		}
	})
	if err := s.Up(ctx, "temporal"); err != nil {
		t.Fatalf("up the full server: %v", err)
	}

	// The schema tool brought both databases to the newest version shipped.
	for dbName, dir := range map[string]string{"temporal": "temporal", "temporal_visibility": "visibility"} {
		db, err := sql.Open("postgres", strings.Replace(s.DatabaseURL(), "/onboarding?", "/"+dbName+"?", 1))
		if err != nil {
			t.Fatal(err)
		}
		var version string
		err = db.QueryRowContext(ctx, "SELECT curr_version FROM schema_version").Scan(&version)
		db.Close()
		if err != nil {
			t.Fatalf("schema version of %s: %v", dbName, err)
		}
		if want := newestSchema(t, dir); version != want {
			t.Errorf("%s is at schema %s, the pinned server ships %s", dbName, version, want)
		}
	}

	c, err := s.Dial(ctx, log)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	sas, err := c.OperatorService().ListSearchAttributes(ctx, &operatorservice.ListSearchAttributesRequest{Namespace: "default"})
	if err != nil {
		t.Fatal(err)
	}
	for _, k := range append(append([]temporal.SearchAttributeKey{}, workflows.SearchAttributes...), workflows.CustomerSearchAttributes...) {
		if got, ok := sas.CustomAttributes[k.GetName()]; !ok || got != k.GetValueType() {
			t.Errorf("search attribute %s: registered as %v (%t), want %v", k.GetName(), got, ok, k.GetValueType())
		}
	}

	// A workflow nobody runs waits in the server's Postgres.
	partner := "full-" + Suffix()
	run, err := c.ExecuteWorkflow(ctx, client.StartWorkflowOptions{
		ID: "full-server-test/" + partner, TaskQueue: "nobody-polls-" + partner,
		TypedSearchAttributes: temporal.NewSearchAttributes(workflows.AttrPartner.ValueSet(partner)),
	}, "NeverRuns")
	if err != nil {
		t.Fatal(err)
	}
	visible(ctx, t, c, partner, run.GetID())

	if err := s.KillTemporal(ctx); err != nil {
		t.Fatal(err)
	}
	dctx, dcancel := context.WithTimeout(ctx, 2*time.Second)
	if _, err := c.DescribeWorkflow(dctx, run.GetID(), ""); err == nil {
		t.Fatal("the server still answers after SIGKILL")
	}
	dcancel()
	if err := s.Up(ctx, "temporal"); err != nil {
		t.Fatalf("up after SIGKILL: %v", err)
	}
	desc, err := c.DescribeWorkflow(ctx, run.GetID(), run.GetRunID())
	if err != nil {
		t.Fatalf("the workflow after the server's SIGKILL: %v", err)
	}
	if st := desc.Status; st != enumspb.WORKFLOW_EXECUTION_STATUS_RUNNING {
		t.Errorf("after the SIGKILL the workflow is %v", st)
	}
	visible(ctx, t, c, partner, run.GetID())

	// up again: everything runs, the schema is current, nothing changes.
	before := len(log.String())
	if err := s.Up(ctx, "temporal"); err != nil {
		t.Fatalf("second up: %v", err)
	}
	if strings.Contains(log.String()[before:], "installing") {
		t.Errorf("second up installed something:\n%s", log.String()[before:])
	}
}

// serverStack gives s (a Temporal server's settings) the repository, a
// state folder of the test's own, free ports and a log (testStack), and a
// context long enough for the first run, which builds the server.
func serverStack(t *testing.T, s *Stack) (*Stack, *lockedBuffer, context.Context) {
	t.Helper()
	root, err := ModuleRoot()
	if err != nil {
		t.Fatal(err)
	}
	s.Root, s.State = root, filepath.Join(t.TempDir(), "stack")
	testStack(t, s)
	ctx, cancel := context.WithTimeout(t.Context(), 10*time.Minute)
	t.Cleanup(cancel)
	return s, s.Log.(*lockedBuffer), ctx
}

// visible waits until SQL visibility lists the workflow by its partner.
func visible(ctx context.Context, t *testing.T, c client.Client, partner, id string) {
	t.Helper()
	q := workflows.AttrPartner.GetName() + " = '" + partner + "'"
	for {
		res, err := c.ListWorkflow(ctx, &workflowservice.ListWorkflowExecutionsRequest{Query: q})
		if err == nil && len(res.Executions) == 1 && res.Executions[0].Execution.WorkflowId == id {
			return
		}
		select {
		case <-ctx.Done():
			t.Fatalf("visibility never listed %s for %q (last: %v, %v)", id, q, res, err)
		case <-time.After(100 * time.Millisecond):
		}
	}
}

// newestSchema is the newest versioned folder of the pinned server's
// Postgres schema, as scripts/stack.sh finds it: "1.18".
func newestSchema(t *testing.T, which string) string {
	t.Helper()
	var out strings.Builder
	s := &Stack{Root: must(ModuleRoot()), State: t.TempDir()}
	if err := s.script(t.Context(), &out, "schema"); err != nil {
		t.Fatal(err)
	}
	entries, err := os.ReadDir(filepath.Join(strings.TrimSpace(out.String()), which, "versioned"))
	if err != nil {
		t.Fatal(err)
	}
	var vs [][2]int
	for _, e := range entries {
		maj, min, _ := strings.Cut(strings.TrimPrefix(e.Name(), "v"), ".")
		a, err1 := strconv.Atoi(maj)
		b, err2 := strconv.Atoi(min)
		if err1 == nil && err2 == nil {
			vs = append(vs, [2]int{a, b})
		}
	}
	if len(vs) == 0 {
		t.Fatalf("no versions under %s", which)
	}
	sort.Slice(vs, func(i, j int) bool { return vs[i][0] < vs[j][0] || (vs[i][0] == vs[j][0] && vs[i][1] < vs[j][1]) })
	v := vs[len(vs)-1]
	return strconv.Itoa(v[0]) + "." + strconv.Itoa(v[1])
}

func must[T any](v T, err error) T {
	if err != nil {
		panic(err)
	}
	return v
}
