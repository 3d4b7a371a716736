package main

import (
	"net/http"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// With AutoPush on, a contact created and then renamed through a running
// serve's API reaches Metakocka by itself (queued with the write, worked by
// the job workers), without any sync call.
func TestServeAutoPush(t *testing.T) {
	st := serveTenant(t, "92", 12)
	base, token, fake, stop, mkURL := st.base, st.token, st.fake, st.stop, st.mkURL
	resp, creds := send(t, "PUT", base+"/api/integrations/metakocka/credentials", token,
		map[string]any{"companyId": "92", "metakockaUrl": mkURL, "settings": map[string]any{"autoPush": true}})
	require.Equal(t, http.StatusOK, resp.StatusCode, "%v", creds)

	resp, c := post(t, base+"/api/contacts", token, map[string]any{"name": "Pushed by itself d.o.o."})
	require.Equal(t, http.StatusCreated, resp.StatusCode, "%v", c)
	require.Eventually(t, func() bool {
		ps := fake.Partners("92")
		return len(ps) == 1 && ps[0].Customer == "Pushed by itself d.o.o."
	}, 30*time.Second, 50*time.Millisecond, "the created contact is pushed")

	resp, renamed := send(t, "PUT", base+"/api/contacts/"+c["id"].(string), token,
		map[string]any{"name": "Renamed by itself d.o.o.", "version": 1})
	require.Equal(t, http.StatusOK, resp.StatusCode, "%v", renamed)
	require.Eventually(t, func() bool {
		ps := fake.Partners("92")
		return len(ps) == 1 && ps[0].Customer == "Renamed by itself d.o.o."
	}, 30*time.Second, 50*time.Millisecond, "the update is pushed to the same partner")
	require.NoError(t, stop())
}
