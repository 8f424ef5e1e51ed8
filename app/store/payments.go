package store

import (
	"context"
	"errors"
	"fmt"
	"time"

	"gorm.io/gorm"

	"github.com/tet-bookstore/bookstore/app/bookstore"
	"github.com/tet-bookstore/bookstore/app/purchase"
)

// The payment_attempts table: see purchase.PaymentAttempt.

// errAttemptRace: another request changed the attempt between our read
// and our write; BeginPayment looks again.
var errAttemptRace = errors.New("payment attempt changed concurrently")

// BeginPayment records a payment attempt before the charge; see
// purchase.Store.
func (s *PurchaseStore) BeginPayment(ctx context.Context, a *purchase.PaymentAttempt) error {
	var err error
	for range 3 {
		err = s.db.write(ctx, func(tx *gorm.DB) error { return beginPayment(tx, a) })
		if isUniqueViolation(err) {
			err = errAttemptRace // a concurrent Pay inserted first: use its attempt
		}
		if !errors.Is(err, errAttemptRace) {
			break
		}
	}
	switch {
	case err == nil, bookstore.ErrorCode(err) != bookstore.EINTERNAL:
		return err
	}
	return fmt.Errorf("record payment attempt of purchase %d: %w", a.PurchaseID, err)
}

func beginPayment(tx *gorm.DB, a *purchase.PaymentAttempt) error {
	var ps []purchaseRow
	if err := tx.Select("id", "status").Where("id = ?", a.PurchaseID).Limit(1).Find(&ps).Error; err != nil {
		return err
	}
	if len(ps) == 0 {
		return purchaseNotFound(a.PurchaseID)
	}
	if ps[0].Status != string(purchase.StatusPendingPayment) {
		return bookstore.Errorf(bookstore.ECONFLICT, "purchase %d is %s and cannot be paid", a.PurchaseID, ps[0].Status)
	}
	var cur []attemptRow
	if err := tx.Where("purchase_id = ?", a.PurchaseID).Limit(1).Find(&cur).Error; err != nil {
		return err
	}
	at := dbTime(a.CreatedAt)
	if at.IsZero() {
		at = dbTime(time.Now())
	}
	if len(cur) == 0 {
		row := attemptRow{PurchaseID: a.PurchaseID, IdempotencyKey: a.IdempotencyKey, AmountCents: a.AmountCents,
			CardLast4: a.CardLast4, CardHolder: a.CardHolder, Status: string(purchase.AttemptPending), CreatedAt: at, UpdatedAt: at}
		if err := tx.Create(&row).Error; err != nil {
			return err
		}
		*a = row.domain()
		return nil
	}
	switch purchase.AttemptStatus(cur[0].Status) {
	case purchase.AttemptPending: // a concurrent or interrupted Pay: the same key
		*a = cur[0].domain()
		return nil
	case purchase.AttemptFailed: // no money was taken: start again under the new key
	default:
		return bookstore.Errorf(bookstore.ECONFLICT, "the payment of purchase %d is already %s", a.PurchaseID, cur[0].Status)
	}
	res := tx.Exec(`UPDATE payment_attempts SET idempotency_key = ?, amount_cents = ?, card_last4 = ?, card_holder = ?,
		status = ?, provider_ref = '', created_at = ?, updated_at = ? WHERE id = ? AND status = ?`,
		a.IdempotencyKey, a.AmountCents, a.CardLast4, a.CardHolder, string(purchase.AttemptPending), at, at,
		cur[0].ID, string(purchase.AttemptFailed))
	if res.Error != nil {
		return res.Error
	}
	if res.RowsAffected != 1 {
		return errAttemptRace
	}
	a.Status, a.ProviderRef, a.CreatedAt, a.UpdatedAt = purchase.AttemptPending, "", at, at
	return nil
}

// completeAttempt marks a pending attempt completed inside RecordPayment's
// transaction: ECONFLICT unless it is still pending.
func completeAttempt(tx *gorm.DB, purchaseID int64, key, ref string, at time.Time) error {
	res := tx.Exec("UPDATE payment_attempts SET status = ?, provider_ref = ?, updated_at = ? WHERE purchase_id = ? AND idempotency_key = ? AND status = ?",
		string(purchase.AttemptCompleted), ref, at, purchaseID, key, string(purchase.AttemptPending))
	if res.Error != nil {
		return res.Error
	}
	if res.RowsAffected != 1 {
		return bookstore.Errorf(bookstore.ECONFLICT, "the payment attempt of purchase %d is no longer pending", purchaseID)
	}
	return nil
}

// PaymentAttempt returns a purchase's payment attempt.
func (s *PurchaseStore) PaymentAttempt(ctx context.Context, purchaseID int64) (purchase.PaymentAttempt, error) {
	var rows []attemptRow
	if err := s.db.conn(ctx).Where("purchase_id = ?", purchaseID).Limit(1).Find(&rows).Error; err != nil {
		return purchase.PaymentAttempt{}, fmt.Errorf("select payment attempt of purchase %d: %w", purchaseID, err)
	}
	if len(rows) == 0 {
		return purchase.PaymentAttempt{}, bookstore.Errorf(bookstore.ENOTFOUND, "purchase %d has no payment attempt", purchaseID)
	}
	return rows[0].domain(), nil
}

// SettleAttempt moves a pending attempt to failed or refunded.
func (s *PurchaseStore) SettleAttempt(ctx context.Context, key string, to purchase.AttemptStatus, ref string, at time.Time) error {
	if to != purchase.AttemptFailed && to != purchase.AttemptRefunded {
		return bookstore.Errorf(bookstore.EINVALID, "a payment attempt is settled as failed or refunded, not %s", to)
	}
	err := s.db.write(ctx, func(tx *gorm.DB) error {
		q, args := "UPDATE payment_attempts SET status = ?, updated_at = ?", []any{string(to), dbTime(at)}
		if ref != "" {
			q, args = q+", provider_ref = ?", append(args, ref)
		}
		res := tx.Exec(q+" WHERE idempotency_key = ? AND status = ?", append(args, key, string(purchase.AttemptPending))...)
		if res.Error != nil {
			return res.Error
		}
		if res.RowsAffected == 1 {
			return nil
		}
		var rows []attemptRow
		if err := tx.Select("id", "status").Where("idempotency_key = ?", key).Limit(1).Find(&rows).Error; err != nil {
			return err
		}
		if len(rows) == 0 {
			return bookstore.Errorf(bookstore.ENOTFOUND, "no payment attempt %s", key)
		}
		return bookstore.Errorf(bookstore.ECONFLICT, "payment attempt %s is %s, not pending", key, rows[0].Status)
	})
	if err != nil && bookstore.ErrorCode(err) == bookstore.EINTERNAL {
		return fmt.Errorf("settle payment attempt %s as %s: %w", key, to, err)
	}
	return err
}

// PendingAttempts lists attempts pending since before the given time,
// oldest first.
func (s *PurchaseStore) PendingAttempts(ctx context.Context, before time.Time, limit int) ([]purchase.PaymentAttempt, error) {
	var rows []attemptRow
	q := s.db.conn(ctx).Where("status = ? AND updated_at < ?", string(purchase.AttemptPending), dbTime(before)).Order("id")
	if limit > 0 {
		q = q.Limit(limit)
	}
	if err := q.Find(&rows).Error; err != nil {
		return nil, fmt.Errorf("select pending payment attempts: %w", err)
	}
	out := make([]purchase.PaymentAttempt, len(rows))
	for i, r := range rows {
		out[i] = r.domain()
	}
	return out, nil
}

// ExpiredPurchases lists purchases pending past their deadline without a
// pending payment attempt, oldest first.
func (s *PurchaseStore) ExpiredPurchases(ctx context.Context, before time.Time, limit int) ([]purchase.Purchase, error) {
	var rows []purchaseRow
	q := s.db.conn(ctx).Where("status = ? AND pay_by < ? AND NOT EXISTS (SELECT 1 FROM payment_attempts a WHERE a.purchase_id = purchases.id AND a.status = ?)",
		string(purchase.StatusPendingPayment), dbTime(before), string(purchase.AttemptPending)).Order("id")
	if limit > 0 {
		q = q.Limit(limit)
	}
	if err := q.Find(&rows).Error; err != nil {
		return nil, fmt.Errorf("select expired purchases: %w", err)
	}
	out := make([]purchase.Purchase, len(rows))
	for i, r := range rows {
		out[i] = r.domain()
	}
	return out, nil
}
