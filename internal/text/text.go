// Package text holds the few string helpers every layer uses to show a
// value or a failure: one line, cut to a length, a dash for nothing.
package text

import (
	"strings"
	"time"
)

// Truncate keeps the first n characters (runes) of s, marking a cut with
// "..." after them.
func Truncate(s string, n int) string {
	if r := []rune(s); len(r) > n {
		return string(r[:n]) + "..."
	}
	return s
}

// OneLine joins the lines of a message — errors.Join puts each error on a
// line of its own — with "; ", so that a reason always shows on one line.
func OneLine(s string) string {
	return strings.Join(strings.FieldsFunc(s, func(r rune) bool { return r == '\n' || r == '\r' }), "; ")
}

// Dash is s, or "-" when it is empty: for tables and audit details.
func Dash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

// Duration writes a duration as people write one — 168h, 90s, 1m30s —
// not time.Duration's 168h0m0s.
func Duration(d time.Duration) string {
	s := d.String()
	if strings.HasSuffix(s, "m0s") {
		s = strings.TrimSuffix(s, "0s")
	}
	if strings.HasSuffix(s, "h0m") {
		s = strings.TrimSuffix(s, "0m")
	}
	return s
}
