package main

import (
	"bytes"
	"crypto/hmac"
	"crypto/sha1"
	"encoding/base64"
	"encoding/json"
	"net/http"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/mksync/mksync/metakocka/mkfake"
)

// A signed stock webhook posted to a running serve is verified, queued as a
// job and applied: the product's stock per warehouse and its total in the
// CRM become Metakocka's, without re-reading the product (0 product_list
// calls). A replay of the same event is refused.
func TestServeStockWebhookUpdatesStock(t *testing.T) {
	st := serveTenant(t, "78", 5)
	base, token, fake, stop, mkURL := st.base, st.token, st.fake, st.stop, st.mkURL

	const whSecret = "webhook-secret-for-the-test-0123456789"
	resp, creds := send(t, "PUT", base+"/api/integrations/metakocka/credentials", token,
		map[string]any{"companyId": "78", "metakockaUrl": mkURL, "webhookSecret": whSecret})
	require.Equal(t, http.StatusOK, resp.StatusCode, "%v", creds)
	webhookID, _ := creds["webhookId"].(string)
	require.NotEmpty(t, webhookID)

	resp, p := post(t, base+"/api/products", token, map[string]any{"code": "STK-1", "name": "Stocked chair", "price": "10", "taxRate": "22", "sales": true, "unit": "kos"})
	require.Equal(t, http.StatusCreated, resp.StatusCode, "%v", p)
	resp, res := post(t, base+"/api/integrations/metakocka/products/sync-to-metakocka", token, map[string]any{"productId": p["id"]})
	require.Equal(t, http.StatusOK, resp.StatusCode, "%v", res)
	products := fake.Products("78")
	require.Len(t, products, 1)
	require.True(t, fake.SetStock("78", products[0].CountCode, "17"))

	body, err := json.Marshal(map[string]any{
		"opr_code": "0", "stock_list_count": "1",
		"stock_list": []map[string]string{{"warehouse_id": "1", "mk_id": products[0].MkID, "count_code": products[0].CountCode, "amount": "17"}},
	})
	require.NoError(t, err)
	send := func(eventID string, secret string) *http.Response {
		mac := hmac.New(sha1.New, []byte(secret))
		mac.Write(body)
		r, err := http.NewRequest("POST", base+"/webhooks/metakocka/"+webhookID+"/stock", bytes.NewReader(body))
		require.NoError(t, err)
		r.Header.Set("Content-Type", "application/json")
		r.Header.Set("X-MetaKocka-Event", "warehouse_product_stock_update")
		r.Header.Set("X-MetaKocka-Id", eventID)
		r.Header.Set("X-MetaKocka-Signature", base64.StdEncoding.EncodeToString(mac.Sum(nil)))
		resp, err := http.DefaultClient.Do(r)
		require.NoError(t, err)
		return resp
	}

	bad := send("evt-0", "not-the-secret")
	bad.Body.Close()
	require.Equal(t, http.StatusUnauthorized, bad.StatusCode, "a wrong signature is refused")

	fake.ResetStats()
	ok := send("evt-1", whSecret)
	var answer map[string]any
	require.NoError(t, json.NewDecoder(ok.Body).Decode(&answer))
	ok.Body.Close()
	require.Equal(t, http.StatusOK, ok.StatusCode, "%v", answer)
	require.Equal(t, "ok", answer["status"])

	require.Eventually(t, func() bool {
		r, err := http.NewRequest("GET", base+"/api/products/"+p["id"].(string), nil)
		require.NoError(t, err)
		r.Header.Set("Authorization", "Bearer "+token)
		resp, err := http.DefaultClient.Do(r)
		require.NoError(t, err)
		defer resp.Body.Close()
		var got map[string]any
		require.NoError(t, json.NewDecoder(resp.Body).Decode(&got))
		wh, _ := got["warehouses"].([]any)
		return got["stockAmount"] == "17" && len(wh) == 1 && wh[0].(map[string]any)["warehouseId"] == "1" && wh[0].(map[string]any)["amount"] == "17"
	}, 30*time.Second, 100*time.Millisecond, "the stock job applies Metakocka's stock")
	require.Zero(t, fake.Stats().Calls("product_list", mkfake.OutcomeOK), "applied from the payload, not re-pulled")

	replay := send("evt-1", whSecret)
	replay.Body.Close()
	require.Equal(t, http.StatusUnauthorized, replay.StatusCode, "a replayed event is refused")
	require.NoError(t, stop())
}
