package store

import (
	"fmt"
	"strings"

	"gorm.io/gorm"

	"github.com/tet-bookstore/bookstore/app/purchase"
)

// The modules' schemas. Each module owns its tables and never references
// another module's: books.seller_id and purchases.book_id are plain numbers,
// so the modules can later live in separate databases, and deleting a book
// leaves the purchases (which copied title and price) intact.

// AuthModule owns users, sessions, revoked_sessions and login_failures.
var AuthModule = Module{Name: "auth", Probe: "users", Migrations: []Migration{
	{Version: 1, Name: "create users and sessions", Up: func(tx *gorm.DB, d string) error {
		return run(tx, d,
			`CREATE TABLE IF NOT EXISTS users (
				id {{pk}},
				name VARCHAR(100) NOT NULL,
				email VARCHAR(254) NOT NULL,
				role VARCHAR(16) NOT NULL,
				password_hash VARCHAR(255) NOT NULL,
				created_at {{time}} NOT NULL,
				CONSTRAINT uq_users_email UNIQUE (email)
			){{opts}}`,
			`CREATE TABLE IF NOT EXISTS sessions (
				token_hash CHAR(64) NOT NULL PRIMARY KEY,
				user_id BIGINT NOT NULL,
				expires_at {{time}} NOT NULL,
				created_at {{time}} NOT NULL,
				CONSTRAINT fk_sessions_user FOREIGN KEY (user_id) REFERENCES users (id) ON DELETE CASCADE
			){{opts}}`,
			sqliteOnly(`CREATE INDEX IF NOT EXISTS idx_sessions_user_id ON sessions (user_id)`),
		)
	}},
	{Version: 2, Name: "index sessions by expiry for clean-up", Up: func(tx *gorm.DB, d string) error {
		return createIndex(tx, "sessions", "idx_sessions_expires_at", "expires_at")
	}},
	// Signed-out sessions whose signed tokens may still be unexpired: the
	// other services poll this list (by id, in order) to refuse them.
	{Version: 3, Name: "create revoked_sessions", Up: func(tx *gorm.DB, d string) error {
		if err := run(tx, d, `CREATE TABLE IF NOT EXISTS revoked_sessions (
				id {{pk}},
				session_id CHAR(64) NOT NULL,
				expires_at {{time}} NOT NULL,
				revoked_at {{time}} NOT NULL,
				CONSTRAINT uq_revoked_sessions_session_id UNIQUE (session_id)
			){{opts}}`); err != nil {
			return err
		}
		return createIndex(tx, "revoked_sessions", "idx_revoked_sessions_expires_at", "expires_at")
	}},
	// Failed logins per account and per address, shared by every instance.
	{Version: 4, Name: "create login_failures", Up: func(tx *gorm.DB, d string) error {
		if err := run(tx, d, `CREATE TABLE IF NOT EXISTS login_failures (
				limit_key VARCHAR(300) NOT NULL PRIMARY KEY,
				failures INT NOT NULL,
				window_start {{time}} NOT NULL
			){{opts}}`); err != nil {
			return err
		}
		return createIndex(tx, "login_failures", "idx_login_failures_window_start", "window_start")
	}},
	{Version: 5, Name: "normalise e-mails", Up: normaliseEmails},
}}

// KeysModule owns server_keys: secrets every instance on one database
// shares, made once (the monolith's CSRF key). The services take theirs from
// their configuration, so they do not migrate it.
var KeysModule = Module{Name: "keys", Migrations: []Migration{
	{Version: 1, Name: "create server_keys", Up: func(tx *gorm.DB, d string) error {
		return run(tx, d, `CREATE TABLE IF NOT EXISTS server_keys (
				name VARCHAR(64) NOT NULL PRIMARY KEY,
				secret CHAR(64) NOT NULL,
				created_at {{time}} NOT NULL
			){{opts}}`)
	}},
}}

// CatalogModule owns books and stock_reservations.
var CatalogModule = Module{Name: "catalog", Probe: "books", Migrations: []Migration{
	{Version: 1, Name: "create books", Up: func(tx *gorm.DB, d string) error {
		if err := run(tx, d, `CREATE TABLE IF NOT EXISTS books (
				id {{pk}},
				title VARCHAR(200) NOT NULL,
				author VARCHAR(200) NOT NULL DEFAULT '',
				description TEXT NOT NULL,
				price_cents BIGINT NOT NULL,
				stock INT NOT NULL,
				seller_id BIGINT NOT NULL,
				cover_url VARCHAR(255) NOT NULL DEFAULT '',
				created_at {{time}} NOT NULL,
				updated_at {{time}} NOT NULL,
				CONSTRAINT ck_books_stock CHECK (stock >= 0)
			){{opts}}`); err != nil {
			return err
		}
		// "My books" pages by seller, newest first; title and author serve
		// prefix searches and sorting.
		for _, ix := range [][2]string{
			{"idx_books_seller_id", "seller_id, id"},
			{"idx_books_title", "title"},
			{"idx_books_author", "author"},
		} {
			if err := createIndex(tx, "books", ix[0], ix[1]); err != nil {
				return err
			}
		}
		return nil
	}},
	{Version: 2, Name: "create stock_reservations", Up: func(tx *gorm.DB, d string) error {
		if err := run(tx, d, `CREATE TABLE IF NOT EXISTS stock_reservations (
				id {{pk}},
				reservation_key VARCHAR(64) NOT NULL,
				book_id BIGINT NOT NULL,
				quantity INT NOT NULL,
				title VARCHAR(200) NOT NULL,
				unit_price_cents BIGINT NOT NULL,
				released BOOLEAN NOT NULL DEFAULT FALSE,
				created_at {{time}} NOT NULL,
				released_at {{time}} NULL,
				CONSTRAINT uq_stock_reservations_key UNIQUE (reservation_key)
			){{opts}}`); err != nil {
			return err
		}
		return createIndex(tx, "stock_reservations", "idx_stock_reservations_book_id", "book_id")
	}},
	// A reservation is pending until the purchase that made it is recorded
	// (confirmed) or given up (released); the reconciler finds the pending
	// ones a crash left behind. Reservations made before this existed all
	// belong to recorded purchases.
	{Version: 3, Name: "confirm stock reservations", Up: func(tx *gorm.DB, d string) error {
		if !tx.Migrator().HasColumn("stock_reservations", "confirmed") {
			if err := tx.Exec("ALTER TABLE stock_reservations ADD COLUMN confirmed BOOLEAN NOT NULL DEFAULT FALSE").Error; err != nil {
				return err
			}
			if err := tx.Exec("UPDATE stock_reservations SET confirmed = ?", true).Error; err != nil {
				return err
			}
		}
		return createIndex(tx, "stock_reservations", "idx_stock_reservations_pending", "released, confirmed, created_at")
	}},
}}

// PurchaseModule owns purchases, payments, deliveries and delivery_providers,
// and seeds purchase.DefaultProviders.
var PurchaseModule = Module{Name: "purchase", Probe: "purchases", Migrations: []Migration{
	{Version: 1, Name: "create purchases, payments, delivery providers and deliveries", Up: func(tx *gorm.DB, d string) error {
		err := run(tx, d,
			`CREATE TABLE IF NOT EXISTS purchases (
				id {{pk}},
				buyer_id BIGINT NOT NULL,
				book_id BIGINT NOT NULL,
				book_title VARCHAR(200) NOT NULL,
				quantity INT NOT NULL,
				unit_price_cents BIGINT NOT NULL,
				total_cents BIGINT NOT NULL,
				status VARCHAR(20) NOT NULL,
				reservation_key VARCHAR(64) NOT NULL,
				created_at {{time}} NOT NULL,
				updated_at {{time}} NOT NULL,
				CONSTRAINT uq_purchases_reservation_key UNIQUE (reservation_key)
			){{opts}}`,
			`CREATE TABLE IF NOT EXISTS payments (
				id {{pk}},
				purchase_id BIGINT NOT NULL,
				method VARCHAR(16) NOT NULL,
				card_last4 CHAR(4) NOT NULL,
				card_holder VARCHAR(100) NOT NULL,
				amount_cents BIGINT NOT NULL,
				provider_ref VARCHAR(100) NOT NULL,
				created_at {{time}} NOT NULL,
				CONSTRAINT uq_payments_purchase_id UNIQUE (purchase_id),
				CONSTRAINT fk_payments_purchase FOREIGN KEY (purchase_id) REFERENCES purchases (id)
			){{opts}}`,
			`CREATE TABLE IF NOT EXISTS delivery_providers (
				id {{pk}},
				name VARCHAR(100) NOT NULL,
				coverage_area VARCHAR(100) NOT NULL,
				cost_cents BIGINT NOT NULL,
				CONSTRAINT uq_delivery_providers_name UNIQUE (name)
			){{opts}}`,
			`CREATE TABLE IF NOT EXISTS deliveries (
				id {{pk}},
				purchase_id BIGINT NOT NULL,
				provider_id BIGINT NOT NULL,
				provider_name VARCHAR(100) NOT NULL,
				address VARCHAR(500) NOT NULL,
				cost_cents BIGINT NOT NULL,
				created_at {{time}} NOT NULL,
				CONSTRAINT uq_deliveries_purchase_id UNIQUE (purchase_id),
				CONSTRAINT fk_deliveries_purchase FOREIGN KEY (purchase_id) REFERENCES purchases (id),
				CONSTRAINT fk_deliveries_provider FOREIGN KEY (provider_id) REFERENCES delivery_providers (id)
			){{opts}}`,
			sqliteOnly(`CREATE INDEX IF NOT EXISTS idx_deliveries_provider_id ON deliveries (provider_id)`),
		)
		if err != nil {
			return err
		}
		// A buyer's orders, newest first.
		return createIndex(tx, "purchases", "idx_purchases_buyer_id", "buyer_id, id")
	}},
	{Version: 2, Name: "seed the default delivery providers", Up: func(tx *gorm.DB, d string) error {
		for _, p := range purchase.DefaultProviders {
			var n int64
			if err := tx.Model(&providerRow{}).Where("name = ?", p.Name).Count(&n).Error; err != nil {
				return err
			}
			if n > 0 {
				continue // an operator may have changed its price: keep theirs
			}
			row := providerRow{Name: p.Name, CoverageArea: p.CoverageArea, CostCents: p.CostCents}
			if err := tx.Create(&row).Error; err != nil {
				return fmt.Errorf("seed provider %s: %w", p.Name, err)
			}
		}
		return nil
	}},
	// The reconciler re-releases the stock of recently cancelled purchases.
	{Version: 3, Name: "index purchases by status and update time", Up: func(tx *gorm.DB, d string) error {
		return createIndex(tx, "purchases", "idx_purchases_status_updated_at", "status, updated_at")
	}},
	{Version: 4, Name: "payment attempts, payment deadlines and per-buyer locks", Up: migratePayments},
}}

// Modules are every module of the monolith, in dependency-free order.
func Modules() []Module { return []Module{AuthModule, CatalogModule, PurchaseModule, KeysModule} }

// sqliteOnly marks a statement MySQL does not need (it indexes foreign keys
// by itself).
func sqliteOnly(stmt string) string { return "--sqlite-only\n" + stmt }

// run executes statements written in the shared dialect below.
func run(tx *gorm.DB, dialect string, stmts ...string) error {
	for _, s := range stmts {
		if strings.HasPrefix(s, "--sqlite-only\n") {
			if dialect != DialectSQLite {
				continue
			}
			s = strings.TrimPrefix(s, "--sqlite-only\n")
		}
		if err := tx.Exec(ddlFor(dialect, s)).Error; err != nil {
			return err
		}
	}
	return nil
}

// createIndex adds a non-unique index unless it exists (MySQL has no
// CREATE INDEX IF NOT EXISTS).
func createIndex(tx *gorm.DB, table, name, columns string) error {
	if tx.Migrator().HasIndex(table, name) {
		return nil
	}
	return tx.Exec(fmt.Sprintf("CREATE INDEX %s ON %s (%s)", name, table, columns)).Error
}

var (
	sqliteDDL = strings.NewReplacer(
		"{{pk}}", "INTEGER PRIMARY KEY AUTOINCREMENT",
		"{{time}}", "DATETIME",
		"{{opts}}", "",
	)
	mysqlDDL = strings.NewReplacer(
		"{{pk}}", "BIGINT NOT NULL AUTO_INCREMENT PRIMARY KEY",
		"{{time}}", "DATETIME(6)",
		"{{opts}}", " ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci",
	)
)

func ddlFor(dialect, stmt string) string {
	if dialect == DialectMySQL {
		return mysqlDDL.Replace(stmt)
	}
	return sqliteDDL.Replace(stmt)
}

func (db *DB) ddl(stmt string) string { return ddlFor(db.dialect, stmt) }
