package main

import (
	"fmt"
	"sort"
)

// report collects counts and violations.
type report struct {
	violations []string
	counts     map[string]int
}

// bad records a violation.
func (r *report) bad(format string, args ...any) {
	r.violations = append(r.violations, fmt.Sprintf(format, args...))
}

// print writes the faults, the counts and the violations, and fails on any violation.
func (c *chaos) print(r *report) error {
	w := c.out
	fmt.Fprintf(w, "\nchaos: %d onboardings; faults: %s\n", c.o.n, c.faultSummary())
	c.faults.mu.Lock()
	for _, l := range c.faults.log {
		fmt.Fprintln(w, "  fault:", l)
	}
	c.faults.mu.Unlock()
	keys := make([]string, 0, len(r.counts))
	for k := range r.counts {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		fmt.Fprintf(w, "  %-45s %d\n", k, r.counts[k])
	}
	fmt.Fprintf(w, "  %-45s %d\n", "violations", len(r.violations))
	for i, v := range r.violations {
		if i == 50 {
			fmt.Fprintf(w, "  … and %d more\n", len(r.violations)-50)
			break
		}
		fmt.Fprintln(w, "  VIOLATION:", v)
	}
	if len(r.violations) > 0 {
		return fmt.Errorf("%d violations (logs under %s/logs)", len(r.violations), c.o.state)
	}
	fmt.Fprintln(w, "chaos: nothing lost, nothing duplicated, nothing stuck")
	return nil
}
