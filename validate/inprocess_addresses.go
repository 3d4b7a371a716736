package validate

import (
	"context"
	"fmt"

	"github.com/mksync/mksync/metakocka"
)

// Partner implements PartnerAddresses with get_partner.
func (d *direct) Partner(ctx context.Context, mkID string) (RemotePartner, error) {
	ps, err := d.w.mk.GetPartner(ctx, metakocka.PartnerQuery{PartnerID: mkID})
	if err != nil {
		return RemotePartner{}, fmt.Errorf("get partner %s: %w", mkID, err)
	}
	for _, p := range ps {
		if p.MkID != mkID {
			continue
		}
		var out RemotePartner
		for _, a := range p.PartnerDeliveryAddressList {
			out.Addresses = append(out.Addresses, RemoteAddress{MkID: a.MkID, Type: a.AddressType, Street: a.Street, PostNumber: a.PostNumber, City: a.City})
		}
		for _, c := range p.PartnerContactList {
			out.Contacts = append(out.Contacts, RemoteContact{MkID: c.MkID, Name: c.Name, Email: c.Email})
		}
		return out, nil
	}
	return RemotePartner{}, fmt.Errorf("partner %s not found", mkID)
}
