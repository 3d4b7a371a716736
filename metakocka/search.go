package metakocka

import (
	"context"
	"iter"
	"time"
)

// MaxSearchWindow is the largest search window Metakocka returns.
const MaxSearchWindow = 100

// QueryParam is one advanced-search condition (query_advance), e.g.
// {Type: "partner_tax_num", Value: "SI123"}; search_query_advance_discovery
// lists the types per document type.
type QueryParam struct {
	Type  string `json:"type"`
	Value string `json:"value"`
}

// SearchRequest selects documents of one type. Search calls of one company are
// served one at a time (by Metakocka, and by the client's Pacer).
type SearchRequest struct {
	DocType DocType `json:"doc_type"`
	// Query is the free-text search of Metakocka's search field.
	Query string `json:"query,omitempty"`
	// QueryAdvance holds advanced conditions.
	QueryAdvance []QueryParam `json:"query_advance,omitempty"`
	// LastChangeFrom and LastChangeTo, when set, add the last_change_from /
	// last_change_to conditions (incremental pulls), written as RFC 3339.
	LastChangeFrom time.Time `json:"-"`
	LastChangeTo   time.Time `json:"-"`
	// FullDocuments asks for whole documents (result_type "doc"); otherwise
	// results carry only mk_id, count_code (and status_code with
	// ShowStatusCode).
	FullDocuments bool `json:"-"`
	// OrderDirection is "asc" or "desc" (by mk_id).
	OrderDirection      string `json:"order_direction,omitempty"`
	ShowStatusCode      Bool   `json:"show_status_code,omitzero"`
	ShowProductMetadata Bool   `json:"show_product_metadata,omitzero"`
	ShowSumCredit       Bool   `json:"show_sum_credit,omitzero"`

	// Offset and Limit select the window; Limit 0 means MaxSearchWindow.
	Offset int `json:"-"`
	Limit  int `json:"-"`
}

// SearchPage is one search window.
type SearchPage struct {
	// AllRecords is the number of all matching records, or -1 when
	// Metakocka did not say.
	AllRecords int
	Offset     int
	Limit      int
	// Results are the documents (or id-only stubs without FullDocuments).
	Results []Document
	// Products are the results of product searches (result_product).
	Products []Product
}

type searchWire struct {
	SearchRequest
	QueryAdvance []QueryParam `json:"query_advance,omitempty"`
	ResultType   string       `json:"result_type,omitempty"`
	Offset       Int          `json:"offset"`
	Limit        Int          `json:"limit"`
}

type searchAnswer struct {
	ResultAllRecords Int            `json:"result_all_records"`
	ResultCount      Int            `json:"result_count"`
	Offset           Int            `json:"offset"`
	Limit            Int            `json:"limit"`
	Result           List[Document] `json:"result"`
	ResultProduct    List[Product]  `json:"result_product"`
}

var mSearch = method{name: "search", class: classSearch}

// Search returns one window of documents. Errors: EINVALID for a missing
// doc type or a window outside 0..100.
func (c *Client) Search(ctx context.Context, req SearchRequest) (SearchPage, error) {
	if req.DocType == "" {
		return SearchPage{}, inputError(mSearch, "doc_type is required")
	}
	if req.Limit < 0 || req.Limit > MaxSearchWindow || req.Offset < 0 {
		return SearchPage{}, inputError(mSearch, "offset must be >= 0 and limit within 0..100")
	}
	if req.Limit == 0 {
		req.Limit = MaxSearchWindow
	}
	w := searchWire{
		SearchRequest: req,
		QueryAdvance:  append([]QueryParam(nil), req.QueryAdvance...),
		Offset:        NewInt(int64(req.Offset)),
		Limit:         NewInt(int64(req.Limit)),
	}
	if !req.LastChangeFrom.IsZero() {
		w.QueryAdvance = append(w.QueryAdvance, QueryParam{"last_change_from", req.LastChangeFrom.Format(time.RFC3339)})
	}
	if !req.LastChangeTo.IsZero() {
		w.QueryAdvance = append(w.QueryAdvance, QueryParam{"last_change_to", req.LastChangeTo.Format(time.RFC3339)})
	}
	if req.FullDocuments {
		w.ResultType = "doc"
	}
	var out searchAnswer
	if err := c.call(ctx, mSearch, w, &out); err != nil {
		return SearchPage{}, err
	}
	page := SearchPage{AllRecords: -1, Offset: req.Offset, Limit: req.Limit, Results: out.Result, Products: out.ResultProduct}
	if out.ResultAllRecords.Valid {
		page.AllRecords = int(out.ResultAllRecords.Value)
	}
	return page, nil
}

// SearchAll iterates over every document matching req, fetching windows of
// req.Limit (default 100) lazily from req.Offset. On an error it yields the
// error once and stops. Documents changing while iterating may shift windows;
// incremental pulls should bound LastChangeTo so the set is stable.
func (c *Client) SearchAll(ctx context.Context, req SearchRequest) iter.Seq2[Document, error] {
	return func(yield func(Document, error) bool) {
		for {
			page, err := c.Search(ctx, req)
			if err != nil {
				yield(Document{}, err)
				return
			}
			for _, d := range page.Results {
				if !yield(d, nil) {
					return
				}
			}
			n := len(page.Results)
			if n == 0 || n < page.Limit || (page.AllRecords >= 0 && page.Offset+n >= page.AllRecords) {
				return
			}
			req.Offset += n
			req.Limit = page.Limit
		}
	}
}
