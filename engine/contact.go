package engine

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/mksync/mksync"
	"github.com/mksync/mksync/metakocka"
)

// contactView is the part of a contact that syncs with a Metakocka
// partner (docs/mapping.md, "Contacts ⇄ partners"); its hash is what
// mappings keep.
type contactView struct {
	Name               string `json:"name"`
	BusinessEntity     bool   `json:"businessEntity"`
	TaxID              string `json:"taxId"`
	RegistrationNumber string `json:"registrationNumber"`
	Email              string `json:"email"`
	Phone              string `json:"phone"`
	Mobile             string `json:"mobile"`
	Street             string `json:"street"`
	PostNumber         string `json:"postNumber"`
	City               string `json:"city"`
	Province           string `json:"province"`
	Country            string `json:"country"`
}

func viewOfContact(c *mksync.Contact) contactView {
	return contactView{
		Name: c.Name, BusinessEntity: c.BusinessEntity, TaxID: c.TaxID,
		RegistrationNumber: c.RegistrationNumber, Email: c.Email, Phone: c.Phone, Mobile: c.Mobile,
		Street: c.Street, PostNumber: c.PostNumber, City: c.City, Province: c.Province, Country: c.Country,
	}
}

// viewOfPartner reads a partner as get_partner answers it: the address is
// the billing ("Račun") address of partner_delivery_address_list (or the
// partner's own street, post_number, place when there is no list), the
// e-mail and phones are those of its first contact person.
func viewOfPartner(p *metakocka.Partner) contactView {
	v := contactView{
		Name: p.Customer, BusinessEntity: p.BusinessEntity.True(), TaxID: p.TaxIDNumber,
		RegistrationNumber: p.RegistrationNumber,
		Street:             p.Street, PostNumber: p.PostNumber, City: p.Place, Province: p.Province, Country: p.Country,
	}
	if len(p.PartnerDeliveryAddressList) > 0 {
		a := p.PartnerDeliveryAddressList[0]
		for _, x := range p.PartnerDeliveryAddressList {
			if strings.EqualFold(x.AddressType, "Račun") {
				a = x
				break
			}
		}
		v.Street, v.PostNumber, v.City, v.Province, v.Country = a.Street, a.PostNumber, a.City, a.Province, a.Country
	}
	var ct *metakocka.Contact
	if len(p.PartnerContactList) > 0 {
		ct = &p.PartnerContactList[0]
	} else if p.PartnerContact != nil {
		ct = p.PartnerContact
	}
	if ct != nil {
		v.Email, v.Phone, v.Mobile = ct.Email, ct.Phone, ct.GSM
	}
	return v
}

// applyTo copies the view onto a local contact (CRM-only fields such as
// Notes are kept).
func (v contactView) applyTo(c *mksync.Contact) {
	c.Name, c.BusinessEntity, c.TaxID, c.RegistrationNumber = v.Name, v.BusinessEntity, v.TaxID, v.RegistrationNumber
	c.Email, c.Phone, c.Mobile = v.Email, v.Phone, v.Mobile
	c.Street, c.PostNumber, c.City, c.Province, c.Country = v.Street, v.PostNumber, v.City, v.Province, v.Country
}

// partnerOf is the add_partner/update_partner body of a view. contactMkID
// is the id of the partner's contact person to update ("" adds one).
func (s *session) partnerOf(v contactView, contactMkID string) metakocka.Partner {
	p := metakocka.Partner{
		Customer:           v.Name,
		BusinessEntity:     metakocka.NewBool(v.BusinessEntity),
		ForeignCounty:      metakocka.NewBool(!s.e.isHome(v.Country)),
		TaxIDNumber:        v.TaxID,
		RegistrationNumber: v.RegistrationNumber,
		Street:             v.Street,
		PostNumber:         v.PostNumber,
		Place:              v.City,
		Province:           v.Province,
		Country:            v.Country,
	}
	if v.Email != "" || v.Phone != "" || v.Mobile != "" || contactMkID != "" {
		ct := metakocka.Contact{MkID: contactMkID, Name: v.Name, Email: v.Email, Phone: v.Phone, GSM: v.Mobile}
		if contactMkID == "" {
			p.PartnerContact = &ct
		} else {
			p.PartnerContactList = metakocka.List[metakocka.Contact]{ct}
		}
	}
	return p
}

// getPartner reads the partner with mk_id or count_code id; found is false
// when Metakocka has none.
func (s *session) getPartner(ctx context.Context, id string) (p metakocka.Partner, found bool, err error) {
	ps, err := s.mk.GetPartner(ctx, metakocka.PartnerQuery{PartnerID: id})
	if err != nil {
		return p, false, fmt.Errorf("get partner %s: %w", id, err)
	}
	for _, x := range ps {
		if x.MkID == id || x.CountCode == id {
			s.e.cache.putMeta(s.tenantID, mksync.EntityContact, x.MkID, x)
			return x, true, nil
		}
	}
	return p, false, nil
}

// partnerByMkID is getPartner through the metadata cache (documents
// naming the same partner).
func (s *session) partnerByMkID(ctx context.Context, mkID string) (metakocka.Partner, bool, error) {
	if p, ok := s.e.cache.metaPartner(s.tenantID, mkID); ok {
		return p, true, nil
	}
	return s.getPartner(ctx, mkID)
}

// pushContact syncs one contact to Metakocka: create (idempotent), update,
// or nothing when unchanged. force marks an explicit single-record sync,
// which resolves a conflict in favour of the CRM.
func (s *session) pushContact(ctx context.Context, c mksync.Contact, force bool) recordResult {
	unlock := s.e.locks.lock(s.tenantID, mksync.EntityContact, c.ID)
	defer unlock()
	r, err := s.pushContactLocked(ctx, &c, force)
	if err != nil {
		return s.fail(ctx, mksync.EntityContact, mksync.ToMetakocka, c.ID, c.ID, err)
	}
	return r
}

func (s *session) pushContactLocked(ctx context.Context, c *mksync.Contact, force bool) (recordResult, error) {
	if err := c.Validate(); err != nil {
		return recordResult{}, err
	}
	v := viewOfContact(c)
	h := payloadHash(v)
	m, mapped, err := s.mapping(ctx, mksync.EntityContact, c.ID)
	if err != nil {
		return recordResult{}, err
	}
	if mapped && m.MetakockaID != "" {
		if m.State == mksync.StateConflict && !force {
			return recordResult{out: outConflict}, nil
		}
		if h == m.PushedHash && !force {
			return s.skipped(ctx, m)
		}
		remote, found, err := s.getPartner(ctx, m.MetakockaID)
		if err != nil {
			return recordResult{}, err
		}
		if found {
			rv := viewOfPartner(&remote)
			rh := payloadHash(rv)
			if h == rh {
				// Already equal: the same change made on both sides, or an
				// earlier push whose mapping write was interrupted; no conflict.
				nm := s.synced(mksync.EntityContact, c.ID, m.MetakockaID, remote.CountCode, h, rh)
				return recordResult{out: outSkipped}, s.saveMapping(ctx, &nm)
			}
			out, stop, res, err := s.settlePush(ctx, mksync.EntityContact, c.ID, m, h, rh, c.UpdatedAt, time.Time{}, force,
				func() error { return s.applyPartner(ctx, c, rv, m.MetakockaID, remote.CountCode, rh) })
			if stop || err != nil {
				return res, err
			}
			return s.updatePartner(ctx, c.ID, v, h, &remote, out)
		}
		// The partner was deleted in Metakocka: create it again.
		m.MetakockaID = ""
	}
	cc := CountCode(c.ID)
	if mapped && m.CountCode != "" {
		cc = m.CountCode
	}
	if mapped {
		// An earlier attempt may have created it: look before creating.
		remote, found, err := s.getPartner(ctx, cc)
		if err != nil {
			return recordResult{}, err
		}
		if found {
			return s.adoptPartner(ctx, c.ID, v, h, &remote)
		}
	} else {
		intent := mksync.Mapping{EntityType: mksync.EntityContact, EntityID: c.ID, CountCode: cc, State: mksync.StatePending}
		if err := s.saveMapping(ctx, &intent); err != nil {
			return recordResult{}, err
		}
	}
	p := s.partnerOf(v, "")
	p.CountCode = cc
	for attempt := 1; ; attempt++ {
		res, err := s.mk.AddPartner(ctx, p)
		if err == nil {
			nm := s.synced(mksync.EntityContact, c.ID, res.MkID, cc, h, h)
			if err := s.saveMapping(ctx, &nm); err != nil {
				return recordResult{}, err
			}
			return recordResult{out: outCreated}, nil
		}
		if !retryable(err) && !isCode(err, mksync.ECONFLICT) {
			return recordResult{}, fmt.Errorf("add partner %s: %w", cc, err)
		}
		remote, found, lerr := s.getPartner(ctx, cc)
		if lerr != nil {
			return recordResult{}, fmt.Errorf("add partner %s failed (%v), then looking it up failed: %w", cc, err, lerr)
		}
		if found {
			return s.adoptPartner(ctx, c.ID, v, h, &remote)
		}
		if !retryable(err) || attempt >= s.e.cfg.CreateAttempts {
			return recordResult{}, fmt.Errorf("add partner %s: %w", cc, err)
		}
	}
}

// adoptPartner maps the contact to a partner an earlier attempt created
// (found by count_code) and updates it when it differs.
func (s *session) adoptPartner(ctx context.Context, localID string, v contactView, h string, remote *metakocka.Partner) (recordResult, error) {
	rh := payloadHash(viewOfPartner(remote))
	if rh == h {
		nm := s.synced(mksync.EntityContact, localID, remote.MkID, remote.CountCode, h, rh)
		return recordResult{out: outCreated}, s.saveMapping(ctx, &nm)
	}
	return s.updatePartner(ctx, localID, v, h, remote, outCreated)
}

// updatePartner writes v onto the partner remote and maps it.
func (s *session) updatePartner(ctx context.Context, localID string, v contactView, h string, remote *metakocka.Partner, out outcome) (recordResult, error) {
	contactID := ""
	if len(remote.PartnerContactList) > 0 {
		contactID = remote.PartnerContactList[0].MkID
	}
	p := s.partnerOf(v, contactID)
	p.MkID = remote.MkID
	updated, err := s.mk.UpdatePartner(ctx, p)
	if err != nil {
		return recordResult{}, fmt.Errorf("update partner %s: %w", remote.MkID, err)
	}
	// Metakocka keeps a field when an update sends it empty: what it holds
	// now is what the next pull compares with.
	nm := s.synced(mksync.EntityContact, localID, remote.MkID, remote.CountCode, h, payloadHash(viewOfPartner(&updated)))
	if err := s.saveMapping(ctx, &nm); err != nil {
		return recordResult{}, err
	}
	return recordResult{out: out}, nil
}

// skipped settles a record whose payload is what was last pushed: a
// pending mapping (the store marks any update pending, also one of a
// CRM-only field) becomes synced again — a store write, no Metakocka call.
func (s *session) skipped(ctx context.Context, m mksync.Mapping) (recordResult, error) {
	if m.State == mksync.StatePending {
		m.State, m.LastError = mksync.StateSynced, ""
		if err := s.saveMapping(ctx, &m); err != nil {
			return recordResult{}, err
		}
	}
	return recordResult{out: outSkipped}, nil
}

// applyPartner writes the partner's view onto the local contact c and maps
// them, in one transaction.
func (s *session) applyPartner(ctx context.Context, c *mksync.Contact, rv contactView, mkID, countCode, rh string) error {
	rv.applyTo(c)
	return s.inTx(ctx, func(tx mksync.Store, save func(*mksync.Mapping) error) error {
		if err := tx.UpdateContact(ctx, s.tenantID, c); err != nil {
			return fmt.Errorf("update contact %s: %w", c.ID, err)
		}
		nm := s.synced(mksync.EntityContact, c.ID, mkID, countCode, payloadHash(viewOfContact(c)), rh)
		return save(&nm)
	})
}

// pullPartner syncs one Metakocka partner into the CRM: create the local
// contact, update it, or nothing when unchanged. force marks an explicit
// single-record sync, which resolves a conflict in favour of Metakocka.
// It returns the local contact id when there is one.
func (s *session) pullPartner(ctx context.Context, p metakocka.Partner, force bool) (recordResult, string) {
	id, r, err := s.pullPartnerLocked(ctx, p, force)
	if err != nil {
		return s.fail(ctx, mksync.EntityContact, mksync.FromMetakocka, p.MkID, id, err), id
	}
	return r, id
}

func (s *session) pullPartnerLocked(ctx context.Context, p metakocka.Partner, force bool) (string, recordResult, error) {
	rv := viewOfPartner(&p)
	rh := payloadHash(rv)
	m, mapped, err := s.mappingByMkID(ctx, mksync.EntityContact, p.MkID)
	if err != nil {
		return "", recordResult{}, err
	}
	if !mapped {
		unlock := s.e.locks.lock(s.tenantID, mksync.EntityContact, "mk:"+p.MkID)
		defer unlock()
		// Another worker may have pulled it while this one waited.
		if m, again, err := s.mappingByMkID(ctx, mksync.EntityContact, p.MkID); err != nil || again {
			return m.EntityID, recordResult{out: outSkipped}, err
		}
		// A contact whose count_code mksync made (its mapping was lost)?
		if id, ok := LocalIDOf(p.CountCode); ok {
			c, err := s.e.store.FindContactByID(ctx, s.tenantID, id)
			if err == nil {
				if om, has, err := s.mapping(ctx, mksync.EntityContact, id); err != nil {
					return id, recordResult{}, err
				} else if !has || om.MetakockaID == "" {
					return id, recordResult{out: outUpdated}, s.applyPartner(ctx, &c, rv, p.MkID, p.CountCode, rh)
				}
			} else if !isCode(err, mksync.ENOTFOUND) {
				return id, recordResult{}, fmt.Errorf("find contact %s: %w", id, err)
			}
		}
		var c mksync.Contact
		rv.applyTo(&c)
		if c.Name == "" {
			c.Name = p.CountCode
		}
		err := s.inTx(ctx, func(tx mksync.Store, save func(*mksync.Mapping) error) error {
			if err := tx.CreateContact(ctx, s.tenantID, &c); err != nil {
				return fmt.Errorf("create contact from partner %s: %w", p.MkID, err)
			}
			nm := s.synced(mksync.EntityContact, c.ID, p.MkID, p.CountCode, payloadHash(viewOfContact(&c)), rh)
			return save(&nm)
		})
		if err != nil {
			return "", recordResult{}, err
		}
		return c.ID, recordResult{out: outCreated}, nil
	}

	m, unlock, err := s.lockMapped(ctx, mksync.EntityContact, m.EntityID, p.MkID, "partner")
	defer unlock()
	if err != nil {
		return m.EntityID, recordResult{}, err
	}
	if m.State == mksync.StateConflict && !force {
		return m.EntityID, recordResult{out: outConflict}, nil
	}
	if rh == m.PulledHash && !force {
		return m.EntityID, recordResult{out: outSkipped}, nil
	}
	c, err := s.e.store.FindContactByID(ctx, s.tenantID, m.EntityID)
	if err != nil {
		return m.EntityID, recordResult{}, fmt.Errorf("find contact %s: %w", m.EntityID, err)
	}
	lv := viewOfContact(&c)
	lh := payloadHash(lv)
	if lh == rh {
		nm := s.synced(mksync.EntityContact, c.ID, p.MkID, p.CountCode, lh, rh)
		return c.ID, recordResult{out: outSkipped}, s.saveMapping(ctx, &nm)
	}
	if lh != m.PushedHash && rh != m.PulledHash {
		w := winMetakocka
		if !force {
			w = s.decide(c.UpdatedAt, time.Time{})
		}
		switch w {
		case winCRM:
			if _, err := s.updatePartner(ctx, c.ID, lv, lh, &p, outConflict); err != nil {
				return c.ID, recordResult{}, err
			}
		case winMetakocka:
			if err := s.applyPartner(ctx, &c, rv, p.MkID, p.CountCode, rh); err != nil {
				return c.ID, recordResult{}, err
			}
		}
		return c.ID, s.recordConflict(ctx, mksync.EntityContact, mksync.FromMetakocka, c.ID, p.MkID, w, force), nil
	}
	if rh == m.PulledHash && !force {
		// Only the CRM changed: the next push carries it.
		return c.ID, recordResult{out: outSkipped}, nil
	}
	return c.ID, recordResult{out: outUpdated}, s.applyPartner(ctx, &c, rv, p.MkID, p.CountCode, rh)
}
