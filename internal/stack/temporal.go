package stack

import (
	"context"
	"fmt"
	"io"
	"log/slog"

	"github.com/cloudpartners/onboarding/internal/config"

	"go.temporal.io/sdk/client"
	tlog "go.temporal.io/sdk/log"
)

// Dial connects to the Temporal frontend at hostPort. The SDK's warnings
// and errors go to log as text, so that they do not mix with what a
// program prints; io.Discard silences them.
func Dial(ctx context.Context, hostPort string, log io.Writer) (client.Client, error) {
	// The binaries' default configuration: the development payload key, so
	// that this client reads what they write.
	v := config.New(func(string) string { return "" })
	opts := config.LoadTemporal(v).Options
	if err := v.Err(); err != nil {
		return nil, err
	}
	opts.HostPort = hostPort
	opts.Logger = tlog.NewStructuredLogger(slog.New(slog.NewTextHandler(log, &slog.HandlerOptions{Level: slog.LevelWarn})))
	c, err := client.DialContext(ctx, opts)
	if err != nil {
		return nil, fmt.Errorf("connect to Temporal at %s: %w", hostPort, err)
	}
	return c, nil
}
