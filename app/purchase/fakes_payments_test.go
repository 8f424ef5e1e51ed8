package purchase

import (
	"context"
	"time"

	"github.com/tet-bookstore/bookstore/app/bookstore"
)

// The fake store's payment attempts, kept like the real ones: one per
// purchase, settled only from pending.

func (s *fakeStore) BeginPayment(_ context.Context, a *PaymentAttempt) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if err := s.failing("BeginPayment"); err != nil {
		return err
	}
	p, ok := s.purchases[a.PurchaseID]
	if !ok {
		return bookstore.Errorf(bookstore.ENOTFOUND, "purchase %d not found", a.PurchaseID)
	}
	if p.Status != StatusPendingPayment {
		return bookstore.Errorf(bookstore.ECONFLICT, "purchase %d is %s", p.ID, p.Status)
	}
	cur, ok := s.attempts[a.PurchaseID]
	switch {
	case ok && cur.Status == AttemptPending:
		*a = cur
		return nil
	case ok && cur.Status != AttemptFailed:
		return bookstore.Errorf(bookstore.ECONFLICT, "purchase %d payment is %s", p.ID, cur.Status)
	}
	a.Status = AttemptPending
	s.attempts[a.PurchaseID] = *a
	return nil
}

func (s *fakeStore) PaymentAttempt(_ context.Context, purchaseID int64) (PaymentAttempt, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if err := s.failing("PaymentAttempt"); err != nil {
		return PaymentAttempt{}, err
	}
	a, ok := s.attempts[purchaseID]
	if !ok {
		return PaymentAttempt{}, bookstore.Errorf(bookstore.ENOTFOUND, "no payment attempt for purchase %d", purchaseID)
	}
	return a, nil
}

func (s *fakeStore) SettleAttempt(_ context.Context, key string, to AttemptStatus, ref string, at time.Time) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if err := s.failing("SettleAttempt"); err != nil {
		return err
	}
	for id, a := range s.attempts {
		if a.IdempotencyKey != key {
			continue
		}
		if a.Status != AttemptPending {
			return bookstore.Errorf(bookstore.ECONFLICT, "payment attempt %s is %s", key, a.Status)
		}
		a.Status, a.UpdatedAt = to, at
		if ref != "" {
			a.ProviderRef = ref
		}
		s.attempts[id] = a
		return nil
	}
	return bookstore.Errorf(bookstore.ENOTFOUND, "no payment attempt %s", key)
}

func (s *fakeStore) PendingAttempts(_ context.Context, before time.Time, _ int) ([]PaymentAttempt, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []PaymentAttempt
	for _, a := range s.attempts {
		if a.Status == AttemptPending && a.UpdatedAt.Before(before) {
			out = append(out, a)
		}
	}
	return out, nil
}

func (s *fakeStore) ExpiredPurchases(_ context.Context, before time.Time, _ int) ([]Purchase, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []Purchase
	for id, p := range s.purchases {
		if p.Status != StatusPendingPayment || p.PayBy.IsZero() || !p.PayBy.Before(before) {
			continue
		}
		if a, ok := s.attempts[id]; ok && a.Status == AttemptPending {
			continue
		}
		out = append(out, p)
	}
	return out, nil
}
