package store_test

import (
	"context"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"gorm.io/gorm"

	"github.com/tet-bookstore/bookstore/app/auth"
	"github.com/tet-bookstore/bookstore/app/catalog"
	"github.com/tet-bookstore/bookstore/app/purchase"
	"github.com/tet-bookstore/bookstore/app/store"
)

func totalMigrations(modules ...store.Module) int {
	n := 0
	for _, m := range modules {
		n += len(m.Migrations)
	}
	return n
}

func (s suite) testMigrate(t *testing.T) {
	ctx := ctxT(t)
	db := s.fresh(t)
	for _, m := range store.Modules() {
		v, err := db.AppliedVersion(ctx, m.Name)
		must(t, err)
		if v != len(m.Migrations) {
			t.Errorf("%s at version %d, want %d", m.Name, v, len(m.Migrations))
		}
	}
	want := totalMigrations(store.Modules()...)
	if n := count(t, db, "schema_migrations", ""); n != want {
		t.Fatalf("schema_migrations has %d rows, want %d", n, want)
	}
	// Running again (the next start-up) changes nothing.
	must(t, db.Migrate(ctx, store.Modules()...))
	if n := count(t, db, "schema_migrations", ""); n != want {
		t.Fatalf("after a second run schema_migrations has %d rows, want %d", n, want)
	}
	provs, err := store.NewPurchaseStore(db).ListProviders(ctx)
	must(t, err)
	if len(provs) != len(purchase.DefaultProviders) {
		t.Fatalf("providers = %+v, want the %d defaults", provs, len(purchase.DefaultProviders))
	}
	for i, p := range purchase.DefaultProviders {
		if provs[i].Name != p.Name || provs[i].CostCents != p.CostCents || provs[i].CoverageArea != p.CoverageArea || provs[i].ID == 0 {
			t.Errorf("provider %d = %+v, want %+v", i, provs[i], p)
		}
	}
	// A module whose versions do not count 1, 2, 3 is refused before anything runs.
	bad := store.Module{Name: "bad", Migrations: []store.Migration{{Version: 2, Name: "x", Up: func(*gorm.DB, string) error { return nil }}}}
	if err := db.Migrate(ctx, bad); err == nil {
		t.Fatal("a module starting at version 2 was accepted")
	}
}

// raceModule counts how often each of its steps really runs, and its second
// step inserts a row into a table without any unique key: a step applied
// twice would leave two rows.
func raceModule(runs *[2]atomic.Int32) store.Module {
	return store.Module{Name: "race", Migrations: []store.Migration{
		{Version: 1, Name: "create race_log", Up: func(tx *gorm.DB, dialect string) error {
			runs[0].Add(1)
			time.Sleep(50 * time.Millisecond) // widen the window for a competitor
			return tx.Exec("CREATE TABLE race_log (note VARCHAR(20) NOT NULL)").Error
		}},
		{Version: 2, Name: "insert into race_log", Up: func(tx *gorm.DB, dialect string) error {
			runs[1].Add(1)
			return tx.Exec("INSERT INTO race_log (note) VALUES ('applied')").Error
		}},
	}}
}

// Three instances starting at the same moment against one database all
// succeed, and every step is applied exactly once.
func (s suite) testMigrateConcurrently(t *testing.T) {
	dsn := s.dsn(t)
	var runs [2]atomic.Int32
	modules := append(store.Modules(), raceModule(&runs))
	const instances = 3
	dbs := make([]*store.DB, instances)
	for i := range dbs {
		dbs[i] = open(t, dsn) // each instance has its own pool
	}
	start := make(chan struct{})
	errs := make([]error, instances)
	var wg sync.WaitGroup
	for i, db := range dbs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-start
			errs[i] = db.Migrate(ctxT(t), modules...)
		}()
	}
	close(start)
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			t.Errorf("instance %d: %v", i, err)
		}
	}
	if a, b := runs[0].Load(), runs[1].Load(); a != 1 || b != 1 {
		t.Errorf("race steps ran %d and %d times, want once each", a, b)
	}
	if n := count(t, dbs[0], "race_log", ""); n != 1 {
		t.Errorf("race_log has %d rows, want 1", n)
	}
	if n, want := count(t, dbs[0], "schema_migrations", ""), totalMigrations(modules...); n != want {
		t.Errorf("schema_migrations has %d rows, want %d", n, want)
	}
	if n := count(t, dbs[0], "delivery_providers", ""); n != len(purchase.DefaultProviders) {
		t.Errorf("%d delivery providers, want %d", n, len(purchase.DefaultProviders))
	}
}

func firstSteps(modules ...store.Module) []store.Module {
	out := make([]store.Module, len(modules))
	for i, m := range modules {
		out[i] = store.Module{Name: m.Name, Migrations: m.Migrations[:1]}
	}
	return out
}

// A database at version 1 upgrades to the current schema with its data.
func (s suite) testMigrateUpgradeKeepsData(t *testing.T) {
	ctx := ctxT(t)
	db := open(t, s.dsn(t))
	must(t, db.Migrate(ctx, firstSteps(store.Modules()...)...))
	for _, m := range store.Modules() {
		v, err := db.AppliedVersion(ctx, m.Name)
		must(t, err)
		if v != 1 {
			t.Fatalf("%s at version %d after the first step only", m.Name, v)
		}
	}
	as, cs, ps := store.NewAuthStore(db), store.NewCatalogStore(db), store.NewPurchaseStore(db)
	u := auth.User{Name: "Ada", Email: "ada@example.com", Role: "user", PasswordHash: "hash"}
	must(t, as.CreateUser(ctx, &u))
	b := catalog.Book{Title: "Dune", Author: "Frank Herbert", PriceCents: 1999, Stock: 3, SellerID: u.ID}
	must(t, cs.CreateBook(ctx, &b))
	p := purchase.Purchase{BuyerID: u.ID, BookID: b.ID, BookTitle: b.Title, Quantity: 1, UnitPriceCents: 1999,
		TotalCents: 1999, Status: purchase.StatusPendingPayment, ReservationKey: "old-key"}
	must(t, ps.CreatePurchase(ctx, &p, 0))

	must(t, db.Migrate(ctx, store.Modules()...))

	for _, m := range store.Modules() {
		v, err := db.AppliedVersion(ctx, m.Name)
		must(t, err)
		if v != len(m.Migrations) {
			t.Fatalf("%s at version %d after the upgrade, want %d", m.Name, v, len(m.Migrations))
		}
	}
	if got, err := as.UserByEmail(ctx, "ada@example.com"); err != nil || got.ID != u.ID || got.PasswordHash != "hash" {
		t.Fatalf("user after upgrade = %+v, %v", got, err)
	}
	if got, err := cs.GetBook(ctx, b.ID); err != nil || got.Title != "Dune" || got.Stock != 3 {
		t.Fatalf("book after upgrade = %+v, %v", got, err)
	}
	if got, err := ps.GetPurchase(ctx, p.ID); err != nil || got.TotalCents != 1999 || got.BookTitle != "Dune" {
		t.Fatalf("purchase after upgrade = %+v, %v", got, err)
	}
	// A purchase pending before deadlines existed gets a full window from
	// the upgrade (purchase v4), so it is not expired at once.
	if got, _ := ps.GetPurchase(ctx, p.ID); !got.PayBy.After(time.Now().Add(purchase.DefaultPaymentWindow - time.Minute)) {
		t.Fatalf("pay_by after upgrade = %v, want about %v from now", got.PayBy, purchase.DefaultPaymentWindow)
	}
	// The new steps work on the old data: reservations (catalog v2) and the
	// seeded providers (purchase v2).
	if _, err := cs.ReserveStock(ctx, "after-upgrade", b.ID, 1); err != nil {
		t.Fatalf("reserve after upgrade: %v", err)
	}
	if n := count(t, db, "delivery_providers", ""); n != len(purchase.DefaultProviders) {
		t.Fatalf("%d providers after upgrade", n)
	}
}

func (s suite) testWithLock(t *testing.T) {
	dsn := s.dsn(t)
	a, b := open(t, dsn), open(t, dsn)
	held, release, done := make(chan struct{}), make(chan struct{}), make(chan error, 1)
	go func() {
		done <- a.WithLock(ctxT(t), "test_lock", func(context.Context) error {
			close(held)
			<-release
			return nil
		})
	}()
	<-held
	// While one instance holds the lock, another gives up at its deadline
	// without running its function.
	short, cancel := context.WithTimeout(context.Background(), 1500*time.Millisecond)
	defer cancel()
	ran := false
	err := b.WithLock(short, "test_lock", func(context.Context) error { ran = true; return nil })
	if err == nil || ran {
		t.Fatalf("second holder got the lock (err %v, ran %v)", err, ran)
	}
	// A different name is a different lock.
	must(t, b.WithLock(ctxT(t), "other_lock", func(context.Context) error { return nil }))
	close(release)
	must(t, <-done)
	must(t, b.WithLock(ctxT(t), "test_lock", func(context.Context) error { ran = true; return nil }))
	if !ran {
		t.Fatal("function did not run once the lock was free")
	}

	// Mutual exclusion among several instances.
	var inside, maxInside atomic.Int32
	var wg sync.WaitGroup
	for i := 0; i < 6; i++ {
		db := a
		if i%2 == 1 {
			db = b
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			err := db.WithLock(ctxT(t), "test_lock", func(context.Context) error {
				n := inside.Add(1)
				for {
					m := maxInside.Load()
					if n <= m || maxInside.CompareAndSwap(m, n) {
						break
					}
				}
				time.Sleep(20 * time.Millisecond)
				inside.Add(-1)
				return nil
			})
			if err != nil {
				t.Error(err)
			}
		}()
	}
	wg.Wait()
	if m := maxInside.Load(); m != 1 {
		t.Fatalf("%d holders at once", m)
	}
}
