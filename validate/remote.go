package validate

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/shopspring/decimal"

	"github.com/mksync/mksync"
	"github.com/mksync/mksync/client"
)

// RemoteConfig points the remote driver at a running deployment.
type RemoteConfig struct {
	// BaseURL is the deployment's, e.g. "https://mksync.example.com".
	BaseURL string
	// Token is the validated tenant's API token.
	Token mksync.Secret
	// TokenB is a second tenant's token, for the isolation checks; empty
	// skips them.
	TokenB mksync.Secret
	// UserAgent names the caller in the requests' User-Agent.
	UserAgent string
}

// callRetry lets the validation wait out the sync routes' rate limit (10 a
// minute by default), which its own calls reach.
var callRetry = client.Retry{MaxElapsed: 3 * time.Minute}

// Remote drives a running deployment over its REST API, as a CRM would
// call it. The CRM records it creates are deleted by Cleanup; their
// Metakocka copies stay (the API deletes nothing in Metakocka).
type Remote struct {
	*apiTenant
	b *apiTenant // nil without a second token
	// bare is the first tenant's client without retries, to see 429s.
	bare *client.Client
	// created lists the CRM records to delete, in creation order.
	created []created
}

type created struct {
	et mksync.EntityType
	id string
}

// NewRemote returns the driver for c; it makes no call yet.
func NewRemote(c RemoteConfig) (*Remote, error) {
	newClient := func(token mksync.Secret, retry client.Retry) (*client.Client, error) {
		cl, err := client.New(client.Config{BaseURL: c.BaseURL, Token: token, UserAgent: c.UserAgent, Retry: retry})
		if err != nil {
			return nil, fmt.Errorf("validate: %w", err)
		}
		return cl, nil
	}
	if c.Token == "" {
		return nil, errors.New("validate: the remote driver needs a tenant token")
	}
	a, err := newClient(c.Token, callRetry)
	if err != nil {
		return nil, err
	}
	r := &Remote{}
	r.apiTenant = &apiTenant{c: a, created: func(et mksync.EntityType, id string) { r.created = append(r.created, created{et, id}) }}
	if r.bare, err = newClient(c.Token, client.Retry{MaxRetries: -1, NoRateLimitedPOST: true}); err != nil {
		return nil, err
	}
	if c.TokenB != "" {
		b, err := newClient(c.TokenB, callRetry)
		if err != nil {
			return nil, err
		}
		r.b = &apiTenant{c: b}
	}
	return r, nil
}

// Connect checks health, the token and the tenant's Metakocka connection.
func (r *Remote) Connect(ctx context.Context) (string, error) {
	if err := r.c.Healthz(ctx); err != nil {
		return "", err
	}
	if _, err := r.c.ListContacts(ctx, client.ListOptions{PageOptions: client.PageOptions{Limit: 1}}); err != nil {
		return "", err
	}
	creds, err := r.c.Credentials(ctx)
	if err != nil {
		return "", fmt.Errorf("read Metakocka credentials: %w", err)
	}
	if err := r.c.TestCredentials(ctx); err != nil {
		return "", fmt.Errorf("test Metakocka connection: %w", err)
	}
	return fmt.Sprintf("%s, company %s", r.c.BaseURL(), creds.CompanyID), nil
}

// SecondTenant is the tenant of the second token.
// Its Metakocka company may hold records of its own.
func (r *Remote) SecondTenant(context.Context) (Second, error) {
	if r.b == nil {
		return Second{}, skip("no --token-b")
	}
	return Second{Tenant: r.b}, nil
}

// Simulator is nil: whatever Metakocka the deployment uses is out of reach.
func (r *Remote) Simulator() Simulator { return nil }

// Direct is nil: the API reaches neither the store nor Metakocka directly.
func (r *Remote) Direct() Direct { return nil }

// API is the REST API's own behaviour.
func (r *Remote) API() API { return r }

// CreateInvalid sends a record that breaks the API's validation rules.
func (r *Remote) CreateInvalid(ctx context.Context, et mksync.EntityType) (Answer, error) {
	var err error
	switch et {
	case mksync.EntityContact:
		_, err = r.c.CreateContact(ctx, mksync.Contact{Email: "not an e-mail address"})
	case mksync.EntityProduct:
		_, err = r.c.CreateProduct(ctx, mksync.Product{Price: decimal.NewFromInt(-1)})
	default:
		_, err = r.c.CreateSalesDocument(ctx, mksync.SalesDocument{Kind: "receipt", Currency: "EURO"})
	}
	if err == nil {
		return Answer{}, errors.New("an invalid record was accepted")
	}
	return answer(err)
}

// ProbeSync asks to sync an empty contact id, without retries.
func (r *Remote) ProbeSync(ctx context.Context) (Answer, error) {
	_, err := r.bare.SyncToMetakocka(ctx, mksync.EntityContact, "")
	return answer(err)
}

// answer is the API's error answer in err; an error when err is none.
func answer(err error) (Answer, error) {
	var e *client.Error
	if !errors.As(err, &e) {
		return Answer{}, fmt.Errorf("no API error answer: %v", err)
	}
	return Answer{Status: e.Status, Code: e.Code, ErrorID: e.ErrorID, Details: e.Details, RetryAfter: e.RetryAfter, Limit: e.RateLimit.Limit}, nil
}

// Cleanup deletes the CRM records the checks made, newest first (documents
// before the contacts and products they use).
func (r *Remote) Cleanup(ctx context.Context) string {
	if len(r.created) == 0 {
		return ""
	}
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 2*time.Minute)
	defer cancel()
	deleted, failed, first := 0, 0, ""
	for i := len(r.created) - 1; i >= 0; i-- {
		c := r.created[i]
		if err := r.Delete(ctx, c.et, c.id); err != nil && mksync.ErrorCode(err) != mksync.ENOTFOUND {
			if failed++; first == "" {
				first = fmt.Sprintf(" (delete %s %s: %v)", c.et, c.id, err)
			}
			continue
		}
		deleted++
	}
	return fmt.Sprintf("deleted %d CRM records, %d left%s; their Metakocka copies stay, named %s…", deleted, failed, first, Prefix)
}
