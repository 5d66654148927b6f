package main

import (
	"bytes"
	"errors"
	"io"
	"strings"
	"testing"
	"time"

	"github.com/cloudpartners/onboarding/internal/domain"
	"github.com/cloudpartners/onboarding/internal/text"
)

func mustHeader(tb testing.TB, line string) header {
	tb.Helper()
	h, err := parseHeader([]byte(line))
	if err != nil {
		tb.Fatal(err)
	}
	return h
}

func TestParseHeader(t *testing.T) {
	for _, tc := range []struct {
		line    string
		wantErr string
	}{
		{"name,email,cloud", ""},
		{" Email , NAME,cloud,contact,confirm_within", ""},
		{"name,email", `missing column "cloud"`},
		{"name,email,cloud,phone", `unknown column "phone"`},
		{"name,email,cloud,name", `column "name" appears twice`},
		{"name,\"email", "not valid CSV"},
		{"name,email,cloud\xff", "not valid UTF-8"},
	} {
		t.Run(tc.line, func(t *testing.T) {
			_, err := parseHeader([]byte(tc.line))
			if tc.wantErr == "" && err != nil {
				t.Fatalf("err = %v, want none", err)
			}
			if tc.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tc.wantErr)) {
				t.Fatalf("err = %v, want one containing %q", err, tc.wantErr)
			}
		})
	}
}

func TestParseRow(t *testing.T) {
	h := mustHeader(t, "name,email,cloud,contact,confirm_within")
	for _, tc := range []struct {
		name    string
		line    string
		want    customerRow
		wantErr string
	}{
		{"plain", "Acme Corp,it@acme.example,acme-main,Jane Doe,", customerRow{Name: "Acme Corp", Email: "it@acme.example", Cloud: "acme-main", Contact: "Jane Doe"}, ""},
		{"quoted and trimmed", `  "Acme, Inc.", it@acme.example ,acme-main,"Jane ""JD"" Doe",48h`,
			customerRow{Name: "Acme, Inc.", Email: "it@acme.example", Cloud: "acme-main", Contact: `Jane "JD" Doe`, ConfirmWithin: 48 * time.Hour}, ""},
		{"unicode name", "Société Générale,a@b.example,sg-cloud,,", customerRow{Name: "Société Générale", Email: "a@b.example", Cloud: "sg-cloud"}, ""},
		{"empty fields", ",,,,", customerRow{}, "name: missing"},
		{"missing email", "Acme,,acme-main,,", customerRow{}, "email: missing"},
		{"invalid email", "Acme,not-an-email,acme-main,,", customerRow{}, "not a valid email"},
		{"display-name email", "Acme,Bob <bob@x.example>,acme-main,,", customerRow{}, "not a valid email"},
		{"bad cloud", "Acme,a@b.example,Acme Main,,", customerRow{}, "not a valid cloud name"},
		{"too few fields", "Acme,a@b.example,acme-main", customerRow{}, "has 3 fields, the header has 5"},
		{"too many fields", "Acme,a@b.example,acme-main,,,x", customerRow{}, "has 6 fields"},
		{"formula =", "=cmd()|' /C calc'!A0,a@b.example,acme-main,,", customerRow{}, "run as a formula"},
		{"formula +", "+1+1,a@b.example,acme-main,,", customerRow{}, "run as a formula"},
		{"formula -", "-2+3,a@b.example,acme-main,,", customerRow{}, "run as a formula"},
		{"formula @", "@SUM(A1),a@b.example,acme-main,,", customerRow{}, "run as a formula"},
		{"formula quoted after spaces", `  "=HYPERLINK(""http://x"")",a@b.example,acme-main,,`, customerRow{}, "run as a formula"},
		{"formula in email", "Acme,=1+a@b.example,acme-main,,", customerRow{}, "run as a formula"},
		{"formula in contact", "Acme,a@b.example,acme-main,@evil,", customerRow{}, "contact"},
		{"invalid utf-8", "Acme\xff\xfe,a@b.example,acme-main,,", customerRow{}, "not valid UTF-8"},
		{"latin-1", "Soci\xe9t\xe9,a@b.example,acme-main,,", customerRow{}, "not valid UTF-8"},
		{"nul byte", "Ac\x00me,a@b.example,acme-main,,", customerRow{}, "NUL"},
		{"control character", "Ac\x07me,a@b.example,acme-main,,", customerRow{}, "control characters"},
		{"bad quote", `Ac"me,a@b.example,acme-main,,`, customerRow{}, "not valid CSV"},
		{"unterminated quote", `"Acme,a@b.example,acme-main,,`, customerRow{}, "not valid CSV"},
		{"name too long", strings.Repeat("x", 201) + ",a@b.example,acme-main,,", customerRow{}, "the limit is 200"},
		{"bad duration", "Acme,a@b.example,acme-main,,7 days", customerRow{}, "confirm_within"},
		{"duration too short", "Acme,a@b.example,acme-main,,10ms", customerRow{}, "confirm_within"},
		{"duration too long", "Acme,a@b.example,acme-main,,100000h", customerRow{}, "confirm_within"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := parseRow(h, []byte(tc.line))
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("err = %v, want one containing %q", err, tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatalf("err = %v", err)
			}
			if got != tc.want {
				t.Fatalf("got %+v, want %+v", got, tc.want)
			}
		})
	}
}

func TestLineReader(t *testing.T) {
	huge := strings.Repeat("x", 10<<20)
	in := "\uFEFFname,email,cloud\r\nA,a@b.example,c-1\r\n" + huge + ",a@b.example,c-2\nlast,l@b.example,c-3"
	lr := newLineReader(strings.NewReader(in))
	var got []string
	for {
		line, err := lr.next()
		if err == io.EOF {
			break
		}
		if errors.Is(err, errLineTooLong) {
			got = append(got, "TOO LONG")
			continue
		}
		if err != nil {
			t.Fatal(err)
		}
		got = append(got, string(line))
	}
	want := []string{"name,email,cloud", "A,a@b.example,c-1", "TOO LONG", "last,l@b.example,c-3"}
	if strings.Join(got, "|") != strings.Join(want, "|") {
		t.Fatalf("lines = %q, want %q", got, want)
	}
	if lr.line != 4 {
		t.Fatalf("line number = %d, want 4", lr.line)
	}
}

// FuzzCSVRow feeds arbitrary lines to the row parser: it never panics, and
// what it accepts is always a valid customer that no spreadsheet would run
// as a formula.
func FuzzCSVRow(f *testing.F) {
	for _, seed := range []string{
		"Acme Corp,it@acme.example,acme-main,Jane Doe,",
		`"Acme, Inc.",it@acme.example,acme-main,"Jane ""JD"" Doe",48h`,
		",,,,",
		"=cmd()|' /C calc'!A0,a@b.example,acme-main,,",
		"+1,a@b.example,acme-main,,",
		"-1,a@b.example,acme-main,,",
		"@SUM(1),a@b.example,acme-main,,",
		" =1,a@b.example,acme-main,,",
		"\t=1,a@b.example,acme-main,,",
		"Acme,\"a@b.example\",acme-main,,1s",
		"Acme,a@b,acme-main,,",
		"Acme,a b@c.example,acme-main,,",
		"Acme,a@b.example\n,acme-main,,",
		"Soci\xe9t\xe9,a@b.example,acme-main,,",
		"\"Acme\nCorp\",a@b.example,acme-main,,",
		"Acme,a@b.example,acme-main,,-5h",
		"Acme,\"Bob\" <a@b.example>,acme-main,,",
		"\u202eAcme,a@b.example,acme-main,,",
	} {
		f.Add([]byte(seed))
	}
	h := mustHeader(f, "name,email,cloud,contact,confirm_within")
	f.Fuzz(func(t *testing.T, line []byte) {
		r, err := parseRow(h, line)
		if err != nil {
			if strings.Contains(err.Error(), "\n") && !strings.Contains(text.OneLine(err.Error()), "; ") {
				t.Fatalf("error %q does not fold onto one line", err)
			}
			return
		}
		if err := domain.Validate(r.Name, r.Email, r.Cloud, r.Contact); err != nil {
			t.Fatalf("accepted an invalid customer %+v: %v", r, err)
		}
		if err := domain.ValidateEmail(r.Email); err != nil {
			t.Fatalf("accepted an invalid email %q", r.Email)
		}
		for _, v := range []string{r.Name, r.Email, r.Contact} {
			if v != "" && strings.ContainsAny(v[:1], "=+-@\t\r") {
				t.Fatalf("accepted %q, which starts like a formula", v)
			}
		}
		if r.Name != strings.TrimSpace(r.Name) {
			t.Fatalf("accepted a name with surrounding space %q", r.Name)
		}
		if r.ConfirmWithin != 0 && (r.ConfirmWithin < time.Second || r.ConfirmWithin > domain.MaxConfirmWithin) {
			t.Fatalf("accepted confirm_within %s", r.ConfirmWithin)
		}
		if bytes.ContainsAny([]byte(r.Name+r.Email+r.Contact+r.Cloud), "\r\n\x00") {
			t.Fatalf("accepted a line break or NUL in %+v", r)
		}
	})
}
