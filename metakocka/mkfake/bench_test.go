package mkfake_test

import (
	"fmt"
	"testing"

	"github.com/mksync/mksync/metakocka/mkfake"
)

// BenchmarkProductAdd measures product_add over HTTP into a company that
// already holds 100,000 products.
func BenchmarkProductAdd(b *testing.B) {
	t := b
	bb := setup(t)
	bb.srv.SeedProducts(company, 100_000)
	b.ResetTimer()
	for i := 0; b.Loop(); i++ {
		status, out := bb.post(t, "product_add", req("code", fmt.Sprint("B", i), "name", "B", "unit", "kos"))
		if status != 200 || out["opr_code"] != "0" {
			b.Fatalf("product_add: %d %v", status, out)
		}
	}
}

// BenchmarkProductListWindow pages through 100,000 products, 1000 at a time.
func BenchmarkProductListWindow(b *testing.B) {
	t := b
	bb := setup(t)
	bb.srv.SeedProducts(company, 100_000)
	b.ResetTimer()
	for i := 0; b.Loop(); i++ {
		status, out := bb.post(t, "product_list", req("offset", (i%100)*1000, "sales", "true"))
		if status != 200 || out["product_list_count"] != "1000" {
			b.Fatalf("product_list: %d %v", status, out["opr_desc"])
		}
	}
}

// BenchmarkSeedProducts measures bulk seeding.
func BenchmarkSeedProducts(b *testing.B) {
	for b.Loop() {
		srv := mkfake.New(mkfake.Options{})
		srv.AddCompany(company, secret)
		srv.SeedProducts(company, 100_000)
	}
}
