package web

import (
	"fmt"
	"net/url"
	"sort"
	"time"

	"github.com/mksync/mksync"
)

// The view models: every template gets one of these typed structs, never an
// untyped map, so a renamed field breaks the build, not a page.

// Layout is what every full page needs.
type Layout struct {
	Title string
	// Nav is the active navigation item (its path), "" for none.
	Nav        string
	SignedIn   bool
	TenantName string
	// CSRF is the session's token, put in every form and in htmx's headers.
	CSRF string
	// Flash is a message shown on top of the page.
	Flash *Flash
	// Refresh makes the page reload itself every few seconds when scripts
	// are off (a running sync without htmx polling).
	Refresh bool
}

// Flash is a message about the outcome of an action.
type Flash struct {
	// Kind is ok, error or info.
	Kind    string
	Message string
	Code    string
	// ErrorID, when set, links to the error record.
	ErrorID string
}

// Field is one labelled value of a record or of an error's details.
type Field struct {
	Label string
	Value string
}

// Option is one choice of a select.
type Option struct {
	Value    string
	Label    string
	Selected bool
}

// EntityInfo names a record type for pages and URLs.
type EntityInfo struct {
	Slug     string // URL segment: contacts, products, sales-documents
	Label    string // Contacts
	Singular string // contact
	Type     mksync.EntityType
}

// LoginPage is the sign-in form.
type LoginPage struct {
	Layout
	Next  string
	Error string
	// Notice confirms what just happened (signed out).
	Notice    string
	LoginCSRF string
}

// DashboardPage is the home page.
type DashboardPage struct {
	Layout
	Connection ConnectionView
	// FirstConnect: the tenant's first connect is open (a banner leads to
	// the guided path).
	FirstConnect bool
	Counts       []EntityCounts
	Runs         []RunRow
	Alerts       []AlertRow
}

// FirstConnectPage is the guided path of a tenant's first connect.
type FirstConnectPage struct {
	Layout
	// Open: the path is not done yet; schedules wait.
	Open      bool
	Counts    []EntityCounts
	Ambiguous int
}

// ConnectionView is the Metakocka connection box of the dashboard.
type ConnectionView struct {
	CSRF         string
	Configured   bool
	CompanyID    string
	MetakockaURL string
	UpdatedAt    string
	// Result is the outcome of the last "Test connection", if any.
	Result *Flash
}

// EntityCounts is one entity type's records per sync state.
type EntityCounts struct {
	Entity                                      EntityInfo
	Synced, Pending, Conflict, Failed, Unsynced int
	Ambiguous, Deleted                          int
	Total                                       int
	// Links is how the records stand with Metakocka: linked, to create,
	// ambiguous, deleted in Metakocka, tombstones.
	Links mksync.LinkCounts
}

// AlertRow is an open alert.
type AlertRow struct {
	Severity string
	Message  string
	Count    int
	Opened   string
}

// RecordRow is one CRM record with its sync state, as listed and as
// re-rendered after a per-row sync.
type RecordRow struct {
	Entity   EntityInfo
	CSRF     string
	ID       string
	Title    string
	Subtitle string
	// State is a SyncState or "unsynced".
	State       string
	MetakockaID string
	CountCode   string
	LastSynced  string
	LastErrorID string
}

// CanPull reports whether the record has a Metakocka record to pull from.
func (r RecordRow) CanPull() bool { return r.MetakockaID != "" }

// ListPage is a searchable, paginated table of records.
type ListPage struct {
	Layout
	Entity   EntityInfo
	Query    string
	State    string
	States   []Option
	Rows     []RecordRow
	NextURL  string
	FirstURL string
	Paged    bool
}

// DetailPage is one record with its mapping and recent errors.
type DetailPage struct {
	Layout
	Row    RecordRow
	Fields []Field
	// Stock is a product's stock per warehouse, beside StockTotal, the
	// total Metakocka reports.
	Stock      []StockRow
	StockTotal string
	// Conflict is the record's last conflict when its last recorded
	// problem is one (or its mapping's open conflict); nil otherwise.
	Conflict *ConflictView
	// Partner is the contact's partner form (contacts only).
	Partner *PartnerForm
	// Link is the record's link to Metakocka with its actions.
	Link   LinkBox
	Errors []ErrorRow
}

// LinkBox is a record's link to Metakocka as its page shows it: the
// mapping (mk_id, count_code, state) and the Link, Unlink and Re-link
// actions, re-rendered after each with its outcome.
type LinkBox struct {
	Entity EntityInfo
	CSRF   string
	ID     string
	Title  string
	// Mapped: the record has a mapping (it may have no mk_id yet).
	Mapped bool
	// State is a SyncState or "unsynced".
	State       string
	MetakockaID string
	CountCode   string
	LastSynced  string
	LastErrorID string
	// Candidates of an ambiguous record, to pick from.
	Candidates []Candidate
	// Ref is what was typed into the link field, shown again after a
	// refusal.
	Ref      string
	Flash    *Flash
	Problems []Field
}

// Linked reports whether the box's record is linked to a Metakocka record.
func (b LinkBox) Linked() bool { return b.MetakockaID != "" }

// Candidate is a Metakocka record an ambiguous CRM record matched.
type Candidate struct {
	MetakockaID string
	// Title is its name (partner) or code and name (product), when the
	// engine recorded it.
	Title string
	// Key is the strong key it matched by, for people ("tax number").
	Key string
}

// DecisionsPage lists, for one record type, what a person decides on:
// ambiguous records with their candidates, records deleted in Metakocka,
// and tombstones of records deleted in the CRM.
type DecisionsPage struct {
	Layout
	Entity                                     EntityInfo
	CSRF                                       string
	Ambiguous                                  []DecisionRow
	Deleted                                    []DecisionRow
	Tombstones                                 []TombstoneRow
	AmbiguousNext, DeletedNext, TombstonesNext string
}

// DecisionRow is a CRM record waiting for a person's decision.
type DecisionRow struct {
	Entity      EntityInfo
	CSRF        string
	ID          string
	Title       string
	Subtitle    string
	MetakockaID string
	CountCode   string
	LastErrorID string
	Candidates  []Candidate
}

// TombstoneRow is a CRM record deleted on purpose while linked.
type TombstoneRow struct {
	MetakockaID string
	CountCode   string
	EntityID    string
	Deleted     string
}

// DecisionResult replaces a decisions page row with the outcome of its
// action.
type DecisionResult struct {
	// ID is the row's record id, or "tomb-" + mk_id for a tombstone.
	ID     string
	Title  string
	Entity EntityInfo
	Flash  Flash
}

// SyncResultPage is the outcome of a single-record sync without htmx.
type SyncResultPage struct {
	Layout
	Row       RecordRow
	Direction string
	Result    ResultView
}

// RemotePage lists Metakocka records not yet in the CRM.
type RemotePage struct {
	Layout
	Entity  EntityInfo
	Rows    []RemoteRow
	NextURL string
}

// RemoteRow is one Metakocka record not in the CRM, or, once imported, the
// CRM record it became (LocalURL).
type RemoteRow struct {
	Entity      EntityInfo
	CSRF        string
	MetakockaID string
	CountCode   string
	Title       string
	LocalURL    string
}

// RunRow is a sync run in a list.
type RunRow struct {
	ID        string
	Entity    EntityInfo
	Direction string
	Trigger   string
	Status    string
	Processed int
	Total     int
	Failed    int
	Created   string
	Finished  string
	// Duration is how long a finished run took; "" before it finished.
	Duration string
}

// RunsPage is the sync run history.
type RunsPage struct {
	Layout
	Entities   []Option
	Directions []Option
	Statuses   []Option
	Rows       []RunRow
	NextURL    string
}

// RunPage shows one sync run.
type RunPage struct {
	Layout
	Progress RunProgress
}

// RunProgress is the live part of a run's page, polled while it runs.
type RunProgress struct {
	ID        string
	Entity    EntityInfo
	Direction string
	Trigger   string
	Status    string
	Processed int
	Total     int
	// Percent is 0–100; Indeterminate when the total is not known yet.
	Percent       int
	Indeterminate bool
	Final         bool
	// PollURL and PollEvery (htmx trigger text, e.g. "every 1s") drive the
	// refresh while the run is not final.
	PollURL   string
	PollEvery string
	Created   string
	Started   string
	Finished  string
	// Duration is how long the run took, or has been running; Rate the
	// records per second and Left the time still needed at that rate
	// ("" while not known).
	Duration string
	Rate     string
	Left     string
	// RecordsURL lists the run's kind of records: the failed ones when
	// some failed.
	RecordsURL string
	Result     ResultView
}

// ResultView is a SyncResult for people.
type ResultView struct {
	Created, Updated, Skipped, Failed, Conflicts int
	Errors                                       []RecordErrorRow
}

// RecordErrorRow is one record's failure within a sync.
type RecordErrorRow struct {
	RecordID  string
	RecordURL string
	Code      string
	Message   string
	ErrorID   string
}

// ErrorRow is an error record in a list.
type ErrorRow struct {
	ID        string
	Category  string
	Operation string
	EntityID  string
	Code      string
	Message   string
	Created   string
}

// ErrorsPage lists error records, or finds one by errorId.
type ErrorsPage struct {
	Layout
	Query      string
	Category   string
	Categories []Option
	// Operation matches exactly; Since and Until are dates (YYYY-MM-DD)
	// as the form's date inputs send them.
	Operation  string
	Operations []Option
	Since      string
	Until      string
	Rows       []ErrorRow
	NextURL    string
	// NotFound is set when Query names no error record of the tenant.
	NotFound bool
}

// ErrorPage is one error record.
type ErrorPage struct {
	Layout
	Error   ErrorRow
	Details []Field
	// RecordURL links to the record the error is about, when known.
	RecordURL string
}

// SettingsPage is the Metakocka connection and sync settings form.
type SettingsPage struct {
	Layout
	Form SettingsForm
}

// SettingsForm holds the settings form's values and problems. Secrets are
// write-only: the form shows only whether they are set.
type SettingsForm struct {
	CSRF           string
	CompanyID      string
	MetakockaURL   string
	SecretKeySet   bool
	ConflictPolicy string
	Policies       []Option
	// DeletePolicy is what a CRM delete of a linked record does in
	// Metakocka (keep or delete_in_metakocka).
	DeletePolicy   string
	DeletePolicies []Option
	Schedule       string
	BatchSize      string
	Concurrency    string
	AutoPush       bool
	// Pricelist is the Metakocka price list of the products' prices;
	// empty: the server's default list.
	Pricelist string
	// PricelistSource is where the price list came from: "chosen",
	// "discovered" (from the company's products) or "undecided".
	PricelistSource  string
	WebhookID        string
	WebhookURL       string
	WebhookSecretSet bool
	// AlertWebhookURL receives the tenant's alert notices; its secret is
	// write-only, so only whether one is stored shows.
	AlertWebhookURL       string
	AlertWebhookSecretSet bool
	Problems              []Field
	Saved                 bool
	// FirstConnect: these were the first credentials and records exist on
	// either side; the result links to the guided path.
	FirstConnect bool
}

// Problem returns the problem of form field name, or "".
func (f SettingsForm) Problem(name string) string {
	for _, p := range f.Problems {
		if p.Label == name {
			return p.Value
		}
	}
	return ""
}

// ProblemPage is the page of a failed request.
type ProblemPage struct {
	Layout
	Status  int
	Heading string
	Problem Flash
	Details []Field
}

// stateLabel is the text of a sync-state badge.
func stateLabel(s string) string {
	switch mksync.SyncState(s) {
	case mksync.StateSynced:
		return "Synced"
	case mksync.StatePending:
		return "Pending"
	case mksync.StateConflict:
		return "Conflict"
	case mksync.StateFailed:
		return "Failed"
	case mksync.StateAmbiguous:
		return "Needs a decision"
	case mksync.StateDeletedInMetakocka:
		return "Deleted in Metakocka"
	case mksync.StateUnsynced, "":
		return "Not synced"
	}
	return s
}

// directionLabel is a direction for people.
func directionLabel(d string) string {
	switch mksync.Direction(d) {
	case mksync.ToMetakocka:
		return "CRM → Metakocka"
	case mksync.FromMetakocka:
		return "Metakocka → CRM"
	}
	return d
}

// triggerLabel says who or what started a run, in the words of the person
// reading the page (who is signed in to the web app).
func triggerLabel(t mksync.Trigger) string {
	switch t {
	case mksync.TriggerUI:
		return "you, in the web app"
	case mksync.TriggerAPI:
		return "an API token (the CRM or a script)"
	case mksync.TriggerCLI:
		return "an administrator, on the command line"
	case mksync.TriggerSchedule:
		return "the schedule"
	case mksync.TriggerWebhook:
		return "a stock change in Metakocka (webhook)"
	case mksync.TriggerAutoPush:
		return "a change through the API (automatic push)"
	}
	return string(t)
}

func newRunRow(r mksync.SyncRun) RunRow {
	row := RunRow{
		ID: r.ID, Entity: entityInfo(r.EntityType), Direction: string(r.Direction), Trigger: triggerLabel(r.Trigger),
		Status: string(r.Status), Processed: r.Processed, Total: r.Total, Failed: r.Result.Failed,
		Created: formatTime(r.CreatedAt), Finished: formatTime(r.FinishedAt),
	}
	if r.StartedAt != nil && r.FinishedAt != nil {
		row.Duration = formatDuration(r.FinishedAt.Sub(*r.StartedAt))
	}
	return row
}

func newErrorRow(e mksync.ErrorRecord) ErrorRow {
	return ErrorRow{ID: e.ID, Category: e.Category, Operation: e.Operation, EntityID: e.EntityID,
		Code: e.Code, Message: e.Message, Created: formatTime(e.CreatedAt)}
}

// newResultView shows a SyncResult; record errors link to their records
// when et is known.
func newResultView(res mksync.SyncResult, et mksync.EntityType, dir mksync.Direction) ResultView {
	v := ResultView{Created: res.Created, Updated: res.Updated, Skipped: res.Skipped, Failed: res.Failed, Conflicts: res.Conflicts}
	info := entityInfo(et)
	for _, e := range res.Errors {
		row := RecordErrorRow{RecordID: e.ID, Code: e.Code, Message: e.Error, ErrorID: e.ErrorID}
		if info.Slug != "" && dir == mksync.ToMetakocka && e.ID != "" {
			row.RecordURL = "/" + info.Slug + "/" + url.PathEscape(e.ID)
		}
		v.Errors = append(v.Errors, row)
	}
	return v
}

// newRunProgress shows a run at now; poll is the refresh interval while it
// runs. live, when the run executes in this process, counts its records as
// they are done, ahead of the batches committed to r.
func newRunProgress(r mksync.SyncRun, live *mksync.LiveProgress, now time.Time, poll string) RunProgress {
	p := RunProgress{
		ID: r.ID, Entity: entityInfo(r.EntityType), Direction: string(r.Direction), Trigger: triggerLabel(r.Trigger),
		Status: string(r.Status), Processed: r.Processed, Total: r.Total, Final: r.Status.Final(),
		Created: formatTime(r.CreatedAt), Started: formatTime(r.StartedAt), Finished: formatTime(r.FinishedAt),
		Result: newResultView(r.Result, r.EntityType, r.Direction),
	}
	if p.Entity.Slug != "" {
		p.RecordsURL = "/" + p.Entity.Slug
		if r.Result.Failed > 0 {
			p.RecordsURL += "?state=failed"
		}
	}
	// The rate counts the records done since the count began: this
	// process's execution (live) or the run's start (stored progress).
	since, base := r.StartedAt, 0
	if live != nil && !p.Final {
		p.Processed, p.Total = max(p.Processed, live.Processed), max(p.Total, live.Total)
		since, base = &live.Since, live.ProcessedAtSince
	}
	switch {
	case p.Final && (r.Status == mksync.RunSucceeded || r.Status == mksync.RunPartial):
		// A finished run has seen every record it was going to, even when
		// the total was an estimate.
		p.Percent = 100
		p.Processed = max(p.Processed, p.Total)
		p.Total = max(p.Processed, p.Total)
	case p.Total > 0:
		p.Percent = min(100, p.Processed*100/p.Total)
	default:
		p.Indeterminate = !p.Final
	}
	end := now
	if r.FinishedAt != nil {
		end = *r.FinishedAt
	}
	if r.StartedAt != nil {
		p.Duration = formatDuration(end.Sub(*r.StartedAt))
	}
	if since != nil && !p.Final {
		if elapsed := now.Sub(*since).Seconds(); elapsed >= 0.5 && p.Processed > base {
			rate := float64(p.Processed-base) / elapsed
			p.Rate = formatRate(rate)
			if p.Total > p.Processed {
				p.Left = "about " + formatDuration(time.Duration(float64(p.Total-p.Processed)/rate*float64(time.Second))) + " left"
			}
		}
	}
	if !p.Final {
		p.PollURL = "/runs/" + url.PathEscape(r.ID) + "/progress"
		p.PollEvery = poll
	}
	return p
}

// formatDuration is a duration for people, to the second: "45 s",
// "2 min 05 s", "1 h 02 min"; under a second "under 1 s".
func formatDuration(d time.Duration) string {
	d = d.Round(time.Second)
	switch {
	case d < time.Second:
		return "under 1 s"
	case d < time.Minute:
		return fmt.Sprintf("%d s", int(d.Seconds()))
	case d < time.Hour:
		return fmt.Sprintf("%d min %02d s", int(d.Minutes()), int(d.Seconds())%60)
	}
	return fmt.Sprintf("%d h %02d min", int(d.Hours()), int(d.Minutes())%60)
}

// formatRate is records per second, with a decimal below 10.
func formatRate(perSecond float64) string {
	if perSecond < 10 {
		return fmt.Sprintf("%.1f records/s", perSecond)
	}
	return fmt.Sprintf("%.0f records/s", perSecond)
}

// pollTrigger is htmx's trigger text for a polling interval.
func pollTrigger(d interface{ Milliseconds() int64 }) string {
	return fmt.Sprintf("every %dms", d.Milliseconds())
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

// options builds select options from values, marking selected.
func options(selected string, pairs ...[2]string) []Option {
	out := make([]Option, len(pairs))
	for i, p := range pairs {
		out[i] = Option{Value: p[0], Label: p[1], Selected: p[0] == selected}
	}
	return out
}
