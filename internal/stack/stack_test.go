package stack

import (
	"bytes"
	"context"
	"database/sql"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	_ "github.com/lib/pq" // the Postgres driver
)

// TestPostgresInAFolderNoOneElseCanEnter reproduces a checkout cloned into a
// mode-0700 folder (as under /root): a private stack whose state folder the
// postgres user cannot enter starts Postgres, answers, survives a hard stop
// and a restart as chaos does them, stops, and wipes its data wherever the
// script kept it.
func TestPostgresInAFolderNoOneElseCanEnter(t *testing.T) {
	root, err := ModuleRoot()
	if err != nil {
		t.Fatal(err)
	}
	home := filepath.Join(t.TempDir(), "home")
	if err := os.Mkdir(home, 0o700); err != nil {
		t.Fatal(err)
	}
	s := testStack(t, &Stack{Root: root, State: filepath.Join(home, "onboarding", ".local")})
	ctx, cancel := context.WithTimeout(t.Context(), 2*time.Minute)
	defer cancel()

	if err := s.Up(ctx, "postgres"); err != nil {
		t.Fatalf("up postgres in a mode-0700 folder: %v", err)
	}
	ping(t, s, true)
	data, err := s.PGData(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(data, "PG_VERSION")); err != nil {
		t.Fatalf("pgdata %s holds no cluster: %v", data, err)
	}
	// As root the server runs as the postgres user, who cannot enter the
	// folder: its data must be elsewhere. Any other user runs it himself.
	if inside := strings.HasPrefix(data, home+"/"); inside == (os.Geteuid() == 0) {
		t.Errorf("pgdata %s: inside the private folder %t, running as uid %d", data, inside, os.Geteuid())
	}

	// The chaos run's fault: a hard stop, then up again.
	if err := s.KillPostgres(ctx); err != nil {
		t.Fatal(err)
	}
	ping(t, s, false)
	if err := s.Up(ctx, "postgres"); err != nil {
		t.Fatalf("up after a hard stop: %v", err)
	}
	ping(t, s, true)

	if err := s.Down(ctx); err != nil {
		t.Fatal(err)
	}
	ping(t, s, false)
	if err := s.Wipe(ctx); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(data); !os.IsNotExist(err) {
		t.Errorf("after wipe, %s is still there (%v)", data, err)
	}
}

// testStack gives s free ports and a log, and wipes it at cleanup; when
// the test fails, it shows what the script said.
func testStack(t *testing.T, s *Stack) *Stack {
	t.Helper()
	log := &lockedBuffer{}
	s.Log = log
	var err error
	if s.Ports, err = FreePorts(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := s.Wipe(context.Background()); err != nil {
			t.Errorf("wipe: %v", err)
		}
		if t.Failed() {
			t.Logf("scripts/stack.sh said:\n%s", log.String())
		}
	})
	return s
}

// lockedBuffer is a log that the script's output and a Temporal client's
// pollers write to at once, and the test reads.
type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// ping checks whether the stack's Postgres answers a query.
func ping(t *testing.T, s *Stack, up bool) {
	t.Helper()
	if !up {
		c, err := net.DialTimeout("tcp", "127.0.0.1:"+strconv.Itoa(s.Ports.Postgres), time.Second)
		if err == nil {
			c.Close()
			t.Fatalf("Postgres still listens on %d", s.Ports.Postgres)
		}
		return
	}
	db, err := sql.Open("postgres", s.DatabaseURL())
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	var one int
	if err := db.QueryRowContext(t.Context(), "SELECT 1").Scan(&one); err != nil {
		t.Fatalf("Postgres does not answer at %s: %v", s.DatabaseURL(), err)
	}
}

// Tail keeps a short text whole and marks a cut one.
func TestTail(t *testing.T) {
	if got := Tail("short", 10); got != "short" {
		t.Errorf("Tail(short) = %q", got)
	}
	if got := Tail("0123456789", 4); got != "...6789" {
		t.Errorf("Tail cut = %q, want ...6789", got)
	}
}

// TestStateIn: a relative state folder is under the repository's root, an
// absolute one stays where it is.
func TestStateIn(t *testing.T) {
	root, rel, err := StateIn(".local/bench")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(root, "go.mod")); err != nil {
		t.Fatalf("root %s holds no go.mod: %v", root, err)
	}
	if rel != filepath.Join(root, ".local", "bench") {
		t.Errorf("relative state: %s", rel)
	}
	if _, abs, _ := StateIn("/var/tmp/x"); abs != "/var/tmp/x" {
		t.Errorf("absolute state: %s", abs)
	}
}
