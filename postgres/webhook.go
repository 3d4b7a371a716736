package postgres

import (
	"context"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/mksync/mksync"
)

// RecordWebhookEvent implements mksync.WebhookEventStore: it forgets the
// tenant's events accepted before forgetBefore, then remembers eventID, in
// one tenant transaction (a savepoint inside InTx). A replay is found by
// ON CONFLICT DO NOTHING rather than a unique violation, so that it never
// aborts an enclosing transaction.
func (d *DB) RecordWebhookEvent(ctx context.Context, tenantID, eventID string, at, forgetBefore time.Time) error {
	if err := mksync.CheckWebhookEventID(eventID); err != nil {
		return err
	}
	var inserted int64
	err := d.tenantTx(ctx, tenantID, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, `DELETE FROM webhook_events WHERE tenant_id = $1 AND accepted_at < $2`,
			tenantID, utc(forgetBefore)); err != nil {
			return err
		}
		tag, err := tx.Exec(ctx, `INSERT INTO webhook_events (tenant_id, event_id, accepted_at) VALUES ($1, $2, $3)
			ON CONFLICT (tenant_id, event_id) DO NOTHING`, tenantID, eventID, utc(at))
		inserted = tag.RowsAffected()
		return err
	})
	if err != nil {
		return tenantMissing("record webhook event", err)
	}
	if inserted == 0 {
		return mksync.Errorf(mksync.ECONFLICT, "webhook event %s was already accepted", eventID)
	}
	return nil
}
