package validate

import (
	"context"
	"errors"
	"fmt"

	"github.com/mksync/mksync"
)

// PartnerAddresses is what the address update check needs of a Direct
// beyond the one checked field: a partner's addresses and contact persons
// as Metakocka answers them (get_partner). A Direct without it skips the
// check.
type PartnerAddresses interface {
	// Partner reads the partner mkID's addresses and contact persons.
	Partner(ctx context.Context, mkID string) (RemotePartner, error)
}

// RemotePartner is a partner's addresses and contact persons, as get_partner
// answers them.
type RemotePartner struct {
	Addresses []RemoteAddress
	Contacts  []RemoteContact
}

// RemoteAddress is one of a partner's addresses; Type is "Račun" (billing),
// "Dobava" (delivery) or "Poslovna enota".
type RemoteAddress struct {
	MkID, Type, Street, PostNumber, City string
}

// RemoteContact is one of a partner's contact persons.
type RemoteContact struct {
	MkID, Name, Email string
}

// address returns the first address of type typ.
func (p RemotePartner) address(typ string) (RemoteAddress, bool) {
	for _, a := range p.Addresses {
		if a.Type == typ {
			return a, true
		}
	}
	return RemoteAddress{}, false
}

// partnerChecks are the checks only contacts have.
func partnerChecks(et mksync.EntityType) []check {
	if et != mksync.EntityContact {
		return nil
	}
	return []check{addressUpdateCheck()}
}

// addressUpdateCheck: a contact with a delivery address and a contact
// person is pushed; Metakocka must hold the billing ("Račun") and delivery
// ("Dobava") addresses and the contact person under its own name. Both
// addresses then change in the CRM and are pushed: Metakocka must hold the
// new streets on the same addresses (same mk_ids, none added), as
// update_partner.md documents (addresses change through
// partner_delivery_address_list by mk_id; a top-level street does not
// change the billing address). It reads Metakocka with get_partner only,
// so it runs against a real account.
func addressUpdateCheck() check {
	return check{name: "address update → billing and delivery address changed by mk_id", run: func(ctx context.Context, e *env) (string, error) {
		mk, err := e.direct()
		if err != nil {
			return "", err
		}
		pa, ok := mk.(PartnerAddresses)
		if !ok {
			return "", skip("needs to read a partner's addresses from Metakocka (in process only)")
		}
		c := newContact(e.name("address"))
		c.ContactPerson, c.Mobile = "Validation Person", "041 000 000"
		c.DeliveryStreet, c.DeliveryPostNumber, c.DeliveryCity, c.DeliveryCountry = "Validation delivery 1", "2000", "Maribor", "SI"
		if err := e.Create(ctx, c); err != nil {
			return "", fmt.Errorf("create: %w", err)
		}
		mkID, err := pushedMkID(ctx, e, c.ID)
		if err != nil {
			return "", err
		}
		before, err := partnerAsPushed(ctx, pa, mkID, c)
		if err != nil {
			return "", fmt.Errorf("after the create: %w", err)
		}
		rec, err := e.Get(ctx, mksync.EntityContact, c.ID)
		if err != nil {
			return "", err
		}
		c = rec.(*mksync.Contact)
		c.Street, c.PostNumber, c.City = "Validation street 2", "3000", "Celje"
		c.DeliveryStreet = "Validation delivery 2"
		if err := e.Put(ctx, c); err != nil {
			return "", fmt.Errorf("update: %w", err)
		}
		res, err := e.Push(ctx, mksync.EntityContact, c.ID)
		if err != nil || !res.Success || res.Updated != 1 {
			return "", fmt.Errorf("push of the address change: %s, %v", describeResult(res), err)
		}
		after, err := partnerAsPushed(ctx, pa, mkID, c)
		if err != nil {
			return "", fmt.Errorf("after the update: %w", err)
		}
		return sameAddresses(before, after)
	}}
}

// pushedMkID pushes the contact id and returns its partner's mk_id.
func pushedMkID(ctx context.Context, e *env, id string) (string, error) {
	if res, err := e.Push(ctx, mksync.EntityContact, id); err != nil || !res.Success {
		return "", fmt.Errorf("push: %s, %v", describeResult(res), err)
	}
	m, found, err := e.Mapping(ctx, mksync.EntityContact, id)
	if err != nil || !found || m.MetakockaID == "" {
		return "", fmt.Errorf("no mapping with a Metakocka id after the push (found %t, err %v)", found, err)
	}
	return m.MetakockaID, nil
}

// partnerAsPushed reads the partner mkID and checks that its billing and
// delivery addresses and its contact person are the contact c's.
func partnerAsPushed(ctx context.Context, pa PartnerAddresses, mkID string, c *mksync.Contact) (RemotePartner, error) {
	p, err := pa.Partner(ctx, mkID)
	if err != nil {
		return p, fmt.Errorf("read partner %s: %w", mkID, err)
	}
	billing, ok := p.address("Račun")
	if !ok || billing.Street != c.Street || billing.PostNumber != c.PostNumber || billing.City != c.City {
		return p, fmt.Errorf("billing address %+v (found %t), want %s, %s %s", billing, ok, c.Street, c.PostNumber, c.City)
	}
	delivery, ok := p.address("Dobava")
	if !ok || delivery.Street != c.DeliveryStreet || delivery.City != c.DeliveryCity {
		return p, fmt.Errorf("delivery address %+v (found %t), want %s, %s", delivery, ok, c.DeliveryStreet, c.DeliveryCity)
	}
	if len(p.Contacts) != 1 || p.Contacts[0].Name != c.ContactPerson {
		return p, fmt.Errorf("contact persons %+v, want one named %q (not the company's name)", p.Contacts, c.ContactPerson)
	}
	return p, nil
}

// sameAddresses checks that an update changed the addresses in place.
func sameAddresses(before, after RemotePartner) (string, error) {
	if len(after.Addresses) != len(before.Addresses) {
		return "", fmt.Errorf("%d addresses after the update, %d before: the update added one", len(after.Addresses), len(before.Addresses))
	}
	for _, typ := range []string{"Račun", "Dobava"} {
		b, _ := before.address(typ)
		a, _ := after.address(typ)
		if a.MkID != b.MkID {
			return "", fmt.Errorf("the %s address is %s after the update, %s before", typ, a.MkID, b.MkID)
		}
	}
	if after.Contacts[0].MkID != before.Contacts[0].MkID {
		return "", errors.New("the contact person was replaced, not updated")
	}
	b, _ := after.address("Račun")
	d, _ := after.address("Dobava")
	return fmt.Sprintf("billing %s now %q, delivery %s now %q", b.MkID, b.Street, d.MkID, d.Street), nil
}
