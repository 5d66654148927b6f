package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"maps"
	"net/url"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/getkin/kin-openapi/openapi3filter"
	"github.com/getkin/kin-openapi/routers"
	"github.com/getkin/kin-openapi/routers/gorillamux"

	"github.com/cloudpartners/onboarding/internal/domain"
	"github.com/cloudpartners/onboarding/internal/stack"
	"github.com/cloudpartners/onboarding/internal/testenv"
)

// loadOpenAPI loads the served document and checks it is valid OpenAPI.
func loadOpenAPI(t testing.TB) *openapi3.T {
	t.Helper()
	loader := openapi3.NewLoader()
	doc, err := loader.LoadFromData(openAPI)
	if err != nil {
		t.Fatalf("load openapi.json: %v", err)
	}
	if err := doc.Validate(loader.Context); err != nil {
		t.Fatalf("openapi.json is not valid OpenAPI: %v", err)
	}
	if doc.OpenAPI != "3.0.3" {
		t.Errorf("openapi.json is OpenAPI %s, want 3.0.3", doc.OpenAPI)
	}
	return doc
}

// documented is every operation of the document, as "METHOD /path".
func documented(doc *openapi3.T) map[string]bool {
	ops := map[string]bool{}
	for path, item := range doc.Paths.Map() {
		for method := range item.Operations() {
			ops[method+" "+path] = true
		}
	}
	return ops
}

// TestOpenAPIDescribesEveryRoute: the document's operations are exactly
// the API's routes and the document's own, both ways.
func TestOpenAPIDescribesEveryRoute(t *testing.T) {
	doc := loadOpenAPI(t)
	routes := map[string]bool{"GET /api/v1/openapi.json": true}
	for _, rt := range (&server{}).api() {
		routes[rt.pattern] = true
	}
	ops := documented(doc)
	for _, r := range slices.Sorted(maps.Keys(routes)) {
		if !ops[r] {
			t.Errorf("route %s is not in openapi.json", r)
		}
	}
	for _, op := range slices.Sorted(maps.Keys(ops)) {
		if !routes[op] {
			t.Errorf("openapi.json describes %s, which is no route of the API", op)
		}
	}
}

// TestOpenAPISchemasAreTheGoTypes: each schema has exactly the JSON
// fields of the Go type the API encodes (or decodes), and an answer's
// schema requires exactly the fields Go always writes (no omitempty).
func TestOpenAPISchemasAreTheGoTypes(t *testing.T) {
	doc := loadOpenAPI(t)
	for _, c := range []struct {
		schema string
		value  any
		answer bool // encoded by the API, not decoded
	}{
		{"Error", apiError{}, true},
		{"Me", meJSON{}, true},
		{"Launched", launchedJSON{}, true},
		{"Customer", customerJSON{}, true},
		{"CustomerCloud", customerCloudJSON{}, true},
		{"CustomerRow", customerRow{}, true},
		{"Progress", progressJSON{}, true},
		{"CustomerList", customerListJSON{}, true},
		{"Resent", resentJSON{}, true},
		{"Link", linkJSON{}, true},
		{"Cancelled", cancelledJSON{}, true},
		{"Cloud", cloudJSON{}, true},
		{"CloudList", cloudListJSON{}, true},
		{"CloudAdded", cloudAddedJSON{}, true},
		{"Lifecycle", lifecycleJSON{}, true},
		{"Staff", staffJSON{}, true},
		{"StaffList", staffListJSON{}, true},
		{"StaffRemoved", staffRemovedJSON{}, true},
		{"APIKey", apiKeyJSON{}, true},
		{"APIKeyList", apiKeyListJSON{}, true},
		{"NewAPIKey", newAPIKeyJSON{}, true},
		{"AuditEvent", auditEventJSON{}, true},
		{"NewCustomer", newCustomerBody{}, false},
		{"CustomerEdit", editBody{}, false},
		{"NewStaff", staffBody{}, false},
	} {
		ref := doc.Components.Schemas[c.schema]
		if ref == nil {
			t.Errorf("openapi.json has no schema %s", c.schema)
			continue
		}
		fields := jsonFields(reflect.TypeOf(c.value))
		if got, want := slices.Sorted(maps.Keys(ref.Value.Properties)), slices.Sorted(maps.Keys(fields)); !slices.Equal(got, want) {
			t.Errorf("schema %s has the properties %v; %T has %v", c.schema, got, c.value, want)
		}
		if !c.answer {
			continue
		}
		var always []string
		for name, omitted := range fields {
			if !omitted {
				always = append(always, name)
			}
		}
		if got, want := slices.Sorted(slices.Values(ref.Value.Required)), slices.Sorted(slices.Values(always)); !slices.Equal(got, want) {
			t.Errorf("schema %s requires %v; %T always writes %v", c.schema, got, c.value, want)
		}
	}
}

// jsonFields is the JSON names of a struct's fields, embedded ones'
// included, each with whether it is left out when empty.
func jsonFields(typ reflect.Type) map[string]bool {
	out := map[string]bool{}
	for f := range typ.Fields() {
		tag := f.Tag.Get("json")
		name, opts, _ := strings.Cut(tag, ",")
		switch {
		case tag == "-":
			continue
		case f.Anonymous && name == "":
			// encoding/json promotes an embedded struct's fields, exported or not.
			maps.Copy(out, jsonFields(f.Type))
			continue
		case !f.IsExported():
			continue
		case name == "":
			name = f.Name
		}
		out[name] = strings.Contains(opts, "omitempty")
	}
	return out
}

// apiCheck calls the API and checks each call and its answer against the
// document: a status, a content type or a body it does not describe fails
// the test.
type apiCheck struct {
	t      *testing.T
	w      *world
	router routers.Router
	opts   *openapi3filter.Options
	// seen counts, by operation, the statuses answered.
	seen map[string]map[int]int
}

func newAPICheck(t *testing.T, w *world) *apiCheck {
	t.Helper()
	doc := loadOpenAPI(t)
	router, err := gorillamux.NewRouter(doc)
	if err != nil {
		t.Fatal(err)
	}
	opts := &openapi3filter.Options{IncludeResponseStatus: true, SkipSettingDefaults: true, AuthenticationFunc: carried}
	c := &apiCheck{t: t, w: w, router: router, opts: opts, seen: map[string]map[int]int{}}
	for op := range documented(doc) {
		c.seen[op] = map[int]int{}
	}
	return c
}

// carried checks that a request carries the credentials of a security
// scheme the document names (the portal decides whether they are good).
func carried(_ context.Context, in *openapi3filter.AuthenticationInput) error {
	r := in.RequestValidationInput.Request
	switch in.SecuritySchemeName {
	case "apiKey":
		if !strings.HasPrefix(r.Header.Get("Authorization"), "Bearer ") {
			return errors.New("no Authorization: Bearer")
		}
	case "session":
		if _, err := r.Cookie(in.SecurityScheme.Name); err != nil {
			return fmt.Errorf("no %s cookie", in.SecurityScheme.Name)
		}
	case "csrf":
		if r.Header.Get(in.SecurityScheme.Name) == "" {
			return fmt.Errorf("no %s header", in.SecurityScheme.Name)
		}
	default:
		return fmt.Errorf("unknown security scheme %q", in.SecuritySchemeName)
	}
	return nil
}

// call is one API call of the walk-through and the status it must answer.
type call struct {
	method, path string
	as           creds
	body         any
	status       int
	// broken marks a request that breaks the document on purpose (no
	// credentials, unknown fields, bad values): only its answer is checked.
	broken bool
	key    string // the Idempotency-Key, if any
}

// do makes a call, checks its status, and validates the request (unless
// broken on purpose) and the answer against the document.
func (c *apiCheck) do(cl call) answer {
	c.t.Helper()
	first := c.w.request(cl.method, cl.path, cl.as, cl.body)
	if cl.key != "" {
		first.Header.Set("Idempotency-Key", cl.key)
	}
	a := c.w.send(first)
	if a.status != cl.status {
		c.t.Errorf("%s %s: status %d, want %d: %s", cl.method, cl.path, a.status, cl.status, stack.Tail(a.body, 2000))
	}
	// The same request again, for the validator to read.
	req := c.w.request(cl.method, cl.path, cl.as, cl.body)
	if cl.key != "" {
		req.Header.Set("Idempotency-Key", cl.key)
	}
	route, params, err := c.router.FindRoute(req)
	if err != nil {
		c.t.Errorf("%s %s: no operation of the document: %v", cl.method, cl.path, err)
		return a
	}
	ctx := context.Background()
	in := &openapi3filter.RequestValidationInput{Request: req, PathParams: params, Route: route, Options: c.opts}
	if !cl.broken {
		if err := openapi3filter.ValidateRequest(ctx, in); err != nil {
			c.t.Errorf("%s %s: the request breaks the document: %v", cl.method, cl.path, err)
		}
	}
	out := &openapi3filter.ResponseValidationInput{RequestValidationInput: in, Status: a.status, Header: a.header,
		Body: io.NopCloser(strings.NewReader(a.body)), Options: c.opts}
	if err := openapi3filter.ValidateResponse(ctx, out); err != nil {
		c.t.Errorf("%s %s: the answer %d is not as documented: %v", cl.method, cl.path, a.status, err)
	}
	c.seen[route.Method+" "+route.Path][a.status]++
	return a
}

// covered checks that the walk-through called every operation and saw each succeed.
func (c *apiCheck) covered() {
	c.t.Helper()
	for _, op := range slices.Sorted(maps.Keys(c.seen)) {
		ok := false
		for status := range c.seen[op] {
			ok = ok || status < 300
		}
		if !ok {
			c.t.Errorf("the walk-through never saw %s succeed (statuses %v)", op, c.seen[op])
		}
	}
}

// TestOpenAPIWalkThrough calls every operation of the API against a real
// portal — successes and the main failures, with a session and with API
// keys — and checks each answer against the document.
func TestOpenAPIWalkThrough(t *testing.T) {
	w := newWorld(t, nil)
	c := newAPICheck(t, w)
	owner, viewer := w.signIn("owner@acme.example").creds(), w.signIn("viewer@acme.example").creds()
	editor := w.signIn("editor@acme.example").creds()
	sfx := testenv.Suffix()
	nobody := creds{}

	// The document serves itself, to anyone.
	if a := c.do(call{method: "GET", path: "/api/v1/openapi.json", status: 200}); a.body != string(openAPI) {
		t.Errorf("GET /api/v1/openapi.json is not openapi.json")
	}

	// Who is calling.
	c.do(call{method: "GET", path: "/api/v1/me", as: owner, status: 200})
	c.do(call{method: "GET", path: "/api/v1/me", status: 401, broken: true})
	c.do(call{method: "GET", path: "/api/v1/me", as: creds{key: "obk_unknown"}, status: 401})

	// API keys: an owner makes an editor's key for a machine.
	var key newAPIKeyJSON
	c.do(call{method: "POST", path: "/api/v1/api-keys", as: owner, body: map[string]any{"name": "walk " + sfx, "role": "editor"}, status: 201}).decode(t, &key)
	machine := creds{key: key.Secret}
	c.do(call{method: "GET", path: "/api/v1/me", as: machine, status: 200})
	c.do(call{method: "POST", path: "/api/v1/api-keys", as: owner, body: map[string]any{"name": "", "role": "viewer"}, status: 422, broken: true})
	c.do(call{method: "POST", path: "/api/v1/api-keys", as: machine, body: map[string]any{"name": "mine", "role": "owner"}, status: 403})
	c.do(call{method: "GET", path: "/api/v1/api-keys", as: owner, status: 200})
	c.do(call{method: "GET", path: "/api/v1/api-keys", as: machine, status: 403})

	// Adding customers: launched, launched before, and refused.
	walk := map[string]any{"name": "Walk Co", "email": "walk-" + sfx + "@customer.example", "cloud": "walk-cloud", "contact": "Jane Doe", "confirm_within": "168h"}
	var l launchedJSON
	c.do(call{method: "POST", path: "/api/v1/customers", as: owner, body: walk, status: 201}).decode(t, &l)
	c.do(call{method: "POST", path: "/api/v1/customers", as: owner, body: walk, status: 200})
	var cancelled launchedJSON
	c.do(call{method: "POST", path: "/api/v1/customers", as: machine, body: map[string]any{"name": "Walk Cancel Co", "email": "cancel-" + sfx + "@customer.example", "cloud": "cancel-cloud"}, status: 201}).decode(t, &cancelled)
	c.do(call{method: "POST", path: "/api/v1/customers", as: owner, body: map[string]any{"name": "", "email": "nope", "cloud": "X"}, status: 422, broken: true})
	c.do(call{method: "POST", path: "/api/v1/customers", as: owner, body: map[string]any{"name": "Extra Co", "email": "x@customer.example", "cloud": "x-cloud", "colour": "red"}, status: 422, broken: true})
	c.do(call{method: "POST", path: "/api/v1/customers", as: owner, body: raw(`{"name": "Two Co"} {}`), status: 422, broken: true})
	c.do(call{method: "POST", path: "/api/v1/customers", as: owner, body: map[string]any{"name": "Slow Co", "email": "s@customer.example", "cloud": "s-cloud", "confirm_within": "a week"}, status: 422})
	c.do(call{method: "POST", path: "/api/v1/customers", as: viewer, body: map[string]any{"name": "View Co", "email": "v@customer.example", "cloud": "v-cloud"}, status: 403})
	c.do(call{method: "POST", path: "/api/v1/customers", as: creds{cookie: owner.cookie}, body: map[string]any{"name": "Forged Co", "email": "f@customer.example", "cloud": "f-cloud"}, status: 403, broken: true})
	c.do(call{method: "POST", path: "/api/v1/customers", as: nobody, body: map[string]any{"name": "Anon Co", "email": "a@customer.example", "cloud": "a-cloud"}, status: 401, broken: true})
	sa, cancelID := w.sent(l.SubaccountID).ID, w.sent(cancelled.SubaccountID).ID

	// Lists: tabs, search, pages, and bad values.
	var page struct {
		Customers []customerRow `json:"customers"`
		Next      string        `json:"next"`
		Prev      string        `json:"prev"`
	}
	c.do(call{method: "GET", path: "/api/v1/customers", as: owner, status: 200})
	c.do(call{method: "GET", path: "/api/v1/customers?status=verification&q=walk", as: viewer, status: 200}).decode(t, &page)
	if len(page.Customers) != 2 {
		t.Errorf("the verification tab lists %d customers, want 2", len(page.Customers))
	}
	c.do(call{method: "GET", path: "/api/v1/customers?limit=1", as: machine, status: 200}).decode(t, &page)
	if len(page.Customers) != 1 || page.Next == "" {
		t.Fatalf("a page of one: %+v", page)
	}
	c.do(call{method: "GET", path: "/api/v1/customers?limit=1&after=" + url.QueryEscape(page.Next), as: owner, status: 200}).decode(t, &page)
	c.do(call{method: "GET", path: "/api/v1/customers?limit=1&before=" + url.QueryEscape(page.Prev), as: owner, status: 200})
	c.do(call{method: "GET", path: "/api/v1/customers?last=1&limit=1", as: owner, status: 200})
	c.do(call{method: "GET", path: "/api/v1/customers?status=dormant", as: owner, status: 422, broken: true})
	c.do(call{method: "GET", path: "/api/v1/customers?limit=0", as: owner, status: 422, broken: true})
	c.do(call{method: "GET", path: "/api/v1/customers?after=nonsense", as: owner, status: 422})
	c.do(call{method: "GET", path: "/api/v1/customers", status: 401, broken: true})

	// One customer, by either id; personal data masked for a viewer.
	var cu customerJSON
	c.do(call{method: "GET", path: "/api/v1/customers/" + sa, as: owner, status: 200}).decode(t, &cu)
	if cu.Email != walk["email"] || !cu.PersonalData || cu.SubaccountStatus != domain.StatusAcceptanceRequired {
		t.Errorf("the owner reads %+v", cu)
	}
	c.do(call{method: "GET", path: "/api/v1/customers/" + url.PathEscape(l.OnboardingID), as: machine, status: 200})
	// Its progress, from the record alone: what the page polls.
	var pr progressJSON
	c.do(call{method: "GET", path: "/api/v1/customers/" + sa + "/progress", as: viewer, status: 200}).decode(t, &pr)
	if pr.SubaccountID != sa || pr.Status != domain.StatusAcceptanceRequired || pr.Stage != domain.StageAwaiting || pr.StageText == "" {
		t.Errorf("progress = %+v", pr)
	}
	c.do(call{method: "GET", path: "/api/v1/customers/" + unknownID + "/progress", as: owner, status: 404})
	c.do(call{method: "GET", path: "/api/v1/customers/" + sa, as: viewer, status: 200}).decode(t, &cu)
	if cu.Email == walk["email"] || cu.PersonalData {
		t.Errorf("a viewer without the personal-data permission reads the email %q", cu.Email)
	}
	c.do(call{method: "GET", path: "/api/v1/customers/" + unknownID, as: owner, status: 404})

	// The audit log, exported: the partner's whole, one customer's (by
	// either id); bad queries refused before a byte of the file.
	globex := w.signIn("owner@globex.example").creds()
	c.do(call{method: "GET", path: "/api/v1/audit", as: viewer, status: 200})
	c.do(call{method: "GET", path: "/api/v1/audit?format=json&from=2020-01-01&to=2099-12-31&actor=owner%40acme.example", as: machine, status: 200})
	c.do(call{method: "GET", path: "/api/v1/audit?format=xml", as: owner, status: 422, broken: true})
	c.do(call{method: "GET", path: "/api/v1/audit?from=yesterday", as: owner, status: 422})
	c.do(call{method: "GET", path: "/api/v1/audit?from=2026-02-01&to=2026-01-01", as: owner, status: 422})
	c.do(call{method: "GET", path: "/api/v1/audit", status: 401, broken: true})
	c.do(call{method: "GET", path: "/api/v1/audit?partner=" + w.globex, as: owner, status: 404})
	c.do(call{method: "GET", path: "/api/v1/customers/" + sa + "/audit?format=json", as: owner, status: 200})
	c.do(call{method: "GET", path: "/api/v1/customers/" + url.PathEscape(l.OnboardingID) + "/audit", as: machine, status: 200})
	c.do(call{method: "GET", path: "/api/v1/customers/" + sa + "/audit?to=never", as: owner, status: 422})
	c.do(call{method: "GET", path: "/api/v1/customers/" + unknownID + "/audit", as: owner, status: 404})
	c.do(call{method: "GET", path: "/api/v1/customers/" + sa + "/audit", as: globex, status: 404})

	// Editing: a field, the name (never), bad values.
	c.do(call{method: "PATCH", path: "/api/v1/customers/" + sa, as: editor, body: map[string]any{"contact": "John Roe"}, status: 200}).decode(t, &cu)
	if cu.Contact != "John Roe" {
		t.Errorf("after the edit the contact is %q", cu.Contact)
	}
	c.do(call{method: "PATCH", path: "/api/v1/customers/" + sa, as: owner, body: map[string]any{"name": "Renamed Co"}, status: 409})
	c.do(call{method: "PATCH", path: "/api/v1/customers/" + sa, as: owner, body: map[string]any{"email": "not an email"}, status: 422})
	c.do(call{method: "PATCH", path: "/api/v1/customers/" + sa, as: owner, body: map[string]any{}, status: 422, broken: true})
	c.do(call{method: "PATCH", path: "/api/v1/customers/" + sa, as: owner, body: map[string]any{"phone": "555"}, status: 422, broken: true})
	c.do(call{method: "PATCH", path: "/api/v1/customers/" + sa, as: viewer, body: map[string]any{"contact": "Nope"}, status: 403})
	c.do(call{method: "PATCH", path: "/api/v1/customers/" + unknownID, as: owner, body: map[string]any{"contact": "Nope"}, status: 404})

	// Waiting for the customer: resend when allowed (refused once ended, below); the link.
	testenv.Eventually(t, 10*time.Second, "a resend to be allowed", func() bool { return resendDue(t, w, sa, owner) })
	// A resend with an idempotency key: done, with its request, followed by
	// id; the same key again is the same request, answered the same; the
	// same key for another request is refused.
	var resent resentJSON
	idemKey := "walk-resend-" + sfx
	c.do(call{method: "POST", path: "/api/v1/customers/" + sa + "/resend", as: machine, key: idemKey, status: 200}).decode(t, &resent)
	if resent.Request == nil || resent.Request.Status != domain.RequestDone || resent.EmailsSent != 2 {
		t.Fatalf("the resend answered %+v", resent)
	}
	var again resentJSON
	c.do(call{method: "POST", path: "/api/v1/customers/" + sa + "/resend", as: machine, key: idemKey, status: 200}).decode(t, &again)
	if again.Request == nil || again.Request.ID != resent.Request.ID || again.EmailsSent != 2 {
		t.Errorf("the same key again answered %+v, want the first resend %+v", again, resent)
	}
	c.do(call{method: "POST", path: "/api/v1/customers/" + sa + "/cancel", as: machine, key: idemKey, status: 422})
	var rq requestJSON
	c.do(call{method: "GET", path: resent.Request.Poll, as: viewer, status: 200}).decode(t, &rq)
	if rq.ID != resent.Request.ID || rq.Kind != domain.RequestResend || rq.Status != domain.RequestDone || rq.By == "" {
		t.Errorf("GET %s = %+v", resent.Request.Poll, rq)
	}
	c.do(call{method: "GET", path: "/api/v1/requests/" + unknownID, as: owner, status: 404})
	c.do(call{method: "GET", path: resent.Request.Poll, as: w.signIn("owner@globex.example").creds(), status: 404})
	c.do(call{method: "POST", path: "/api/v1/customers/" + unknownID + "/resend", as: owner, status: 404})
	var link linkJSON
	c.do(call{method: "POST", path: "/api/v1/customers/" + sa + "/link", as: owner, status: 200}).decode(t, &link)
	if !strings.HasPrefix(link.URL, w.webhook+"/confirm?token=") {
		t.Errorf("the link is %q", link.URL)
	}
	c.do(call{method: "POST", path: "/api/v1/customers/" + sa + "/link", as: viewer, status: 403})

	// Not yet possible before the customer confirms.
	c.do(call{method: "GET", path: "/api/v1/customers/" + sa + "/clouds", as: viewer, status: 200})
	c.do(call{method: "POST", path: "/api/v1/customers/" + sa + "/clouds", as: owner, body: map[string]any{"name": "second-cloud"}, status: 409})
	c.do(call{method: "POST", path: "/api/v1/customers/" + sa + "/suspend", as: owner, body: map[string]any{}, status: 409})
	c.do(call{method: "POST", path: "/api/v1/customers/" + sa + "/resume", as: owner, status: 409})

	// Deleting the other, unconfirmed customer; then it has ended.
	c.do(call{method: "POST", path: "/api/v1/customers/" + cancelID + "/cancel", as: machine, status: 200})
	testenv.Eventually(t, 30*time.Second, "the cancelled onboarding to end", func() bool {
		var v customerJSON
		w.send(w.request("GET", "/api/v1/customers/"+cancelID, owner, nil)).decode(t, &v)
		return v.Workflow != "" && v.Workflow != "RUNNING"
	})
	c.do(call{method: "POST", path: "/api/v1/customers/" + cancelID + "/cancel", as: owner, status: 409})
	c.do(call{method: "POST", path: "/api/v1/customers/" + cancelID + "/resend", as: owner, status: 409})
	c.do(call{method: "POST", path: "/api/v1/customers/" + cancelID + "/link", as: owner, status: 409})
	c.do(call{method: "PATCH", path: "/api/v1/customers/" + cancelID, as: owner, body: map[string]any{"contact": "Gone"}, status: 409})
	c.do(call{method: "POST", path: "/api/v1/customers/" + unknownID + "/cancel", as: owner, status: 404})

	// The customer confirms: clouds, suspend and resume.
	w.confirm(sa)
	c.do(call{method: "POST", path: "/api/v1/customers/" + sa + "/link", as: owner, status: 409})
	c.do(call{method: "PATCH", path: "/api/v1/customers/" + sa, as: owner, body: map[string]any{"cloud": "renamed-cloud"}, status: 422})
	c.do(call{method: "POST", path: "/api/v1/customers/" + sa + "/clouds", as: machine, body: map[string]any{"name": "second-cloud"}, status: 201})
	c.do(call{method: "POST", path: "/api/v1/customers/" + sa + "/clouds", as: owner, body: map[string]any{"name": "second-cloud"}, status: 200})
	c.do(call{method: "POST", path: "/api/v1/customers/" + sa + "/clouds", as: owner, body: map[string]any{"name": "Second Cloud"}, status: 422, broken: true})
	c.do(call{method: "POST", path: "/api/v1/customers/" + unknownID + "/clouds", as: owner, body: map[string]any{"name": "third-cloud"}, status: 404})
	var clouds struct {
		Clouds []struct{ Name string } `json:"clouds"`
	}
	c.do(call{method: "GET", path: "/api/v1/customers/" + url.PathEscape(l.OnboardingID) + "/clouds", as: owner, status: 200}).decode(t, &clouds)
	if len(clouds.Clouds) != 2 || clouds.Clouds[0].Name != "walk-cloud" || clouds.Clouds[1].Name != "second-cloud" {
		t.Errorf("the clouds are %+v", clouds.Clouds)
	}
	c.do(call{method: "GET", path: "/api/v1/customers/" + unknownID + "/clouds", as: owner, status: 404})
	c.do(call{method: "POST", path: "/api/v1/customers/" + sa + "/resume", as: owner, status: 200})
	c.do(call{method: "POST", path: "/api/v1/customers/" + sa + "/suspend", as: owner, body: map[string]any{"retention": "90 days"}, status: 422})
	c.do(call{method: "POST", path: "/api/v1/customers/" + sa + "/suspend", as: owner, body: map[string]any{"reason": "unpaid", "retention": "720h"}, status: 200})
	c.do(call{method: "POST", path: "/api/v1/customers/" + sa + "/suspend", as: machine, body: map[string]any{"reason": "again"}, status: 200})
	c.do(call{method: "POST", path: "/api/v1/customers/" + sa + "/clouds", as: owner, body: map[string]any{"name": "third-cloud"}, status: 409})
	c.do(call{method: "POST", path: "/api/v1/customers/" + unknownID + "/suspend", as: owner, body: map[string]any{}, status: 404})
	c.do(call{method: "POST", path: "/api/v1/customers/" + sa + "/resume", as: machine, status: 200})
	c.do(call{method: "POST", path: "/api/v1/customers/" + unknownID + "/resume", as: owner, status: 404})
	c.do(call{method: "POST", path: "/api/v1/customers/" + sa + "/resume", as: viewer, status: 403})

	// Without a worker, a request is accepted: 202, the request, where to
	// follow it; it shows as pending on the customer.
	w.worker.Stop()
	var accepted requestJSON
	a := c.do(call{method: "POST", path: "/api/v1/customers/" + sa + "/suspend", as: owner, body: map[string]any{"reason": "no worker"}, status: 202})
	a.decode(t, &accepted)
	if accepted.Status != domain.RequestAccepted || accepted.Kind != domain.RequestSuspend || a.header.Get("Location") != accepted.Poll {
		t.Errorf("the accepted suspend answered %+v, Location %q", accepted, a.header.Get("Location"))
	}
	c.do(call{method: "GET", path: accepted.Poll, as: owner, status: 200})
	c.do(call{method: "GET", path: "/api/v1/customers/" + sa, as: owner, status: 200}).decode(t, &cu)
	if len(cu.Pending) != 1 || cu.Pending[0].ID != accepted.ID {
		t.Errorf("the customer's pending requests: %+v", cu.Pending)
	}

	// Staff: owners only.
	var me, added struct{ ID, Email string }
	c.do(call{method: "GET", path: "/api/v1/staff", as: owner, status: 200})
	c.do(call{method: "GET", path: "/api/v1/staff", as: editor, status: 403})
	c.do(call{method: "POST", path: "/api/v1/staff", as: owner, body: map[string]any{"email": "new-" + sfx + "@acme.example", "role": "viewer"}, status: 200}).decode(t, &added)
	c.do(call{method: "POST", path: "/api/v1/staff", as: owner, body: map[string]any{"email": "owner@globex.example", "role": "viewer"}, status: 409})
	c.do(call{method: "POST", path: "/api/v1/staff", as: owner, body: map[string]any{"email": "x@acme.example", "role": "admin"}, status: 422, broken: true})
	c.do(call{method: "POST", path: "/api/v1/staff", as: editor, body: map[string]any{"email": "y@acme.example", "role": "viewer"}, status: 403})
	if err := w.st.DB().Get(&me.ID, `SELECT id FROM staff WHERE email = 'owner@acme.example'`); err != nil {
		t.Fatal(err)
	}
	c.do(call{method: "PATCH", path: "/api/v1/staff/" + added.ID, as: owner, body: map[string]any{"role": "editor", "personal_data": true}, status: 200})
	c.do(call{method: "PATCH", path: "/api/v1/staff/" + me.ID, as: owner, body: map[string]any{"role": "viewer"}, status: 409})
	c.do(call{method: "PATCH", path: "/api/v1/staff/" + added.ID, as: owner, body: map[string]any{"role": "boss"}, status: 422, broken: true})
	c.do(call{method: "PATCH", path: "/api/v1/staff/" + unknownID, as: owner, body: map[string]any{"role": "viewer"}, status: 404})
	c.do(call{method: "DELETE", path: "/api/v1/staff/" + me.ID, as: owner, status: 409})
	c.do(call{method: "DELETE", path: "/api/v1/staff/" + added.ID, as: owner, status: 200})
	c.do(call{method: "DELETE", path: "/api/v1/staff/" + added.ID, as: owner, status: 404})

	// Revoking the machine's key: it opens nothing afterwards.
	c.do(call{method: "DELETE", path: "/api/v1/api-keys/" + key.ID, as: machine, status: 403})
	c.do(call{method: "DELETE", path: "/api/v1/api-keys/" + key.ID, as: owner, status: 200})
	c.do(call{method: "DELETE", path: "/api/v1/api-keys/" + key.ID, as: owner, status: 200})
	c.do(call{method: "DELETE", path: "/api/v1/api-keys/" + unknownID, as: owner, status: 404})
	c.do(call{method: "GET", path: "/api/v1/customers", as: machine, status: 401})
	c.covered()
}

// unknownID is a well-formed id that names nothing.
const unknownID = "6f1c1d5e-4c4f-4a51-9d38-2b6f0a9c1e77"

// resendDue reports whether the customer's next resend is allowed now.
func resendDue(t *testing.T, w *world, id string, as creds) bool {
	t.Helper()
	var v customerJSON
	w.send(w.request("GET", "/api/v1/customers/"+id, as, nil)).decode(t, &v)
	return v.NextResendAt != nil && !time.Now().Before(*v.NextResendAt)
}
