package testenv

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/cloudpartners/onboarding/internal/stack"
)

// Chromium finds the browser: $CHROMIUM, else Debian's chromium on PATH.
// Missing, it fails the test: `make test` installs it, and on a
// workstation `apt-get install chromium` does.
func Chromium(tb testing.TB) string {
	tb.Helper()
	if p := os.Getenv("CHROMIUM"); p != "" {
		return p
	}
	for _, name := range []string{"chromium", "chromium-browser"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	tb.Fatal("headless Chromium is needed for the browser test and was not found: install it with `apt-get install chromium`, or set CHROMIUM to its path")
	return ""
}

// Browser starts headless Chromium, with a profile of its own and no
// network of its own (no updates, no sync: this machine's network is
// closed), and returns a tab's context, bounded by timeout. The browser's
// log is shown when the test fails; everything stops at cleanup.
func Browser(tb testing.TB, timeout time.Duration) context.Context {
	tb.Helper()
	log := &Buffer{}
	actx, cancelAlloc := chromedp.NewExecAllocator(context.Background(),
		chromedp.ExecPath(Chromium(tb)),
		chromedp.Flag("headless", true),
		chromedp.Flag("no-sandbox", true),
		chromedp.Flag("disable-gpu", true),
		chromedp.Flag("disable-quic", true),
		chromedp.Flag("no-first-run", true),
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.Flag("disable-dev-shm-usage", true),
		chromedp.WindowSize(1280, 900),
		chromedp.UserDataDir(tb.TempDir()),
		chromedp.CombinedOutput(log),
	)
	bctx, cancelBrowser := chromedp.NewContext(actx, chromedp.WithErrorf(func(f string, args ...any) {
		_, _ = log.Write([]byte("chromedp: " + strings.TrimSpace(fmt.Sprintf(f, args...)) + "\n"))
	}))
	ctx, cancel := context.WithTimeout(bctx, timeout)
	// The tab opens now, bound to ctx: a context derived later (a step's
	// own timeout) then uses it, and its end does not close the tab.
	if err := chromedp.Do(ctx, chromedp.Navigate("about:blank")); err != nil {
		tb.Fatalf("start headless Chromium: %v\n%s", err, stack.Tail(log.String(), 4000))
	}
	tb.Cleanup(func() {
		cancel()
		cancelBrowser()
		cancelAlloc()
		if tb.Failed() {
			tb.Logf("--- browser log ---\n%s", stack.Tail(log.String(), 4000))
		}
	})
	return ctx
}

// Buffer is a buffer many goroutines write to: a log that a test reads.
type Buffer struct {
	mu sync.Mutex
	b  strings.Builder
}

func (b *Buffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.Write(p)
}

func (b *Buffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.String()
}

// Screenshot saves a full-page screenshot as name.png into the folder
// SCREENSHOTS names, when it names one: a person looks at them.
func Screenshot(tb testing.TB, ctx context.Context, name string) {
	dir := os.Getenv("SCREENSHOTS")
	if dir == "" {
		return
	}
	png, err := chromedp.Run(ctx, chromedp.FullScreenshot(100))
	if err != nil {
		tb.Logf("screenshot %s: %v", name, err)
		return
	}
	if err := os.WriteFile(filepath.Join(dir, name+".png"), png, 0o644); err != nil {
		tb.Logf("screenshot %s: %v", name, err)
	}
}

// Text is the visible text of the first element sel selects, read in the
// page itself rather than through a node id of the DevTools' copy of the
// DOM, which a document that has just loaded can still invalidate ("No
// node with given id found"); retried, at most 10 s, until the element is
// there.
func Text(tb testing.TB, ctx context.Context, sel string) string {
	tb.Helper()
	js := fmt.Sprintf(`(function () { var e = document.querySelector(%q); return e ? "+" + e.innerText : "-"; })()`, sel)
	deadline := time.Now().Add(10 * time.Second)
	for {
		s, err := chromedp.Run(ctx, chromedp.Evaluate[string](js))
		if err == nil && strings.HasPrefix(s, "+") {
			return strings.TrimSpace(s[1:])
		}
		if time.Now().After(deadline) {
			tb.Fatalf("read %s: %q, %v", sel, s, err)
		}
		time.Sleep(100 * time.Millisecond)
	}
}
