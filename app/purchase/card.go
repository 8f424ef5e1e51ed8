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
// again. Charges counts the real charges, so tests can prove there is one.
type SimulatedProcessor struct {
	mu       sync.Mutex
	results  map[string]string
	charges  int
	refunded map[string]bool
}

var _ Processor = (*SimulatedProcessor)(nil)

// NewSimulatedProcessor returns an empty simulated processor.
func NewSimulatedProcessor() *SimulatedProcessor {
	return &SimulatedProcessor{results: make(map[string]string), refunded: make(map[string]bool)}
}

// Charge approves or declines the card.
func (s *SimulatedProcessor) Charge(_ context.Context, c Charge) (string, error) {
	if c.CardNumber == DeclinedTestCard {
		return "", bookstore.Errorf(bookstore.EPAYMENT, "the card was declined")
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if ref, ok := s.results[c.IdempotencyKey]; ok {
		return ref, nil
	}
	sum := sha256.Sum256([]byte(c.IdempotencyKey))
	ref := "sim_" + hex.EncodeToString(sum[:8])
	s.results[c.IdempotencyKey] = ref
	s.charges++
	return ref, nil
}

// Charges returns how many distinct charges were made.
func (s *SimulatedProcessor) Charges() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.charges
}

// Refund marks a charge as given back.
func (s *SimulatedProcessor) Refund(_ context.Context, ref string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.refunded[ref] = true
	return nil
}

// Refunds returns how many distinct charges were refunded.
func (s *SimulatedProcessor) Refunds() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.refunded)
}
