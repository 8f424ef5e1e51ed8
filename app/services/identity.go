package services

import (
	"context"
	"crypto/ed25519"
	"fmt"

	"github.com/tet-bookstore/bookstore/app/auth"
	"github.com/tet-bookstore/bookstore/app/bookstore"
	"github.com/tet-bookstore/bookstore/app/config"
	"github.com/tet-bookstore/bookstore/app/rpc"
	"github.com/tet-bookstore/bookstore/app/token"
)

// identity is how this service proves itself to the others (its signer)
// and recognises them (its verifier): a key of its own, and the public keys
// of the two services that call it.
type identity struct {
	signer   *token.ServiceSigner
	verifier *token.ServiceVerifier
}

func loadIdentity(cfg config.Config) (identity, error) {
	self := string(cfg.Role)
	priv, err := token.LoadServicePrivateKey(self, cfg.Services.ServiceKeyFile)
	if err != nil {
		return identity{}, err
	}
	signer, err := token.NewServiceSigner(token.ServiceSignerOptions{Service: self, Key: priv})
	if err != nil {
		return identity{}, err
	}
	callers := map[string]ed25519.PublicKey{}
	for _, other := range config.ServiceRoles {
		if other == cfg.Role {
			continue
		}
		pub, err := token.LoadServicePublicKey(string(other), cfg.Services.ServicePublicKeyFiles[other])
		if err != nil {
			return identity{}, err
		}
		if pub.Equal(priv.Public()) {
			return identity{}, fmt.Errorf("service keys: %s is the %s service's own public key; each service needs a key pair of its own (bookstore keygen --service %s)",
				cfg.Services.ServicePublicKeyFiles[other], self, other)
		}
		callers[string(other)] = pub
	}
	verifier, err := token.NewServiceVerifier(token.ServiceVerifierOptions{Service: self, Callers: callers})
	if err != nil {
		return identity{}, err
	}
	return identity{signer: signer, verifier: verifier}, nil
}

// serveInternal makes the server of this service's internal methods, which
// takes the user of a call from the user's own token, checked by authn.
func (p *Process) serveInternal(authn interface {
	Authenticate(ctx context.Context, token string) (auth.User, error)
}) error {
	users := rpc.UserVerifierFunc(func(ctx context.Context, tok string) (bookstore.Caller, error) {
		u, err := authn.Authenticate(ctx, tok)
		if err != nil {
			return bookstore.Caller{}, err
		}
		return u.Caller(), nil
	})
	s, err := rpc.NewServer(rpc.ServerOptions{Services: p.id.verifier, Users: users, Log: p.log})
	if err != nil {
		return err
	}
	p.internal = s
	return nil
}
