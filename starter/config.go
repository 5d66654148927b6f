package main

import "github.com/cloudpartners/onboarding/internal/config"

// settings are the starter's: it takes the actions, so it needs Temporal,
// Postgres, links (for `link`) and the defaults of a launch.
type settings struct {
	temporal config.Temporal
	postgres config.Postgres
	links    config.Links
	launch   config.Launch
	tracing  config.Tracing
}

// loadSettings reads the starter's settings; vars lists them for --help
// and holds their errors, reported when a command first needs them.
func loadSettings(getenv config.Getenv) (settings, *config.Vars) {
	v := config.New(getenv)
	return settings{
		temporal: config.LoadTemporal(v),
		postgres: config.LoadPostgres(v),
		links:    config.LoadLinks(v),
		launch:   config.LoadLaunch(v),
		tracing:  config.LoadTracing(v),
	}, v
}
