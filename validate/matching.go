package validate

import (
	"context"
	"fmt"
	"strings"

	"github.com/mksync/mksync"
)

// matchingChecks are the checks of matching before creating and of deletes
// that stay deleted (docs/mapping.md). What they create in Metakocka the
// driver's Cleanup removes as for every other check, and what they make
// there by hand they delete themselves (partners stay: Metakocka cannot
// delete them; they are named with Prefix).
func matchingChecks(et mksync.EntityType) []check {
	if et == mksync.EntitySalesDocument {
		return []check{documentMatchingCheck(), deletesStayDeletedCheck(et)}
	}
	return []check{matchingCheck(et, mksync.ToMetakocka), matchingCheck(et, mksync.FromMetakocka), deletesStayDeletedCheck(et)}
}

// remoteMaker makes records in the tenant's Metakocka account by hand
// (not through mksync): an optional part of a Direct.
type remoteMaker interface {
	// AddRemote makes a partner with the e-mail key, or a product with
	// the code key, and returns its mk_id.
	AddRemote(ctx context.Context, et mksync.EntityType, key string) (string, error)
	// DeleteRemote deletes what AddRemote made, where Metakocka can.
	DeleteRemote(ctx context.Context, et mksync.EntityType, mkID string) error
}

// matchingCheck: a record made by hand in Metakocka and a CRM record with
// the same strong key (a contact's e-mail, a product's code) are linked,
// not duplicated, by a sync in direction dir: a push of the CRM record, or
// a pull of the Metakocka one.
func matchingCheck(et mksync.EntityType, dir mksync.Direction) check {
	name := "matching: made in Metakocka, same key in the CRM → a push links, not creates"
	if dir == mksync.FromMetakocka {
		name = "matching: same key in the CRM, made in Metakocka → a pull links, not creates"
	}
	return check{name: name, run: func(ctx context.Context, e *env) (string, error) {
		mk, ok := e.Direct().(remoteMaker)
		if !ok {
			return "", skip(needsDirect)
		}
		rec, key, err := e.keyed(ctx, et)
		if err != nil {
			return "", err
		}
		mkID, err := mk.AddRemote(ctx, et, key)
		if err != nil {
			return "", fmt.Errorf("make the record in Metakocka by hand: %w", err)
		}
		defer func() { _ = mk.DeleteRemote(context.WithoutCancel(ctx), et, mkID) }()
		var res mksync.SyncResult
		if dir == mksync.ToMetakocka {
			res, err = e.Push(ctx, et, idOf(rec))
		} else {
			res, err = e.Pull(ctx, et, mkID)
		}
		if err != nil {
			return "", fmt.Errorf("sync %s: %w", dir, err)
		}
		return linkedTo(ctx, e, et, idOf(rec), mkID, res)
	}}
}

// documentMatchingCheck: a document in Metakocka that no CRM record is
// mapped to (pushed from a CRM document since deleted, under the default
// deletion policy keep) is linked, not created again, when a new CRM
// document with the same number, partner and date is pushed.
func documentMatchingCheck() check {
	et := mksync.EntitySalesDocument
	return check{name: "matching: same number + partner + date → a push links, not creates", run: func(ctx context.Context, e *env) (string, error) {
		first, err := e.create(ctx, e, et)
		if err != nil {
			return "", fmt.Errorf("create: %w", err)
		}
		d := first.(*mksync.SalesDocument)
		d.Number = fmt.Sprintf("MKV-%s-%d", e.names.run, e.names.n.Add(1))
		if err := e.Put(ctx, d); err != nil {
			return "", fmt.Errorf("number the document: %w", err)
		}
		if _, err := e.Push(ctx, et, d.ID); err != nil {
			return "", fmt.Errorf("push the first document: %w", err)
		}
		m, found, err := e.Mapping(ctx, et, d.ID)
		if err != nil || !found || m.MetakockaID == "" {
			return "", fmt.Errorf("no mapping with a Metakocka id after the first push (found %t, err %v)", found, err)
		}
		if err := e.Delete(ctx, et, d.ID); err != nil {
			return "", fmt.Errorf("delete the first document in the CRM: %w", err)
		}
		second := *d
		second.ID, second.Version, second.Notes = "", 0, e.name("document")
		second.Lines = append([]mksync.DocumentLine(nil), d.Lines...)
		if err := e.Create(ctx, &second); err != nil {
			return "", fmt.Errorf("create the second document: %w", err)
		}
		res, err := e.Push(ctx, et, second.ID)
		if err != nil {
			return "", fmt.Errorf("push the second document: %w", err)
		}
		return linkedTo(ctx, e, et, second.ID, m.MetakockaID, res)
	}}
}

// linkedTo checks that a sync linked the CRM record id to mkID.
func linkedTo(ctx context.Context, e *env, et mksync.EntityType, id, mkID string, res mksync.SyncResult) (string, error) {
	if res.Linked != 1 || res.Created != 0 {
		return "", fmt.Errorf("result linked %d, %s; want linked 1, created 0", res.Linked, describeResult(res))
	}
	m, found, err := e.Mapping(ctx, et, id)
	if err != nil || !found || m.MetakockaID != mkID {
		return "", fmt.Errorf("mapped to %q (found %t, err %v), want the existing %s", m.MetakockaID, found, err, mkID)
	}
	return "linked to the existing mk_id " + mkID, nil
}

// deletesStayDeletedCheck: a synced record deleted in the CRM is not
// created again by a pull of its Metakocka record (its tombstone).
func deletesStayDeletedCheck(et mksync.EntityType) check {
	return check{name: "deletes stay deleted: a pull does not re-create", run: func(ctx context.Context, e *env) (string, error) {
		id, mkID, err := e.pushNew(ctx, et)
		if err != nil {
			return "", err
		}
		if err := e.Delete(ctx, et, id); err != nil {
			return "", fmt.Errorf("delete in the CRM: %w", err)
		}
		res, err := e.Pull(ctx, et, mkID)
		if err != nil {
			return "", fmt.Errorf("pull mk_id %s: %w", mkID, err)
		}
		if res.Created+res.Linked+res.Updated != 0 || res.Skipped != 1 {
			return "", fmt.Errorf("pull result linked %d, %s; want skipped 1", res.Linked, describeResult(res))
		}
		if _, err := e.Get(ctx, et, id); mksync.ErrorCode(err) != mksync.ENOTFOUND {
			return "", fmt.Errorf("the deleted record reads back: %v", err)
		}
		return "mk_id " + mkID + " left out of the CRM", nil
	}}
}

// keyed creates a contact with an e-mail or a product with a code of its
// own and returns it with that key.
func (e *env) keyed(ctx context.Context, et mksync.EntityType) (any, string, error) {
	key := strings.ToLower(e.name("key"))
	var rec any
	if et == mksync.EntityContact {
		c := newContact(e.name("contact"))
		c.Email = key + "@example.com"
		rec, key = c, c.Email
	} else {
		p := newProduct(e.name("product"))
		p.Code = key
		rec = p
	}
	if err := e.Create(ctx, rec); err != nil {
		return nil, "", fmt.Errorf("create: %w", err)
	}
	return rec, key, nil
}
