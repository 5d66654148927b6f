package main

import (
	"embed"

	"github.com/cloudpartners/onboarding/internal/httpserver"
)

//go:embed pages/*.html
var pageFiles embed.FS

// pageNames are the pages, each pages/<name>.html inside pages/layout.html.
var pageNames = []string{"confirm", "confirmed", "declined", "already", "recorded", "problem"}

func parsePages() (httpserver.Pages, error) {
	return httpserver.ParsePages(pageFiles, "pages", nil, pageNames...)
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
