package workflows

import (
	"net/url"
	"os"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
	enumspb "go.temporal.io/api/enums/v1"
	"go.temporal.io/sdk/temporal"

	"github.com/cloudpartners/onboarding/internal/domain"
)

// TestStackRegistersTheSearchAttributes keeps scripts/stack.sh, which
// registers the attributes at start, in step with this package's list: an
// unregistered attribute makes every workflow task fail.
func TestStackRegistersTheSearchAttributes(t *testing.T) {
	script, err := os.ReadFile("../scripts/stack.sh")
	require.NoError(t, err)
	types := map[enumspb.IndexedValueType]string{enumspb.INDEXED_VALUE_TYPE_KEYWORD: "Keyword", enumspb.INDEXED_VALUE_TYPE_DATETIME: "Datetime"}
	for _, k := range append(append([]temporal.SearchAttributeKey{}, SearchAttributes...), CustomerSearchAttributes...) {
		want := k.GetName() + "=" + types[k.GetValueType()]
		require.True(t, strings.Contains(string(script), want), "scripts/stack.sh does not register %s", want)
	}
}

// TestWorkflowIDKeepsReleasedIDs pins ids onboardings in flight are found by.
func TestWorkflowIDKeepsReleasedIDs(t *testing.T) {
	for name, want := range map[string]string{
		"Acme Corp":      "onboarding/p1/acme corp",
		"  ACME \t Corp": "onboarding/p1/acme corp",
		"Société 100%":   "onboarding/p1/soci%C3%A9t%C3%A9 100%25",
		"東京":             "onboarding/p1/%E6%9D%B1%E4%BA%AC",
		// The longest ids every server stores: exactly MaxIDLength bytes.
		strings.Repeat("é", 40) + "a": "onboarding/p1/" + strings.Repeat("%C3%A9", 40) + "a",
		strings.Repeat("x", 241):      "onboarding/p1/" + strings.Repeat("x", 241),
	} {
		require.Equal(t, want, WorkflowID("p1", name), name)
		require.LessOrEqual(t, len(want), MaxIDLength)
	}
}

// TestWorkflowIDOfLongNames: every name the validation accepts gets an id
// the server takes, readable and unique.
func TestWorkflowIDOfLongNames(t *testing.T) {
	long := []string{
		strings.Repeat("東", 109) + " repro",
		strings.Repeat("é", 170),
		strings.Repeat("é", 169),
		strings.Repeat("東", 200),
		strings.Repeat("東", 199) + "x",
		strings.Repeat("東", 100) + strings.Repeat("%", 100),
		strings.Repeat("é", 165) + "abc",
	}
	seen := map[string]string{}
	for _, name := range long {
		require.NoError(t, domain.ValidateName(name))
		id := WorkflowID("partner-with-a-rather-long-id-0123456789-0123456789-0123456789", name)
		require.LessOrEqual(t, len(id), MaxIDLength, name)
		require.Regexp(t, `~[0-9a-f]{32}$`, id)
		require.True(t, strings.HasPrefix(id, "onboarding/partner-with-a-rather-long-id-0123456789-0123456789-0123456789/"))
		// Cut on an escape's boundary: what remains of the name decodes.
		escaped := strings.TrimSuffix(strings.SplitN(id, "/", 3)[2], id[len(id)-33:])
		_, err := url.PathUnescape(escaped)
		require.NoError(t, err, id)
		for i := 0; i < len(id); i++ {
			require.True(t, id[i] >= 0x20 && id[i] <= 0x7e, "byte %d of %q is not printable ASCII", i, id)
		}
		require.NotContains(t, seen, id, "%q and %q share an id", name, seen[id])
		seen[id] = name
		require.Equal(t, id, WorkflowID("partner-with-a-rather-long-id-0123456789-0123456789-0123456789", strings.ToUpper(name)), "the same customer, the same id")
	}
}

func FuzzWorkflowID(f *testing.F) {
	f.Add("p1", "Acme")
	f.Add("p1", strings.Repeat("東", 150))
	f.Fuzz(func(t *testing.T, partner, name string) {
		if domain.ValidatePartnerID(partner) != nil || domain.ValidateName(name) != nil {
			return
		}
		id := WorkflowID(partner, name)
		if len(id) > MaxIDLength {
			t.Fatalf("id of %d bytes", len(id))
		}
	})
}
