package web

import (
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"github.com/mksync/mksync"
)

// The contact page edits the partner fields Metakocka keeps beside the
// contact's own (its contact person, buyer and taxpayer flags, payment
// terms and delivery address): the CRM's other fields are the CRM's to
// edit, through the API. A save is one versioned update of the contact
// (optimistic locking, as the API's PUT), validated whole first, so a
// refused form writes nothing.

// PartnerForm is the contact page's form of the partner fields, with the
// values typed and the problems of a refused save.
type PartnerForm struct {
	CSRF string
	ID   string
	// Version is the contact's version the form was read at.
	Version            int64
	ContactPerson      string
	Buyer              string // "", "yes" or "no"
	BuyerOptions       []Option
	Taxpayer           bool
	PaymentDueDays     string
	DeliveryStreet     string
	DeliveryPostNumber string
	DeliveryCity       string
	DeliveryCountry    string
	// Problems are keyed by the API's field names (paymentDueDays, …);
	// "form" is a problem of the whole form.
	Problems []Field
	Saved    bool
}

// Problem returns the problem of form field name, or "".
func (f PartnerForm) Problem(name string) string {
	for _, p := range f.Problems {
		if p.Label == name {
			return p.Value
		}
	}
	return ""
}

// PartnerInput is one text field of the delivery address.
type PartnerInput struct {
	Name, Label, Value, Problem string
	Max                         int
}

// Input returns the delivery address field name with its value and
// problem.
func (f PartnerForm) Input(name string) PartnerInput {
	in := PartnerInput{Name: name, Problem: f.Problem(name)}
	switch name {
	case "deliveryStreet":
		in.Label, in.Value, in.Max = "Street", f.DeliveryStreet, 150
	case "deliveryPostNumber":
		in.Label, in.Value, in.Max = "Post number", f.DeliveryPostNumber, 20
	case "deliveryCity":
		in.Label, in.Value, in.Max = "City", f.DeliveryCity, 100
	case "deliveryCountry":
		in.Label, in.Value, in.Max = "Country", f.DeliveryCountry, 50
	}
	return in
}

// SavedFlash is the message of a save.
func (f PartnerForm) SavedFlash() Flash { return Flash{Kind: "ok", Message: "Partner details saved."} }

// OtherProblems are the problems of fields the form does not show (a
// stored value the contact's other rules refuse), so none is hidden.
func (f PartnerForm) OtherProblems() []Field {
	shown := map[string]bool{"form": true, "contactPerson": true, "buyer": true, "paymentDueDays": true,
		"deliveryStreet": true, "deliveryPostNumber": true, "deliveryCity": true, "deliveryCountry": true}
	var out []Field
	for _, p := range f.Problems {
		if !shown[p.Label] {
			out = append(out, p)
		}
	}
	return out
}

// newPartnerForm is the form of a stored contact.
func newPartnerForm(s *session, c mksync.Contact) PartnerForm {
	f := PartnerForm{CSRF: s.CSRF, ID: c.ID, Version: c.Version, ContactPerson: c.ContactPerson, Taxpayer: c.Taxpayer,
		DeliveryStreet: c.DeliveryStreet, DeliveryPostNumber: c.DeliveryPostNumber,
		DeliveryCity: c.DeliveryCity, DeliveryCountry: c.DeliveryCountry, Buyer: buyerValue(c.Buyer)}
	if c.PaymentDueDays != 0 {
		f.PaymentDueDays = strconv.Itoa(c.PaymentDueDays)
	}
	f.BuyerOptions = buyerOptions(f.Buyer)
	return f
}

func buyerValue(b *bool) string {
	switch {
	case b == nil:
		return ""
	case *b:
		return "yes"
	}
	return "no"
}

func buyerOptions(selected string) []Option {
	return options(selected, [2]string{"", "Not said (Metakocka's own)"}, [2]string{"yes", "Yes"}, [2]string{"no", "No"})
}

// partnerFormValues reads the posted form into f and onto c, and returns
// the problems of values that are not even of the right kind.
func partnerFormValues(r *http.Request, f *PartnerForm, c *mksync.Contact) map[string]string {
	problems := map[string]string{}
	val := func(name string) string { return strings.TrimSpace(r.PostFormValue(name)) }
	f.ContactPerson, f.Buyer, f.Taxpayer, f.PaymentDueDays = val("contactPerson"), val("buyer"), r.PostFormValue("taxpayer") == "on", val("paymentDueDays")
	f.DeliveryStreet, f.DeliveryPostNumber, f.DeliveryCity, f.DeliveryCountry = val("deliveryStreet"), val("deliveryPostNumber"), val("deliveryCity"), val("deliveryCountry")
	f.BuyerOptions = buyerOptions(f.Buyer)
	c.ContactPerson, c.Taxpayer = f.ContactPerson, f.Taxpayer
	c.DeliveryStreet, c.DeliveryPostNumber, c.DeliveryCity, c.DeliveryCountry = f.DeliveryStreet, f.DeliveryPostNumber, f.DeliveryCity, f.DeliveryCountry
	switch f.Buyer {
	case "":
		c.Buyer = nil
	case "yes", "no":
		b := f.Buyer == "yes"
		c.Buyer = &b
	default:
		problems["buyer"] = "must be yes, no or not said"
	}
	c.PaymentDueDays = 0
	if f.PaymentDueDays != "" {
		n, err := strconv.Atoi(f.PaymentDueDays)
		if err != nil {
			problems["paymentDueDays"] = "must be a whole number of days"
		}
		c.PaymentDueDays = n
	}
	return problems
}

// savePartner stores the contact's partner fields. A refused save shows
// the form again with each problem on its field and writes nothing; a
// contact changed since the page was read is refused (409) rather than
// overwritten.
func (h *Handler) savePartner(k kind) pageFunc {
	return func(w http.ResponseWriter, r *http.Request, s *session) error {
		ctx := r.Context()
		c, err := h.cfg.Store.FindContactByID(ctx, s.TenantID, r.PathValue("id"))
		if err != nil {
			return fmt.Errorf("find contact: %w", err)
		}
		// The form keeps the version it was read at, so that sending it
		// again after a refusal cannot overwrite a newer version unseen.
		read, _ := strconv.ParseInt(r.PostFormValue("version"), 10, 64)
		f := PartnerForm{CSRF: s.CSRF, ID: c.ID, Version: read}
		status, problems := http.StatusOK, partnerFormValues(r, &f, &c)
		if read != c.Version {
			status, problems = http.StatusConflict, map[string]string{"form": errChangedMeanwhile}
		}
		if len(problems) == 0 {
			if status, problems, err = h.updateContact(r, s, &c); err != nil {
				return err
			}
		}
		if len(problems) > 0 {
			if status == http.StatusOK {
				status = http.StatusBadRequest
			}
			for _, name := range sortedKeys(problems) {
				f.Problems = append(f.Problems, Field{Label: name, Value: problems[name]})
			}
			return h.showPartner(w, r, s, k, c, f, status)
		}
		if isHTMX(r) {
			saved := newPartnerForm(s, c)
			saved.Saved = true
			h.render(w, r, http.StatusOK, "detail.html", "partnerResult", PartnerResult{Form: saved, Fields: contactRecord(c).Fields})
			return nil
		}
		redirect(w, r, "/"+k.info.Slug+"/"+url.PathEscape(c.ID))
		return nil
	}
}

// updateContact validates and writes c. A refusal a person can fix comes
// back as the status and problems to show; anything else is an error.
func (h *Handler) updateContact(r *http.Request, s *session, c *mksync.Contact) (int, map[string]string, error) {
	err := c.Validate()
	if err == nil {
		err = h.cfg.Store.UpdateContact(r.Context(), s.TenantID, c)
	}
	switch mksync.ErrorCode(err) {
	case "":
		return http.StatusOK, nil, nil
	case mksync.EINVALID:
		if d := mksync.ErrorDetails(err); len(d) > 0 {
			return http.StatusBadRequest, d, nil
		}
		return http.StatusBadRequest, map[string]string{"form": mksync.ErrorMessage(err)}, nil
	case mksync.ECONFLICT:
		return http.StatusConflict, map[string]string{"form": errChangedMeanwhile}, nil
	}
	return 0, nil, fmt.Errorf("update contact %s: %w", c.ID, err)
}

// errChangedMeanwhile is the problem of a save over a newer version.
const errChangedMeanwhile = "this contact was changed since you opened the page; reload it to see the change, then edit again"

// showPartner answers a refused save: the form alone for htmx, else the
// contact's page with the form as typed.
func (h *Handler) showPartner(w http.ResponseWriter, r *http.Request, s *session, k kind, c mksync.Contact, f PartnerForm, status int) error {
	if isHTMX(r) {
		h.render(w, r, status, "detail.html", "partnerForm", f)
		return nil
	}
	stored, err := k.find(r.Context(), h.cfg.Store, s.TenantID, c.ID)
	if err != nil {
		return err
	}
	p, err := h.detailPage(r, s, k, stored)
	if err != nil {
		return err
	}
	p.Partner = &f
	h.renderPage(w, r, status, "detail.html", p)
	return nil
}

// PartnerResult is a saved partner form with the record's fields as they
// are now (swapped into the page out of band).
type PartnerResult struct {
	Form   PartnerForm
	Fields []Field
}
