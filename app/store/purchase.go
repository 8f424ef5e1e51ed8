package store

import (
	"context"
	"fmt"
	"time"

	"gorm.io/gorm"
	"gorm.io/gorm/clause"

	"github.com/tet-bookstore/bookstore/app/bookstore"
	"github.com/tet-bookstore/bookstore/app/purchase"
)

// PurchaseStore implements purchase.Store on the purchases, payments,
// deliveries and delivery_providers tables.
type PurchaseStore struct{ db *DB }

var _ purchase.Store = (*PurchaseStore)(nil)

// NewPurchaseStore returns the purchase module's storage.
func NewPurchaseStore(db *DB) purchase.Store { return &PurchaseStore{db: db} }

func purchaseNotFound(id int64) error {
	return bookstore.Errorf(bookstore.ENOTFOUND, "purchase %d not found", id)
}

// CreatePurchase inserts p and sets its ID; with maxOpen > 0, only while
// the buyer holds fewer open (pending, within their deadline) purchases.
func (s *PurchaseStore) CreatePurchase(ctx context.Context, p *purchase.Purchase, maxOpen int) error {
	row := purchaseToRow(p)
	row.ID = 0
	err := s.db.write(ctx, func(tx *gorm.DB) error {
		if maxOpen > 0 {
			if err := openOrdersBelow(tx, p.BuyerID, maxOpen, row.CreatedAt); err != nil {
				return err
			}
		}
		if row.PayBy == nil {
			tx = tx.Omit("pay_by") // NULL either way; also before the column existed
		}
		return tx.Create(&row).Error
	})
	if isUniqueViolation(err) {
		return bookstore.Errorf(bookstore.ECONFLICT, "a purchase for this reservation already exists")
	}
	if bookstore.ErrorCode(err) == bookstore.ECONFLICT {
		return err
	}
	if err != nil {
		return fmt.Errorf("insert purchase: %w", err)
	}
	p.ID, p.CreatedAt, p.UpdatedAt = row.ID, row.CreatedAt, row.UpdatedAt
	return nil
}

// GetPurchase returns a purchase with its payment and delivery, if any.
func (s *PurchaseStore) GetPurchase(ctx context.Context, id int64) (purchase.Purchase, error) {
	var rows []purchaseRow
	if err := s.db.conn(ctx).Where("id = ?", id).Limit(1).Find(&rows).Error; err != nil {
		return purchase.Purchase{}, fmt.Errorf("select purchase %d: %w", id, err)
	}
	if len(rows) == 0 {
		return purchase.Purchase{}, purchaseNotFound(id)
	}
	ps, err := s.withDetails(ctx, rows)
	if err != nil {
		return purchase.Purchase{}, err
	}
	return ps[0], nil
}

// PurchaseByReservationKey returns the purchase made with a reservation key.
func (s *PurchaseStore) PurchaseByReservationKey(ctx context.Context, key string) (purchase.Purchase, error) {
	var rows []purchaseRow
	if err := s.db.conn(ctx).Where("reservation_key = ?", key).Limit(1).Find(&rows).Error; err != nil {
		return purchase.Purchase{}, fmt.Errorf("select purchase of reservation %s: %w", key, err)
	}
	if len(rows) == 0 {
		return purchase.Purchase{}, bookstore.Errorf(bookstore.ENOTFOUND, "no purchase for reservation %s", key)
	}
	ps, err := s.withDetails(ctx, rows)
	if err != nil {
		return purchase.Purchase{}, err
	}
	return ps[0], nil
}

// CancelledSince returns the purchases cancelled at or after since.
func (s *PurchaseStore) CancelledSince(ctx context.Context, since time.Time) ([]purchase.Purchase, error) {
	var rows []purchaseRow
	err := s.db.conn(ctx).Where("status = ? AND updated_at >= ?", string(purchase.StatusCancelled), dbTime(since)).
		Order("id").Find(&rows).Error
	if err != nil {
		return nil, fmt.Errorf("select purchases cancelled since %s: %w", since.Format(time.RFC3339), err)
	}
	out := make([]purchase.Purchase, len(rows))
	for i, r := range rows {
		out[i] = r.domain()
	}
	return out, nil
}

// ListPurchases returns a buyer's purchases, newest first.
func (s *PurchaseStore) ListPurchases(ctx context.Context, buyerID int64) ([]purchase.Purchase, error) {
	var rows []purchaseRow
	if err := s.db.conn(ctx).Where("buyer_id = ?", buyerID).Order("id DESC").Find(&rows).Error; err != nil {
		return nil, fmt.Errorf("select purchases of user %d: %w", buyerID, err)
	}
	return s.withDetails(ctx, rows)
}

// withDetails maps rows to purchases with their payments and deliveries,
// loaded with one query each.
func (s *PurchaseStore) withDetails(ctx context.Context, rows []purchaseRow) ([]purchase.Purchase, error) {
	out := make([]purchase.Purchase, len(rows))
	if len(rows) == 0 {
		return out, nil
	}
	ids := make([]int64, len(rows))
	for i, r := range rows {
		ids[i] = r.ID
	}
	var pays []paymentRow
	if err := s.db.conn(ctx).Where("purchase_id IN ?", ids).Find(&pays).Error; err != nil {
		return nil, fmt.Errorf("select payments: %w", err)
	}
	var dels []deliveryRow
	if err := s.db.conn(ctx).Where("purchase_id IN ?", ids).Find(&dels).Error; err != nil {
		return nil, fmt.Errorf("select deliveries: %w", err)
	}
	payBy := make(map[int64]paymentRow, len(pays))
	for _, p := range pays {
		payBy[p.PurchaseID] = p
	}
	delBy := make(map[int64]deliveryRow, len(dels))
	for _, d := range dels {
		delBy[d.PurchaseID] = d
	}
	for i, r := range rows {
		out[i] = r.domain()
		if p, ok := payBy[r.ID]; ok {
			out[i].Payment = p.domain()
		}
		if d, ok := delBy[r.ID]; ok {
			out[i].Delivery = d.domain()
		}
	}
	return out, nil
}

// Transition moves a purchase from one status to another, and only from
// there; see purchase.Store.
func (s *PurchaseStore) Transition(ctx context.Context, id int64, from, to purchase.Status, at time.Time) error {
	err := s.db.write(ctx, func(tx *gorm.DB) error { return transition(tx, id, from, to, at) })
	if err != nil && bookstore.ErrorCode(err) == bookstore.EINTERNAL {
		return fmt.Errorf("move purchase %d from %s to %s: %w", id, from, to, err)
	}
	return err
}

// transition is the conditional update at the heart of every state change:
// of two racing requests, only one finds the purchase still in `from`.
func transition(tx *gorm.DB, id int64, from, to purchase.Status, at time.Time) error {
	res := tx.Exec("UPDATE purchases SET status = ?, updated_at = ? WHERE id = ? AND status = ?", string(to), dbTime(at), id, string(from))
	if res.Error != nil {
		return res.Error
	}
	if res.RowsAffected == 1 {
		return nil
	}
	var rows []purchaseRow
	if err := tx.Select("id", "status").Where("id = ?", id).Limit(1).Find(&rows).Error; err != nil {
		return err
	}
	if len(rows) == 0 {
		return purchaseNotFound(id)
	}
	return bookstore.Errorf(bookstore.ECONFLICT, "purchase %d is %s, not %s", id, rows[0].Status, from)
}

// openOrdersBelow locks the buyer's row in purchase_buyers (made on first
// use), so that of two concurrent purchases of one buyer the second waits,
// then counts the buyer's open purchases: ECONFLICT at maxOpen. On MySQL the
// count is the transaction's first plain read, so its snapshot is taken
// after the lock and sees the purchase the previous holder committed.
func openOrdersBelow(tx *gorm.DB, buyerID int64, maxOpen int, at time.Time) error {
	if err := tx.Clauses(clause.OnConflict{DoNothing: true}).Create(&buyerRow{BuyerID: buyerID, LockedAt: at}).Error; err != nil {
		return err
	}
	if err := tx.Exec("UPDATE purchase_buyers SET locked_at = ? WHERE buyer_id = ?", at, buyerID).Error; err != nil {
		return err
	}
	var n int64
	err := tx.Model(&purchaseRow{}).Where("buyer_id = ? AND status = ? AND pay_by > ?",
		buyerID, string(purchase.StatusPendingPayment), at).Count(&n).Error
	if err != nil {
		return err
	}
	if n >= int64(maxOpen) {
		return bookstore.Errorf(bookstore.ECONFLICT, "you already have %d unpaid orders, the most one account may hold; pay or cancel one before buying again", n)
	}
	return nil
}

// RecordPayment stores the payment and marks the purchase paid, together;
// with attemptKey, it completes that pending payment attempt too.
func (s *PurchaseStore) RecordPayment(ctx context.Context, pay *purchase.Payment, attemptKey string) error {
	row := paymentRow{PurchaseID: pay.PurchaseID, Method: pay.Method, CardLast4: pay.CardLast4, CardHolder: pay.CardHolder,
		AmountCents: pay.AmountCents, ProviderRef: pay.ProviderRef, CreatedAt: dbTime(pay.CreatedAt)}
	if row.CreatedAt.IsZero() {
		row.CreatedAt = dbTime(time.Now())
	}
	err := s.db.write(ctx, func(tx *gorm.DB) error {
		if err := transition(tx, pay.PurchaseID, purchase.StatusPendingPayment, purchase.StatusPaid, row.CreatedAt); err != nil {
			return err
		}
		if attemptKey != "" {
			if err := completeAttempt(tx, pay.PurchaseID, attemptKey, pay.ProviderRef, row.CreatedAt); err != nil {
				return err
			}
		}
		return tx.Create(&row).Error
	})
	switch {
	case isUniqueViolation(err):
		return bookstore.Errorf(bookstore.ECONFLICT, "purchase %d is already paid", pay.PurchaseID)
	case err != nil && bookstore.ErrorCode(err) == bookstore.EINTERNAL:
		return fmt.Errorf("record payment of purchase %d: %w", pay.PurchaseID, err)
	case err != nil:
		return err
	}
	pay.ID, pay.CreatedAt = row.ID, row.CreatedAt
	return nil
}

// RecordDelivery stores the delivery and marks the purchase shipped, together.
func (s *PurchaseStore) RecordDelivery(ctx context.Context, d *purchase.Delivery) error {
	row := deliveryRow{PurchaseID: d.PurchaseID, ProviderID: d.ProviderID, ProviderName: d.ProviderName,
		Address: d.Address, CostCents: d.CostCents, CreatedAt: dbTime(d.CreatedAt)}
	if row.CreatedAt.IsZero() {
		row.CreatedAt = dbTime(time.Now())
	}
	err := s.db.write(ctx, func(tx *gorm.DB) error {
		if err := transition(tx, d.PurchaseID, purchase.StatusPaid, purchase.StatusShipped, row.CreatedAt); err != nil {
			return err
		}
		return tx.Create(&row).Error
	})
	switch {
	case isUniqueViolation(err):
		return bookstore.Errorf(bookstore.ECONFLICT, "purchase %d already has a delivery", d.PurchaseID)
	case isForeignKeyViolation(err):
		return bookstore.Errorf(bookstore.ENOTFOUND, "delivery provider %d not found", d.ProviderID)
	case err != nil && bookstore.ErrorCode(err) == bookstore.EINTERNAL:
		return fmt.Errorf("record delivery of purchase %d: %w", d.PurchaseID, err)
	case err != nil:
		return err
	}
	d.ID, d.CreatedAt = row.ID, row.CreatedAt
	return nil
}

// ListProviders returns the delivery providers in the order they were added.
func (s *PurchaseStore) ListProviders(ctx context.Context) ([]purchase.Provider, error) {
	var rows []providerRow
	if err := s.db.conn(ctx).Order("id").Find(&rows).Error; err != nil {
		return nil, fmt.Errorf("select delivery providers: %w", err)
	}
	out := make([]purchase.Provider, len(rows))
	for i, r := range rows {
		out[i] = r.domain()
	}
	return out, nil
}

// GetProvider returns one delivery provider.
func (s *PurchaseStore) GetProvider(ctx context.Context, id int64) (purchase.Provider, error) {
	var rows []providerRow
	if err := s.db.conn(ctx).Where("id = ?", id).Limit(1).Find(&rows).Error; err != nil {
		return purchase.Provider{}, fmt.Errorf("select delivery provider %d: %w", id, err)
	}
	if len(rows) == 0 {
		return purchase.Provider{}, bookstore.Errorf(bookstore.ENOTFOUND, "delivery provider %d not found", id)
	}
	return rows[0].domain(), nil
}
