package sqlite

import (
	"context"
	"time"

	"github.com/mksync/mksync"
)

// RecordWebhookEvent implements mksync.WebhookEventStore: it forgets the
// tenant's events accepted before forgetBefore, then remembers eventID, in
// one atomic write (a savepoint inside InTx).
func (s *store) RecordWebhookEvent(ctx context.Context, tenantID, eventID string, at, forgetBefore time.Time) error {
	if err := mksync.CheckWebhookEventID(eventID); err != nil {
		return err
	}
	return s.write(ctx, func(q querier) error {
		if _, err := q.ExecContext(ctx, "DELETE FROM webhook_events WHERE tenant_id = ? AND accepted_at < ?",
			tenantID, fmtTime(forgetBefore)); err != nil {
			return internal("forget old webhook events", err)
		}
		res, err := q.ExecContext(ctx, `INSERT INTO webhook_events (tenant_id, event_id, accepted_at) VALUES (?, ?, ?)
			ON CONFLICT (tenant_id, event_id) DO NOTHING`, tenantID, eventID, fmtTime(at))
		if err != nil {
			return translate("record webhook event", err, "", mksync.ENOTFOUND, "tenant not found")
		}
		n, err := res.RowsAffected()
		if err != nil {
			return internal("record webhook event", err)
		}
		if n == 0 {
			return mksync.Errorf(mksync.ECONFLICT, "webhook event %s was already accepted", eventID)
		}
		return nil
	})
}
