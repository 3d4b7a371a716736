package validate

import (
	"context"
	"errors"
	"fmt"

	"github.com/mksync/mksync"
)

// Why a check does not run, when its driver lacks what it needs.
const (
	needsSimulator = "needs the simulator"
	needsDirect    = "needs direct access to the store and to Metakocka (in process only)"
	needsAPI       = "needs the REST API (--server)"
)

// check is one validation check. run returns evidence for the report, or
// a *SkipError when the driver cannot give what the check needs.
type check struct {
	name string
	run  func(ctx context.Context, e *env) (string, error)
}

// env is what a check runs in: the driver and the run's record names.
type env struct {
	Driver
	names *namer
}

func (e *env) name(what string) string { return e.names.name(what) }

// create stores a new valid record of kind et in t (a document with a new
// contact and product) and returns it.
func (e *env) create(ctx context.Context, t Tenant, et mksync.EntityType) (any, error) {
	c := newContact(e.name("contact"))
	if et == mksync.EntityContact {
		return c, t.Create(ctx, c)
	}
	p := newProduct(e.name("product"))
	if et == mksync.EntityProduct {
		return p, t.Create(ctx, p)
	}
	if err := t.Create(ctx, c); err != nil {
		return nil, err
	}
	if err := t.Create(ctx, p); err != nil {
		return nil, err
	}
	d := newDocument(c.ID, p, e.name("document"))
	return d, t.Create(ctx, d)
}

// pushNew creates a record and pushes it; it returns its id and mk_id.
func (e *env) pushNew(ctx context.Context, et mksync.EntityType) (string, string, error) {
	rec, err := e.create(ctx, e, et)
	if err != nil {
		return "", "", fmt.Errorf("create: %w", err)
	}
	id := idOf(rec)
	if _, err := e.Push(ctx, et, id); err != nil {
		return id, "", fmt.Errorf("push: %w", err)
	}
	m, found, err := e.Mapping(ctx, et, id)
	if err != nil {
		return id, "", fmt.Errorf("read mapping: %w", err)
	}
	if !found || m.MetakockaID == "" {
		return id, "", errors.New("no mapping with a Metakocka id after the push")
	}
	return id, m.MetakockaID, nil
}

// direct returns the driver's Direct, or a *SkipError when it has none.
func (e *env) direct() (Direct, error) {
	if mk := e.Direct(); mk != nil {
		return mk, nil
	}
	return nil, skip(needsDirect)
}

// simulator returns the driver's Simulator, or a *SkipError when it has none.
func (e *env) simulator() (Simulator, error) {
	if sim := e.Simulator(); sim != nil {
		return sim, nil
	}
	return nil, skip(needsSimulator)
}

// pushNewDirect is pushNew for the checks that also need Direct.
func (e *env) pushNewDirect(ctx context.Context, et mksync.EntityType) (Direct, string, string, error) {
	mk, err := e.direct()
	if err != nil {
		return nil, "", "", err
	}
	id, mkID, err := e.pushNew(ctx, et)
	return mk, id, mkID, err
}

// change sets the checked field (see field) of record id in t to a new
// value named after what, and returns the value.
func (e *env) change(ctx context.Context, t Tenant, et mksync.EntityType, id, what string) (string, error) {
	rec, err := t.Get(ctx, et, id)
	if err != nil {
		return "", err
	}
	value := e.name(what)
	setField(rec, value)
	return value, t.Put(ctx, rec)
}

// connectionCheck runs first: nothing else can pass without it.
func connectionCheck() check {
	return check{name: "reachable, token accepted, Metakocka connected", run: func(ctx context.Context, e *env) (string, error) {
		return e.Connect(ctx)
	}}
}

// entityChecks are the checks of one record kind, in the order they run.
func entityChecks(et mksync.EntityType) []check {
	cs := []check{
		createCheck(et), updateCheck(et), updateRemoteCheck(et), unchangedCheck(et), pullCheck(et), pullChangeCheck(et),
		bulkRunCheck(et), commitThenFailCheck(et), transientCheck(et), badRecordCheck(et), badInputCheck(et),
	}
	for _, p := range []mksync.ConflictPolicy{mksync.NewestWins, mksync.CRMWins, mksync.MetakockaWins} {
		cs = append(cs, conflictCheck(et, p))
	}
	cs = append(cs, partnerChecks(et)...)
	cs = append(append(cs, mergeChecks(et)...), previewCheck(et), isolationCheck(et))
	cs = append(cs, matchingChecks(et)...)
	if et == mksync.EntitySalesDocument {
		cs = append(append(cs, missingProductCheck()), documentForms()...)
	}
	cs = append(cs, pricelistChecks(et)...)
	return cs
}

func createCheck(et mksync.EntityType) check {
	return check{name: "create → push → mapping stored", run: func(ctx context.Context, e *env) (string, error) {
		rec, err := e.create(ctx, e, et)
		if err != nil {
			return "", fmt.Errorf("create: %w", err)
		}
		id := idOf(rec)
		res, err := e.Push(ctx, et, id)
		if err != nil {
			return "", fmt.Errorf("push: %w", err)
		}
		if !res.Success || res.Created != 1 {
			return "", fmt.Errorf("push result %s, want created 1", describeResult(res))
		}
		m, found, err := e.Mapping(ctx, et, id)
		switch {
		case err != nil:
			return "", fmt.Errorf("read mapping: %w", err)
		case !found || m.MetakockaID == "":
			return "", errors.New("no mapping with a Metakocka id after the push")
		case m.State != mksync.StateSynced:
			return "", fmt.Errorf("mapping state %s, want synced", m.State)
		}
		return fmt.Sprintf("id %s → mk_id %s, count_code %s", id, m.MetakockaID, m.CountCode), nil
	}}
}

func updateCheck(et mksync.EntityType) check {
	return check{name: "update → push", run: func(ctx context.Context, e *env) (string, error) {
		id, _, err := e.pushNew(ctx, et)
		if err != nil {
			return "", err
		}
		if _, err := e.change(ctx, e, et, id, "upd"); err != nil {
			return "", fmt.Errorf("update: %w", err)
		}
		res, err := e.Push(ctx, et, id)
		if err != nil {
			return "", fmt.Errorf("push: %w", err)
		}
		if !res.Success || res.Updated != 1 {
			return "", fmt.Errorf("push result %s, want updated 1", describeResult(res))
		}
		return describeResult(res), nil
	}}
}

func updateRemoteCheck(et mksync.EntityType) check {
	return check{name: "update → push → changed in Metakocka", run: func(ctx context.Context, e *env) (string, error) {
		mk, id, mkID, err := e.pushNewDirect(ctx, et)
		if err != nil {
			return "", err
		}
		want, err := e.change(ctx, e, et, id, "upd")
		if err != nil {
			return "", err
		}
		res, err := e.Push(ctx, et, id)
		if err != nil {
			return "", err
		}
		got, err := mk.Remote(ctx, et, mkID)
		if err != nil {
			return "", err
		}
		if got != want || res.Updated != 1 {
			return "", fmt.Errorf("metakocka has %q (updated %d), want %q", got, res.Updated, want)
		}
		return "Metakocka now has " + got, nil
	}}
}

func unchangedCheck(et mksync.EntityType) check {
	return check{name: "unchanged resync skipped, zero writes", run: func(ctx context.Context, e *env) (string, error) {
		id, _, err := e.pushNew(ctx, et)
		if err != nil {
			return "", err
		}
		sim := e.Simulator()
		var before int64
		if sim != nil {
			before = sim.Writes()
		}
		res, err := e.Push(ctx, et, id)
		if err != nil {
			return "", fmt.Errorf("push: %w", err)
		}
		if !res.Success || res.Skipped != 1 {
			return "", fmt.Errorf("push result %s, want skipped 1", describeResult(res))
		}
		if sim == nil {
			return "1 skipped (write calls not counted outside the simulator)", nil
		}
		if n := sim.Writes() - before; n != 0 {
			return "", fmt.Errorf("%d write calls", n)
		}
		return "1 skipped, 0 write calls", nil
	}}
}

func pullCheck(et mksync.EntityType) check {
	return check{name: "pull from Metakocka keeps the mapping", run: func(ctx context.Context, e *env) (string, error) {
		id, mkID, err := e.pushNew(ctx, et)
		if err != nil {
			return "", err
		}
		res, err := e.Pull(ctx, et, mkID)
		if err != nil {
			return "", fmt.Errorf("pull mk_id %s: %w", mkID, err)
		}
		if !res.Success || res.Failed+res.Conflicts+res.Created != 0 {
			return "", fmt.Errorf("pull result %s, want the mapped record refreshed", describeResult(res))
		}
		m, found, err := e.Mapping(ctx, et, id)
		if err != nil || !found || m.MetakockaID != mkID || m.State != mksync.StateSynced {
			return "", fmt.Errorf("mapping after the pull: %+v, found %t, err %v", m, found, err)
		}
		return "mk_id " + mkID + ": " + describeResult(res), nil
	}}
}

func pullChangeCheck(et mksync.EntityType) check {
	return check{name: "change in Metakocka → pull → local updated", run: func(ctx context.Context, e *env) (string, error) {
		mk, id, mkID, err := e.pushNewDirect(ctx, et)
		if err != nil {
			return "", err
		}
		want := e.name("mk")
		if err := mk.SetRemote(ctx, et, mkID, want); err != nil {
			return "", err
		}
		if _, err := e.Pull(ctx, et, mkID); err != nil {
			return "", err
		}
		rec, err := e.Get(ctx, et, id)
		if err != nil {
			return "", err
		}
		if got := field(rec); got != want {
			return "", fmt.Errorf("CRM has %q, want %q", got, want)
		}
		return "CRM now has " + want, nil
	}}
}

func bulkRunCheck(et mksync.EntityType) check {
	return check{name: "bulk run by id finishes", run: func(ctx context.Context, e *env) (string, error) {
		id, _, err := e.pushNew(ctx, et)
		if err != nil {
			return "", err
		}
		run, err := e.Run(ctx, et, []string{id})
		if err != nil {
			return "", err
		}
		if run.Status != mksync.RunSucceeded || run.Processed != 1 {
			return "", fmt.Errorf("run %s %s, processed %d: %s", run.ID, run.Status, run.Processed, describeResult(run.Result))
		}
		return fmt.Sprintf("run %s %s: %s", run.ID, run.Status, describeResult(run.Result)), nil
	}}
}

func commitThenFailCheck(et mksync.EntityType) check {
	return check{name: "no duplicate after commit-then-fail", run: func(ctx context.Context, e *env) (string, error) {
		sim, err := e.simulator()
		if err != nil {
			return "", err
		}
		sim.FailNextAdd(et)
		if _, _, err := e.pushNew(ctx, et); err != nil {
			return "", err
		}
		for k, n := range sim.CountCodes(et) {
			if n > 1 {
				return "", fmt.Errorf("count_code %s exists %d times", k, n)
			}
		}
		return fmt.Sprintf("1 record after a committed %s answered 503", sim.AddMethod(et)), nil
	}}
}

func transientCheck(et mksync.EntityType) check {
	return check{name: "transient faults retried", run: func(ctx context.Context, e *env) (string, error) {
		sim, err := e.simulator()
		if err != nil {
			return "", err
		}
		sim.FailNextTransient()
		_, mkID, err := e.pushNew(ctx, et)
		if err != nil {
			return "", err
		}
		return "synced as " + mkID + " after HTTP 503 and 429", nil
	}}
}
