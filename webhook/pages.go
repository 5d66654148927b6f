package main

import (
	"bytes"
	"embed"
	"fmt"
	"html/template"
	"net/http"
	"strconv"
)

//go:embed pages/*.html
var pageFiles embed.FS

// pageNames are the pages, each pages/<name>.html inside pages/layout.html.
var pageNames = []string{"confirm", "confirmed", "declined", "already", "problem"}

// pages holds the parsed templates; html/template escapes everything they show.
type pages map[string]*template.Template

func parsePages() (pages, error) {
	layout, err := template.ParseFS(pageFiles, "pages/layout.html")
	if err != nil {
		return nil, fmt.Errorf("parse layout: %w", err)
	}
	out := pages{}
	for _, name := range pageNames {
		t, err := layout.Clone()
		if err == nil {
			t, err = t.ParseFS(pageFiles, "pages/"+name+".html")
		}
		if err != nil {
			return nil, fmt.Errorf("parse page %s: %w", name, err)
		}
		out[name] = t
	}
	return out, nil
}

// pageData is what a page shows.
type pageData struct {
	Brand    string
	Title    string
	Partner  string
	Customer string
	Cloud    string
	Deadline string
	Token    string // the confirm page posts it back
	Status   string // problem pages: e.g. "410 Gone"
	Text     string
	Hint     string
}

// render writes a page with its status; it renders into a buffer first so a
// template error still gets a clean 500.
func (p pages) render(w http.ResponseWriter, status int, name string, d pageData) error {
	var buf bytes.Buffer
	if err := p[name].ExecuteTemplate(&buf, "layout.html", d); err != nil {
		return fmt.Errorf("render page %s: %w", name, err)
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Content-Length", strconv.Itoa(buf.Len()))
	w.WriteHeader(status)
	_, _ = w.Write(buf.Bytes())
	return nil
}
