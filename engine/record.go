package engine

import (
	"context"
	"fmt"
	"log/slog"
	"strings"
	"time"

	"github.com/mksync/mksync"
	"github.com/mksync/mksync/observe"
)

// outcome is what happened to one record.
type outcome int

const (
	outSkipped   outcome = iota // unchanged: no write on either side
	outCreated                  // created on the target side
	outUpdated                  // updated on the target side
	outConflict                 // both sides changed (resolved by policy, or left open)
	outFailed                   // failed; see the error record
	outLinked                   // matched to an existing record by a strong key and linked
	outAmbiguous                // matched two or more records: left for a person
)

// recordOutcome is the metrics' name of o.
func (o outcome) recordOutcome() observe.RecordOutcome {
	switch o {
	case outCreated:
		return observe.RecordCreated
	case outUpdated:
		return observe.RecordUpdated
	case outConflict, outAmbiguous:
		return observe.RecordConflict
	case outLinked:
		return observe.RecordUpdated
	case outFailed:
		return observe.RecordFailed
	}
	return observe.RecordSkipped
}

// recordResult is the outcome of one record.
type recordResult struct {
	out outcome
	rec mksync.RecordError // for outFailed
	// plan is what a dry session decided for the record (a preview).
	plan *mksync.PlanItem
	// interrupted marks a record whose operation's context ended before its
	// outcome was known (shutdown, job timeout): it is not an outcome at
	// all. It has out == outFailed so that callers ensuring a dependency
	// (a document's partner) give up, but it is never counted, has no
	// error record and leaves the record's mapping as it was, so that the
	// next run does it again.
	interrupted bool
}

// interruptedResult is the result of a record whose context ended.
func interruptedResult(ctx context.Context, key string) recordResult {
	return recordResult{out: outFailed, interrupted: true,
		rec: mksync.RecordError{ID: key, Code: mksync.ECANCELED, Error: "interrupted: " + context.Cause(ctx).Error()}}
}

// add counts r into res; an interrupted record counts nowhere.
func (r recordResult) addTo(res *mksync.SyncResult) {
	if r.interrupted {
		return
	}
	switch r.out {
	case outSkipped:
		res.Skipped++
	case outCreated:
		res.Created++
	case outUpdated:
		res.Updated++
	case outConflict:
		res.Conflicts++
	case outLinked:
		res.Linked++
	case outAmbiguous:
		res.Ambiguous++
	case outFailed:
		res.Failed++
		res.Errors = append(res.Errors, r.rec)
	}
	res.Success = res.Failed == 0
}

// result returns the SyncResult of one record.
func (r recordResult) result() mksync.SyncResult {
	res := mksync.SyncResult{Success: true, Errors: []mksync.RecordError{}}
	r.addTo(&res)
	return res
}

// operation names an engine operation in error records and logs, e.g.
// "contacts.sync_to_metakocka".
func operation(et mksync.EntityType, dir mksync.Direction) string {
	names := map[mksync.EntityType]string{
		mksync.EntityContact: "contacts", mksync.EntityProduct: "products", mksync.EntitySalesDocument: "sales_documents",
	}
	return names[et] + ".sync_" + string(dir)
}

// fail records the failure of one record: an error record (category SYNC,
// with the cause, never a secret: Metakocka errors are scrubbed by the
// client), a structured log line, and the failed state on the record's
// mapping when it has one. key is the id the caller knows the record by
// (local id, or mk_id for pulls); localID is "" when no local record is
// known.
//
// When ctx has ended (shutdown, job timeout, a cancelled request) the
// failure is the interruption, whatever cause says: nothing is written and
// the result is interrupted (see recordResult), because the record's
// Metakocka write may have happened while its mapping write was cut off;
// marking it failed then would make the next run skip it as unchanged.
func (s *session) fail(ctx context.Context, et mksync.EntityType, dir mksync.Direction, key, localID string, cause error) recordResult {
	if ctx.Err() != nil {
		return interruptedResult(ctx, key)
	}
	code := mksync.ErrorCode(cause)
	if s.dry {
		noteOf(ctx).Reason = cause.Error()
		return recordResult{out: outFailed, rec: mksync.RecordError{ID: key, Code: code, Error: cause.Error()}}
	}
	// The whole chain says which line or partner failed and why; internal
	// failures show only the generic message (their text stays in Details).
	msg := cause.Error()
	if code == mksync.EINTERNAL {
		msg = mksync.ErrorMessage(cause)
	}
	op := operation(et, dir)
	er := mksync.ErrorRecord{
		Category:  "SYNC",
		Operation: op,
		EntityID:  key,
		Code:      code,
		Message:   msg,
		Details: map[string]any{
			"entityType": string(et),
			"direction":  string(dir),
			"cause":      cause.Error(),
			"retryable":  retryable(cause),
		},
		CreatedAt: s.e.clock.Now(),
	}
	if localID != "" && localID != key {
		er.Details["localId"] = localID
	}
	// The record is written with a context that outlives a cancelled run,
	// so that a failure is never lost.
	wctx := context.WithoutCancel(ctx)
	if err := s.e.store.CreateErrorRecord(wctx, s.tenantID, &er); err != nil {
		s.e.log.LogAttrs(ctx, slog.LevelError, "could not write error record",
			slog.String("tenant_id", s.tenantID), slog.String("operation", op), slog.String("entity_id", key),
			slog.String("error", err.Error()))
	}
	s.e.log.LogAttrs(ctx, slog.LevelWarn, "record sync failed",
		slog.String("tenant_id", s.tenantID),
		slog.String("operation", op),
		slog.String("entity_type", string(et)),
		slog.String("entity_id", key),
		slog.String("error_id", er.ID),
		slog.String("code", code),
		slog.String("error", cause.Error()))
	if localID != "" {
		s.markMapping(wctx, et, localID, mksync.StateFailed, er.ID)
	}
	return recordResult{out: outFailed, rec: mksync.RecordError{ID: key, Code: code, Error: msg, ErrorID: er.ID}}
}

// markMapping sets the state of an existing mapping (failed, conflict);
// a record without a mapping keeps none. Errors are logged: the caller is
// already reporting a failure.
func (s *session) markMapping(ctx context.Context, et mksync.EntityType, localID string, st mksync.SyncState, errorID string) {
	m, ok, err := s.mapping(ctx, et, localID)
	if err == nil && ok {
		m.State, m.LastError = st, errorID
		err = s.saveMapping(ctx, &m)
	}
	if err != nil {
		s.e.log.LogAttrs(ctx, slog.LevelError, "could not mark mapping",
			slog.String("tenant_id", s.tenantID), slog.String("entity_type", string(et)),
			slog.String("entity_id", localID), slog.String("state", string(st)), slog.String("error", err.Error()))
	}
}

// winner is the side a conflict resolution keeps.
type winner int

const (
	winNone      winner = iota // undecidable: left for a person
	winCRM                     // push the CRM record
	winMetakocka               // pull the Metakocka record
)

func (w winner) String() string {
	switch w {
	case winCRM:
		return "crm"
	case winMetakocka:
		return "metakocka"
	}
	return "none"
}

// decide applies the tenant's conflict policy to a field changed on both
// sides. localChanged is the CRM record's UpdatedAt; remoteChanged is
// Metakocka's last change of the record (a document's latest NEW, CHANGE
// or status change in document_info), zero when Metakocka does not say:
// partners and products carry no change time. newest_wins keeps the side
// changed later, to the second (Metakocka on a tie). Without a Metakocka
// time, the time mksync first saw Metakocka's change stands for it, and
// mksync sees it when it reads the record for this sync: now. So under newest_wins a
// partner's or product's field changed on both sides keeps Metakocka's
// value unless the CRM changed it after this read (docs/mapping.md,
// "Conflicts").
func (s *session) decide(localChanged, remoteChanged time.Time) winner {
	switch s.settings.ConflictPolicy {
	case mksync.CRMWins:
		return winCRM
	case mksync.MetakockaWins:
		return winMetakocka
	}
	if remoteChanged.IsZero() {
		remoteChanged = s.e.clock.Now()
	}
	// Metakocka's times are to the second: so is the comparison, and a
	// change in the same second as Metakocka's is a tie.
	if localChanged.Truncate(time.Second).After(remoteChanged.Truncate(time.Second)) {
		return winCRM
	}
	return winMetakocka
}

// recordConflict writes the conflict's error record (code conflict) and log
// line; an open conflict (winNone) also sets the mapping's state to
// conflict. The record lists the fields changed on both sides with both
// values (details "fields": field, crm, metakocka). It returns the
// conflict outcome.
func (s *session) recordConflict(ctx context.Context, et mksync.EntityType, dir mksync.Direction, localID, mkID string, w winner, forced bool, cs []fieldConflict) recordResult {
	policy := string(s.settings.ConflictPolicy)
	if forced {
		policy = "explicit"
	}
	names := make([]string, len(cs))
	list := make([]map[string]any, len(cs))
	for i, c := range cs {
		names[i] = c.field
		list[i] = map[string]any{"field": c.field, "crm": fieldValue(c.crm), "metakocka": fieldValue(c.metakocka)}
	}
	msg := fmt.Sprintf("%s %s: %s changed in the CRM and in Metakocka since the last sync; ", et, localID, strings.Join(names, ", "))
	switch w {
	case winNone:
		msg += "left open for a person to resolve (sync it explicitly in the direction to keep)"
	default:
		msg += fmt.Sprintf("kept the %s values of these fields (policy %s); other changes of either side were kept", w, policy)
	}
	if s.dry {
		n := noteOf(ctx)
		n.Reason = msg
		if forced && w != winNone {
			// An explicit sync settles it: the plan says what it writes.
			n.Action = planAction(outUpdated, dir)
		}
		return recordResult{out: outConflict}
	}
	op := operation(et, dir)
	er := mksync.ErrorRecord{
		Category: "SYNC", Operation: op, EntityID: localID, Code: mksync.ECONFLICT, Message: msg,
		Details:   map[string]any{"entityType": string(et), "metakockaId": mkID, "policy": policy, "winner": w.String(), "fields": list},
		CreatedAt: s.e.clock.Now(),
	}
	wctx := context.WithoutCancel(ctx)
	if err := s.e.store.CreateErrorRecord(wctx, s.tenantID, &er); err != nil {
		s.e.log.LogAttrs(ctx, slog.LevelError, "could not write conflict record",
			slog.String("tenant_id", s.tenantID), slog.String("entity_id", localID), slog.String("error", err.Error()))
	}
	s.e.log.LogAttrs(ctx, slog.LevelWarn, "sync conflict",
		slog.String("tenant_id", s.tenantID), slog.String("operation", op),
		slog.String("entity_type", string(et)), slog.String("entity_id", localID),
		slog.String("metakocka_id", mkID), slog.String("policy", policy),
		slog.String("winner", w.String()), slog.String("error_id", er.ID))
	if w == winNone {
		s.markMapping(wctx, et, localID, mksync.StateConflict, er.ID)
	}
	return recordResult{out: outConflict}
}
