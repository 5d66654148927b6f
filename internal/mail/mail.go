// Package mail renders and sends the confirmation email over SMTP as a
// MIME message with text and HTML parts.
package mail

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"html/template"
	"net"
	netmail "net/mail"
	"strconv"
	texttemplate "text/template"
	"time"

	gomail "github.com/wneessen/go-mail"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	semconv "go.opentelemetry.io/otel/semconv/v1.43.0"
	"go.opentelemetry.io/otel/trace"
	"go.opentelemetry.io/otel/trace/noop"

	"github.com/cloudpartners/onboarding/internal/domain"
)

// ErrRejected means the mail server refused the message for good (say, an
// address it does not know); retrying will not help.
var ErrRejected = domain.New(domain.Invalid, "EmailRejected", "the mail server rejected the message permanently")

// Confirmation is what the confirmation email says.
type Confirmation struct {
	MessageID    string // without angle brackets; decided before sending so a repeat carries the same id
	To           string
	Brand        string
	PartnerName  string
	CustomerName string
	Link         string
	Deadline     time.Time
}

// Subject is the subject line of the confirmation email.
func Subject(brand string) string {
	return "Confirm that you are ready to work with the integrator in " + brand
}

// Mailer sends over SMTP.
type Mailer struct {
	from     string
	host     string
	port     int
	username string
	password string
	tls      bool
	tracer   trace.Tracer
}

// Options configure a Mailer.
type Options struct {
	Addr     string // host:port
	From     string
	Username string
	Password string
	TLS      bool // require STARTTLS
	// Tracing, when set, gives every send a span: the relay's address, the
	// Message-ID (no personal data); never the recipient, the names or the
	// link.
	Tracing trace.TracerProvider
}

// New returns a mailer for one SMTP relay.
func New(o Options) (*Mailer, error) {
	host, p, err := net.SplitHostPort(o.Addr)
	if err != nil {
		return nil, fmt.Errorf("mailer: SMTP address: %w", err)
	}
	port, err := strconv.Atoi(p)
	if err != nil {
		return nil, fmt.Errorf("mailer: SMTP port: %w", err)
	}
	if _, err := netmail.ParseAddress(o.From); err != nil {
		return nil, fmt.Errorf("mailer: from address: %w", err)
	}
	tp := o.Tracing
	if tp == nil {
		tp = noop.NewTracerProvider()
	}
	return &Mailer{from: o.From, host: host, port: port, username: o.Username, password: o.Password, tls: o.TLS,
		tracer: tp.Tracer("github.com/cloudpartners/onboarding/internal/mail")}, nil
}

// Build renders the message without sending it.
func (m *Mailer) Build(c Confirmation) (*gomail.Msg, error) {
	msg := gomail.NewMsg()
	if err := msg.From(m.from); err != nil {
		return nil, fmt.Errorf("from: %w", err)
	}
	if err := msg.To(c.To); err != nil {
		return nil, fmt.Errorf("%w: recipient: %v", ErrRejected, err)
	}
	msg.Subject(Subject(c.Brand))
	msg.SetMessageIDWithValue(c.MessageID)
	msg.SetDate()
	var text, html bytes.Buffer
	if err := textBody.Execute(&text, c); err != nil {
		return nil, fmt.Errorf("render text: %w", err)
	}
	if err := htmlBody.Execute(&html, c); err != nil {
		return nil, fmt.Errorf("render html: %w", err)
	}
	msg.SetBodyString(gomail.TypeTextPlain, text.String())
	msg.AddAlternativeString(gomail.TypeTextHTML, html.String())
	return msg, nil
}

// Send delivers one confirmation email. A permanent refusal is reported as
// ErrRejected; anything else may succeed on retry.
func (m *Mailer) Send(ctx context.Context, c Confirmation) (err error) {
	ctx, span := m.tracer.Start(ctx, "smtp send", trace.WithSpanKind(trace.SpanKindClient), trace.WithAttributes(
		semconv.ServerAddress(m.host), semconv.ServerPort(m.port), attribute.Bool("smtp.starttls", m.tls),
		attribute.String("smtp.message_id", c.MessageID)))
	defer func() {
		if err != nil {
			// Only the kind: a relay's refusal may quote the address.
			kind := "failed"
			if errors.Is(err, ErrRejected) {
				kind = "rejected"
			}
			span.SetAttributes(semconv.ErrorTypeKey.String(kind))
			span.SetStatus(codes.Error, kind)
		}
		span.End()
	}()
	msg, err := m.Build(c)
	if err != nil {
		return err
	}
	opts := []gomail.Option{gomail.WithPort(m.port), gomail.WithTimeout(20 * time.Second), gomail.WithTLSPolicy(gomail.NoTLS)}
	if m.tls {
		opts = append(opts, gomail.WithTLSPolicy(gomail.TLSMandatory))
	}
	if m.username != "" {
		opts = append(opts, gomail.WithSMTPAuth(gomail.SMTPAuthAutoDiscover), gomail.WithUsername(m.username), gomail.WithPassword(m.password))
	}
	client, err := gomail.NewClient(m.host, opts...)
	if err != nil {
		return fmt.Errorf("smtp client: %w", err)
	}
	if err := client.DialAndSendWithContext(ctx, msg); err != nil {
		var se *gomail.SendError
		if errors.As(err, &se) && !se.IsTemp() && se.ErrorCode() >= 500 {
			return fmt.Errorf("%w: %v", ErrRejected, err)
		}
		return fmt.Errorf("send email: %w", err)
	}
	return nil
}

var funcs = map[string]any{
	"date": func(t time.Time) string { return t.UTC().Format("Monday, 2 January 2006 at 15:04 MST") },
}

var textBody = texttemplate.Must(texttemplate.New("text").Funcs(funcs).Parse(`Hello {{.CustomerName}},

{{.PartnerName}} has added you as a customer in {{.Brand}}. Please confirm that
you are ready to work with them:

{{.Link}}

The link works until {{date .Deadline}}. If you do not confirm by then, the
account prepared for you is deleted. If you did not expect this email, ignore it.

— {{.Brand}}
`))

var htmlBody = template.Must(template.New("html").Funcs(funcs).Parse(`<!doctype html>
<html><body style="font-family: sans-serif; line-height: 1.5">
<p>Hello {{.CustomerName}},</p>
<p><strong>{{.PartnerName}}</strong> has added you as a customer in {{.Brand}}.
Please confirm that you are ready to work with them.</p>
<p><a href="{{.Link}}" style="display:inline-block;padding:10px 18px;background:#1b5fd9;color:#fff;text-decoration:none;border-radius:4px">Confirm</a></p>
<p>Or open this link: <a href="{{.Link}}">{{.Link}}</a></p>
<p>The link works until {{date .Deadline}}. If you do not confirm by then, the account prepared for you is deleted.
If you did not expect this email, ignore it.</p>
<p>— {{.Brand}}</p>
</body></html>
`))
