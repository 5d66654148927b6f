package stack

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"
)

// Mail is a message as mailpit's API reports it; a listing leaves the
// bodies empty.
type Mail struct {
	ID        string    `json:"ID"` // mailpit's own id
	MessageID string    `json:"MessageID"`
	Subject   string    `json:"Subject"`
	To        []Address `json:"To"`
	Text      string    `json:"Text"`
	HTML      string    `json:"HTML"`
}

// Address is one recipient of a Mail.
type Address struct {
	Name    string `json:"Name"`
	Address string `json:"Address"`
}

// Mailpit reads delivered mail through mailpit's HTTP API.
type Mailpit struct {
	URL  string       // base URL of the API, without a trailing slash
	HTTP *http.Client // with a timeout, so that a hung mailpit fails a read

	mu      sync.Mutex
	seen    map[string]bool     // mailpit ids already read
	links   map[string][]string // recipient → confirmation links, oldest first
	changed chan struct{}       // closed and replaced when links grows
}

// NewMailpit reads the mailpit at base URL u.
func NewMailpit(u string) *Mailpit {
	return &Mailpit{URL: strings.TrimRight(u, "/"), HTTP: &http.Client{Timeout: 10 * time.Second},
		seen: map[string]bool{}, links: map[string][]string{}, changed: make(chan struct{})}
}

func (m *Mailpit) get(ctx context.Context, path string, v any) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, m.URL+path, nil)
	if err != nil {
		return fmt.Errorf("mailpit: %w", err)
	}
	resp, err := m.HTTP.Do(req)
	if err != nil {
		return fmt.Errorf("mailpit: %w", err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("mailpit %s: %s", path, resp.Status)
	}
	if err := json.NewDecoder(resp.Body).Decode(v); err != nil {
		return fmt.Errorf("mailpit %s: %w", path, err)
	}
	return nil
}

// page lists messages newest first.
func (m *Mailpit) page(ctx context.Context, start, limit int) ([]Mail, int, error) {
	var out struct {
		Total    int    `json:"total"`
		Messages []Mail `json:"messages"`
	}
	err := m.get(ctx, fmt.Sprintf("/api/v1/messages?start=%d&limit=%d", start, limit), &out)
	return out.Messages, out.Total, err
}

// Message reads one message, with its bodies, by mailpit's id.
func (m *Mailpit) Message(ctx context.Context, id string) (Mail, error) {
	var full Mail
	err := m.get(ctx, "/api/v1/message/"+id, &full)
	return full, err
}

// MailTo returns every message mailpit holds for an address (up to 500),
// newest first, with bodies.
func (m *Mailpit) MailTo(ctx context.Context, address string) ([]Mail, error) {
	var list struct {
		Messages []Mail `json:"messages"`
	}
	if err := m.get(ctx, "/api/v1/search?limit=500&query="+url.QueryEscape(`to:"`+address+`"`), &list); err != nil {
		return nil, err
	}
	out := make([]Mail, 0, len(list.Messages))
	for _, s := range list.Messages {
		full, err := m.Message(ctx, s.ID)
		if err != nil {
			return nil, err
		}
		out = append(out, full)
	}
	return out, nil
}

// WaitMail polls until mailpit holds at least n messages for an address
// and returns them. When ctx ends first it returns what it last read with
// ctx's error; a failing mailpit ends the wait at once.
func (m *Mailpit) WaitMail(ctx context.Context, address string, n int) ([]Mail, error) {
	var msgs []Mail
	for {
		got, err := m.MailTo(ctx, address)
		if ctx.Err() != nil {
			return msgs, fmt.Errorf("wait for %d messages to %s: %w", n, address, ctx.Err())
		}
		if err != nil {
			return msgs, err
		}
		if msgs = got; len(msgs) >= n {
			return msgs, nil
		}
		select {
		case <-ctx.Done():
		case <-time.After(100 * time.Millisecond):
		}
	}
}

// MessageIDs counts the messages mailpit holds by Message-ID.
func (m *Mailpit) MessageIDs(ctx context.Context) (map[string]int, error) {
	counts := map[string]int{}
	for start := 0; ; start += 500 {
		msgs, total, err := m.page(ctx, start, 500)
		if err != nil {
			return nil, err
		}
		for _, s := range msgs {
			counts[strings.Trim(s.MessageID, "<>")]++
		}
		if len(msgs) == 0 || start+len(msgs) >= total {
			return counts, nil
		}
	}
}

// Watch reads new messages every interval until ctx ends, so that WaitLink
// can hand out their confirmation links. One poller serves every waiter.
func (m *Mailpit) Watch(ctx context.Context, every time.Duration) {
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		_ = m.poll(ctx) // mailpit may be busy; the next tick reads what this one missed
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

func (m *Mailpit) poll(ctx context.Context) error {
	var fresh []Mail
	for start := 0; ; start += 200 {
		msgs, total, err := m.page(ctx, start, 200)
		if err != nil {
			return err
		}
		old := 0
		for _, s := range msgs {
			m.mu.Lock()
			seen := m.seen[s.ID]
			m.mu.Unlock()
			if seen {
				old++
				continue
			}
			fresh = append(fresh, s)
		}
		// Newest first: a page of read messages means the rest were read too.
		if old > 0 || len(msgs) == 0 || start+len(msgs) >= total {
			break
		}
	}
	// Oldest first, so that links keep their order per recipient.
	for i := len(fresh) - 1; i >= 0; i-- {
		s := fresh[i]
		full, err := m.Message(ctx, s.ID)
		if err != nil {
			return err
		}
		link := LinkIn(full.Text)
		m.mu.Lock()
		m.seen[s.ID] = true
		if link != "" {
			for _, to := range s.To {
				addr := strings.ToLower(to.Address)
				m.links[addr] = append(m.links[addr], link)
			}
			close(m.changed)
			m.changed = make(chan struct{})
		}
		m.mu.Unlock()
	}
	return nil
}

// WaitLink waits until the n-th confirmation email to addr has been read
// by Watch and returns its link.
func (m *Mailpit) WaitLink(ctx context.Context, addr string, n int) (string, error) {
	addr = strings.ToLower(addr)
	for {
		m.mu.Lock()
		links, changed := m.links[addr], m.changed
		m.mu.Unlock()
		if len(links) >= n {
			return links[n-1], nil
		}
		select {
		case <-ctx.Done():
			return "", fmt.Errorf("wait for email #%d to %s: %w", n, addr, ctx.Err())
		case <-changed:
		}
	}
}

// LinkIn returns the confirmation link in a message's text, or "".
func LinkIn(text string) string {
	for _, f := range strings.Fields(text) {
		if strings.Contains(f, "/confirm?token=") {
			return f
		}
	}
	return ""
}

// TokenOf returns the token of a confirmation link.
func TokenOf(link string) (string, error) {
	u, err := url.Parse(link)
	if err != nil {
		return "", fmt.Errorf("confirmation link: %w", err)
	}
	t := u.Query().Get("token")
	if t == "" {
		return "", fmt.Errorf("confirmation link %q has no token", link)
	}
	return t, nil
}
