package workflows

import (
	"os"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

// TestStackRegistersTheSearchAttributes keeps scripts/stack.sh, which
// registers the attributes at start, in step with this package's list: an
// unregistered attribute makes every workflow task fail.
func TestStackRegistersTheSearchAttributes(t *testing.T) {
	script, err := os.ReadFile("../scripts/stack.sh")
	require.NoError(t, err)
	for _, k := range SearchAttributes {
		require.True(t, strings.Contains(string(script), k.GetName()+"=Keyword"), "scripts/stack.sh does not register %s", k.GetName())
	}
}
