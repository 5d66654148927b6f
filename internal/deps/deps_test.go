package deps_test

import (
	"context"
	"io"
	"log/slog"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/cloudpartners/onboarding/internal/config"
	"github.com/cloudpartners/onboarding/internal/deps"
	"github.com/cloudpartners/onboarding/internal/testenv"
)

func options(t *testing.T, vars map[string]string) deps.Options {
	t.Helper()
	v := config.New(testenv.Getenv(vars))
	o := deps.Options{Service: "test", Logger: slog.New(slog.NewTextHandler(io.Discard, nil)),
		Postgres: config.LoadPostgres(v), Temporal: config.LoadTemporal(v), Tracing: config.LoadTracing(v)}
	require.NoError(t, v.Err())
	return o
}

// Open gives a binary everything it runs on, against the real stack, and
// Close lets it go; every round trip to Postgres is counted.
func TestOpenAndClose(t *testing.T) {
	testenv.RequireStack(t)
	o := options(t, map[string]string{"DATABASE_URL": testenv.NewDatabase(t)})
	var statements int
	o.OnStatement = func() { statements++ }
	d, err := deps.Open(t.Context(), o)
	require.NoError(t, err)
	before := statements
	require.NoError(t, d.Store.Ping(t.Context()))
	require.Equal(t, before+1, statements, "a ping is one round trip")
	_, err = d.Temporal.CheckHealth(t.Context(), nil)
	require.NoError(t, err)
	require.NotNil(t, d.Audit)
	require.NotNil(t, d.Requests)
	d.Close()
	require.Error(t, d.Store.Ping(t.Context()), "the store is closed")
	d.Close() // twice is harmless
}

// A part that cannot be opened fails Open with an error naming it.
func TestOpenFailsClearly(t *testing.T) {
	testenv.RequireStack(t)
	ctx, cancel := context.WithTimeout(t.Context(), 5*time.Second)
	defer cancel()
	_, err := deps.Open(ctx, options(t, map[string]string{"DATABASE_URL": testenv.NewDatabase(t), "TEMPORAL_ADDRESS": testenv.FreePort(t)}))
	require.ErrorIs(t, err, deps.ErrTemporal)

	_, err = deps.Open(ctx, options(t, map[string]string{"DATABASE_URL": "postgres://nobody@" + testenv.FreePort(t) + "/x?sslmode=disable"}))
	require.ErrorIs(t, err, deps.ErrDatabase)
}
