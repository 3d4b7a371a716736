package mkfake

import (
	"slices"
	"strconv"
	"strings"
	"time"
)

// Partner is a Metakocka partner (customer or supplier) as the simulator
// stores it. The first address is the main one ("Račun"), made from the
// partner's street, post_number, place and country.
type Partner struct {
	MkID               string           `json:"mk_id"`
	CountCode          string           `json:"count_code"`
	Customer           string           `json:"customer"`
	BusinessEntity     bool             `json:"business_entity"`
	Taxpayer           bool             `json:"taxpayer"`
	ForeignCounty      bool             `json:"foreign_county"`
	Buyer              bool             `json:"buyer"`
	Supplier           bool             `json:"supplier"`
	TaxIDNumber        string           `json:"tax_id_number,omitempty"`
	RegistrationNumber string           `json:"registration_number,omitempty"`
	Addresses          []PartnerAddress `json:"partner_delivery_address_list"`
	Contacts           []PartnerContact `json:"partner_contact_list"`
	LastChange         time.Time        `json:"last_change"`
}

// PartnerAddress is one address of a partner. AddressType is "Račun"
// (billing, the main address), "Dobava" (delivery) or "Poslovna enota".
type PartnerAddress struct {
	MkID        string `json:"mk_id"`
	AddressType string `json:"address_type"`
	Street      string `json:"street,omitempty"`
	PostNumber  string `json:"post_number,omitempty"`
	City        string `json:"city,omitempty"`
	Province    string `json:"province,omitempty"`
	Country     string `json:"country,omitempty"`
	// Language, PaymentDueDays, CurrencyID and Currency are kept as given;
	// Language defaults to the company's ("Slovenski"), as every documented
	// answer shows it.
	Language       string `json:"language,omitempty"`
	PaymentDueDays string `json:"payment_due_days,omitempty"`
	CurrencyID     string `json:"currency_id,omitempty"`
	Currency       string `json:"currency,omitempty"`
}

// defaultLanguage is the language Metakocka gives a new address.
const defaultLanguage = "Slovenski"

// PartnerContact is a contact person, attached to one of the partner's
// addresses.
type PartnerContact struct {
	MkID        string `json:"mk_id"`
	MkAddressID string `json:"mk_address_id"`
	Name        string `json:"name,omitempty"`
	Email       string `json:"email,omitempty"`
	GSM         string `json:"gsm,omitempty"`
	Phone       string `json:"phone,omitempty"`
	Fax         string `json:"fax,omitempty"`
}

// partnerRec is a stored partner.
type partnerRec struct {
	Partner
	seq uint64
}

func (p *Partner) clone() Partner {
	out := *p
	out.Addresses = slices.Clone(p.Addresses)
	out.Contacts = slices.Clone(p.Contacts)
	return out
}

// main returns the partner's main address; every stored partner has one.
func (p *Partner) main() *PartnerAddress {
	return &p.Addresses[0]
}

// Partners returns copies of a company's partners in creation order; nil
// for an unknown company.
func (s *Server) Partners(companyID string) []Partner {
	return snapshot(s, companyID, partnersOf, (*partnerRec).clone)
}

// PartnerIDs returns the mk_ids of a company's partners in creation
// order: what a caller that walks every partner needs, without copying
// them.
func (s *Server) PartnerIDs(companyID string) []string {
	return snapshot(s, companyID, partnersOf, func(p *partnerRec) string { return p.MkID })
}

func partnersOf(c *company) []*partnerRec { return c.partners }

// Index keys of partners. A tax number is compared exactly as stored:
// get_partner.md does not say that Metakocka ignores spaces or case, so
// "SI 12345678" is not found by "SI12345678" (see doc.go).
func taxKey(v string) string { return v }

func telKey(v string) string {
	return strings.Map(func(r rune) rune {
		if r >= '0' && r <= '9' {
			return r
		}
		return -1
	}, v)
}

func addrKey(customer, street, post string) string {
	if customer == "" {
		return ""
	}
	return lower(customer) + "|" + lower(street) + "|" + lower(post)
}

func (c *company) indexPartner(p *partnerRec) {
	c.partnerByID[p.MkID] = p
	c.partnerByCode[p.CountCode] = p
	c.partnerByTax.add(taxKey(p.TaxIDNumber), p)
	m := p.main()
	c.partnerByAddr.add(addrKey(p.Customer, m.Street, m.PostNumber), p)
	for _, ct := range p.Contacts {
		c.partnerByMail.add(lower(ct.Email), p)
		c.partnerByTel.add(telKey(ct.GSM), p)
		if telKey(ct.Phone) != telKey(ct.GSM) {
			c.partnerByTel.add(telKey(ct.Phone), p)
		}
	}
}

func (c *company) unindexPartner(p *partnerRec) {
	delete(c.partnerByCode, p.CountCode)
	c.partnerByTax.remove(taxKey(p.TaxIDNumber), p)
	m := p.main()
	c.partnerByAddr.remove(addrKey(p.Customer, m.Street, m.PostNumber), p)
	for _, ct := range p.Contacts {
		c.partnerByMail.remove(lower(ct.Email), p)
		c.partnerByTel.remove(telKey(ct.GSM), p)
		if telKey(ct.Phone) != telKey(ct.GSM) {
			c.partnerByTel.remove(telKey(ct.Phone), p)
		}
	}
}

// setPartnerFields copies the partner attributes present in in onto p.
// Empty values leave the current value (as Metakocka's updates do). The
// top-level address fields (street, post_number, place, province, country)
// fill the main address only when address is true: on add_partner, never on
// update_partner (see updatePartner).
func setPartnerFields(p *Partner, in obj, address bool) {
	for key, dst := range map[string]*bool{
		"business_entity": &p.BusinessEntity, "taxpayer": &p.Taxpayer,
		"foreign_county": &p.ForeignCounty, "buyer": &p.Buyer, "supplier": &p.Supplier,
	} {
		if b, ok := boolOf(in[key]); ok {
			*dst = b
		}
	}
	setStr := func(dst *string, keys ...string) {
		for _, k := range keys {
			if v := field(in, k); v != "" {
				*dst = v
				return
			}
		}
	}
	setStr(&p.Customer, "customer")
	setStr(&p.TaxIDNumber, "tax_id_number")
	setStr(&p.RegistrationNumber, "registration_number")
	if !address {
		return
	}
	m := p.main()
	setStr(&m.Street, "street")
	setStr(&m.PostNumber, "post_number")
	setStr(&m.City, "place", "city")
	setStr(&m.Province, "province")
	setStr(&m.Country, "country")
}

func setAddressFields(a *PartnerAddress, in obj) {
	for dst, k := range map[*string]string{
		&a.AddressType: "address_type", &a.Street: "street", &a.PostNumber: "post_number",
		&a.Province: "province", &a.Country: "country", &a.Language: "language",
		&a.PaymentDueDays: "payment_due_days", &a.CurrencyID: "currency_id", &a.Currency: "currency",
	} {
		if v := field(in, k); v != "" {
			*dst = v
		}
	}
	if v := field(in, "city"); v != "" {
		a.City = v
	} else if v := field(in, "place"); v != "" {
		a.City = v
	}
}

func setContactFields(ct *PartnerContact, in obj) {
	for dst, k := range map[*string]string{
		&ct.Email: "email", &ct.GSM: "gsm", &ct.Phone: "phone", &ct.Fax: "fax",
	} {
		if v := field(in, k); v != "" {
			*dst = v
		}
	}
	if v := field(in, "name"); v != "" {
		ct.Name = v
	} else if v := field(in, "contact"); v != "" {
		ct.Name = v
	}
}

// listOf returns the objects under the singular key and the "_list" key.
func listOf(in obj, single, list string) []obj {
	return append(objects(in[single]), objects(in[list])...)
}

// createPartner stores a new partner from a request's partner object.
// Callers hold c.mu.
func (s *Server) createPartner(c *company, in obj) (*partnerRec, error) {
	if field(in, "customer") == "" {
		return nil, invalidf("Paramether 'customer' is required for partner")
	}
	code := field(in, "count_code")
	if code != "" {
		if _, taken := c.partnerByCode[code]; taken {
			return nil, refusedf("Partner with count_code '%s' already exists", code)
		}
	}
	id, seq := c.nextID()
	p := &partnerRec{seq: seq}
	p.MkID = id
	p.Buyer = true
	mainID, _ := c.nextID()
	p.Addresses = []PartnerAddress{{MkID: mainID, AddressType: "Račun", Language: defaultLanguage}}
	setPartnerFields(&p.Partner, in, true)
	for _, a := range listOf(in, "partner_delivery_address", "partner_delivery_address_list") {
		// A listed billing address ("Račun", as get_partner answers it) is
		// the main address when the partner has none at the top level.
		if m := p.main(); field(a, "address_type") == "Račun" && m.Street == "" && m.PostNumber == "" && m.City == "" {
			setAddressFields(m, a)
			continue
		}
		aid, _ := c.nextID()
		addr := PartnerAddress{MkID: aid, AddressType: "Dobava", Language: defaultLanguage}
		setAddressFields(&addr, a)
		p.Addresses = append(p.Addresses, addr)
	}
	for _, in := range listOf(in, "partner_contact", "partner_contact_list") {
		cid, _ := c.nextID()
		ct := PartnerContact{MkID: cid, MkAddressID: mainID}
		if a := field(in, "mk_address_id"); a != "" && p.address(a) != nil {
			ct.MkAddressID = a
		}
		setContactFields(&ct, in)
		if b, _ := boolOf(in["useCustomerAsContact"]); b && ct.Name == "" {
			ct.Name = p.Customer
		}
		p.Contacts = append(p.Contacts, ct)
	}
	if code == "" {
		code = c.nextCode("partner", "%d", 1000, func(k string) bool { return c.partnerByCode[k] != nil })
	}
	p.CountCode = code
	p.LastChange = s.now()
	c.partners = append(c.partners, p)
	c.indexPartner(p)
	return p, nil
}

func (p *Partner) address(mkID string) *PartnerAddress {
	for i := range p.Addresses {
		if p.Addresses[i].MkID == mkID {
			return &p.Addresses[i]
		}
	}
	return nil
}

func (p *Partner) contact(mkID string) *PartnerContact {
	for i := range p.Contacts {
		if p.Contacts[i].MkID == mkID {
			return &p.Contacts[i]
		}
	}
	return nil
}

// partnerJSON is a partner as get_partner and update_partner answer it.
func partnerJSON(p *Partner) obj {
	out := obj{
		"mk_id":           p.MkID,
		"count_code":      p.CountCode,
		"customer":        p.Customer,
		"business_entity": boolStr(p.BusinessEntity),
		"taxpayer":        boolStr(p.Taxpayer),
		"foreign_county":  boolStr(p.ForeignCounty),
		"buyer":           boolStr(p.Buyer),
		"supplier":        boolStr(p.Supplier),
	}
	if p.TaxIDNumber != "" {
		out["tax_id_number"] = p.TaxIDNumber
	}
	if p.RegistrationNumber != "" {
		out["registration_number"] = p.RegistrationNumber
	}
	addrs := make([]any, 0, len(p.Addresses))
	for _, a := range p.Addresses {
		m := obj{"mk_id": a.MkID, "address_type": a.AddressType}
		putNonEmpty(m, "street", a.Street)
		putNonEmpty(m, "post_number", a.PostNumber)
		putNonEmpty(m, "city", a.City)
		putNonEmpty(m, "province", a.Province)
		putNonEmpty(m, "country", a.Country)
		putNonEmpty(m, "payment_due_days", a.PaymentDueDays)
		putNonEmpty(m, "language", a.Language)
		putNonEmpty(m, "currency_id", a.CurrencyID)
		putNonEmpty(m, "currency", a.Currency)
		addrs = append(addrs, m)
	}
	contacts := make([]any, 0, len(p.Contacts))
	for _, ct := range p.Contacts {
		m := obj{"mk_id": ct.MkID, "mk_address_id": ct.MkAddressID}
		if a := p.address(ct.MkAddressID); a != nil {
			putNonEmpty(m, "contact_address", a.Street)
		}
		putNonEmpty(m, "name", ct.Name)
		putNonEmpty(m, "gsm", ct.GSM)
		putNonEmpty(m, "phone", ct.Phone)
		putNonEmpty(m, "fax", ct.Fax)
		putNonEmpty(m, "email", ct.Email)
		contacts = append(contacts, m)
	}
	out["partner_contact_list"] = contacts
	out["partner_delivery_address_list"] = addrs
	return out
}

func putNonEmpty(m obj, key, v string) {
	if v != "" {
		m[key] = v
	}
}

// getPartner: search partners by partner_id (mk_id or count_code),
// partner_name (case-insensitive substring of the name),
// partner_tax_number (exactly as stored), partner_email or
// partner_phone_number; several criteria must all match.
func (s *Server) getPartner(c *company, req obj) (obj, error) {
	id, name := field(req, "partner_id"), lower(field(req, "partner_name"))
	tax, mail, tel := taxKey(field(req, "partner_tax_number")), lower(field(req, "partner_email")), telKey(field(req, "partner_phone_number"))
	if id == "" && name == "" && tax == "" && mail == "" && tel == "" {
		return nil, invalidf("Missing search paramether : partner_id, partner_name, partner_tax_number, partner_email or partner_phone_number")
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	var candidates []*partnerRec
	switch {
	case id != "":
		if p := c.partnerByID[id]; p != nil {
			candidates = append(candidates, p)
		} else if p := c.partnerByCode[id]; p != nil {
			candidates = append(candidates, p)
		}
	case tax != "":
		candidates = c.partnerByTax.all(tax)
	case mail != "":
		candidates = c.partnerByMail.all(mail)
	case tel != "":
		candidates = c.partnerByTel.all(tel)
	default:
		candidates = c.partners
	}
	list := []any{}
	seen := map[*partnerRec]bool{}
	for _, p := range candidates {
		if seen[p] {
			continue
		}
		seen[p] = true
		if name != "" && !strings.Contains(lower(p.Customer), name) {
			continue
		}
		if tax != "" && taxKey(p.TaxIDNumber) != tax {
			continue
		}
		if mail != "" && !slices.ContainsFunc(p.Contacts, func(ct PartnerContact) bool { return lower(ct.Email) == mail }) {
			continue
		}
		if tel != "" && !slices.ContainsFunc(p.Contacts, func(ct PartnerContact) bool { return telKey(ct.GSM) == tel || telKey(ct.Phone) == tel }) {
			continue
		}
		list = append(list, partnerJSON(&p.Partner))
	}
	return obj{"partner_list_count": itoa(len(list)), "partner_list": list}, nil
}

// addPartner: add_partner with a "partner" object.
func (s *Server) addPartner(c *company, req obj) (obj, error) {
	in, ok := req["partner"].(map[string]any)
	if !ok {
		return nil, invalidf("Paramether 'partner' is required")
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	p, err := s.createPartner(c, in)
	if err != nil {
		return nil, err
	}
	addrs := make([]any, 0, len(p.Addresses))
	for _, a := range p.Addresses {
		addrs = append(addrs, obj{"mk_id": a.MkID, "street": a.Street})
	}
	out := obj{"mk_id": p.MkID, "mk_address_id_list": addrs}
	if len(p.Contacts) > 0 {
		out["mk_contact_id"] = p.Contacts[0].MkID
	}
	return out, nil
}

// updatePartner: update_partner, the partner chosen by mk_id or count_code.
func (s *Server) updatePartner(c *company, req obj) (obj, error) {
	in, ok := req["partner"].(map[string]any)
	if !ok {
		return nil, invalidf("Paramether 'partner' is required")
	}
	id, code := field(in, "mk_id"), field(in, "count_code")
	c.mu.Lock()
	defer c.mu.Unlock()
	var p *partnerRec
	switch {
	case id != "":
		if p = c.partnerByID[id]; p == nil {
			return nil, refusedf("Cannot find partner with mk_id '%s'", id)
		}
	case code != "":
		if p = c.partnerByCode[code]; p == nil {
			return nil, refusedf("Cannot find partner with count_code '%s'", code)
		}
	default:
		return nil, invalidf("Paramether 'mk_id' or 'count_code' is required to select partner")
	}
	if id != "" && code != "" && code != p.CountCode {
		if _, taken := c.partnerByCode[code]; taken {
			return nil, refusedf("Partner with count_code '%s' already exists", code)
		}
	}
	// Check every referenced id before changing anything.
	addrIns := listOf(in, "partner_delivery_address", "partner_delivery_address_list")
	contactIns := listOf(in, "partner_contact", "partner_contact_list")
	for _, a := range addrIns {
		if aid := field(a, "mk_id"); aid != "" && p.address(aid) == nil {
			return nil, refusedf("Cannot find address with mk_id '%s' on partner %s", aid, p.MkID)
		}
	}
	for _, ct := range contactIns {
		if cid := field(ct, "mk_id"); cid != "" && p.contact(cid) == nil {
			return nil, refusedf("Cannot find contact with mk_id '%s' on partner %s", cid, p.MkID)
		}
		// update_partner.md: a new contact needs mk_address_id ("mandatory
		// parameter"), an address of this partner.
		if field(ct, "mk_id") == "" {
			aid := field(ct, "mk_address_id")
			if aid == "" {
				return nil, invalidf("Paramether 'mk_address_id' is required for a new contact")
			}
			if p.address(aid) == nil {
				return nil, refusedf("Cannot find address with mk_id '%s' on partner %s", aid, p.MkID)
			}
		}
	}

	c.unindexPartner(p)
	if id != "" && code != "" {
		p.CountCode = code
	}
	// update_partner.md's example sends a top-level street and post_number
	// and answers with the billing address unchanged: the top-level address
	// fields change nothing (addresses are changed through
	// partner_delivery_address_list by mk_id), whatever Options say.
	setPartnerFields(&p.Partner, in, false)
	for _, a := range addrIns {
		if aid := field(a, "mk_id"); aid != "" {
			setAddressFields(p.address(aid), a)
			continue
		}
		nid, _ := c.nextID()
		addr := PartnerAddress{MkID: nid, AddressType: "Dobava", Language: defaultLanguage}
		setAddressFields(&addr, a)
		p.Addresses = append(p.Addresses, addr)
	}
	for _, ct := range contactIns {
		if cid := field(ct, "mk_id"); cid != "" {
			setContactFields(p.contact(cid), ct)
			continue
		}
		nid, _ := c.nextID()
		nc := PartnerContact{MkID: nid, MkAddressID: field(ct, "mk_address_id")}
		setContactFields(&nc, ct)
		p.Contacts = append(p.Contacts, nc)
	}
	p.LastChange = s.now()
	c.indexPartner(p)
	return obj{"partner_list_count": "1", "partner_list": []any{partnerJSON(&p.Partner)}}, nil
}

func itoa(n int) string { return strconv.Itoa(n) }
