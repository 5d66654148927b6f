package httpserver

import (
	"html/template"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"testing/fstest"
)

var pageFS = fstest.MapFS{
	"p/layout.html": {Data: []byte(`<main>{{template "body" .}}</main>`)},
	"p/hello.html":  {Data: []byte(`{{define "body"}}Hello {{.Name}}{{shout .Name}}{{end}}`)},
	"p/broken.html": {Data: []byte(`{{define "body"}}{{.Missing.Field}}{{end}}`)},
}

var shout = template.FuncMap{"shout": func(s string) string { return strings.ToUpper(s) }}

// A page renders inside the layout, escaped, with its status.
func TestPagesRender(t *testing.T) {
	p, err := ParsePages(pageFS, "p", shout, "hello", "broken")
	if err != nil {
		t.Fatal(err)
	}
	w := httptest.NewRecorder()
	if err := p.Render(w, http.StatusTeapot, "hello", map[string]string{"Name": "<b>x</b>"}); err != nil {
		t.Fatal(err)
	}
	if w.Code != http.StatusTeapot || w.Header().Get("Content-Type") != "text/html; charset=utf-8" {
		t.Errorf("status %d, type %q", w.Code, w.Header().Get("Content-Type"))
	}
	if got, want := w.Body.String(), "<main>Hello &lt;b&gt;x&lt;/b&gt;&lt;B&gt;X&lt;/B&gt;</main>"; got != want {
		t.Errorf("body %q, want %q", got, want)
	}
}

// A page that fails, or is not there, writes nothing: the caller answers.
func TestPagesRenderFailureWritesNothing(t *testing.T) {
	p, err := ParsePages(pageFS, "p", nil, "broken")
	if err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{"broken", "nosuch"} {
		w := httptest.NewRecorder()
		if err := p.Render(w, http.StatusOK, name, struct{}{}); err == nil || !strings.Contains(err.Error(), name) {
			t.Errorf("%s: error %v, want one naming the page", name, err)
		}
		if w.Body.Len() != 0 || len(w.Header()) != 0 {
			t.Errorf("%s: wrote %q %v", name, w.Body.String(), w.Header())
		}
	}
}

// A missing page file fails at parse, naming it.
func TestParsePagesNamesTheMissingPage(t *testing.T) {
	if _, err := ParsePages(pageFS, "p", nil, "absent"); err == nil || !strings.Contains(err.Error(), "absent") {
		t.Errorf("error %v, want one naming the page", err)
	}
}
