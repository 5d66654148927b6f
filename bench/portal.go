package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/google/uuid"

	"github.com/cloudpartners/onboarding/internal/access"
	"github.com/cloudpartners/onboarding/internal/domain"
	"github.com/cloudpartners/onboarding/internal/stack"
	"github.com/cloudpartners/onboarding/internal/store"
	"github.com/cloudpartners/onboarding/internal/text"
)

// The portal phase: one partner with -portal-customers customers in every
// status, a few customers of another partner beside them, the real portal
// binary, and sequential GETs of the dashboard and of the JSON list API at
// the first, a middle and the last page, unfiltered, on a status tab and
// with a name search — each row timed -portal-samples times after
// -portal-warmup untimed requests, the rows taken in turn so that a burst of
// the machine's other load falls on all of them alike. The same lists
// through `starter list`, a new process each time that also joins Temporal's
// runs, are timed for comparison.

// portalPage is the page size of the dashboard, and the one asked of the
// API and the starter.
const portalPage = 50

// portalTarget is what a page of the portal may take at the 99th
// percentile, at any depth.
const portalTarget = 50 * time.Millisecond

// Partners of the portal phase: the measured one, and another whose
// customers (their names hold otherMarker) must never show.
const (
	portalPartner = "bench-portal"
	otherPartner  = "bench-portal-other"
	otherMarker   = "Elsewhere"
	otherN        = 300
)

// portalResults are the portal phase's figures.
type portalResults struct {
	customers    int
	seedTook     time.Duration
	analyzeTook  time.Duration
	seedRows     map[string]int64
	census       []seedCount
	rows         []*portalRow
	load0, load1 string
}

// portalRow is one line of the table: a surface, a page, a filter.
type portalRow struct {
	surface string // "dashboard", "api" or "starter"
	page    string // "first", "middle" or "last"
	pageNo  string // which page that is, "1/2000"
	filter  string
	target  bool // judged against portalTarget
	lat     latencies
	trips   int // Postgres round trips of one request
	do      func(ctx context.Context) (time.Duration, error)
}

// listFilter is one filter of the list, as each surface spells it.
type listFilter struct {
	name    string     // as the table shows it
	query   url.Values // the portal's URL parameters
	starter []string   // `starter list` flags
	where   string     // the same condition in SQL, for the middle cursor; $2 its argument
	arg     any
	check   func(name, status string) bool // does a listed customer match?
}

// pageAt is where a page starts: the cursor of the page before it, and
// the first customer it must show.
type pageAt struct {
	cursor    string // "" for the first page
	last      bool
	firstID   string // the first customer of the page ("" for the last page)
	firstName string
	label     string
}

// portal is the running portal phase.
type portal struct {
	b       *bench
	base    string // the portal's base URL
	starter string // the built starter binary
	cookie  string // the session cookie's value
	apiKey  string
	hc      *http.Client
	// statements counts the portal's round trips to Postgres.
	statements statements
}

// portalPhase seeds the data, starts the portal and times the rows.
func (b *bench) portalPhase(ctx context.Context, stdout io.Writer) (*portalResults, error) {
	res := &portalResults{customers: b.o.portalCustomers, load0: loadavg()}
	for _, p := range []struct{ id, name string }{{portalPartner, "Portal benchmark partner"}, {otherPartner, "Another partner"}} {
		if _, err := b.st.AddPartner(ctx, p.id, p.name, nil); err != nil {
			return nil, err
		}
	}
	fmt.Fprintf(stdout, "bench: portal: seeding %d customers of %s (and %d of %s) with bulk SQL …\n",
		b.o.portalCustomers, portalPartner, otherN, otherPartner)
	t0 := time.Now()
	var err error
	if res.seedRows, err = seedCustomers(ctx, b.st.DB(), portalPartner, b.o.portalCustomers, time.Now(), ""); err != nil {
		return nil, err
	}
	if _, err := seedCustomers(ctx, b.st.DB(), otherPartner, otherN, time.Now(), otherMarker+" "); err != nil {
		return nil, err
	}
	res.seedTook = time.Since(t0)
	t0 = time.Now()
	if err := analyze(ctx, b.st.DB()); err != nil {
		return nil, err
	}
	res.analyzeTook = time.Since(t0)
	for _, partner := range []string{portalPartner, otherPartner} {
		if err := checkSeed(ctx, b.st.DB(), partner); err != nil {
			return nil, err
		}
	}
	if res.census, err = census(ctx, b.st.DB(), portalPartner); err != nil {
		return nil, err
	}

	p, err := b.startPortal(ctx)
	if err != nil {
		return nil, err
	}
	if err := p.signIn(ctx, portalPartner); err != nil {
		return nil, err
	}
	if res.rows, err = p.plan(ctx); err != nil {
		return nil, err
	}
	fmt.Fprintf(stdout, "bench: portal: %d rows, %d warm-up and %d timed requests each (%d timed runs each for starter) …\n",
		len(res.rows), b.o.portalWarmup, b.o.portalSamples, b.o.starterSamples)
	if err := p.measure(ctx, res.rows); err != nil {
		return nil, err
	}
	// One more request of each page, counted: the round trips a page
	// costs at this depth.
	for _, r := range res.rows {
		if r.target {
			if r.trips, err = p.statements.around(ctx, func(ctx context.Context) error { _, err := r.do(ctx); return err }); err != nil {
				return nil, err
			}
		}
	}
	res.load1 = loadavg()
	return res, nil
}

// startPortal builds the portal and the starter and starts the portal
// against the private stack. The stack has no identity provider: the
// portal reads the issuer's discovery document only when someone signs in,
// and nobody does — sessions are made in the database (signIn).
func (b *bench) startPortal(ctx context.Context) (*portal, error) {
	bin, err := b.stack.Dir("bin")
	if err != nil {
		return nil, err
	}
	bins, err := stack.Build(ctx, b.root, bin, "portal", "starter")
	if err != nil {
		return nil, err
	}
	addr, err := stack.FreeAddr()
	if err != nil {
		return nil, err
	}
	metrics, err := stack.FreeAddr()
	if err != nil {
		return nil, err
	}
	env := append(append([]string{}, b.apps.Env...), "PORTAL_ADDR="+addr, "METRICS_ADDR="+metrics, "OIDC_ISSUER=http://oidc.invalid")
	proc, err := stack.StartProc(bins[0], env, filepath.Join(b.logDir, "portal.log"))
	if err != nil {
		return nil, err
	}
	b.procs = append(b.procs, proc)
	base := "http://" + addr
	if err := stack.WaitHTTP(ctx, base+"/healthz", 30*time.Second); err != nil {
		return nil, err
	}
	// One keep-alive connection, as a browser or an API client reuses.
	hc := &http.Client{Timeout: 30 * time.Second}
	return &portal{b: b, base: base, starter: bins[1], hc: hc, statements: statements{hc: hc, url: "http://" + metrics + "/metrics"}}, nil
}

// signIn makes an owner of a partner with a session, exactly the rows a
// sign-in through the identity provider leaves (store.AddStaff,
// store.CreateSession), and an API key through the action the portal's API
// keys page takes.
func (p *portal) signIn(ctx context.Context, partner string) error {
	st, err := p.b.st.AddStaff(ctx, store.NewStaff{ID: uuid.NewString(), PartnerID: partner, Email: "owner@" + partner + ".example",
		Role: domain.StaffOwner, PersonalData: true, CreatedBy: "bench"}, nil)
	if err != nil {
		return err
	}
	p.cookie = stack.Secret()
	now := time.Now()
	if err := p.b.st.CreateSession(ctx, p.cookie, st.ID, stack.Secret(), "127.0.0.1", "bench", now, now.Add(12*time.Hour)); err != nil {
		return err
	}
	k, err := p.b.drv.Access.CreateAPIKey(ctx, access.StaffActor(st, "127.0.0.1"), "portal benchmark", domain.StaffViewer)
	if err != nil {
		return err
	}
	p.apiKey = k.Secret
	return nil
}

// plan makes the table's rows, each with its request and the check of its
// answer.
func (p *portal) plan(ctx context.Context) ([]*portalRow, error) {
	key := domain.NameKey(p.b.o.portalSearch)
	filters := []listFilter{
		{name: "all", query: url.Values{}, check: func(string, string) bool { return true }},
		{name: "status=active", query: url.Values{"status": {"active"}}, starter: []string{"--status", domain.StatusActive},
			where: "AND status = $2", arg: domain.StatusActive, check: func(_, status string) bool { return status == domain.StatusActive }},
		{name: "q=" + p.b.o.portalSearch, query: url.Values{"q": {p.b.o.portalSearch}}, starter: []string{"--search", p.b.o.portalSearch},
			where: `AND name_key LIKE $2`, arg: "%" + likeEscaper.Replace(key) + "%",
			check: func(name, _ string) bool { return strings.Contains(domain.NameKey(name), key) }},
	}
	var rows []*portalRow
	var starterRows []*portalRow
	for _, f := range filters {
		pages, err := p.pages(ctx, f)
		if err != nil {
			return nil, err
		}
		for _, pg := range pages {
			for _, surface := range []string{"dashboard", "api"} {
				rows = append(rows, p.httpRow(surface, f, pg))
			}
			starterRows = append(starterRows, p.starterRow(f, pg))
		}
	}
	return append(rows, starterRows...), nil
}

// pages finds the first, the middle and the last page of a filter's list.
// The middle page's cursor is read from the database: the row just before
// it, newest first, exactly where walking "Older" from the first page
// would arrive.
func (p *portal) pages(ctx context.Context, f listFilter) ([]pageAt, error) {
	db := p.b.st.DB()
	args := []any{portalPartner}
	if f.where != "" {
		args = append(args, f.arg)
	}
	var n int
	if err := db.GetContext(ctx, &n, `SELECT count(*) FROM subaccounts WHERE partner_id = $1 `+f.where, args...); err != nil {
		return nil, fmt.Errorf("count %s: %w", f.name, err)
	}
	total := (n + portalPage - 1) / portalPage
	if total < 3 {
		return nil, fmt.Errorf("filter %s matches %d customers: too few for a middle page", f.name, n)
	}
	mid := total / 2 // 0-based: page mid+1
	var at []struct {
		CreatedAt time.Time `db:"created_at"`
		ID        string    `db:"id"`
		Name      string    `db:"name"`
	}
	q := fmt.Sprintf(`SELECT created_at, id, name FROM subaccounts WHERE partner_id = $1 %s ORDER BY created_at DESC, id DESC OFFSET %d LIMIT 2`,
		f.where, mid*portalPage-1)
	if err := db.SelectContext(ctx, &at, q, args...); err != nil || len(at) != 2 {
		return nil, fmt.Errorf("middle page of %s: %d rows, %w", f.name, len(at), err)
	}
	var first struct {
		ID   string `db:"id"`
		Name string `db:"name"`
	}
	if err := db.GetContext(ctx, &first, `SELECT id, name FROM subaccounts WHERE partner_id = $1 `+f.where+` ORDER BY created_at DESC, id DESC LIMIT 1`, args...); err != nil {
		return nil, fmt.Errorf("first page of %s: %w", f.name, err)
	}
	return []pageAt{
		{firstID: first.ID, firstName: first.Name, label: fmt.Sprintf("1/%d", total)},
		{cursor: store.Cursor{CreatedAt: at[0].CreatedAt, ID: at[0].ID}.String(), firstID: at[1].ID, firstName: at[1].Name,
			label: fmt.Sprintf("%d/%d", mid+1, total)},
		{last: true, label: fmt.Sprintf("%d/%d", total, total)},
	}, nil
}

// pageName is a page's name in the table.
func (pg pageAt) name() string {
	switch {
	case pg.last:
		return "last"
	case pg.cursor != "":
		return "middle"
	}
	return "first"
}

// httpRow is a row of the dashboard ("dashboard") or the list API ("api").
func (p *portal) httpRow(surface string, f listFilter, pg pageAt) *portalRow {
	v := url.Values{}
	for k, vs := range f.query {
		v[k] = vs
	}
	if pg.cursor != "" {
		v.Set("after", pg.cursor)
	}
	if pg.last {
		v.Set("last", "1")
	}
	path := "/customers"
	if surface == "api" {
		path = "/api/v1/customers"
	}
	u := p.base + path
	if len(v) > 0 {
		u += "?" + v.Encode()
	}
	r := &portalRow{surface: surface, page: pg.name(), pageNo: pg.label, filter: f.name, target: true}
	checked := false
	r.do = func(ctx context.Context) (time.Duration, error) {
		body, took, err := p.get(ctx, u, surface == "api")
		if err != nil {
			return 0, err
		}
		if !checked {
			// Every row's answer is checked once: a fast wrong page is no figure.
			if err := checkPage(surface, body, f, pg); err != nil {
				return 0, fmt.Errorf("%s %s page, %s (%s): %w", surface, pg.name(), f.name, u, err)
			}
			checked = true
		}
		return took, nil
	}
	return r
}

// get fetches a URL as the signed-in owner (the dashboard) or with the API
// key, reads the whole answer, and returns it with the time it took.
func (p *portal) get(ctx context.Context, u string, api bool) ([]byte, time.Duration, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return nil, 0, fmt.Errorf("get %s: %w", u, err)
	}
	if api {
		req.Header.Set("Authorization", "Bearer "+p.apiKey)
	} else {
		req.AddCookie(&http.Cookie{Name: "portal_session", Value: p.cookie})
	}
	t0 := time.Now()
	resp, err := p.hc.Do(req)
	if err != nil {
		return nil, 0, fmt.Errorf("get %s: %w", u, err)
	}
	body, err := io.ReadAll(resp.Body)
	took := time.Since(t0)
	resp.Body.Close()
	if err != nil {
		return nil, 0, fmt.Errorf("get %s: %w", u, err)
	}
	if resp.StatusCode != http.StatusOK {
		return nil, 0, fmt.Errorf("get %s: %d %s", u, resp.StatusCode, text.Truncate(string(body), 300))
	}
	return body, took, nil
}

// checkPage checks an answer: a full page, only the partner's own
// customers, each matching the filter, and the page that was asked for.
func checkPage(surface string, body []byte, f listFilter, pg pageAt) error {
	if bytes.Contains(body, []byte(otherMarker)) {
		return fmt.Errorf("another partner's customer is listed")
	}
	if surface == "dashboard" {
		if n := bytes.Count(body, []byte(`<td class="name">`)); n != portalPage {
			return fmt.Errorf("the page shows %d customers, want %d", n, portalPage)
		}
		if pg.firstID != "" {
			i := bytes.Index(body, []byte(`<td class="name"><a href="/customers/`))
			if i < 0 || !bytes.HasPrefix(body[i+len(`<td class="name"><a href="/customers/`):], []byte(pg.firstID)) {
				return fmt.Errorf("the page does not start with %s (%s)", pg.firstID, pg.firstName)
			}
		}
		return nil
	}
	var l struct {
		Customers []struct {
			ID     string `json:"id"`
			Name   string `json:"name"`
			Status string `json:"status"`
		} `json:"customers"`
	}
	if err := json.Unmarshal(body, &l); err != nil {
		return fmt.Errorf("decode: %w", err)
	}
	if len(l.Customers) != portalPage {
		return fmt.Errorf("%d customers, want %d", len(l.Customers), portalPage)
	}
	for _, c := range l.Customers {
		if !f.check(c.Name, c.Status) {
			return fmt.Errorf("customer %q (%s) does not match the filter", c.Name, c.Status)
		}
	}
	if pg.firstID != "" && l.Customers[0].ID != pg.firstID {
		return fmt.Errorf("the page starts with %s, want %s (%s)", l.Customers[0].ID, pg.firstID, pg.firstName)
	}
	return nil
}

// starterRow is the same list through `starter list`, run as a process.
func (p *portal) starterRow(f listFilter, pg pageAt) *portalRow {
	args := append([]string{"list", "--partner", portalPartner, "--limit", strconv.Itoa(portalPage)}, f.starter...)
	if pg.cursor != "" {
		args = append(args, "--after", pg.cursor)
	}
	if pg.last {
		args = append(args, "--last")
	}
	r := &portalRow{surface: "starter", page: pg.name(), pageNo: pg.label, filter: f.name}
	checked := false
	r.do = func(ctx context.Context) (time.Duration, error) {
		cmd := exec.CommandContext(ctx, p.starter, args...)
		cmd.Env = append(os.Environ(), p.b.apps.Env...)
		var out, errOut bytes.Buffer
		cmd.Stdout, cmd.Stderr = &out, &errOut
		t0 := time.Now()
		err := cmd.Run()
		took := time.Since(t0)
		if err != nil {
			return 0, fmt.Errorf("starter %s: %w: %s", strings.Join(args, " "), err, text.Truncate(errOut.String(), 300))
		}
		if !checked {
			lines := strings.Split(strings.TrimRight(out.String(), "\n"), "\n")
			rows := 0
			for _, l := range lines[1:] {
				if strings.HasPrefix(l, "onboarding/"+portalPartner+"/") {
					rows++
				}
			}
			switch {
			case strings.Contains(out.String(), otherMarker):
				return 0, fmt.Errorf("starter %s: another partner's customer is listed", strings.Join(args, " "))
			case rows != portalPage:
				return 0, fmt.Errorf("starter %s: %d customers, want %d:\n%s", strings.Join(args, " "), rows, portalPage, text.Truncate(out.String(), 500))
			case pg.firstName != "" && !strings.HasPrefix(lines[1], "onboarding/"+portalPartner+"/"+domain.NameKey(pg.firstName)+" "):
				return 0, fmt.Errorf("starter %s: the page does not start with %s: %s", strings.Join(args, " "), pg.firstName, lines[1])
			}
			checked = true
		}
		return took, nil
	}
	return r
}

// measure times the rows: the portal's rows first, then the starter's,
// each group taken in turn, round after round — a warm-up of
// -portal-warmup untimed rounds (one for the starter), then the timed ones.
func (p *portal) measure(ctx context.Context, rows []*portalRow) error {
	var web, cli []*portalRow
	for _, r := range rows {
		if r.target {
			web = append(web, r)
		} else {
			cli = append(cli, r)
		}
	}
	o := p.b.o
	if err := rounds(ctx, web, max(o.portalWarmup, 1), o.portalSamples); err != nil {
		return err
	}
	return rounds(ctx, cli, 1, o.starterSamples)
}

// rounds runs every row once a round: warm untimed rounds, then n timed.
func rounds(ctx context.Context, rows []*portalRow, warm, n int) error {
	for round := range warm + n {
		for _, r := range rows {
			took, err := r.do(ctx)
			if err != nil {
				return err
			}
			if round >= warm {
				r.lat.add(took)
			}
		}
		if err := ctx.Err(); err != nil {
			return err
		}
	}
	return nil
}

// likeEscaper escapes LIKE's wildcards as the store does.
var likeEscaper = strings.NewReplacer(`\`, `\\`, "%", `\%`, "_", `\_`)
