// Command codecserver is the codec server: the endpoint the Temporal Web UI
// and the temporal CLI call to decode payloads (and encode them, for the
// UI's signal and start forms) with the project's keys, for authenticated
// operators only. Without the operator credential, histories show
// ciphertext.
//
// Operators authenticate with a bearer token (the CLI:
// --codec-auth "Bearer TOKEN"), or, for the Web UI, sign in once on this
// server's own page, which sets a cookie the UI's requests carry
// (the UI's codec setting "include cross-origin credentials").
package main

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/hex"
	"html/template"
	"io"
	"log/slog"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"

	"go.temporal.io/sdk/converter"

	"github.com/cloudpartners/onboarding/internal/codec"
	"github.com/cloudpartners/onboarding/internal/config"
	"github.com/cloudpartners/onboarding/internal/daemon"
	"github.com/cloudpartners/onboarding/internal/httpserver"
	"github.com/cloudpartners/onboarding/internal/telemetry"
)

func main() { daemon.Main("codecserver", run) }

// Defaults of the codec server's own settings.
const (
	defaultAddr = "127.0.0.1:8089"
	// devToken is the operators' credential outside production when
	// CODEC_TOKEN is unset.
	devToken        = "dev-codec-token-change-me"
	sessionLifetime = 12 * time.Hour
	maxBody         = 4 << 20 // a history's payloads, decoded a page at a time
	summary         = "Decodes (and encodes) payloads for the Temporal Web UI and CLI with the project's keys, for operators only."
)

// settings are the codec server's: the payload keys, and who may use them.
type settings struct {
	log     config.Log
	codec   *codec.Codec
	tracing config.Tracing
	addr    string
	token   string
	origins []string
	secure  bool
}

// loadSettings reads the codec server's settings; vars lists them for -h.
func loadSettings(getenv config.Getenv) (settings, *config.Vars) {
	v := config.New(getenv)
	s := settings{log: config.LoadLog(v), codec: config.LoadCodec(v), tracing: config.LoadTracing(v), secure: v.Production,
		addr: v.Addr("CODEC_ADDR", defaultAddr, "where the codec server listens"),
		token: v.Secret("CODEC_TOKEN", devToken, 16, "the operators' credential: a bearer token, or signed in on its page",
			"at least 16 random characters (generate with: openssl rand -hex 32)"),
	}
	for o := range strings.SplitSeq(v.String("CODEC_ALLOWED_ORIGINS", "http://127.0.0.1:8233,http://localhost:8233",
		"the Web UI's origins, comma-separated, allowed to call the codec with credentials"), ",") {
		if o = strings.TrimSpace(o); o != "" {
			s.origins = append(s.origins, strings.TrimRight(o, "/"))
		}
	}
	return s, v
}

// run wires settings → keys → HTTP server and serves until ctx is done.
func run(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	set, vars := loadSettings(getenv)
	if done, err := vars.Help(args, stdout, "codecserver", summary); done {
		return err
	}
	if err := vars.Err(); err != nil {
		return err
	}
	logger := set.log.Logger(stderr, "codecserver")
	tracing, err := telemetry.Start(ctx, set.tracing, "codecserver", logger)
	if err != nil {
		return err
	}
	defer tracing.Close(ctx)
	// It needs nothing but its keys: ready while it runs, not while it drains.
	health := daemon.NewHealth(logger)
	s := &server{codec: converter.NewPayloadCodecHTTPHandler(set.codec), token: set.token, origins: set.origins,
		secure: set.secure, now: time.Now, logger: logger, health: health}
	ln, err := daemon.Listen("CODEC_ADDR", set.addr)
	if err != nil {
		return err
	}
	logger.Info("codec server listening", "addr", ln.Addr().String(), "allowed_origins", set.origins, "primary_key", set.codec.Primary())
	return daemon.Serve(ctx, daemon.NewServer(tracing.HTTP(s.routes()), logger), ln, health, 0, logger)
}

// server decodes and encodes payloads for operators.
type server struct {
	codec   http.Handler // the SDK's remote codec protocol: POST /encode, POST /decode
	token   string
	origins []string
	secure  bool
	now     func() time.Time
	logger  *slog.Logger
	health  *daemon.Health // /healthz and /readyz
}

func (s *server) routes() http.Handler {
	mux := http.NewServeMux()
	s.health.Routes(mux)
	mux.HandleFunc("GET /{$}", s.loginPage)
	mux.HandleFunc("POST /login", s.login)
	mux.HandleFunc("POST /logout", s.logout)
	mux.Handle("POST /decode", s.operator(s.codec))
	mux.Handle("POST /encode", s.operator(s.codec))
	mux.HandleFunc("OPTIONS /{path...}", s.preflight)
	return httpserver.LogRequests(s.logger, s.cors(mux), "/healthz", "/readyz")
}

// cors lets the Web UI's origins call the codec with credentials; other
// origins get no CORS headers, so browsers keep their pages out.
func (s *server) cors(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if o := r.Header.Get("Origin"); o != "" && slices.Contains(s.origins, o) {
			h := w.Header()
			h.Set("Access-Control-Allow-Origin", o)
			h.Set("Access-Control-Allow-Credentials", "true")
			h.Set("Vary", "Origin")
		}
		next.ServeHTTP(w, r)
	})
}

func (s *server) preflight(w http.ResponseWriter, r *http.Request) {
	if o := r.Header.Get("Origin"); o == "" || !slices.Contains(s.origins, o) {
		http.Error(w, "origin not allowed", http.StatusForbidden)
		return
	}
	h := w.Header()
	h.Set("Access-Control-Allow-Methods", "POST, OPTIONS")
	h.Set("Access-Control-Allow-Headers", "Content-Type, X-Namespace, Authorization")
	h.Set("Access-Control-Max-Age", "600")
	w.WriteHeader(http.StatusNoContent)
}

// operator lets through a request with the operators' token — as a bearer
// token, or as the session cookie the login page set.
func (s *server) operator(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !s.authenticated(r) {
			w.Header().Set("WWW-Authenticate", `Bearer realm="codec"`)
			http.Error(w, "operators only: send Authorization: Bearer <token>, or sign in at this server's / page", http.StatusUnauthorized)
			return
		}
		r.Body = http.MaxBytesReader(w, r.Body, maxBody)
		next.ServeHTTP(w, r)
	})
}

func (s *server) authenticated(r *http.Request) bool {
	if tok, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer "); ok {
		return subtle.ConstantTimeCompare([]byte(strings.TrimSpace(tok)), []byte(s.token)) == 1
	}
	c, err := r.Cookie(cookieName)
	return err == nil && s.validSession(c.Value)
}

const cookieName = "codec_session"

// session is a cookie value that expires: "unix-seconds.hmac", signed with
// a key derived from the token, so that changing the token ends every
// session.
func (s *server) session(expires time.Time) string {
	exp := strconv.FormatInt(expires.Unix(), 10)
	return exp + "." + s.mac(exp)
}

func (s *server) mac(msg string) string {
	m := hmac.New(sha256.New, []byte("codec session\x00"+s.token))
	m.Write([]byte(msg))
	return hex.EncodeToString(m.Sum(nil))
}

func (s *server) validSession(v string) bool {
	exp, sig, ok := strings.Cut(v, ".")
	if !ok {
		return false
	}
	unix, err := strconv.ParseInt(exp, 10, 64)
	if err != nil || !s.now().Before(time.Unix(unix, 0)) {
		return false
	}
	return hmac.Equal([]byte(sig), []byte(s.mac(exp)))
}

var page = template.Must(template.New("login").Parse(`<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Codec server</title>
<style>body{font:15px/1.5 system-ui,sans-serif;max-width:36rem;margin:3rem auto;padding:0 1rem}input{font:inherit;padding:.4rem;width:100%}button{font:inherit;margin-top:.75rem;padding:.4rem 1rem}</style>
</head><body>
<h1>Codec server</h1>
{{if .In}}<p>You are signed in: the Temporal Web UI can show decoded payloads (its codec setting
“include cross-origin credentials” must be on) until {{.Until}}.</p>
<form method="post" action="/logout"><button>Sign out</button></form>
{{else}}<p>Operators sign in here so that the Temporal Web UI can decode the onboardings' payloads.</p>
{{if .Failed}}<p role="alert"><strong>That is not the operators' token.</strong></p>{{end}}
<form method="post" action="/login"><label for="token">Operator token</label>
<input type="password" id="token" name="token" autocomplete="off" autofocus required><button>Sign in</button></form>{{end}}
</body></html>`))

func (s *server) loginPage(w http.ResponseWriter, r *http.Request) {
	s.render(w, http.StatusOK, s.authenticated(r), false)
}

func (s *server) render(w http.ResponseWriter, status int, in, failed bool) {
	h := w.Header()
	h.Set("Content-Type", "text/html; charset=utf-8")
	h.Set("Cache-Control", "no-store")
	h.Set("Content-Security-Policy", "default-src 'none'; style-src 'unsafe-inline'; form-action 'self'; frame-ancestors 'none'")
	w.WriteHeader(status)
	_ = page.Execute(w, map[string]any{"In": in, "Failed": failed, "Until": s.now().Add(sessionLifetime).UTC().Format(time.RFC1123)})
}

// login checks the token and sets the session cookie. The form posts only
// to this origin (same-site, Lax), and the token itself is the proof.
func (s *server) login(w http.ResponseWriter, r *http.Request) {
	r.Body = http.MaxBytesReader(w, r.Body, 4<<10)
	if err := r.ParseForm(); err != nil || subtle.ConstantTimeCompare([]byte(r.PostForm.Get("token")), []byte(s.token)) != 1 {
		s.logger.Info("codec sign-in refused", "client", httpserver.ClientAddr(r))
		s.render(w, http.StatusUnauthorized, false, true)
		return
	}
	exp := s.now().Add(sessionLifetime)
	http.SetCookie(w, &http.Cookie{Name: cookieName, Value: s.session(exp), Path: "/", Expires: exp, HttpOnly: true,
		Secure: s.secure, SameSite: s.sameSite()})
	s.logger.Info("operator signed in to the codec server", "client", httpserver.ClientAddr(r))
	http.Redirect(w, r, "/", http.StatusSeeOther)
}

func (s *server) logout(w http.ResponseWriter, r *http.Request) {
	http.SetCookie(w, &http.Cookie{Name: cookieName, Value: "", Path: "/", MaxAge: -1, HttpOnly: true, Secure: s.secure, SameSite: s.sameSite()})
	http.Redirect(w, r, "/", http.StatusSeeOther)
}

// sameSite: the Web UI and this server share a site locally (one host), so
// Lax reaches the UI's requests; in production they may be on different
// sites, and the cookie must be SameSite=None (which needs Secure).
func (s *server) sameSite() http.SameSite {
	if s.secure {
		return http.SameSiteNoneMode
	}
	return http.SameSiteLaxMode
}
