package httpapi_test

import (
	"strconv"
	"testing"

	"github.com/stretchr/testify/require"
)

// TestContactPartnerFields: the partner fields a contact carries go through
// the API; buyer left out is null ("not said"), false stays false, and a
// bad payment due days is a field error, not a half-written record.
func TestContactPartnerFields(t *testing.T) {
	t.Parallel()
	b := setup(t)
	a := b.a
	var c map[string]any
	b.decode(b.do("POST", "/api/contacts", a.Token, `{"name":"Partner d.o.o.","contactPerson":"Ana Novak","taxpayer":true,
		"paymentDueDays":30,"deliveryStreet":"Skladiščna 2","deliveryPostNumber":"2000","deliveryCity":"Maribor","deliveryCountry":"SI"}`), 201, &c)
	require.Nil(t, c["buyer"], "not said")
	require.Equal(t, "Ana Novak", c["contactPerson"])
	require.Equal(t, true, c["taxpayer"])
	require.EqualValues(t, 30, c["paymentDueDays"])
	require.Equal(t, "Skladiščna 2", c["deliveryStreet"])
	require.NotContains(t, c, "PartnerIDs", "the partner's mk_ids are not shown")

	id, version := c["id"].(string), int(c["version"].(float64))
	b.decode(b.do("PUT", "/api/contacts/"+id, a.Token, `{"name":"Partner d.o.o.","buyer":false,"version":`+strconv.Itoa(version)+`}`), 200, &c)
	require.Equal(t, false, c["buyer"])
	b.decode(b.do("GET", "/api/contacts/"+id, a.Token, ""), 200, &c)
	require.Equal(t, false, c["buyer"])
	require.EqualValues(t, 0, c["paymentDueDays"], "a PUT replaces the record")

	var e map[string]any
	b.decode(b.do("POST", "/api/contacts", a.Token, `{"name":"Slab","paymentDueDays":-1}`), 400, &e)
	require.Contains(t, e["details"], "paymentDueDays")
}
