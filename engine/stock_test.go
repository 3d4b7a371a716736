package engine

import (
	"context"
	"fmt"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/mksync/mksync"
)

// A stock webhook pulls each product it names once; a payload that is not
// Metakocka's documented JSON is refused as invalid.
func TestApplyStockPullsTheNamedProducts(t *testing.T) {
	t.Parallel()
	b := setup(t, setupOpts{})
	ctx := context.Background()
	b.fake.SeedProducts(b.company, 3)
	ps := b.fake.Products(b.company)
	require.Len(t, ps, 3)
	payload := fmt.Sprintf(`{"stock_list":[{"mk_id":%q},{"mk_id":%q},{"mk_id":%q},{"mk_id":""}]}`, ps[0].MkID, ps[1].MkID, ps[0].MkID)
	require.NoError(t, b.e.ApplyStock(ctx, b.tenant, []byte(payload)))
	for i, p := range ps {
		_, err := b.store.FindMappingByMetakockaID(ctx, b.tenant, mksync.EntityProduct, p.MkID)
		if i < 2 {
			require.NoError(t, err, "product %s was named", p.MkID)
		} else {
			require.Equal(t, mksync.ENOTFOUND, mksync.ErrorCode(err), "product %s was not named", p.MkID)
		}
	}
	require.Equal(t, mksync.EINVALID, mksync.ErrorCode(b.e.ApplyStock(ctx, b.tenant, []byte(`{"stock_list":`))))
}
