package httpapi_test

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"strings"
	"sync"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/mksync/mksync"
	"github.com/mksync/mksync/httpapi"
)

// recordQueue records the pushes queued with records, and can fail.
type recordQueue struct {
	mu    sync.Mutex
	calls []string
	fail  bool
}

func (q *recordQueue) EnqueueRecordPush(_ context.Context, _ mksync.Store, tenantID string, et mksync.EntityType, id string, version int64) error {
	q.mu.Lock()
	defer q.mu.Unlock()
	if q.fail {
		return errors.New("queue unavailable")
	}
	q.calls = append(q.calls, string(et)+" "+id)
	_ = version
	return nil
}

func (q *recordQueue) Calls() []string {
	q.mu.Lock()
	defer q.mu.Unlock()
	return append([]string(nil), q.calls...)
}

func setAutoPush(t *testing.T, b *bundle, tenantID string, on bool) {
	t.Helper()
	ctx := context.Background()
	c, err := b.db.FindCredentials(ctx, tenantID)
	if err != nil {
		c = mksync.MetakockaCredentials{CompanyID: "16", SecretKey: "secret"}
	}
	c.Settings.AutoPush = on
	require.NoError(t, b.db.SetCredentials(ctx, tenantID, &c))
}

// With the tenant's AutoPush on, a record written through the API queues its
// push in the same transaction; off, nothing is queued; when queueing fails
// the write is rolled back, so no record waits for a lost push.
func TestAutoPushQueuesInTheWriteTransaction(t *testing.T) {
	t.Parallel()
	q := &recordQueue{}
	b := setup(t, setupOpts{cfg: func(c *httpapi.Config) { c.RecordQueue = q }})

	setAutoPush(t, b, b.a.ID, false)
	rec := b.do("POST", "/api/contacts", b.a.Token, `{"name":"Quiet d.o.o."}`)
	require.Equal(t, 201, rec.Code, rec.Body.String())
	require.Empty(t, q.Calls(), "AutoPush off: nothing queued")

	setAutoPush(t, b, b.a.ID, true)
	rec = b.do("POST", "/api/contacts", b.a.Token, `{"name":"Eager d.o.o."}`)
	require.Equal(t, 201, rec.Code, rec.Body.String())
	id := jsonField(t, rec, "id")
	require.Equal(t, []string{"contact " + id}, q.Calls())
	rec = b.do("PUT", "/api/contacts/"+id, b.a.Token, `{"name":"Eager d.o.o. (renamed)","version":1}`)
	require.Equal(t, 200, rec.Code, rec.Body.String())
	require.Equal(t, []string{"contact " + id, "contact " + id}, q.Calls(), "an update queues again")

	q.mu.Lock()
	q.fail = true
	q.mu.Unlock()
	rec = b.do("POST", "/api/contacts", b.a.Token, `{"name":"Lost push d.o.o."}`)
	require.Equal(t, 500, rec.Code, rec.Body.String())
	cs, _, err := b.db.FindContacts(context.Background(), b.a.ID, mksync.ListFilter{Search: "Lost push"})
	require.NoError(t, err)
	require.Empty(t, cs, "the write is rolled back with the failed queue insert")
	rec = b.do("PUT", "/api/contacts/"+id, b.a.Token, `{"name":"Renamed again","version":2}`)
	require.Equal(t, 500, rec.Code, rec.Body.String())
	c, err := b.db.FindContactByID(context.Background(), b.a.ID, id)
	require.NoError(t, err)
	require.True(t, strings.HasSuffix(c.Name, "(renamed)"), "the update is rolled back too: %q", c.Name)
}

// jsonField returns a top-level string field of a JSON answer.
func jsonField(t *testing.T, rec interface{ Result() *http.Response }, field string) string {
	t.Helper()
	var m map[string]any
	require.NoError(t, json.NewDecoder(rec.Result().Body).Decode(&m))
	v, _ := m[field].(string)
	require.NotEmpty(t, v, "answer has no %q: %v", field, m)
	return v
}
