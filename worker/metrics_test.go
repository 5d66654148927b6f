package main

import (
	"context"
	"encoding/json"
	"fmt"
	"maps"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"
	"github.com/stretchr/testify/require"
	"go.temporal.io/sdk/client"

	"github.com/cloudpartners/onboarding/internal/domain"
	"github.com/cloudpartners/onboarding/internal/testenv"
	"github.com/cloudpartners/onboarding/workflows"
)

// TestMetricsEndToEnd reads the real worker's /metrics at start: every
// series of every business metric is there at zero, with the SDK's labels.
// Then it runs onboardings and a customer's life: every business metric
// counts what happened exactly once — the workflow cache holds one
// workflow, so each onboarding is replayed from its history when its turn
// comes again, and a replay emits nothing — in the series made at start
// and no other. Then every metric the Grafana dashboard queries is on
// /metrics, with the labels its panels group by: the dashboard cannot drift
// from what the worker exposes.
func TestMetricsEndToEnd(t *testing.T) {
	s := startWorker(t, map[string]string{"WORKFLOW_CACHE_SIZE": "1", "RESEND_MAX": "1"})
	ctx := context.Background()
	// Label values are sanitized for Prometheus: '-' becomes '_'.
	tq := strings.ReplaceAll(s.tq, "-", "_")

	// Before any onboarding, every series is there at zero.
	testenv.Eventually(t, 20*time.Second, "the worker's /metrics", func() bool {
		resp, err := http.Get("http://" + s.addr + "/metrics")
		if err == nil {
			resp.Body.Close()
		}
		return err == nil && resp.StatusCode == http.StatusOK
	})
	atStart := scrape(t, "http://"+s.addr+"/metrics")
	for _, series := range workflows.MetricSeries() {
		m := found(atStart, series, tq)
		switch {
		case len(m) != 1:
			t.Errorf("at start %s is %d times on /metrics, want once at zero", describe(series), len(m))
		case m[0].GetCounter().GetValue() != 0 || m[0].GetHistogram().GetSampleCount() != 0:
			t.Errorf("at start %s is not zero: %v", describe(series), m[0])
		}
	}
	if atStart["db_statements_total"] == nil {
		t.Error("db_statements_total is not on /metrics at start")
	}
	partner, email := newCustomer(t, s)
	op := domain.Operator("test")
	update := func(run client.WorkflowRun, name string, result any) error {
		h, err := s.c.UpdateWorkflow(ctx, client.UpdateWorkflowOptions{WorkflowID: run.GetID(), RunID: run.GetRunID(),
			UpdateName: name, WaitForStage: client.WorkflowUpdateStageCompleted})
		if err != nil {
			return err
		}
		return h.Get(ctx, result)
	}

	confirmed := s.launch(partner, "Metered Confirmed", email, time.Hour)
	s.waitStage(confirmed, workflows.StageAwaiting)
	cancelled := s.launch(partner, "Metered Cancelled", "other-"+email, time.Hour)
	s.waitStage(cancelled, workflows.StageAwaiting)
	require.ErrorContains(t, update(confirmed, workflows.UpdateResend, nil), "all 1 emails", "RESEND_MAX=1")
	require.NoError(t, s.c.SignalWorkflow(ctx, confirmed.GetID(), confirmed.GetRunID(), workflows.SignalConfirm, workflows.Confirm{Via: workflows.ViaLink}))
	r, err := s.result(confirmed)
	require.NoError(t, err)
	require.Equal(t, workflows.OutcomeActive, r.Outcome)
	require.NoError(t, update(cancelled, workflows.UpdateCancel, nil))
	// A partner that does not exist: the onboarding fails.
	failed, err := s.c.ExecuteWorkflow(ctx, workflows.StartOptions(s.tq, "no-such-partner", "Nobody"), workflows.WorkflowName,
		workflows.Input{PartnerID: "no-such-partner", CustomerName: "Nobody", CloudName: "main", Email: "nobody@customer.example"})
	require.NoError(t, err)
	_, err = s.result(failed)
	require.ErrorContains(t, err, "onboarding failed")

	// After onboarding: a cloud, a suspension resumed, one that runs out.
	_, err = s.drv.Lifecycle.AddCloud(ctx, op, confirmed.GetID(), "second-cloud", "")
	require.NoError(t, err)
	_, err = s.drv.Lifecycle.Suspend(ctx, op, r.SubaccountID, "audit", 0, "")
	require.NoError(t, err)
	_, err = s.drv.Lifecycle.Resume(ctx, op, r.SubaccountID, "")
	require.NoError(t, err)
	_, err = s.drv.Lifecycle.Suspend(ctx, op, r.SubaccountID, "", 2*time.Second, "")
	require.NoError(t, err)
	var life workflows.CustomerResult
	wctx, cancel := context.WithTimeout(ctx, time.Minute)
	defer cancel()
	require.NoError(t, s.c.GetWorkflow(ctx, workflows.CustomerWorkflowID(r.SubaccountID), "").Get(wctx, &life))
	require.Equal(t, domain.ReasonSuspensionExpired, life.Outcome)

	want := map[string]float64{
		"onboarding_started_total":                            3,
		"onboarding_decided_total":                            2,
		`onboarding_decided_total{outcome="ACTIVE"}`:          1,
		`onboarding_decided_total{outcome="CANCELLED"}`:       1,
		`onboarding_decided_total{outcome="EXPIRED"}`:         0,
		"onboarding_failed_total":                             1,
		`onboarding_emails_sent_total{kind="first"}`:          2,
		`onboarding_emails_sent_total{kind="resend"}`:         0,
		`onboarding_resends_refused_total{reason="limit"}`:    1,
		`onboarding_resends_refused_total{reason="too_soon"}`: 0,
		`onboarding_clouds_created_total{when="onboarding"}`:  1,
		`onboarding_clouds_created_total{when="later"}`:       1,
		"onboarding_suspended_total":                          2,
		"onboarding_resumed_total":                            1,
		"onboarding_suspensions_expired_total":                1,
		"onboarding_confirmation_latency_seconds_count":       1,
	}
	var families map[string]*dto.MetricFamily
	got := map[string]float64{}
	// The worker's reporter flushes every second.
	testenv.Eventually(t, 10*time.Second, "the business metrics on /metrics", func() bool {
		families = scrape(t, "http://"+s.addr+"/metrics")
		for key := range want {
			got[key] = sum(families, key, tq)
		}
		return equal(got, want)
	})
	require.Equal(t, want, got)
	// An hour's bucket holds the confirmation, made within seconds.
	require.Equal(t, 1.0, sum(families, `onboarding_confirmation_latency_seconds_bucket{le="60"}`, tq))
	// The workflows counted in the series made at start, and in no other.
	for _, series := range workflows.MetricSeries() {
		if m := found(families, series, tq); len(m) != 1 {
			t.Errorf("after the run %s is %d times on /metrics, want once", describe(series), len(m))
		}
	}
	perName := map[string]int{}
	for _, series := range workflows.MetricSeries() {
		perName[series.Name]++
	}
	for name, n := range perName {
		var ours int
		for _, m := range families[name].GetMetric() {
			if labelsOf(m)["task_queue"] == tq {
				ours++
			}
		}
		if ours != n {
			t.Errorf("%s has %d series on the task queue, want the %d MetricSeries lists", name, ours, n)
		}
	}

	t.Run("the dashboard's metrics are on /metrics", func(t *testing.T) {
		dashboardMatchesMetrics(t, families)
	})
}

// found is the metrics of a family that are the series on the task queue,
// with the labels the SDK adds to what a workflow emits. (That the workflows
// count in these very series, the run's count of series per name shows.)
func found(families map[string]*dto.MetricFamily, s workflows.Series, taskQueue string) []*dto.Metric {
	want := workflowLabels("default", taskQueue, s.WorkflowType)
	maps.Copy(want, s.Labels)
	var out []*dto.Metric
	for _, m := range families[s.Name].GetMetric() {
		if maps.Equal(labelsOf(m), want) {
			out = append(out, m)
		}
	}
	return out
}

func labelsOf(m *dto.Metric) map[string]string {
	l := map[string]string{}
	for _, p := range m.GetLabel() {
		l[p.GetName()] = p.GetValue()
	}
	return l
}

func describe(s workflows.Series) string {
	return fmt.Sprintf("%s%v of %s", s.Name, s.Labels, s.WorkflowType)
}

func equal(a, b map[string]float64) bool {
	for k, v := range b {
		if a[k] != v {
			return false
		}
	}
	return true
}

// scrape reads a /metrics page.
func scrape(t *testing.T, u string) map[string]*dto.MetricFamily {
	t.Helper()
	p := expfmt.NewTextParser(model.UTF8Validation)
	families, err := p.TextToMetricFamilies(strings.NewReader(httpGet(t, u)))
	require.NoError(t, err)
	return families
}

// sum adds up the series of a metric on a task queue whose labels hold the
// given ones: `name{label="value"}`; a histogram's name_count, name_sum and
// name_bucket{le="x"} too.
func sum(families map[string]*dto.MetricFamily, key, taskQueue string) float64 {
	name, labels, _ := strings.Cut(strings.TrimSuffix(key, "}"), "{")
	want := map[string]string{"task_queue": taskQueue}
	for l := range strings.SplitSeq(labels, ",") {
		if k, v, ok := strings.Cut(l, "="); ok {
			want[k] = strings.Trim(v, `"`)
		}
	}
	part := ""
	for _, suffix := range []string{"_count", "_sum", "_bucket"} {
		if base, ok := strings.CutSuffix(name, suffix); ok && families[base].GetType() == dto.MetricType_HISTOGRAM {
			name, part = base, suffix
		}
	}
	var total float64
	for _, m := range families[name].GetMetric() {
		have := map[string]string{}
		for _, l := range m.GetLabel() {
			have[l.GetName()] = l.GetValue()
		}
		match := true
		for k, v := range want {
			match = match && (k == "le" || have[k] == v)
		}
		if !match {
			continue
		}
		switch part {
		case "":
			total += m.GetCounter().GetValue()
		case "_count":
			total += float64(m.GetHistogram().GetSampleCount())
		case "_sum":
			total += m.GetHistogram().GetSampleSum()
		case "_bucket":
			for _, b := range m.GetHistogram().GetBucket() {
				if model.LabelValue(want["le"]) == model.LabelValue(formatLE(b.GetUpperBound())) {
					total += float64(b.GetCumulativeCount())
				}
			}
		}
	}
	return total
}

func formatLE(f float64) string { return model.SampleValue(f).String() }

// metricName is how the dashboard's queries name metrics: ours and the SDK's.
var metricName = regexp.MustCompile(`\b(?:onboarding|temporal)_[a-z0-9_]+\b`)

// dashboardMatchesMetrics checks that every metric ops/grafana/onboarding.json
// names (in a query, a variable or a description) is on /metrics, and that
// the labels each query groups by are on its metrics.
func dashboardMatchesMetrics(t *testing.T, families map[string]*dto.MetricFamily) {
	b, err := os.ReadFile(filepath.Join(testenv.ModuleRoot(t), "ops", "grafana", "onboarding.json"))
	require.NoError(t, err)
	var dash any
	require.NoError(t, json.Unmarshal(b, &dash))

	// What the worker exposes: a histogram as its _bucket, _sum and _count too.
	labels := map[string]map[string]bool{}
	for name, f := range families {
		names := []string{name}
		if f.GetType() == dto.MetricType_HISTOGRAM {
			names = append(names, name+"_bucket", name+"_sum", name+"_count")
		}
		for _, n := range names {
			labels[n] = map[string]bool{"le": f.GetType() == dto.MetricType_HISTOGRAM}
			for _, m := range f.GetMetric() {
				for _, l := range m.GetLabel() {
					labels[n][l.GetName()] = true
				}
			}
		}
	}

	groupBy := regexp.MustCompile(`by \(([^)]*)\)`)
	queries := 0
	walk(dash, "", func(key, text string) {
		names := metricName.FindAllString(text, -1)
		for _, n := range names {
			if labels[n] == nil {
				t.Errorf("the dashboard names %s, which the worker's /metrics does not have (in %q)", n, text)
			}
		}
		if key != "expr" {
			return
		}
		queries++
		if len(names) == 0 {
			t.Errorf("query %q names no onboarding_ or temporal_ metric: the test cannot check it", text)
		}
		for _, g := range groupBy.FindAllStringSubmatch(text, -1) {
			for l := range strings.SplitSeq(g[1], ",") {
				l = strings.TrimSpace(l)
				for _, n := range names {
					if labels[n] != nil && !labels[n][l] {
						t.Errorf("query %q groups %s by %s, a label it does not have", text, n, l)
					}
				}
			}
		}
	})
	require.GreaterOrEqual(t, queries, 10, "the dashboard's queries were not found")
}

// walk calls fn with every string in a JSON value and the key it is under.
func walk(v any, key string, fn func(key, text string)) {
	switch v := v.(type) {
	case map[string]any:
		for k, e := range v {
			walk(e, k, fn)
		}
	case []any:
		for _, e := range v {
			walk(e, key, fn)
		}
	case string:
		fn(key, v)
	}
}
