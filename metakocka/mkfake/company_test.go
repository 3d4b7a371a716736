package mkfake

import (
	"testing"

	"github.com/stretchr/testify/require"
)

func TestMultiIndex(t *testing.T) {
	t.Parallel()
	a, b, c := new(int), new(int), new(int)
	var none *multiIndex[int]
	require.Nil(t, none.all("k"), "a nil index reads as empty")
	require.Nil(t, none.first("k"))
	none.remove("k", a)

	ix := newMultiIndex[int]()
	ix.add("", a)
	require.Nil(t, ix.all(""), "the empty key is never indexed")

	ix.add("k", a)
	require.Equal(t, []*int{a}, ix.all("k"))
	ix.add("k", b)
	ix.add("k", c)
	require.Equal(t, []*int{a, b, c}, ix.all("k"), "insertion order")
	require.Same(t, a, ix.first("k"))

	ix.remove("k", a)
	require.Equal(t, []*int{b, c}, ix.all("k"))
	ix.remove("k", a)
	require.Equal(t, []*int{b, c}, ix.all("k"), "removing an absent record changes nothing")
	ix.remove("k", c)
	require.Equal(t, []*int{b}, ix.all("k"))
	ix.add("k", a)
	require.Equal(t, []*int{b, a}, ix.all("k"), "back to two, order kept")
	ix.remove("k", b)
	ix.remove("k", a)
	require.Nil(t, ix.all("k"))
	require.Nil(t, ix.first("k"))
	require.Empty(t, ix.one)
	require.Empty(t, ix.more)
}
