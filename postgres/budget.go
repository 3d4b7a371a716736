package postgres

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"time"

	"github.com/mksync/mksync/metakocka"
)

// The Metakocka budget of a fleet (metakocka.SlotStore): every process's
// requests in flight to a company are rows of metakocka_slots (migration
// 7), counted under a transaction-scoped advisory lock per company, with
// the database's clock, so that the bound holds across processes; the
// requests waiting for one queue in metakocka_slot_waiters (migration 20)
// and are served in arrival order. A slot given back is announced to
// every process at once (LISTEN/NOTIFY, slotnotify.go).

var (
	_ metakocka.SlotStore    = (*DB)(nil)
	_ metakocka.SlotNotifier = (*DB)(nil)
	_ metakocka.RateStore    = (*DB)(nil)
)

// TryAcquireSlot takes one of the company's in-flight slots when fewer than
// limit are held, no earlier waiter is owed them and the company is not
// paused; see metakocka.SlotStore. One statement: metakocka_take_slot
// (migrations 20 and 21) checks the pause, the slots and the waiters'
// queue under the company's advisory lock.
func (d *DB) TryAcquireSlot(ctx context.Context, companyID, waiter string, limit int, ttl time.Duration) (string, int, int, time.Duration, error) {
	var b [12]byte
	_, _ = rand.Read(b[:]) // crypto/rand.Read never fails
	var slot string
	var ahead, held int
	var pausedMs float64
	err := d.pool.QueryRow(ctx, `SELECT slot, ahead, held, paused_ms FROM metakocka_take_slot($1, $2, $3, $4, $5, $6)`,
		companyID, waiter, hex.EncodeToString(b[:]), limit, ttl.Milliseconds(), metakocka.WaiterTTL.Milliseconds()).
		Scan(&slot, &ahead, &held, &pausedMs)
	if err != nil {
		return "", 0, 0, 0, dbErr("take metakocka slot", err)
	}
	return slot, ahead, held, time.Duration(pausedMs * float64(time.Millisecond)), nil
}

// ReleaseSlot gives a slot back; see metakocka.SlotStore. The same
// statement notifies slotChannel with the company's id, so that the
// waiters of every process sharing the database ask again at once
// (SlotsFreed); the notification goes out when the deletion commits.
func (d *DB) ReleaseSlot(ctx context.Context, _ string, slot string) error {
	_, err := d.pool.Exec(ctx, `WITH gone AS (DELETE FROM metakocka_slots WHERE id = $1 RETURNING company_id)
		SELECT pg_notify('`+slotChannel+`', company_id) FROM gone`, slot)
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

// CancelRequest gives back a reservation that will not be sent; see
// metakocka.RateStore. The company's theoretical arrival time moves back one
// interval, never before now, under the row lock that orders reservations.
func (d *DB) CancelRequest(ctx context.Context, companyID string, perSecond float64, burst int) error {
	interval, _ := metakocka.GCRAInterval(perSecond, burst)
	_, err := d.pool.Exec(ctx, `UPDATE metakocka_rates
		SET tat = GREATEST(clock_timestamp(), tat - $2 * interval '1 microsecond')
		WHERE company_id = $1 AND tat > clock_timestamp()`,
		companyID, interval.Microseconds())
	return dbErr("give back metakocka request", err)
}
