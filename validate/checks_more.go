package validate

import (
	"context"
	"errors"
	"fmt"
	"net/http"

	"github.com/mksync/mksync"
)

// badRecordCheck pushes a record the store takes and Metakocka cannot.
// Contacts have none: the CRM validates contacts against Metakocka's
// partner limits, so no malformed contact can be stored to be pushed.
func badRecordCheck(et mksync.EntityType) check {
	return check{name: "bad input not retried, reported with errorId", run: func(ctx context.Context, e *env) (string, error) {
		if et == mksync.EntityContact {
			return "", skip("the CRM refuses any contact Metakocka would refuse")
		}
		if _, err := e.direct(); err != nil {
			return "", err
		}
		rec, err := e.create(ctx, e, et)
		if err != nil {
			return "", err
		}
		switch r := rec.(type) {
		case *mksync.Product:
			r.TaxRate = badTaxRate
		case *mksync.SalesDocument:
			r.Lines[0].TaxRate = badTaxRate
		}
		if err := e.Put(ctx, rec); err != nil {
			return "", err
		}
		sim := e.Simulator()
		var before int64
		if sim != nil {
			before = sim.Calls()
		}
		res, err := e.Push(ctx, et, idOf(rec))
		if err == nil || len(res.Errors) != 1 || res.Errors[0].ErrorID == "" {
			return "", fmt.Errorf("want a failure with an errorId, got %+v, %v", res, err)
		}
		if mksync.ErrorCode(err) != mksync.EINVALID {
			return "", fmt.Errorf("code %s, want invalid", mksync.ErrorCode(err))
		}
		if _, err := e.ErrorRecord(ctx, res.Errors[0].ErrorID); err != nil {
			return "", err
		}
		if sim != nil && sim.Calls() != before {
			return "", fmt.Errorf("%d Metakocka calls", sim.Calls()-before)
		}
		return "errorId " + res.Errors[0].ErrorID, nil
	}}
}

func badInputCheck(et mksync.EntityType) check {
	return check{name: "bad input → 400 envelope with errorId", run: func(ctx context.Context, e *env) (string, error) {
		api := e.API()
		if api == nil {
			return "", skip(needsAPI)
		}
		a, err := api.CreateInvalid(ctx, et)
		switch {
		case err != nil:
			return "", err
		case a.Status != http.StatusBadRequest || a.Code != mksync.EINVALID:
			return "", fmt.Errorf("got %d %s, want 400 invalid", a.Status, a.Code)
		case a.ErrorID == "":
			return "", errors.New("400 without errorId")
		case len(a.Details) == 0:
			return "", errors.New("400 without details naming the bad fields")
		}
		return fmt.Sprintf("400 invalid, errorId %s, %d bad fields", a.ErrorID, len(a.Details)), nil
	}}
}

func conflictCheck(et mksync.EntityType, p mksync.ConflictPolicy) check {
	return check{name: "conflict recorded under " + string(p), run: func(ctx context.Context, e *env) (string, error) {
		mk, err := e.direct()
		if err != nil {
			return "", err
		}
		if err := mk.SetConflictPolicy(ctx, p); err != nil {
			return "", err
		}
		defer func() { _ = mk.SetConflictPolicy(ctx, mksync.NewestWins) }()
		id, mkID, err := e.pushNew(ctx, et)
		if err != nil {
			return "", err
		}
		if _, err := e.change(ctx, e, et, id, "crm"); err != nil {
			return "", err
		}
		if err := mk.SetRemote(ctx, et, mkID, e.name("mk")); err != nil {
			return "", err
		}
		run, err := e.Run(ctx, et, []string{id})
		if err != nil {
			return "", err
		}
		if run.Result.Conflicts != 1 {
			return "", fmt.Errorf("result %+v, want 1 conflict", run.Result)
		}
		ers, err := e.ErrorRecords(ctx, id)
		if err != nil || len(ers) == 0 || ers[0].Code != mksync.ECONFLICT {
			return "", fmt.Errorf("no conflict record: %v", err)
		}
		m, _, _ := e.Mapping(ctx, et, id)
		return fmt.Sprintf("errorId %s, mapping %s", ers[0].ID, m.State), nil
	}}
}

// isolationCheck has a second tenant try every way to reach the first's
// record: each is not found, and the record stays as it was.
func isolationCheck(et mksync.EntityType) check {
	return check{name: "another tenant's ids → not found", run: func(ctx context.Context, e *env) (string, error) {
		b, err := e.SecondTenant(ctx)
		if err != nil {
			return "", err
		}
		id, mkID, err := e.pushNew(ctx, et)
		if err != nil {
			return "", err
		}
		rec, err := e.Get(ctx, et, id) // a valid body, so only ownership can refuse it
		if err != nil {
			return "", err
		}
		attempts := []struct {
			what string
			call func() error
		}{
			{"read", func() error { _, err := b.Get(ctx, et, id); return err }},
			{"update", func() error { return b.Put(ctx, rec) }},
			{"delete", func() error { return b.Delete(ctx, et, id) }},
			{"mapping", func() error { _, _, err := b.Mapping(ctx, et, id); return err }},
			{"push", func() error { _, err := b.Push(ctx, et, id); return err }},
		}
		for _, a := range attempts {
			if err := a.call(); mksync.ErrorCode(err) != mksync.ENOTFOUND {
				return "", fmt.Errorf("%s by the second tenant: %v, want not found", a.what, err)
			}
		}
		recs, err := b.NotInCRM(ctx, et)
		if err != nil {
			return "", err
		}
		if b.Empty && len(recs) > 0 {
			return "", fmt.Errorf("the second tenant sees %d Metakocka records", len(recs))
		}
		for _, r := range recs {
			if r.MetakockaID == mkID {
				return "", fmt.Errorf("the second tenant sees the first's Metakocka record %s", mkID)
			}
		}
		after, err := e.Get(ctx, et, id)
		if err != nil {
			return "", fmt.Errorf("the first tenant's record after the second's attempts: %w", err)
		}
		_, _, before := meta(rec)
		if _, _, v := meta(after); v != before {
			return "", fmt.Errorf("the first tenant's record changed: version %d → %d", before, v)
		}
		return fmt.Sprintf("%d calls not found, its Metakocka record not listed, record unchanged", len(attempts)), nil
	}}
}

func missingProductCheck() check {
	const et = mksync.EntitySalesDocument
	return check{name: "document with missing product refused whole", run: func(ctx context.Context, e *env) (string, error) {
		if _, err := e.direct(); err != nil {
			return "", err
		}
		rec, err := e.create(ctx, e, et)
		if err != nil {
			return "", err
		}
		d := rec.(*mksync.SalesDocument)
		prec, err := e.Get(ctx, mksync.EntityProduct, d.Lines[0].ProductID)
		if err != nil {
			return "", err
		}
		prec.(*mksync.Product).TaxRate = badTaxRate // no Metakocka tax code
		if err := e.Put(ctx, prec); err != nil {
			return "", err
		}
		res, err := e.Push(ctx, et, d.ID)
		if err == nil || res.Failed != 1 {
			return "", fmt.Errorf("the document was not refused: %+v", res)
		}
		if m, found, err := e.Mapping(ctx, et, d.ID); err == nil && found && m.MetakockaID != "" {
			return "", fmt.Errorf("the document reached Metakocka as %s", m.MetakockaID)
		}
		return res.Errors[0].Error, nil
	}}
}

// rateLimitCheck calls a sync route that the handler would refuse (an
// empty id) until the rate limiter answers 429: nothing is synced, and the
// limiter runs before the handler.
func rateLimitCheck() check {
	return check{name: "rate limit → 429 with Retry-After", run: func(ctx context.Context, e *env) (string, error) {
		api := e.API()
		if api == nil {
			return "", skip(needsAPI)
		}
		const maxCalls = 2000
		for i := 1; i <= maxCalls; i++ {
			a, err := api.ProbeSync(ctx)
			if err != nil {
				return "", fmt.Errorf("call %d: %v, want an API error", i, err)
			}
			switch a.Status {
			case http.StatusBadRequest:
				if i == 1 && a.Limit == 0 {
					return "", errors.New("no RateLimit-Limit header on a sync route")
				}
				continue
			case http.StatusTooManyRequests:
				if a.RetryAfter <= 0 {
					return "", errors.New("429 without Retry-After")
				}
				if a.Code != mksync.ERATELIMITED || a.ErrorID == "" {
					return "", fmt.Errorf("429 envelope code %q errorId %q", a.Code, a.ErrorID)
				}
				return fmt.Sprintf("429 after %d calls, Retry-After %s, limit %d/min", i, a.RetryAfter, a.Limit), nil
			default:
				return "", fmt.Errorf("call %d: %d %s", i, a.Status, a.Code)
			}
		}
		return "", fmt.Errorf("no 429 after %d calls", maxCalls)
	}}
}
