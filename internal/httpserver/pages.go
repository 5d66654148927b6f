package httpserver

import (
	"bytes"
	"fmt"
	"html/template"
	"io/fs"
	"net/http"
	"strconv"
)

// Pages are an edge's server-rendered pages: each <dir>/<name>.html
// inside <dir>/layout.html. html/template escapes everything they show.
type Pages map[string]*template.Template

// ParsePages parses the layout and each named page of dir in fsys, with
// funcs available to all of them (nil: none).
func ParsePages(fsys fs.FS, dir string, funcs template.FuncMap, names ...string) (Pages, error) {
	layout, err := template.New("layout.html").Funcs(funcs).ParseFS(fsys, dir+"/layout.html")
	if err != nil {
		return nil, fmt.Errorf("parse layout: %w", err)
	}
	out := Pages{}
	for _, name := range names {
		t, err := layout.Clone()
		if err == nil {
			t, err = t.ParseFS(fsys, dir+"/"+name+".html")
		}
		if err != nil {
			return nil, fmt.Errorf("parse page %s: %w", name, err)
		}
		out[name] = t
	}
	return out, nil
}

// Render writes the named page with data and status. The page is rendered
// whole before anything is written, so a failure leaves the response
// untouched for the caller to answer.
func (p Pages) Render(w http.ResponseWriter, status int, name string, data any) error {
	t, ok := p[name]
	if !ok {
		return fmt.Errorf("render page %s: no such page", name)
	}
	var buf bytes.Buffer
	if err := t.ExecuteTemplate(&buf, "layout.html", data); err != nil {
		return fmt.Errorf("render page %s: %w", name, err)
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Content-Length", strconv.Itoa(buf.Len()))
	w.WriteHeader(status)
	_, _ = w.Write(buf.Bytes())
	return nil
}
