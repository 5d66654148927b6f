package stack

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"time"
)

// WaitHTTP waits until GET u answers 200.
func WaitHTTP(ctx context.Context, u string, timeout time.Duration) error {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	for {
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
		if err != nil {
			return fmt.Errorf("wait for %s: %w", u, err)
		}
		if resp, err := http.DefaultClient.Do(req); err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return nil
			}
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("%s did not answer 200: %w", u, ctx.Err())
		case <-time.After(100 * time.Millisecond):
		}
	}
}

// PostConfirm posts a token to the webhook's confirmation form, as a
// browser does when the customer presses Confirm, and returns the status
// code and the time to the answer.
func PostConfirm(ctx context.Context, hc *http.Client, baseURL, token string) (int, time.Duration, error) {
	return PostAnswer(ctx, hc, baseURL, token, "confirm")
}

// PostAnswer posts the confirmation form with the button for action
// ("confirm" or "decline") pressed.
func PostAnswer(ctx context.Context, hc *http.Client, baseURL, token, action string) (int, time.Duration, error) {
	form := url.Values{"token": {token}, "action": {action}}.Encode()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, baseURL+"/confirm", strings.NewReader(form))
	if err != nil {
		return 0, 0, fmt.Errorf("post /confirm: %w", err)
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	t0 := time.Now()
	resp, err := hc.Do(req)
	if err != nil {
		return 0, time.Since(t0), fmt.Errorf("post /confirm: %w", err)
	}
	_, _ = io.Copy(io.Discard, resp.Body) // read to the end, so that the connection is reused
	resp.Body.Close()
	return resp.StatusCode, time.Since(t0), nil
}
