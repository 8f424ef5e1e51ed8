package rpc

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"strings"
	"time"

	"github.com/tet-bookstore/bookstore/app/bookstore"
)

// ServiceTokens signs the calling service's tokens (token.ServiceSigner).
type ServiceTokens interface {
	// Token returns a token of this service for calls to audience.
	Token(audience string) (string, error)
}

// Client calls one service's methods.
type Client struct {
	service string // the audience of our tokens; in messages: "the catalog service is unavailable"
	base    string
	tokens  ServiceTokens
	http    *http.Client
	opts    ClientOptions
}

// ClientOptions tune timeouts and retries; zero values take the defaults.
type ClientOptions struct {
	// AttemptTimeout bounds one attempt; default 5 s.
	AttemptTimeout time.Duration
	// Attempts is how often an idempotent call is tried; default 3.
	Attempts int
	// Backoff before the second attempt, doubled (with jitter) after; default 100 ms.
	Backoff time.Duration
	// Transport, for tests; default a pooled transport.
	Transport http.RoundTripper
}

// NewClient returns a client of the named service at baseURL
// (http://catalog:8080), authenticating with tokens for that service.
func NewClient(service, baseURL string, tokens ServiceTokens, o ClientOptions) *Client {
	if o.AttemptTimeout <= 0 {
		o.AttemptTimeout = 5 * time.Second
	}
	if o.Attempts <= 0 {
		o.Attempts = 3
	}
	if o.Backoff <= 0 {
		o.Backoff = 100 * time.Millisecond
	}
	if o.Transport == nil {
		t := http.DefaultTransport.(*http.Transport).Clone()
		t.MaxIdleConnsPerHost = 32
		o.Transport = t
	}
	return &Client{service: service, base: strings.TrimRight(baseURL, "/"), tokens: tokens,
		http: &http.Client{Transport: o.Transport}, opts: o}
}

// Idempotency says whether a call may be retried after a failure whose
// outcome is unknown (a timeout, a dropped connection).
type Idempotency bool

const (
	// Retry marks calls that may run twice with the same effect.
	Retry Idempotency = true
	// Once marks calls that must not be repeated blindly.
	Once Idempotency = false
)

// Call runs method with in as its input and decodes the answer into out
// (which may be nil). A signed-in caller is carried as the user's own token,
// which ctx must hold (bookstore.WithUserToken: the web layer records the
// token a request authenticated with); the called service verifies it
// and takes the user from it. Domain errors come back as themselves; a
// service that cannot be reached, times out or answers 5xx without a domain
// error is EUNAVAILABLE, after retries when the call is idempotent.
func (c *Client) Call(ctx context.Context, method string, caller bookstore.Caller, in, out any, idem Idempotency) error {
	body, err := json.Marshal(in)
	if err != nil {
		return fmt.Errorf("rpc %s: encode: %w", method, err)
	}
	var userToken string
	if caller.SignedIn() {
		// Without the user's token this service cannot speak for them.
		if userToken = bookstore.UserToken(ctx); userToken == "" {
			return fmt.Errorf("rpc %s: user %d has no token to forward", method, caller.UserID)
		}
	}
	attempts := 1
	if idem {
		attempts = c.opts.Attempts
	}
	backoff := c.opts.Backoff
	var last error
	for i := 0; i < attempts; i++ {
		if i > 0 {
			wait := backoff/2 + rand.N(backoff) // jitter: retries of many callers spread out
			select {
			case <-ctx.Done():
				return c.unavailable(method, ctx.Err())
			case <-time.After(wait):
			}
			backoff *= 2
		}
		var retry bool
		retry, last = c.attempt(ctx, method, userToken, body, out)
		if last == nil || !retry {
			return last
		}
	}
	return last
}

// attempt makes one request; retry says whether another may help.
func (c *Client) attempt(ctx context.Context, method, userToken string, body []byte, out any) (retry bool, err error) {
	actx, cancel := context.WithTimeout(ctx, c.opts.AttemptTimeout)
	defer cancel()
	req, err := http.NewRequestWithContext(actx, http.MethodPost, c.base+Prefix+method, bytes.NewReader(body))
	if err != nil {
		return false, fmt.Errorf("rpc %s: %w", method, err)
	}
	// Signed per attempt: a retry after a long backoff gets a fresh token.
	tok, err := c.tokens.Token(c.service)
	if err != nil {
		return false, fmt.Errorf("rpc %s: %w", method, err)
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Authorization", "Bearer "+tok)
	if userToken != "" {
		req.Header.Set(headerUserToken, userToken)
	}
	if id := bookstore.RequestID(ctx); id != "" {
		req.Header.Set(headerRequestID, id)
	}
	res, err := c.http.Do(req)
	if err != nil {
		return ctx.Err() == nil, c.unavailable(method, err)
	}
	defer res.Body.Close()
	raw, err := io.ReadAll(io.LimitReader(res.Body, 64<<20))
	if err != nil {
		return ctx.Err() == nil, c.unavailable(method, err)
	}
	if res.StatusCode == http.StatusOK {
		if out == nil {
			return false, nil
		}
		if err := json.Unmarshal(raw, out); err != nil {
			return false, fmt.Errorf("rpc %s: decode answer: %w", method, err)
		}
		return false, nil
	}
	var e errorBody
	if json.Unmarshal(raw, &e) == nil && e.Code != "" {
		if e.Service {
			// Our own credential or the allow-list: a deployment fault,
			// which no user can fix, so not a domain error.
			if res.StatusCode == http.StatusForbidden {
				return false, fmt.Errorf("rpc %s: the %s service does not allow this service to call it: %s", method, c.service, e.Error)
			}
			return false, fmt.Errorf("rpc %s: the %s service refused our service token: %s", method, c.service, e.Error)
		}
		if e.Code == bookstore.EINTERNAL {
			return false, fmt.Errorf("rpc %s: the %s service failed: %s", method, c.service, e.Error)
		}
		// A dependency of theirs being down may pass; anything else is final.
		return e.Code == bookstore.EUNAVAILABLE, &bookstore.Error{Code: e.Code, Message: e.Error}
	}
	// No domain error: a proxy or a half-started process answered.
	return res.StatusCode >= 500, c.unavailable(method, fmt.Errorf("status %d", res.StatusCode))
}

// unavailable is EUNAVAILABLE for people, with the cause kept for logs.
func (c *Client) unavailable(method string, cause error) error {
	return fmt.Errorf("rpc %s: %v: %w", method, cause,
		bookstore.Errorf(bookstore.EUNAVAILABLE, "the %s service is unavailable; try again shortly", c.service))
}
