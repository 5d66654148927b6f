package stack

import (
	"bufio"
	"context"
	"fmt"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"
)

// Actions reads the Temporal server's `action` counter (billable actions)
// for the default namespace, by action_type. metricsURLs may name several
// endpoints, comma-separated — a cluster's hosts, whose frontends count
// the actions each took —: the counts are summed over them.
func Actions(ctx context.Context, metricsURLs string) (map[string]float64, error) {
	out := map[string]float64{}
	for u := range strings.SplitSeq(metricsURLs, ",") {
		if err := actionsAt(ctx, strings.TrimSpace(u), out); err != nil {
			return nil, err
		}
	}
	return out, nil
}

// actionsAt adds the `action` counts of one endpoint to out.
func actionsAt(ctx context.Context, metricsURL string, out map[string]float64) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, metricsURL, nil)
	if err != nil {
		return fmt.Errorf("temporal metrics: %w", err)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return fmt.Errorf("temporal metrics: %w", err)
	}
	defer resp.Body.Close()
	sc := bufio.NewScanner(resp.Body)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		line := sc.Text()
		rest, ok := strings.CutPrefix(line, "action{")
		if !ok {
			continue
		}
		labels, value, ok := strings.Cut(rest, "} ")
		if !ok || !strings.Contains(labels, `namespace="default"`) {
			continue
		}
		v, err := strconv.ParseFloat(strings.TrimSpace(value), 64)
		if err != nil {
			continue
		}
		typ := "?"
		for l := range strings.SplitSeq(labels, ",") {
			if t, ok := strings.CutPrefix(l, `action_type="`); ok {
				typ = strings.TrimSuffix(t, `"`)
			}
		}
		out[typ] += v
	}
	if err := sc.Err(); err != nil {
		return fmt.Errorf("temporal metrics: %w", err)
	}
	return nil
}

// Delta is after minus before, per action type, without zeros.
func Delta(before, after map[string]float64) map[string]float64 {
	out := map[string]float64{}
	for k, v := range after {
		if d := v - before[k]; d != 0 {
			out[k] = d
		}
	}
	return out
}

// Sum adds up the values.
func Sum(m map[string]float64) float64 {
	var s float64
	for _, v := range m {
		s += v
	}
	return s
}

// Percentile returns the p-th percentile (0–100) of ds, nearest rank.
func Percentile(ds []time.Duration, p float64) time.Duration {
	if len(ds) == 0 {
		return 0
	}
	s := slices.Clone(ds)
	slices.Sort(s)
	i := int(p/100*float64(len(s))+0.5) - 1
	return s[max(0, min(i, len(s)-1))]
}
