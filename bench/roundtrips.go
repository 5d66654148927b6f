package main

import (
	"go.temporal.io/sdk/client"

	"bufio"
	"context"
	"fmt"
	"io"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/cloudpartners/onboarding/internal/domain"

	"github.com/cloudpartners/onboarding/workflows"
)

// The round-trip phase counts how often each answer goes to Postgres: the
// answering process's db_statements_total (every statement, BEGIN, COMMIT,
// ROLLBACK and ping its store sends, counted by the store's wrapping
// driver) read from its /metrics just before and just after one request,
// one request at a time, so that the difference is that request's alone.

// roundTripN is how many of each request are counted.
const roundTripN = 10

// roundTrip is one line of the table.
type roundTrip struct {
	what   string
	before int    // measured at f024b6d, before the redesign, from Postgres's statement log
	parts  string // what the round trips are, now
	counts []int
}

// statements reads a process's db_statements_total from its /metrics.
type statements struct {
	hc  *http.Client
	url string
}

func (s statements) read(ctx context.Context) (int, error) {
	v, err := s.value(ctx, "db_statements_total")
	return int(v), err
}

// value reads one metric without labels from the process's /metrics.
func (s statements) value(ctx context.Context, name string) (float64, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, s.url, nil)
	if err != nil {
		return 0, err
	}
	resp, err := s.hc.Do(req)
	if err != nil {
		return 0, fmt.Errorf("metrics %s: %w", s.url, err)
	}
	defer resp.Body.Close()
	sc := bufio.NewScanner(resp.Body)
	for sc.Scan() {
		if v, ok := strings.CutPrefix(sc.Text(), name+" "); ok {
			return strconv.ParseFloat(strings.TrimSpace(v), 64)
		}
	}
	return 0, fmt.Errorf("metrics %s: no %s (%v)", s.url, name, sc.Err())
}

// around runs do once and returns the round trips the process made
// meanwhile.
func (s statements) around(ctx context.Context, do func(context.Context) error) (int, error) {
	n0, err := s.read(ctx)
	if err != nil {
		return 0, err
	}
	if err := do(ctx); err != nil {
		return 0, err
	}
	n1, err := s.read(ctx)
	return n1 - n0, err
}

// roundTripPhase confirms roundTripN onboardings one at a time through
// the webhook, then views each customer's page, polls its progress and
// lists the partner's customers through the portal, counting each.
func (b *bench) roundTripPhase(ctx context.Context, res *results) error {
	p, err := b.startPortal(ctx)
	if err != nil {
		return err
	}
	if err := p.signIn(ctx, "bench"); err != nil {
		return err
	}
	confirm := &roundTrip{what: "webhook POST /confirm", before: 6,
		parts: "the answer: one UPDATE … RETURNING (token, state and decision in one statement); then the signal"}
	page := &roundTrip{what: "portal customer page GET /customers/{id}", before: 7,
		parts: "session; the flash (taken once); the customer with its clouds (one query); its audit log"}
	poll := &roundTrip{what: "the page's poll GET /api/v1/customers/{id}/progress", before: 7,
		parts: "session; the customer's row (one indexed query)"}
	list := &roundTrip{what: "portal list page GET /customers", before: 5, parts: "session; the flash (taken once); the page (one keyset query)"}
	apiList := &roundTrip{what: "API list GET /api/v1/customers", before: 5, parts: "API key with its partner's status (one query); the page (one keyset query)"}
	pctx, stop := context.WithCancel(ctx)
	defer stop()
	poller := newPoller(pctx, dbReady(b.st.DB()), b.o.poll)
	var subaccounts []string
	for i := range roundTripN {
		id, err := b.launch(ctx, workflows.TaskQueue, workflows.WorkflowName, "bench", b.customer("roundtrip", i, time.Hour))
		if err != nil {
			return err
		}
		r, err := poller.Wait(ctx, id)
		if err != nil {
			return err
		}
		token, err := b.signer.Token(r.SubaccountID, r.Deadline)
		if err != nil {
			return err
		}
		n, err := b.webhookStatements.around(ctx, func(ctx context.Context) error { _, err := b.confirm(ctx, id, token); return err })
		if err != nil {
			return err
		}
		confirm.counts = append(confirm.counts, n)
		if err := b.tc.GetWorkflow(ctx, id, "").Get(ctx, nil); err != nil {
			return fmt.Errorf("onboarding %s: %w", id, err)
		}
		subaccounts = append(subaccounts, r.SubaccountID)
	}
	count := func(rt *roundTrip, path string, api bool) error {
		n, err := p.statements.around(ctx, func(ctx context.Context) error {
			_, _, err := p.get(ctx, p.base+path, api)
			return err
		})
		rt.counts = append(rt.counts, n)
		return err
	}
	for _, id := range subaccounts {
		for _, c := range []struct {
			rt   *roundTrip
			path string
			api  bool
		}{{page, "/customers/" + id, false}, {poll, "/api/v1/customers/" + id + "/progress", false},
			{list, "/customers", false}, {apiList, "/api/v1/customers", true}} {
			if err := count(c.rt, c.path, c.api); err != nil {
				return err
			}
		}
	}
	res.roundTrips = []*roundTrip{confirm, page, poll, list, apiList}
	return b.requestTimes(ctx, res, subaccounts)
}

// requestsPerCustomer is how many clouds each confirmed customer of the
// round-trip phase is asked for, half through each path.
const requestsPerCustomer = 10

// requestTimes times requests with a worker polling: a new cloud through
// the durable path the edges take (lifecycle.AddCloud: a signal, then the
// workflow's answer followed in Postgres) beside the update path it
// replaced (UpdateWithStart, waiting for the update's result), in turn on
// the same customers.
func (b *bench) requestTimes(ctx context.Context, res *results, subaccounts []string) error {
	op := b.drv.Operator
	for i, id := range subaccounts {
		sa, err := b.st.Subaccount(ctx, "", id)
		if err != nil {
			return err
		}
		in := workflows.CustomerInput{PartnerID: sa.PartnerID, SubaccountID: sa.ID, CustomerName: sa.Name, Status: sa.Status}
		for j := range requestsPerCustomer {
			name := fmt.Sprintf("bench-%d-%d", i, j)
			t0 := time.Now()
			if j%2 == 0 {
				c, err := b.drv.Lifecycle.AddCloud(ctx, op, id, name, "")
				if err != nil {
					return fmt.Errorf("add cloud (request): %w", err)
				}
				if c.Request.Status != domain.RequestDone || !c.Created {
					return fmt.Errorf("add cloud (request) %s: %+v", name, c)
				}
				res.requestDone.add(time.Since(t0))
				continue
			}
			start := b.tc.NewWithStartWorkflowOperation(workflows.CustomerStartOptions(workflows.TaskQueue, in), workflows.CustomerWorkflowName, in)
			h, err := b.tc.UpdateWithStartWorkflow(ctx, client.UpdateWithStartWorkflowOptions{StartWorkflowOperation: start,
				UpdateOptions: client.UpdateWorkflowOptions{WorkflowID: workflows.CustomerWorkflowID(id), UpdateName: workflows.UpdateAddCloud,
					Args: []any{workflows.CloudRequest{Name: name}}, WaitForStage: client.WorkflowUpdateStageCompleted}})
			var out workflows.CloudResult
			if err == nil {
				err = h.Get(ctx, &out)
			}
			if err != nil || !out.Created {
				return fmt.Errorf("add cloud (update) %s: %+v, %w", name, out, err)
			}
			res.updateDone.add(time.Since(t0))
		}
	}
	return nil
}

func printRequestTimes(w io.Writer, r *results) {
	if len(r.requestDone.ds) == 0 {
		return
	}
	fmt.Fprintf(w, "\nA request carried out, a worker polling (a new cloud, %d of each, sequential):\n", len(r.requestDone.ds))
	t := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(t, "path\tp50\tp99\t")
	fmt.Fprintf(t, "durable request (signal; the workflow settles it; the edge follows it in Postgres)\t%s\t%s\t\n", ms(r.requestDone.p(50)), ms(r.requestDone.p(99)))
	fmt.Fprintf(t, "update it replaced (UpdateWithStart, wait for the result; lost if the server restarts before a worker takes it)\t%s\t%s\t\n", ms(r.updateDone.p(50)), ms(r.updateDone.p(99)))
	_ = t.Flush()
}

// countRange is "3", or "3–4" when the counts differ.
func countRange(counts []int) string {
	lo, hi := slices.Min(counts), slices.Max(counts)
	if lo == hi {
		return strconv.Itoa(lo)
	}
	return fmt.Sprintf("%d–%d", lo, hi)
}

func printRoundTrips(w io.Writer, rts []*roundTrip) {
	if len(rts) == 0 {
		return
	}
	fmt.Fprintf(w, "\nPostgres round trips per answer (db_statements_total of the answering process, %d requests of each, one at a time):\n", roundTripN)
	t := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(t, "answer\tbefore (f024b6d)\tnow\twhat they are now\t")
	for _, rt := range rts {
		fmt.Fprintf(t, "%s\t%d\t%s\t%s\t\n", rt.what, rt.before, countRange(rt.counts), rt.parts)
	}
	_ = t.Flush()
	fmt.Fprintln(w, "before: counted in Postgres's statement log (log_statement=all) for the same requests on the code before the redesign.")
}
