package store

import (
	"time"

	"gorm.io/gorm"

	"github.com/tet-bookstore/bookstore/app/purchase"
)

// migratePayments adds what makes payments impossible to lose and unpaid
// orders expire: payment_attempts (written before the processor is asked),
// purchases.pay_by (the payment deadline) and purchase_buyers (the row
// CreatePurchase locks to count a buyer's open orders atomically). Every
// step may run again after a partial failure (MySQL commits each DDL).
func migratePayments(tx *gorm.DB, d string) error {
	err := run(tx, d,
		`CREATE TABLE IF NOT EXISTS payment_attempts (
				id {{pk}},
				purchase_id BIGINT NOT NULL,
				idempotency_key VARCHAR(100) NOT NULL,
				amount_cents BIGINT NOT NULL,
				card_last4 CHAR(4) NOT NULL,
				card_holder VARCHAR(100) NOT NULL,
				status VARCHAR(16) NOT NULL,
				provider_ref VARCHAR(100) NOT NULL DEFAULT '',
				created_at {{time}} NOT NULL,
				updated_at {{time}} NOT NULL,
				CONSTRAINT uq_payment_attempts_purchase_id UNIQUE (purchase_id),
				CONSTRAINT uq_payment_attempts_key UNIQUE (idempotency_key),
				CONSTRAINT fk_payment_attempts_purchase FOREIGN KEY (purchase_id) REFERENCES purchases (id)
			){{opts}}`,
		`CREATE TABLE IF NOT EXISTS purchase_buyers (
				buyer_id BIGINT NOT NULL PRIMARY KEY,
				locked_at {{time}} NOT NULL
			){{opts}}`,
	)
	if err != nil {
		return err
	}
	if err := createIndex(tx, "payment_attempts", "idx_payment_attempts_status_updated_at", "status, updated_at"); err != nil {
		return err
	}
	if !tx.Migrator().HasColumn("purchases", "pay_by") {
		if err := tx.Exec(ddlFor(d, "ALTER TABLE purchases ADD COLUMN pay_by {{time}} NULL")).Error; err != nil {
			return err
		}
	}
	if err := createIndex(tx, "purchases", "idx_purchases_status_pay_by", "status, pay_by"); err != nil {
		return err
	}
	// Orders already pending were never shown a deadline: they get the
	// default window from now (or from their creation, if later).
	var rows []purchaseRow
	if err := tx.Select("id", "created_at").Where("status = ? AND pay_by IS NULL", string(purchase.StatusPendingPayment)).
		Find(&rows).Error; err != nil {
		return err
	}
	now := time.Now()
	for _, r := range rows {
		payBy := dbTime(later(r.CreatedAt, now).Add(purchase.DefaultPaymentWindow).Truncate(time.Second))
		if err := tx.Exec("UPDATE purchases SET pay_by = ? WHERE id = ? AND pay_by IS NULL", payBy, r.ID).Error; err != nil {
			return err
		}
	}
	return nil
}

func later(a, b time.Time) time.Time {
	if b.After(a) {
		return b
	}
	return a
}
