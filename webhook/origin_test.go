package main

import (
	"net/http"
	"net/url"
	"testing"
	"time"
)

// TestCrossSiteFormIsRefused: the confirm and decline forms posted by
// another site's page in the customer's browser, with a genuine link, are
// refused (403, nothing changes), whether the browser says so by
// Sec-Fetch-Site, Origin or Referer; the webhook's own page confirms. A
// client that is no browser (no such header) is judged by the link alone,
// as every other test's posts are.
func TestCrossSiteFormIsRefused(t *testing.T) {
	t.Parallel()
	e := newEnv(t, nil)
	o := e.launch(t, "cross-site", time.Hour)
	const evil = "https://evil.example"
	for name, h := range map[string]map[string]string{
		"Sec-Fetch-Site cross-site": {"Sec-Fetch-Site": "cross-site", "Origin": evil},
		"Sec-Fetch-Site same-site":  {"Sec-Fetch-Site": "same-site"},
		"another site's Origin":     {"Origin": evil},
		"a null Origin":             {"Origin": "null"},
		"another site's Referer":    {"Referer": evil + "/confirm?token=" + o.token},
	} {
		for _, action := range []string{"confirm", "decline"} {
			t.Run(action+" with "+name, func(t *testing.T) {
				expect(t, e.submit(t, url.Values{"token": {o.token}, "action": {action}}, h), http.StatusForbidden,
					"This form did not come from our page", "nothing was confirmed or declined")
			})
		}
	}
	e.awaiting(t, o)
	expect(t, e.submit(t, url.Values{"token": {o.token}}, map[string]string{"Sec-Fetch-Site": "same-origin", "Origin": e.base}),
		http.StatusOK, pageConfirmed)
	e.activeWithCloud(t, o, "link")
}
