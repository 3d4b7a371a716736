package client

import (
	"context"
	"net/http"

	"github.com/mksync/mksync"
)

// A person's decisions on matching (docs/mapping.md, "Linking by hand").

// LinkRef names the Metakocka record to link to: its mk_id or its
// count_code (exactly one).
type LinkRef struct {
	MetakockaID string
	CountCode   string
}

// Link maps the CRM record id of type et to the Metakocka record ref by
// hand (an answer to an ambiguous match, or a re-link) and returns the
// mapping, pending: linking writes to neither record, the next sync
// compares both sides. ENOTFOUND when either record is missing, ECONFLICT
// when the Metakocka record is linked to another CRM record, EINVALID
// for a ref with neither or both fields. Not retried on failure: a POST.
func (c *Client) Link(ctx context.Context, et mksync.EntityType, id string, ref LinkRef) (mksync.Mapping, error) {
	p, err := pathsOf(et)
	if err != nil {
		return mksync.Mapping{}, err
	}
	body := map[string]string{p.idField: id}
	if ref.MetakockaID != "" {
		body["metakockaId"] = ref.MetakockaID
	}
	if ref.CountCode != "" {
		body["countCode"] = ref.CountCode
	}
	var out mksync.Mapping
	_, err = c.do(ctx, request{method: http.MethodPost, path: syncPath(p, "mappings"), body: body, out: &out})
	return out, err
}

// Unlink removes the mapping of the CRM record id (ENOTFOUND when it has
// none). Nothing is written to Metakocka; the next push matches the
// record again and creates it only when nothing matches.
func (c *Client) Unlink(ctx context.Context, et mksync.EntityType, id string) error {
	p, err := pathsOf(et)
	if err != nil {
		return err
	}
	_, err = c.do(ctx, request{method: http.MethodDelete, path: path("api", "integrations", "metakocka", p.segment, "mappings", id)})
	return err
}

// CreateNew creates the CRM record id in Metakocka now, on purpose,
// without matching (a person's "none of these" for an ambiguous record)
// and returns the outcome. ECONFLICT while the record is linked (unlink
// it first). Not retried on failure: a POST.
func (c *Client) CreateNew(ctx context.Context, et mksync.EntityType, id string) (mksync.SyncResult, error) {
	p, err := pathsOf(et)
	if err != nil {
		return mksync.SyncResult{}, err
	}
	var out mksync.SyncResult
	_, err = c.do(ctx, request{method: http.MethodPost, path: path("api", "integrations", "metakocka", p.segment, "mappings", id, "create-new"), out: &out})
	return resultOf(out), err
}

// Candidate is one Metakocka record an ambiguous record matched: its
// mk_id, a human title (a partner's name, a product's code and name) and
// the key that matched ("tax number", "e-mail", "code", …).
type Candidate struct {
	MkID  string `json:"mkId"`
	Title string `json:"title"`
	Key   string `json:"key"`
}

// AmbiguousMapping is the mapping of a record left for a person to decide,
// with the candidates it matched.
type AmbiguousMapping struct {
	mksync.Mapping
	Candidates []Candidate `json:"candidates"`
}

// Ambiguous returns one page of the tenant's records of type et that
// matched two or more Metakocka records (mappings in state ambiguous),
// each with its candidates: answer one with Link or CreateNew.
func (c *Client) Ambiguous(ctx context.Context, et mksync.EntityType, o PageOptions) (Page[AmbiguousMapping], error) {
	p, err := pathsOf(et)
	if err != nil {
		return Page[AmbiguousMapping]{}, err
	}
	var out Page[AmbiguousMapping]
	_, err = c.do(ctx, request{method: http.MethodGet, path: syncPath(p, "mappings"),
		query: ListOptions{State: mksync.StateAmbiguous, PageOptions: o}.query(), out: &out})
	return out, err
}
