package text

import (
	"testing"
	"time"
)

func TestTruncate(t *testing.T) {
	for _, tc := range []struct {
		in   string
		n    int
		want string
	}{{"short", 10, "short"}, {"exactly10!", 10, "exactly10!"}, {"a longer text", 4, "a lo..."}, {"Société", 4, "Soci..."}, {"", 3, ""}} {
		if got := Truncate(tc.in, tc.n); got != tc.want {
			t.Errorf("Truncate(%q, %d) = %q, want %q", tc.in, tc.n, got, tc.want)
		}
	}
}

func TestOneLine(t *testing.T) {
	for in, want := range map[string]string{"a": "a", "a\nb": "a; b", "a\r\nb\n\nc\n": "a; b; c", "": ""} {
		if got := OneLine(in); got != want {
			t.Errorf("OneLine(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestDash(t *testing.T) {
	if Dash("") != "-" || Dash("x") != "x" {
		t.Errorf("Dash: %q %q", Dash(""), Dash("x"))
	}
}

func TestDuration(t *testing.T) {
	for d, want := range map[time.Duration]string{168 * time.Hour: "168h", 90 * time.Second: "1m30s", time.Minute: "1m", 0: "0s",
		20 * time.Second: "20s", 1440 * time.Hour: "1440h", 100 * time.Millisecond: "100ms", 90 * time.Minute: "1h30m"} {
		if got := Duration(d); got != want {
			t.Errorf("Duration(%v) = %q, want %q", d, got, want)
		}
	}
}
