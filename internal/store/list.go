package store

import (
	"context"
	"encoding/base64"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/cloudpartners/onboarding/internal/domain"
	"github.com/cloudpartners/onboarding/internal/text"
)

// Cursor marks a place in a list of subaccounts, newest first: the creation
// time and id of a row. Pages are read from a cursor by keyset, so a page
// deep in the list costs what the first one costs.
type Cursor struct {
	CreatedAt time.Time
	ID        string
}

// String encodes the cursor for a URL or a command line.
func (c Cursor) String() string {
	return base64.RawURLEncoding.EncodeToString([]byte(strconv.FormatInt(c.CreatedAt.UnixMicro(), 10) + "." + c.ID))
}

// ParseCursor decodes a cursor made by Cursor.String.
func ParseCursor(s string) (Cursor, error) {
	bad := domain.Invalidf("cursor", "%q is not a page cursor: use the one a list printed", text.Truncate(s, 40))
	b, err := base64.RawURLEncoding.DecodeString(s)
	if err != nil {
		return Cursor{}, bad
	}
	micros, id, ok := strings.Cut(string(b), ".")
	us, err := strconv.ParseInt(micros, 10, 64)
	if !ok || err != nil || !isUUID(id) {
		return Cursor{}, bad
	}
	return Cursor{CreatedAt: time.UnixMicro(us).UTC(), ID: id}, nil
}

func cursorOf(sa domain.Subaccount) *Cursor { return &Cursor{CreatedAt: sa.CreatedAt, ID: sa.ID} }

// ListQuery selects a page of subaccounts; empty fields match everything.
type ListQuery struct {
	PartnerID string // the partner scope: "" is every partner
	Status    string // a subaccount status
	Reason    string // a deletion reason (implies INACTIVE)
	Search    string // part of the customer's name, compared as domain.NameKey does
	After     *Cursor
	Before    *Cursor
	Last      bool // the last (oldest) page
	Limit     int  // default 50, at most 1000
}

// Page is one page of subaccounts, newest first, with the cursors of its
// neighbours: nil where there is none.
type Page struct {
	Items []domain.Subaccount
	Next  *Cursor // read the next (older) page with After: Next
	Prev  *Cursor // read the previous (newer) page with Before: Prev
}

// ListSubaccounts reads one page of subaccounts, newest first.
func (s *Store) ListSubaccounts(ctx context.Context, q ListQuery) (Page, error) {
	if q.Limit <= 0 {
		q.Limit = 50
	}
	q.Limit = min(q.Limit, 1000)
	var where []string
	var args []any
	arg := func(v any) string { args = append(args, v); return "$" + strconv.Itoa(len(args)) }
	if q.PartnerID != "" {
		where = append(where, "s.partner_id = "+arg(q.PartnerID))
	}
	if q.Status != "" {
		where = append(where, "s.status = "+arg(q.Status))
	}
	if q.Reason != "" {
		where = append(where, "s.status = 'INACTIVE' AND s.deleted_reason = "+arg(q.Reason))
	}
	if key := domain.NameKey(q.Search); key != "" {
		// LIKE, so that the trigram index answers; the text is matched as
		// it is, its wildcards escaped.
		where = append(where, "s.name_key LIKE "+arg("%"+likeEscaper.Replace(key)+"%"))
	}
	// Backwards (towards newer rows, or from the oldest end) the rows are
	// read in ascending order and turned round.
	backwards := q.Before != nil || (q.Last && q.After == nil)
	switch {
	case q.After != nil:
		where = append(where, fmt.Sprintf("(s.created_at, s.id) < (%s, %s)", arg(q.After.CreatedAt), arg(q.After.ID)))
	case q.Before != nil:
		where = append(where, fmt.Sprintf("(s.created_at, s.id) > (%s, %s)", arg(q.Before.CreatedAt), arg(q.Before.ID)))
	}
	sqlText := subaccountSelect
	if len(where) > 0 {
		sqlText += " WHERE " + strings.Join(where, " AND ")
	}
	order := " ORDER BY s.created_at DESC, s.id DESC"
	if backwards {
		order = " ORDER BY s.created_at ASC, s.id ASC"
	}
	// One row more than the page tells whether there is another page.
	sqlText += order + " LIMIT " + arg(q.Limit+1)
	var found []subaccountRow
	if err := s.db.SelectContext(ctx, &found, sqlText, args...); err != nil {
		return Page{}, fmt.Errorf("list customers: %w", err)
	}
	rows := make([]domain.Subaccount, 0, len(found))
	for _, r := range found {
		rows = append(rows, r.domain())
	}
	more := len(rows) > q.Limit
	rows = rows[:min(len(rows), q.Limit)]
	if backwards {
		slices.Reverse(rows)
	}
	p := Page{Items: rows}
	if len(rows) == 0 {
		return p, nil
	}
	first, last := rows[0], rows[len(rows)-1]
	if backwards {
		if more {
			p.Prev = cursorOf(first)
		}
		if q.Before != nil {
			p.Next = cursorOf(last)
		}
	} else {
		if more {
			p.Next = cursorOf(last)
		}
		if q.After != nil {
			p.Prev = cursorOf(first)
		}
	}
	return p, nil
}

// likeEscaper escapes LIKE's wildcards and its escape character.
var likeEscaper = strings.NewReplacer(`\`, `\\`, "%", `\%`, "_", `\_`)
