package store_test

import (
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/tet-bookstore/bookstore/app/store"
)

// Two instances share one quota: parallel uses on both never take more than
// the limit, a refusal says when the window ends, and a new window starts
// a new count.
func TestQuotaCounterIsSharedByInstances(t *testing.T) {
	for _, b := range backends() {
		t.Run(b.name, func(t *testing.T) {
			ctx := ctxT(t)
			dsn := b.dsn(t)
			first := open(t, dsn)
			must(t, first.Migrate(ctx, store.QuotaModule))
			counters := []*store.QuotaCounter{store.NewQuotaCounter(first), store.NewQuotaCounter(open(t, dsn))}
			now := time.Now().UTC()
			const limit, window = 5, time.Hour

			var granted atomic.Int64
			var wg sync.WaitGroup
			for i := 0; i < 20; i++ {
				wg.Add(1)
				go func() {
					defer wg.Done()
					ok, _, err := counters[i%2].Take(ctx, "books:7", 1, limit, window, now)
					if err != nil {
						t.Error(err)
					}
					if ok {
						granted.Add(1)
					}
				}()
			}
			wg.Wait()
			if granted.Load() != limit {
				t.Fatalf("%d of 20 parallel uses granted, want %d", granted.Load(), limit)
			}
			ok, wait, err := counters[1].Take(ctx, "books:7", 1, limit, window, now.Add(10*time.Minute))
			must(t, err)
			if ok || wait < 49*time.Minute || wait > 50*time.Minute {
				t.Errorf("over the limit: ok=%v retry after %v, want refused for about 50m", ok, wait)
			}
			if ok, _, _ := counters[0].Take(ctx, "books:8", 1, limit, window, now); !ok {
				t.Error("another user's quota is used up too")
			}
			// Bytes: an amount that does not fit takes nothing.
			if ok, _, _ := counters[0].Take(ctx, "bytes:7", 900, 1000, window, now); !ok {
				t.Fatal("900 of 1000 refused")
			}
			if ok, _, _ := counters[1].Take(ctx, "bytes:7", 200, 1000, window, now); ok {
				t.Fatal("1100 of 1000 granted")
			}
			if ok, _, _ := counters[1].Take(ctx, "bytes:7", 100, 1000, window, now); !ok {
				t.Fatal("the refused 200 were counted")
			}
			if ok, _, _ := counters[0].Take(ctx, "bytes:7", 2000, 1000, window, now.Add(2*window)); ok {
				t.Fatal("more than the whole limit at once granted")
			}
			later := now.Add(window + time.Second)
			for i := 0; i < limit; i++ {
				if ok, _, err := counters[i%2].Take(ctx, "books:7", 1, limit, window, later); err != nil || !ok {
					t.Fatalf("new window: use %d refused (%v)", i+1, err)
				}
			}
			must(t, counters[0].Sweep(ctx, later.Add(2*window), window))
			if ok, _, _ := counters[0].Take(ctx, "books:7", 1, limit, window, later.Add(2*window)); !ok {
				t.Error("after the sweep the quota is still used up")
			}
		})
	}
}
