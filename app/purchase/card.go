package purchase

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"sync"

	"github.com/tet-bookstore/bookstore/app/bookstore"
)

// DeclinedTestCard is the card number the simulated processor always declines.
const DeclinedTestCard = "4000000000000002"

// ValidCardNumber reports whether s is 12 to 19 digits passing the Luhn check.
func ValidCardNumber(s string) bool {
	if len(s) < 12 || len(s) > 19 {
		return false
	}
	sum := 0
	double := false
	for i := len(s) - 1; i >= 0; i-- {
		d := int(s[i] - '0')
		if d < 0 || d > 9 {
			return false
		}
		if double {
			d *= 2
			if d > 9 {
				d -= 9
			}
		}
		sum += d
		double = !double
	}
	return sum%10 == 0
}

// SimulatedProcessor is a card processor for development and tests: it
// approves every valid card but DeclinedTestCard and, like real processors,
// answers a repeated idempotency key with the first result without charging
// again (even once refunded), refunds a charge once, and finds a charge by
// its idempotency key. It keeps every charge and refund, so tests can
// compare the money taken (Balance) with the payments recorded.
type SimulatedProcessor struct {
	mu      sync.Mutex
	byKey   map[string]string        // idempotency key → ref
	charges map[string]*ChargeRecord // ref → charge
}

var _ Processor = (*SimulatedProcessor)(nil)

// NewSimulatedProcessor returns an empty simulated processor.
func NewSimulatedProcessor() *SimulatedProcessor {
	return &SimulatedProcessor{byKey: make(map[string]string), charges: make(map[string]*ChargeRecord)}
}

// Charge approves or declines the card.
func (s *SimulatedProcessor) Charge(_ context.Context, c Charge) (string, error) {
	if c.CardNumber == DeclinedTestCard {
		return "", bookstore.Errorf(bookstore.EPAYMENT, "the card was declined")
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if ref, ok := s.byKey[c.IdempotencyKey]; ok {
		return ref, nil
	}
	sum := sha256.Sum256([]byte(c.IdempotencyKey))
	ref := "sim_" + hex.EncodeToString(sum[:8])
	s.byKey[c.IdempotencyKey] = ref
	s.charges[ref] = &ChargeRecord{Ref: ref, AmountCents: c.AmountCents}
	return ref, nil
}

// Refund gives a charge back; ENOTFOUND for a charge never made.
func (s *SimulatedProcessor) Refund(_ context.Context, ref string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	ch, ok := s.charges[ref]
	if !ok {
		return bookstore.Errorf(bookstore.ENOTFOUND, "no charge %s to refund", ref)
	}
	ch.Refunded = true
	return nil
}

// LookupCharge finds the charge made under an idempotency key.
func (s *SimulatedProcessor) LookupCharge(_ context.Context, key string) (ChargeRecord, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	ref, ok := s.byKey[key]
	if !ok {
		return ChargeRecord{}, bookstore.Errorf(bookstore.ENOTFOUND, "no charge under idempotency key %s", key)
	}
	return *s.charges[ref], nil
}

// Charges returns how many distinct charges were made.
func (s *SimulatedProcessor) Charges() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.charges)
}

// Refunds returns how many distinct charges were refunded.
func (s *SimulatedProcessor) Refunds() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	n := 0
	for _, ch := range s.charges {
		if ch.Refunded {
			n++
		}
	}
	return n
}

// Kept returns the charges not refunded, by ref: the money the processor
// holds, which must equal the payments the store recorded.
func (s *SimulatedProcessor) Kept() map[string]int64 {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make(map[string]int64)
	for ref, ch := range s.charges {
		if !ch.Refunded {
			out[ref] = ch.AmountCents
		}
	}
	return out
}
