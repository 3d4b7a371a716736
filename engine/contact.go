package engine

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"time"
	"unicode"

	"github.com/mksync/mksync"
	"github.com/mksync/mksync/metakocka"
)

// contactView is the part of a contact that syncs with a Metakocka
// partner (docs/mapping.md, "Contacts ⇄ partners"); its hash is what
// mappings keep. The fields added after the first release are omitted
// when empty, so that the hash of a contact that does not use them stays
// what it was (no write after an upgrade).
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
	ContactPerson      string `json:"contactPerson,omitempty"`
	// NotBuyer: the partner is not a buyer. A buyer, and a contact or
	// partner that does not say, is the default (false).
	NotBuyer           bool   `json:"notBuyer,omitempty"`
	Taxpayer           bool   `json:"taxpayer,omitempty"`
	PaymentDueDays     int    `json:"paymentDueDays,omitempty"`
	DeliveryStreet     string `json:"deliveryStreet,omitempty"`
	DeliveryPostNumber string `json:"deliveryPostNumber,omitempty"`
	DeliveryCity       string `json:"deliveryCity,omitempty"`
	DeliveryCountry    string `json:"deliveryCountry,omitempty"`
}

// Metakocka's address types (add_partner.md).
const (
	addressBilling  = "Račun"
	addressDelivery = "Dobava"
)

func viewOfContact(c *mksync.Contact) contactView {
	return contactView{
		Name: c.Name, BusinessEntity: c.BusinessEntity, TaxID: c.TaxID,
		RegistrationNumber: c.RegistrationNumber, Email: c.Email, Phone: c.Phone, Mobile: c.Mobile,
		Street: c.Street, PostNumber: c.PostNumber, City: c.City, Province: c.Province, Country: c.Country,
		ContactPerson: c.ContactPerson, NotBuyer: c.Buyer != nil && !*c.Buyer, Taxpayer: c.Taxpayer,
		PaymentDueDays: c.PaymentDueDays, DeliveryStreet: c.DeliveryStreet, DeliveryPostNumber: c.DeliveryPostNumber,
		DeliveryCity: c.DeliveryCity, DeliveryCountry: c.DeliveryCountry,
	}
}

func (v contactView) hasDelivery() bool {
	return v.DeliveryStreet != "" || v.DeliveryPostNumber != "" || v.DeliveryCity != "" || v.DeliveryCountry != ""
}

// partnerParts finds, on a partner as get_partner or update_partner
// answers it, the billing address, the delivery address and the contact
// person a contact syncs with: those with the mk_ids known (a contact's
// PartnerIDs) while the partner still has them, else the first billing
// ("Račun"; the first address when none is typed so), the first delivery
// ("Dobava") address and the first contact person. Any may be nil.
func partnerParts(p *metakocka.Partner, known mksync.PartnerIDs) (billing, delivery *metakocka.Address, person *metakocka.Contact) {
	addrs := p.PartnerDeliveryAddressList
	find := func(id, typ string) *metakocka.Address {
		for i := range addrs {
			if id != "" && addrs[i].MkID == id {
				return &addrs[i]
			}
		}
		for i := range addrs {
			if strings.EqualFold(addrs[i].AddressType, typ) {
				return &addrs[i]
			}
		}
		return nil
	}
	billing, delivery = find(known.BillingAddress, addressBilling), find(known.DeliveryAddress, addressDelivery)
	if billing == nil && len(addrs) > 0 && &addrs[0] != delivery {
		billing = &addrs[0]
	}
	for i := range p.PartnerContactList {
		if known.ContactPerson != "" && p.PartnerContactList[i].MkID == known.ContactPerson {
			return billing, delivery, &p.PartnerContactList[i]
		}
	}
	if len(p.PartnerContactList) > 0 {
		person = &p.PartnerContactList[0]
	} else if p.PartnerContact != nil {
		person = p.PartnerContact
	}
	return billing, delivery, person
}

// idsOf are the mk_ids of a partner's parts (partnerParts).
func idsOf(p *metakocka.Partner, known mksync.PartnerIDs) mksync.PartnerIDs {
	billing, delivery, person := partnerParts(p, known)
	var ids mksync.PartnerIDs
	if billing != nil {
		ids.BillingAddress = billing.MkID
	}
	if delivery != nil {
		ids.DeliveryAddress = delivery.MkID
	}
	if person != nil {
		ids.ContactPerson = person.MkID
	}
	return ids
}

// viewOfPartner reads a partner as get_partner answers it: the address is
// the billing ("Račun") address of partner_delivery_address_list (or the
// partner's own street, post_number, place when there is no list) with its
// payment_due_days, the delivery address the first "Dobava" one, the
// contact person (name, e-mail, phones) the first one; a contact person
// named after the partner has no name of its own. A partner whose answer
// does not say buyer counts as a buyer.
func viewOfPartner(p *metakocka.Partner) contactView {
	v := contactView{
		Name: p.Customer, BusinessEntity: p.BusinessEntity.True(), TaxID: p.TaxIDNumber,
		RegistrationNumber: p.RegistrationNumber,
		Street:             p.Street, PostNumber: p.PostNumber, City: p.Place, Province: p.Province, Country: p.Country,
		NotBuyer: p.Buyer.Valid && !p.Buyer.Value, Taxpayer: p.Taxpayer.True(),
	}
	billing, delivery, ct := partnerParts(p, mksync.PartnerIDs{})
	if billing != nil {
		v.Street, v.PostNumber, v.City, v.Province, v.Country = billing.Street, billing.PostNumber, billing.City, billing.Province, billing.Country
		v.PaymentDueDays = int(billing.PaymentDueDays.Value)
	}
	if delivery != nil {
		v.DeliveryStreet, v.DeliveryPostNumber, v.DeliveryCity, v.DeliveryCountry = delivery.Street, delivery.PostNumber, delivery.City, delivery.Country
	}
	if ct != nil {
		// A contact person named after the partner (useCustomerAsContact,
		// or what mksync sent before it kept the person's own name) has
		// no name of its own.
		if name := firstNonEmpty(ct.Name, ct.Contact); name != p.Customer {
			v.ContactPerson = name
		}
		v.Email, v.Phone, v.Mobile = ct.Email, ct.Phone, ct.GSM
	}
	return v
}

// applyTo copies the view onto a local contact (CRM-only fields such as
// Notes are kept). A view that does not say "not a buyer" makes a contact
// marked not a buyer a buyer again, and leaves one that does not say as it
// is.
func (v contactView) applyTo(c *mksync.Contact) {
	c.Name, c.BusinessEntity, c.TaxID, c.RegistrationNumber = v.Name, v.BusinessEntity, v.TaxID, v.RegistrationNumber
	c.Email, c.Phone, c.Mobile = v.Email, v.Phone, v.Mobile
	c.Street, c.PostNumber, c.City, c.Province, c.Country = v.Street, v.PostNumber, v.City, v.Province, v.Country
	c.ContactPerson, c.Taxpayer, c.PaymentDueDays = v.ContactPerson, v.Taxpayer, v.PaymentDueDays
	c.DeliveryStreet, c.DeliveryPostNumber, c.DeliveryCity, c.DeliveryCountry = v.DeliveryStreet, v.DeliveryPostNumber, v.DeliveryCity, v.DeliveryCountry
	switch {
	case v.NotBuyer:
		c.Buyer = new(bool)
	case c.Buyer != nil && !*c.Buyer:
		yes := true
		c.Buyer = &yes
	}
}

// newPartner is the add_partner body of a view, as add_partner.md shows
// it: flagged a buyer unless the contact says otherwise, the billing
// address at the top level, the contact person (its own name) as
// partner_contact and the delivery address as partner_delivery_address.
func (s *session) newPartner(v contactView) metakocka.Partner {
	p := metakocka.Partner{
		Customer:           v.Name,
		BusinessEntity:     metakocka.NewBool(v.BusinessEntity),
		Taxpayer:           metakocka.NewBool(v.Taxpayer),
		Buyer:              metakocka.NewBool(!v.NotBuyer),
		ForeignCounty:      metakocka.NewBool(!s.e.isHome(v.Country)),
		TaxIDNumber:        v.TaxID,
		RegistrationNumber: v.RegistrationNumber,
		Street:             v.Street,
		PostNumber:         v.PostNumber,
		Place:              v.City,
		Province:           v.Province,
		Country:            v.Country,
	}
	if v.ContactPerson != "" || v.Email != "" || v.Phone != "" || v.Mobile != "" {
		p.PartnerContact = &metakocka.Contact{Name: v.ContactPerson, Email: v.Email, Phone: v.Phone, GSM: v.Mobile}
	}
	if v.hasDelivery() {
		p.PartnerDeliveryAddress = &metakocka.Address{AddressType: addressDelivery, Street: v.DeliveryStreet,
			PostNumber: v.DeliveryPostNumber, City: v.DeliveryCity, Country: v.DeliveryCountry}
	}
	return p
}

// partnerUpdate is the update_partner body that writes the view over the
// partner remote, as update_partner.md shows it: the partner's own fields
// at the top level; the billing and delivery addresses through
// partner_delivery_address_list by their mk_ids (a top-level street
// changes nothing there), a missing one added; the contact person through
// partner_contact_list by its mk_id, a new one on the billing address
// (mk_address_id). buyer is sent only when the contact says it.
func (s *session) partnerUpdate(v contactView, c *mksync.Contact, remote *metakocka.Partner) metakocka.Partner {
	ids := idsOf(remote, c.PartnerIDs)
	p := metakocka.Partner{
		MkID: remote.MkID, Customer: v.Name, BusinessEntity: metakocka.NewBool(v.BusinessEntity),
		Taxpayer: metakocka.NewBool(v.Taxpayer), ForeignCounty: metakocka.NewBool(!s.e.isHome(v.Country)),
		TaxIDNumber: v.TaxID, RegistrationNumber: v.RegistrationNumber,
	}
	if c.Buyer != nil {
		p.Buyer = metakocka.NewBool(*c.Buyer)
	}
	billing := metakocka.Address{MkID: ids.BillingAddress, Street: v.Street, PostNumber: v.PostNumber,
		City: v.City, Province: v.Province, Country: v.Country}
	if ids.BillingAddress == "" {
		billing.AddressType = addressBilling
	}
	if v.PaymentDueDays > 0 {
		billing.PaymentDueDays = metakocka.NewInt(int64(v.PaymentDueDays))
	}
	p.PartnerDeliveryAddressList = metakocka.List[metakocka.Address]{billing}
	if v.hasDelivery() || ids.DeliveryAddress != "" {
		d := metakocka.Address{MkID: ids.DeliveryAddress, Street: v.DeliveryStreet, PostNumber: v.DeliveryPostNumber,
			City: v.DeliveryCity, Country: v.DeliveryCountry}
		if ids.DeliveryAddress == "" {
			d.AddressType = addressDelivery
		}
		p.PartnerDeliveryAddressList = append(p.PartnerDeliveryAddressList, d)
	}
	if v.ContactPerson != "" || v.Email != "" || v.Phone != "" || v.Mobile != "" || ids.ContactPerson != "" {
		ct := metakocka.Contact{MkID: ids.ContactPerson, Name: v.ContactPerson, Email: v.Email, Phone: v.Phone, GSM: v.Mobile}
		if ids.ContactPerson == "" {
			ct.MkAddressID = ids.BillingAddress
		}
		p.PartnerContactList = metakocka.List[metakocka.Contact]{ct}
	}
	return p
}

// keepPartnerIDs stores the mk_ids of the parts of p the contact syncs
// with when they changed (st: the store or the transaction to write with).
func (s *session) keepPartnerIDs(ctx context.Context, st mksync.Store, c *mksync.Contact, p *metakocka.Partner) error {
	ids := idsOf(p, c.PartnerIDs)
	if ids == c.PartnerIDs {
		return nil
	}
	if err := st.SetContactPartnerIDs(ctx, s.tenantID, c.ID, ids); err != nil {
		return fmt.Errorf("keep partner ids of contact %s: %w", c.ID, err)
	}
	c.PartnerIDs = ids
	return nil
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

// contactLocal is one contact being pushed.
type contactLocal struct {
	contacts
	c *mksync.Contact
}

func (a contacts) local(c *mksync.Contact) local[metakocka.Partner, contactView] {
	return contactLocal{a, c}
}

// fetch reads the partner mkID (get_partner also matches a count_code).
func (a contacts) fetch(ctx context.Context, mkID string) (metakocka.Partner, bool, error) {
	p, found, err := a.s.getPartner(ctx, mkID)
	return p, found && p.MkID == mkID, err
}

func (a contacts) remote(_ context.Context, p *metakocka.Partner) (contactView, error) {
	return viewOfPartner(p), nil
}

func (a contacts) ident(p *metakocka.Partner) remoteID {
	return remoteID{mkID: p.MkID, countCode: p.CountCode}
}

// link finds the contact that is this partner: the one whose count_code
// mksync made (its mapping was lost), else the one contact not linked yet
// that shares a strong key with it (matchContacts); several make an
// ambiguousError.
func (a contacts) link(ctx context.Context, p *metakocka.Partner) (*mksync.Contact, string, error) {
	if c, id, err := a.linkByCountCode(ctx, p.CountCode); c != nil || err != nil {
		return c, id, err
	}
	cs, key, waiting, err := a.matchContacts(ctx, p)
	switch {
	case err != nil:
		return nil, "", err
	case len(cs) == 1 && !waiting:
		return &cs[0], cs[0].ID, nil
	case len(cs) > 0:
		amb := &ambiguousError{}
		for _, c := range cs {
			amb.ids, amb.keys = append(amb.ids, c.ID), append(amb.keys, key)
		}
		return nil, "", amb
	}
	return nil, "", nil
}

// matchContacts finds the contacts not linked to another partner that
// share a strong key with p, the first rule that finds any deciding: tax
// number (normalised, with or without the home prefix), registration
// number, e-mail (case-insensitive). A contact whose own push was
// ambiguous makes the match ambiguous too: waiting (for a person).
func (a contacts) matchContacts(ctx context.Context, p *metakocka.Partner) (cs []mksync.Contact, key string, waiting bool, err error) {
	home := a.s.e.homePrefix()
	v := viewOfPartner(p)
	rules := []struct {
		key    string
		k      mksync.ContactKey
		values []string
	}{
		{"tax number", mksync.KeyTaxNumber, taxForms(v.TaxID, home)},
		{"registration number", mksync.KeyRegistrationNumber, []string{mksync.NormKey(mksync.KeyRegistrationNumber, v.RegistrationNumber)}},
		{"e-mail", mksync.KeyEmail, []string{mksync.NormKey(mksync.KeyEmail, v.Email)}},
	}
	for _, r := range rules {
		if len(r.values) == 0 || r.values[0] == "" {
			continue
		}
		cs, err := a.s.e.store.FindContactsByKey(ctx, a.s.tenantID, r.k, r.values)
		if err != nil {
			return nil, "", false, fmt.Errorf("match contacts by %s: %w", r.key, err)
		}
		var free []mksync.Contact
		for _, c := range cs {
			m, mapped, err := a.s.mapping(ctx, mksync.EntityContact, c.ID)
			if err != nil {
				return nil, "", false, err
			}
			if mapped && m.MetakockaID != "" {
				continue
			}
			waiting = waiting || mapped && m.State == mksync.StateAmbiguous
			free = append(free, c)
		}
		if len(free) > 0 {
			return free, r.key, waiting, nil
		}
	}
	return nil, "", false, nil
}

// taxForms are the stored forms (NormKey) a tax number may have in the
// CRM: with and without the home country prefix.
func taxForms(tax, home string) []string {
	key := TaxKey(tax, home)
	if key == "" {
		return nil
	}
	if strings.IndexFunc(key, unicode.IsLetter) == 0 {
		return []string{key} // a foreign prefix stays
	}
	return []string{key, home + key}
}

func (a contacts) create(ctx context.Context, rv contactView, p *metakocka.Partner, rs snapshot) (string, error) {
	var c mksync.Contact
	rv.applyTo(&c)
	c.PartnerIDs = idsOf(p, mksync.PartnerIDs{})
	if c.Name == "" {
		c.Name = p.CountCode
	}
	err := a.s.inTx(ctx, func(tx mksync.Store, save func(*mksync.Mapping) error) error {
		if err := tx.CreateContact(ctx, a.s.tenantID, &c); err != nil {
			return fmt.Errorf("create contact from partner %s: %w", p.MkID, err)
		}
		nm := a.s.synced(mksync.EntityContact, c.ID, p.MkID, p.CountCode, snapAs(viewOfContact(&c), rs), rs)
		return save(&nm)
	})
	return c.ID, err
}

func (l contactLocal) id() string         { return l.c.ID }
func (l contactLocal) check() error       { return l.c.Validate() }
func (l contactLocal) view() contactView  { return viewOfContact(l.c) }
func (l contactLocal) changed() time.Time { return l.c.UpdatedAt }
func (l contactLocal) countCode() string  { return CountCode(l.c.ID) }

func (l contactLocal) get(ctx context.Context, mkID string) (metakocka.Partner, bool, error) {
	return l.s.getPartner(ctx, mkID)
}

func (l contactLocal) lookup(ctx context.Context, cc string, _ error) (metakocka.Partner, bool, error) {
	return l.s.getPartner(ctx, cc)
}

func (l contactLocal) creator(cc string) (string, func(context.Context) (remoteID, error), error) {
	v := l.view()
	p := l.s.newPartner(v)
	p.CountCode = cc
	return "add partner " + cc, func(ctx context.Context) (remoteID, error) {
		res, err := l.s.mk.AddPartner(ctx, p)
		if err != nil {
			return remoteID{mkID: res.MkID}, err
		}
		return remoteID{mkID: res.MkID}, l.added(ctx, v, res)
	}, nil
}

// added keeps the ids add_partner answered (its address ids in the order
// sent: billing, then delivery) and sets what add_partner does not
// document, payment_due_days, on the billing address by its mk_id.
func (l contactLocal) added(ctx context.Context, v contactView, res metakocka.AddPartnerResult) error {
	ids := mksync.PartnerIDs{ContactPerson: res.MkContactID}
	if len(res.MkAddressIDList) > 0 {
		ids.BillingAddress = res.MkAddressIDList[0].MkID
	}
	if len(res.MkAddressIDList) > 1 && v.hasDelivery() {
		ids.DeliveryAddress = res.MkAddressIDList[1].MkID
	}
	if v.PaymentDueDays > 0 && ids.BillingAddress != "" {
		_, err := l.s.mk.UpdatePartner(ctx, metakocka.Partner{MkID: res.MkID, PartnerDeliveryAddressList: metakocka.List[metakocka.Address]{
			{MkID: ids.BillingAddress, PaymentDueDays: metakocka.NewInt(int64(v.PaymentDueDays))}}})
		if err != nil {
			return fmt.Errorf("set payment due days of new partner %s: %w", res.MkID, err)
		}
	}
	if err := l.s.e.store.SetContactPartnerIDs(ctx, l.s.tenantID, l.c.ID, ids); err != nil {
		return fmt.Errorf("keep partner ids of contact %s: %w", l.c.ID, err)
	}
	l.c.PartnerIDs = ids
	return nil
}

func (l contactLocal) adopt(ctx context.Context, p *metakocka.Partner) (recordResult, error) {
	return adoptOrUpdate(ctx, l.s, l, p)
}

// update writes the contact onto the partner p. Metakocka keeps a field
// when an update sends it empty: what it holds afterwards is what the next
// pull compares with.
func (l contactLocal) update(ctx context.Context, remote *metakocka.Partner) (contactView, error) {
	updated, err := l.s.mk.UpdatePartner(ctx, l.s.partnerUpdate(l.view(), l.c, remote))
	if err != nil {
		return contactView{}, fmt.Errorf("update partner %s: %w", remote.MkID, err)
	}
	if err := l.s.keepPartnerIDs(ctx, l.s.e.store, l.c, &updated); err != nil {
		return contactView{}, err
	}
	return viewOfPartner(&updated), nil
}

// withView is the contact with v written over its synced fields (a merge).
func (l contactLocal) withView(v contactView) (local[metakocka.Partner, contactView], error) {
	c := *l.c
	v.applyTo(&c)
	return contactLocal{l.contacts, &c}, nil
}

// apply writes the view (the partner's, or a merge) onto the contact and
// maps them, in one transaction.
func (l contactLocal) apply(ctx context.Context, rv contactView, p *metakocka.Partner, pulled snapshot) error {
	c := l.c
	rv.applyTo(c)
	return l.s.inTx(ctx, func(tx mksync.Store, save func(*mksync.Mapping) error) error {
		if err := tx.UpdateContact(ctx, l.s.tenantID, c); err != nil {
			return fmt.Errorf("update contact %s: %w", c.ID, err)
		}
		if err := l.s.keepPartnerIDs(ctx, tx, c, p); err != nil {
			return err
		}
		nm := l.s.synced(mksync.EntityContact, c.ID, p.MkID, p.CountCode, snapAs(viewOfContact(c), pulled), pulled)
		return save(&nm)
	})
}

// pushContact syncs one contact to Metakocka (see push).
func (s *session) pushContact(ctx context.Context, c mksync.Contact, force bool) recordResult {
	return pushOne(ctx, s, newContacts(s), &c, force)
}

// pullPartner syncs one Metakocka partner into the CRM (see pull) and
// returns the local contact id when there is one.
func (s *session) pullPartner(ctx context.Context, p metakocka.Partner, force bool) (recordResult, string) {
	return pullOne(ctx, s, newContacts(s), p, force)
}

// match finds the partners that are this contact by a strong key, the
// first rule that finds any deciding: the tax number (normalised, see
// TaxKey; get_partner is asked in each of TaxSearchForms), then the e-mail (case-insensitive). A partner mksync created
// for another contact (its count_code) is never a candidate.
func (l contactLocal) match(ctx context.Context) ([]candidate[metakocka.Partner], error) {
	home := l.s.e.homePrefix()
	if key := TaxKey(l.c.TaxID, home); key != "" {
		got, err := l.s.partnersBy(ctx, TaxSearchForms(l.c.TaxID, home), func(q string) metakocka.PartnerQuery { return metakocka.PartnerQuery{PartnerTaxNumber: q} },
			func(p *metakocka.Partner) bool { return TaxKey(p.TaxIDNumber, home) == key })
		if err != nil || len(got) > 0 {
			return l.candidates(got, "tax number"), err
		}
	}
	if key := EmailKey(l.c.Email); key != "" {
		got, err := l.s.partnersBy(ctx, []string{key, strings.TrimSpace(l.c.Email)}, func(q string) metakocka.PartnerQuery { return metakocka.PartnerQuery{PartnerEmail: q} },
			func(p *metakocka.Partner) bool {
				return EmailKey(viewOfPartner(p).Email) == key || partnerHasEmail(p, key)
			})
		return l.candidates(got, "e-mail"), err
	}
	return nil, nil
}

func (l contactLocal) candidates(ps []metakocka.Partner, key string) []candidate[metakocka.Partner] {
	var out []candidate[metakocka.Partner]
	for _, p := range ps {
		if id, ok := LocalIDOf(p.CountCode); ok && id != l.c.ID {
			continue
		}
		out = append(out, candidate[metakocka.Partner]{r: p, mkID: p.MkID, key: key})
	}
	return out
}

// partnersBy asks get_partner with each distinct form of a key and keeps
// the partners keep accepts, each once.
func (s *session) partnersBy(ctx context.Context, forms []string, query func(string) metakocka.PartnerQuery, keep func(*metakocka.Partner) bool) ([]metakocka.Partner, error) {
	var out []metakocka.Partner
	var asked []string
	for _, f := range forms {
		if f == "" || slices.Contains(asked, f) {
			continue
		}
		asked = append(asked, f)
		ps, err := s.mk.GetPartner(ctx, query(f))
		if err != nil {
			return nil, fmt.Errorf("match partner: get partner: %w", err)
		}
		for i := range ps {
			p := &ps[i]
			if keep(p) && !slices.ContainsFunc(out, func(o metakocka.Partner) bool { return o.MkID == p.MkID }) {
				out = append(out, *p)
			}
		}
	}
	return out, nil
}

// partnerHasEmail reports whether any contact person of p has the e-mail
// key.
func partnerHasEmail(p *metakocka.Partner, key string) bool {
	if p.PartnerContact != nil && EmailKey(p.PartnerContact.Email) == key {
		return true
	}
	return slices.ContainsFunc(p.PartnerContactList, func(c metakocka.Contact) bool { return EmailKey(c.Email) == key })
}
