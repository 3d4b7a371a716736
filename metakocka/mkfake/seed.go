package mkfake

import (
	"fmt"
	"math/rand/v2"

	"github.com/shopspring/decimal"
)

// demoPartners are the demo data set's partners: name, tax number,
// street, post number, place, e-mail, phone.
var demoPartners = [][7]string{
	{"Kovinoplastika Novak d.o.o.", "SI12345678", "Tržaška cesta 12", "1000", "Ljubljana", "info@kovinoplastika-novak.si", "01 234 56 78"},
	{"Mlinar Horvat s.p.", "SI23456789", "Partizanska ulica 5", "2000", "Maribor", "miha.horvat@mlinar.si", "041 555 123"},
	{"Gradnje Krajnc d.o.o.", "SI34567890", "Ljubljanska cesta 44", "3000", "Celje", "pisarna@gradnje-krajnc.si", "03 425 11 00"},
	{"Vinska klet Zupan", "SI45678901", "Vinogradniška pot 3", "8000", "Novo mesto", "klet@zupan-vino.si", "031 222 333"},
	{"Potep turizem d.o.o.", "SI56789012", "Prešernova ulica 18", "4000", "Kranj", "rezervacije@potep.si", "04 201 33 44"},
	{"Ana Potočnik", "", "Koroška cesta 7", "2380", "Slovenj Gradec", "ana.potocnik@gmail.com", "040 987 654"},
	{"Elektro Kovačič d.o.o.", "SI67890123", "Industrijska cesta 2", "5000", "Nova Gorica", "prodaja@elektro-kovacic.si", "05 330 20 10"},
	{"Pekarna Mlakar", "SI78901234", "Glavni trg 9", "9000", "Murska Sobota", "narocila@pekarna-mlakar.si", "02 521 44 55"},
	{"Jure Kos", "", "Obala 22", "6320", "Portorož", "jure.kos@siol.net", "051 444 777"},
	{"Lesnina Vidmar d.o.o.", "SI89012345", "Cesta 4. julija 60", "8270", "Krško", "info@lesnina-vidmar.si", "07 490 55 66"},
	{"Zdravilišče Golob d.d.", "SI90123456", "Zdraviliški trg 1", "3250", "Rogaška Slatina", "recepcija@golob-spa.si", "03 811 70 00"},
	{"Tiskarna Turk d.o.o.", "SI11223344", "Kidričeva ulica 15", "4220", "Škofja Loka", "tisk@tiskarna-turk.si", "04 506 12 12"},
}

// demoProducts are the demo data set's products: name, unit, net price,
// tax code, service.
var demoProducts = []struct {
	name, unit, price, tax string
	service                bool
}{
	{"Vijak M8x40 pocinkan", "kos", "0.12", "220", false},
	{"Matica M8 pocinkana", "kos", "0.05", "220", false},
	{"Podložka 8 mm", "kos", "0.02", "220", false},
	{"Vrtalni stroj 750 W", "kos", "89.90", "220", false},
	{"Akumulatorski vijačnik 18 V", "kos", "129.00", "220", false},
	{"Brusni papir P120", "kos", "0.85", "220", false},
	{"Lepilo za les 750 g", "kos", "6.40", "220", false},
	{"Barva notranja bela 15 l", "kos", "54.90", "220", false},
	{"Valjček za barvanje 25 cm", "kos", "7.90", "220", false},
	{"Mešalnik za beton 140 l", "kos", "299.00", "220", false},
	{"Cement 25 kg", "kos", "7.20", "220", false},
	{"Opeka modularna", "kos", "0.95", "220", false},
	{"Izolacijska volna 10 cm", "m2", "5.60", "220", false},
	{"Kabel NYM 3x1,5", "m", "0.89", "220", false},
	{"Vtičnica podometna", "kos", "3.50", "220", false},
	{"LED žarnica E27 9 W", "kos", "2.99", "220", false},
	{"Knjiga Domače mojstrovine", "kos", "24.90", "095", false},
	{"Priročnik za vrtnarje", "kos", "19.90", "095", false},
	{"Koledar stenski 2026", "kos", "9.90", "095", false},
	{"Kruh polnozrnati 500 g", "kos", "2.40", "095", false},
	{"Moka pšenična T-500 1 kg", "kg", "0.99", "095", false},
	{"Med cvetlični 900 g", "kos", "11.50", "095", false},
	{"Jabolčni sok 1 l", "l", "1.89", "095", false},
	{"Vino cviček 0,75 l", "kos", "5.90", "220", false},
	{"Olivno olje 0,5 l", "kos", "8.90", "095", false},
	{"Montaža na domu", "ura", "35.00", "220", true},
	{"Svetovanje", "ura", "60.00", "220", true},
	{"Dostava", "kos", "9.90", "220", true},
	{"Najem orodja – dan", "dan", "25.00", "220", true},
	{"Servis orodja", "kos", "19.00", "220", true},
}

// demoWarehouses are the demo company's warehouses (mark, name, street,
// post, place); documents name them by name.
var demoWarehouses = [][5]string{
	{"GL", "Glavno skladišče", "Tržaška cesta 120", "1000", "Ljubljana"},
	{"MB", "Skladišče Maribor", "Tržaška cesta 63", "2000", "Maribor"},
	{"CE", "Trgovina Celje", "Mariborska cesta 7", "3000", "Celje"},
}

// grossOf is a net price with tax at the code's rate, rounded to cents.
func grossOf(net, tax string) string {
	n, _, _ := decimalOf("", net)
	r, _ := taxRate(tax)
	return n.Mul(decimal.NewFromInt(1).Add(r)).Round(2).StringFixed(2)
}

// DemoPricelist is the price list (count_code) of SeedDemo's products.
const DemoPricelist = "PC_MAIN"

// SeedDemo fills a company with a believable Slovenian demo data set: 12
// partners, 30 products (tax codes "220" and "095", gross prices on
// pricelist "PC_MAIN" as a web shop enters them, some stock) and sales
// offers, orders (gross prices, one with a document discount_value) and
// bills that reference them, spread over several warehouses. Product count_codes are "DEMO-001"…, partner count_codes
// "P-001"…. Seeding twice adds nothing new. Unknown companies are ignored.
func (s *Server) SeedDemo(companyID string) {
	c := s.company(companyID)
	if c == nil {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.partnerByCode["P-001"] != nil {
		return
	}
	rng := rand.New(rand.NewPCG(uint64(s.seed), 0x64656d6f))
	partners := make([]*partnerRec, 0, len(demoPartners))
	for i, d := range demoPartners {
		business := d[1] != ""
		in := obj{
			"count_code": fmt.Sprintf("P-%03d", i+1), "customer": d[0], "street": d[2], "post_number": d[3],
			"place": d[4], "country": "Slovenia", "business_entity": boolStr(business), "taxpayer": boolStr(business),
			"foreign_county": "false", "buyer": "true", "tax_id_number": d[1],
			"partner_contact": obj{"name": d[0], "email": d[5], "gsm": d[6]},
		}
		p, err := s.createPartner(c, in)
		if err != nil {
			s.log.Warn("mkfake: seeding demo partner", "error", err)
			continue
		}
		partners = append(partners, p)
	}
	var whs []string
	for _, w := range demoWarehouses {
		whs = append(whs, c.addWarehouse(w[0], w[1], w[2], w[3], w[4]))
	}
	products := make([]*productRec, 0, len(demoProducts))
	for i, d := range demoProducts {
		code := fmt.Sprintf("DEMO-%03d", i+1)
		in := obj{
			"count_code": code, "code": code, "name": d.name, "unit": d.unit,
			"service": boolStr(d.service), "sales": "true", "purchasing": boolStr(!d.service),
			"pricelist": []any{obj{"count_code": DemoPricelist, "price_def": []any{obj{"tax": d.tax, "price_with_tax": grossOf(d.price, d.tax)}}}},
		}
		p, err := s.createProduct(c, in)
		if err != nil {
			s.log.Warn("mkfake: seeding demo product", "error", err)
			continue
		}
		if !d.service {
			// Stock in one to three warehouses.
			for k := range 1 + i%len(whs) {
				c.setWarehouseStock(p, whs[k], fmt.Sprint(rng.IntN(200)))
			}
		}
		products = append(products, p)
	}
	if len(partners) == 0 || len(products) == 0 {
		return
	}
	types := []string{"sales_offer", "sales_order", "sales_order", "sales_bill_domestic", "sales_order", "sales_offer", "sales_bill_domestic", "sales_order"}
	statuses := map[string][]string{
		"sales_offer":         {"open", "accepted"},
		"sales_order":         {"new_order", "ready_to_ship", "shipped"},
		"sales_bill_domestic": {"created", "paid"},
	}
	now := s.now()
	for i, t := range types {
		p := partners[rng.IntN(len(partners))]
		rows := make([]any, 0, 3)
		for j := 0; j < 1+rng.IntN(3); j++ {
			pr := products[rng.IntN(len(products))]
			price := pr.Prices[0]
			rows = append(rows, obj{"count_code": pr.CountCode, "amount": fmt.Sprint(1 + rng.IntN(10)), "price_with_tax": price.PriceWithTax, "tax": price.Tax})
		}
		st := statuses[t]
		req := obj{
			"doc_type": t, "doc_date": s.formatDate(now.AddDate(0, 0, -3*(len(types)-i))),
			"partner": obj{"mk_id": p.MkID},
			"title":   fmt.Sprintf("Demo %s %d", t, i+1), "currency_code": "EUR",
			"status_code": st[rng.IntN(len(st))], "product_list": rows,
			"warehouse": demoWarehouses[i%len(demoWarehouses)][1],
		}
		if t == "sales_order" {
			req["buyer_order"] = fmt.Sprintf("CRM-%04d", 1000+i)
		}
		if i == 2 {
			req["discount_value"] = "5"
			req["notes"] = "Included discount 5 EUR for coupon code JESEN5"
		}
		if _, err := s.putDocumentLocked(c, req); err != nil {
			s.log.Warn("mkfake: seeding demo document", "error", err)
		}
	}
}

// SeedDemoCoupons adds to a company seeded with SeedDemo the documents a
// web shop makes: an order with a coupon line (amount -1 of a service, as
// documents_concept.md shows) and a discount_value, and a financial credit
// note for the first domestic bill.
// Seeding twice adds nothing new; a company without the demo data is left
// as it is.
func (s *Server) SeedDemoCoupons(companyID string) {
	c := s.company(companyID)
	if c == nil {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	first, product, service := c.partnerByCode["P-001"], c.productByCode["DEMO-004"], c.productByCode["DEMO-028"]
	if first == nil || product == nil || service == nil || c.docByCode["sales_order"]["WEB-1001"] != nil {
		return
	}
	order := obj{
		"doc_type": "sales_order", "count_code": "WEB-1001", "buyer_order": "WEB-1001", "title": "Spletno naročilo WEB-1001",
		"partner": obj{"mk_id": first.MkID}, "currency_code": "EUR", "status_code": "new_order", "warehouse": demoWarehouses[0][1],
		"discount_value": "10", "notes": "Included discount 10 EUR for coupon code JESEN10",
		"product_list": []any{
			obj{"count_code": product.CountCode, "amount": "1", "price_with_tax": product.Prices[0].PriceWithTax, "tax": product.Prices[0].Tax},
			obj{"code": "JESEN5", "name": "Kupon 5 EUR", "amount": "-1", "price_with_tax": "5", "tax": "220", "unit": "kos", "service": "true", "sales": "true"},
		},
	}
	if _, err := s.putDocumentLocked(c, order); err != nil {
		s.log.Warn("mkfake: seeding demo coupon order", "error", err)
	}
	bills := c.docsByType["sales_bill_domestic"]
	if len(bills) == 0 {
		return
	}
	note := obj{
		"doc_type": "sales_bill_credit_note", "credit_note_type": "financial", "credit_note_bill": bills[0].CountCode,
		"title": "Dobropis za " + bills[0].CountCode, "warehouse": demoWarehouses[0][1],
		"product_list": []any{obj{"count_code": service.CountCode, "amount": "1", "price_with_tax": service.Prices[0].PriceWithTax, "tax": service.Prices[0].Tax}},
	}
	if _, err := s.putDocumentLocked(c, note); err != nil {
		s.log.Warn("mkfake: seeding demo credit note", "error", err)
	}
}

// SeedProducts adds n products quickly (no HTTP), for benchmarks: count_code
// and code "BULK-<k>", name "Bulk product <k>", unit "kos", sales, a price
// on pricelist "PC_MAIN" with tax "220", and some stock. k continues after
// earlier bulk products, so repeated calls add more.
func (s *Server) SeedProducts(companyID string, n int) {
	c := s.company(companyID)
	if c == nil {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	now := s.now()
	c.products = growCap(c.products, n)
	for i := 0; i < n; i++ {
		k := c.codeSeq["bulk_product"] + 1
		c.codeSeq["bulk_product"] = k
		code := fmt.Sprintf("BULK-%d", k)
		if c.productByCode[code] != nil || c.productByItem[code] != nil {
			i--
			continue
		}
		p := &productRec{}
		p.MkID, p.seq = c.nextID()
		p.CountCode, p.Code = code, code
		p.Name = fmt.Sprintf("Bulk product %d", k)
		p.Unit = "kos"
		p.Sales, p.Activated = true, true
		p.Stock = fmt.Sprint(k % 97)
		p.Prices = []Price{{Pricelist: DemoPricelist, Tax: "220", TaxFactor: "0.22", Price: fmt.Sprintf("%d.%02d", 1+k%500, k%100)}}
		p.LastChange = now
		c.products = append(c.products, p)
		c.indexProduct(p)
	}
}

// SeedPartners adds n partners quickly (no HTTP), for benchmarks:
// count_code "BULKP-<k>", a company name, tax number "SI9<7 digits of k>"
// and an e-mail "bulk<k>@example.si".
func (s *Server) SeedPartners(companyID string, n int) {
	c := s.company(companyID)
	if c == nil {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	for i := 0; i < n; i++ {
		k := c.codeSeq["bulk_partner"] + 1
		c.codeSeq["bulk_partner"] = k
		in := obj{
			"count_code": fmt.Sprintf("BULKP-%d", k), "customer": fmt.Sprintf("Bulk partner %d d.o.o.", k),
			"street": fmt.Sprintf("Dunajska cesta %d", 1+k%300), "post_number": "1000", "place": "Ljubljana",
			"country": "Slovenia", "business_entity": "true", "taxpayer": "true",
			"tax_id_number":   fmt.Sprintf("SI9%07d", k%10000000),
			"partner_contact": obj{"email": fmt.Sprintf("bulk%d@example.si", k)},
		}
		if _, err := s.createPartner(c, in); err != nil {
			i--
		}
	}
}

// SetStock sets the stock amount of the product with that count_code (what
// product_list answers as "amount"); in a company with warehouses the main
// warehouse takes the difference. False if there is no such product.
func (s *Server) SetStock(companyID, countCode, amount string) bool {
	c := s.company(companyID)
	if c == nil {
		return false
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	p := c.productByCode[countCode]
	if p == nil {
		return false
	}
	if len(c.warehouses) == 0 {
		p.Stock = normNumber(amount)
	} else {
		// The main warehouse takes the difference, the others keep theirs.
		want, _, err := decimalOf("amount", amount)
		if err != nil {
			return false
		}
		main := c.warehouses[0].MkID
		others := decimal.Zero
		for id, a := range p.WarehouseStock {
			if id != main {
				d, _, _ := decimalOf("amount", a)
				others = others.Add(d)
			}
		}
		c.setWarehouseStock(p, main, want.Sub(others).String())
	}
	p.LastChange = s.now()
	return true
}

func growCap[T any](s []T, n int) []T {
	if n <= 0 || cap(s)-len(s) >= n {
		return s
	}
	out := make([]T, len(s), len(s)+n)
	copy(out, s)
	return out
}
