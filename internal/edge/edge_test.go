package edge

import (
	"context"
	"io"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/cloudpartners/onboarding/internal/testenv"
)

// Open gives an edge everything it runs on, against the real stack, and
// Close lets it go.
func TestOpenAndClose(t *testing.T) {
	testenv.RequireStack(t)
	e, err := Open(t.Context(), "test-edge", testenv.Getenv(map[string]string{"DATABASE_URL": testenv.NewDatabase(t)}), io.Discard)
	require.NoError(t, err)
	require.NoError(t, e.Store.Ping(t.Context()))
	_, err = e.Temporal.CheckHealth(t.Context(), nil)
	require.NoError(t, err)
	require.NotNil(t, e.Actions)
	e.Close()
	require.Error(t, e.Store.Ping(t.Context()), "the store is closed")
	e.Close() // twice is harmless
}

// A part that cannot be opened fails Open with an error naming it.
func TestOpenFailsClearly(t *testing.T) {
	testenv.RequireStack(t)
	_, err := Open(t.Context(), "test-edge", testenv.Getenv(map[string]string{"DATABASE_URL": "mysql://x/y"}), io.Discard)
	require.ErrorContains(t, err, "DATABASE_URL")

	ctx, cancel := context.WithTimeout(t.Context(), 5*time.Second)
	defer cancel()
	_, err = Open(ctx, "test-edge", testenv.Getenv(map[string]string{
		"DATABASE_URL": testenv.NewDatabase(t), "TEMPORAL_ADDRESS": testenv.FreePort(t)}), io.Discard)
	require.ErrorContains(t, err, "connect to Temporal at")
}
