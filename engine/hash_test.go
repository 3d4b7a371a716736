package engine

import (
	"testing"

	"github.com/stretchr/testify/require"
)

// snapAs gives the snapshot of its view: the known one when the view is
// the one it was made of (no marshal), a fresh one otherwise, never the
// known one of another view.
func TestSnapAs(t *testing.T) {
	t.Parallel()
	base := documentView{Kind: "order", Number: "1", Lines: []lineView{{Description: "a", Quantity: "1"}}}
	changed := base
	changed.Lines = []lineView{{Description: "b", Quantity: "1"}}
	known := snap(base)
	for _, tc := range []struct {
		name  string
		view  documentView
		known snapshot
	}{
		{"same view", documentView{Kind: "order", Number: "1", Lines: []lineView{{Description: "a", Quantity: "1"}}}, known},
		{"changed line", changed, known},
		{"known without its view", base, snapshot{js: known.js, hash: known.hash}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := snapAs(tc.view, tc.known)
			want := snap(tc.view)
			require.Equal(t, want.hash, got.hash)
			require.Equal(t, want.js, got.js)
		})
	}
}
