package client

import (
	"context"
	"net/http"

	"github.com/mksync/mksync"
)

// The admin methods need a Client made with the admin token; a tenant
// token gets EFORBIDDEN (403).

// CreateTenant creates a tenant (a CRM account).
func (c *Client) CreateTenant(ctx context.Context, name string) (mksync.Tenant, error) {
	var out mksync.Tenant
	_, err := c.do(ctx, request{method: http.MethodPost, path: "/api/admin/tenants", body: map[string]string{"name": name}, out: &out})
	return out, err
}

// Tenants returns one page of every tenant.
func (c *Client) Tenants(ctx context.Context, o PageOptions) (Page[mksync.Tenant], error) {
	var out Page[mksync.Tenant]
	_, err := c.do(ctx, request{method: http.MethodGet, path: "/api/admin/tenants", query: o.values(), out: &out})
	return out, err
}

// Tenant returns one tenant; ENOTFOUND when there is none with that id.
func (c *Client) Tenant(ctx context.Context, id string) (mksync.Tenant, error) {
	var out mksync.Tenant
	_, err := c.do(ctx, request{method: http.MethodGet, path: path("api", "admin", "tenants", id), out: &out})
	return out, err
}

// CreateToken creates an API token for the tenant and returns it with its
// plaintext, which the server shows this once (it keeps only a hash).
func (c *Client) CreateToken(ctx context.Context, tenantID, name string) (mksync.APIToken, mksync.Secret, error) {
	var out struct {
		mksync.APIToken
		Token string `json:"token"`
	}
	_, err := c.do(ctx, request{method: http.MethodPost, path: path("api", "admin", "tenants", tenantID, "tokens"),
		body: map[string]string{"name": name}, out: &out})
	return out.APIToken, mksync.Secret(out.Token), err
}

// Tokens lists the tenant's tokens (never their plaintext).
func (c *Client) Tokens(ctx context.Context, tenantID string) ([]mksync.APIToken, error) {
	var out Page[mksync.APIToken]
	_, err := c.do(ctx, request{method: http.MethodGet, path: path("api", "admin", "tenants", tenantID, "tokens"), out: &out})
	return out.Items, err
}

// RevokeToken revokes one of the tenant's tokens; calls made with it fail
// with EUNAUTHORIZED from then on.
func (c *Client) RevokeToken(ctx context.Context, tenantID, tokenID string) error {
	_, err := c.do(ctx, request{method: http.MethodDelete, path: path("api", "admin", "tenants", tenantID, "tokens", tokenID), notFoundOK: true})
	return err
}
