package postgres

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/mksync/mksync/metakocka"
)

// The Metakocka budget of a fleet (metakocka.SlotStore): every process's
// requests in flight to a company are rows of metakocka_slots (migration
// 6), counted under a transaction-scoped advisory lock per company, with
// the database's clock, so that the bound holds across processes.

// TryAcquireSlot takes one of the company's in-flight slots when fewer than
// limit are held and the company is not paused; see metakocka.SlotStore.
func (d *DB) TryAcquireSlot(ctx context.Context, companyID string, limit int, ttl time.Duration) (string, time.Duration, error) {
	var b [12]byte
	_, _ = rand.Read(b[:]) // crypto/rand.Read never fails
	id := hex.EncodeToString(b[:])
	var paused time.Duration
	taken := false
	err := pgx.BeginFunc(ctx, d.pool, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, `SELECT pg_advisory_xact_lock(hashtextextended('mksync metakocka budget ' || $1, 0))`, companyID); err != nil {
			return err
		}
		var pausedMs float64
		err := tx.QueryRow(ctx, `SELECT EXTRACT(EPOCH FROM paused_until - now()) * 1000 FROM metakocka_pauses
			WHERE company_id = $1 AND paused_until > now()`, companyID).Scan(&pausedMs)
		if err == nil {
			paused = time.Duration(pausedMs * float64(time.Millisecond))
			return nil
		}
		if !errors.Is(err, pgx.ErrNoRows) {
			return err
		}
		if _, err := tx.Exec(ctx, `DELETE FROM metakocka_slots WHERE company_id = $1 AND expires_at < now()`, companyID); err != nil {
			return err
		}
		tag, err := tx.Exec(ctx, `INSERT INTO metakocka_slots (id, company_id, expires_at)
			SELECT $2, $1, now() + $3 * interval '1 millisecond'
			WHERE (SELECT count(*) FROM metakocka_slots WHERE company_id = $1) < $4`,
			companyID, id, ttl.Milliseconds(), limit)
		taken = tag.RowsAffected() == 1
		return err
	})
	if err != nil {
		return "", 0, dbErr("take metakocka slot", err)
	}
	if !taken {
		return "", paused, nil
	}
	return id, 0, nil
}

// ReleaseSlot gives a slot back; see metakocka.SlotStore.
func (d *DB) ReleaseSlot(ctx context.Context, _ string, slot string) error {
	_, err := d.pool.Exec(ctx, `DELETE FROM metakocka_slots WHERE id = $1`, slot)
	return dbErr("release metakocka slot", err)
}

// RenewSlots keeps slots held for ttl more; see metakocka.SlotStore.
func (d *DB) RenewSlots(ctx context.Context, slots []string, ttl time.Duration) error {
	_, err := d.pool.Exec(ctx, `UPDATE metakocka_slots SET expires_at = now() + $2 * interval '1 millisecond' WHERE id = ANY($1)`,
		slots, ttl.Milliseconds())
	return dbErr("renew metakocka slots", err)
}

// PauseCompany stops new requests to the company for dur (Retry-After); see
// metakocka.SlotStore.
func (d *DB) PauseCompany(ctx context.Context, companyID string, dur time.Duration) error {
	_, err := d.pool.Exec(ctx, `INSERT INTO metakocka_pauses (company_id, paused_until)
		VALUES ($1, now() + $2 * interval '1 millisecond')
		ON CONFLICT (company_id) DO UPDATE SET paused_until = GREATEST(metakocka_pauses.paused_until, EXCLUDED.paused_until)`,
		companyID, dur.Milliseconds())
	return dbErr("pause metakocka company", err)
}

// ReserveRequest reserves the company's next request under perSecond with
// burst and returns how long to wait before sending it; see
// metakocka.RateStore. One statement moves the company's theoretical
// arrival time on (the row lock orders concurrent reservations), with the
// database's clock, so the rate holds across processes whatever their
// clocks say.
func (d *DB) ReserveRequest(ctx context.Context, companyID string, perSecond float64, burst int) (time.Duration, error) {
	interval, tolerance := metakocka.GCRAInterval(perSecond, burst)
	var waitUs int64
	err := d.pool.QueryRow(ctx, `INSERT INTO metakocka_rates AS r (company_id, tat)
		VALUES ($1, clock_timestamp() + $2 * interval '1 microsecond')
		ON CONFLICT (company_id) DO UPDATE SET tat = GREATEST(r.tat, clock_timestamp()) + $2 * interval '1 microsecond'
		RETURNING GREATEST(0, (EXTRACT(EPOCH FROM (r.tat - clock_timestamp())) * 1e6)::bigint - $3)`,
		companyID, interval.Microseconds(), tolerance.Microseconds()).Scan(&waitUs)
	if err != nil {
		return 0, dbErr("reserve metakocka request", err)
	}
	return time.Duration(waitUs) * time.Microsecond, nil
}
