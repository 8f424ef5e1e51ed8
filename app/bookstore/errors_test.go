package bookstore_test

import (
	"errors"
	"fmt"
	"testing"

	"github.com/tet-bookstore/bookstore/app/bookstore"
)

func TestErrorCodeAndMessageThroughWrappedChains(t *testing.T) {
	domain := bookstore.Errorf(bookstore.ECONFLICT, "only %d left", 3)
	once := fmt.Errorf("reserve stock for book 7: %w", domain)
	twice := fmt.Errorf("buy book 7: %w", once)
	joined := errors.Join(errors.New("first"), twice)

	for name, err := range map[string]error{"bare": domain, "once": once, "twice": twice, "joined": joined} {
		if got := bookstore.ErrorCode(err); got != bookstore.ECONFLICT {
			t.Errorf("%s: ErrorCode = %q, want %q", name, got, bookstore.ECONFLICT)
		}
		// People see the domain message, not the wrapping context.
		if got := bookstore.ErrorMessage(err); got != "only 3 left" {
			t.Errorf("%s: ErrorMessage = %q, want %q", name, got, "only 3 left")
		}
	}
}

func TestErrorCodeFirstDomainErrorWins(t *testing.T) {
	inner := bookstore.Errorf(bookstore.ENOTFOUND, "book 1 not found")
	outer := &bookstore.Error{Code: bookstore.EFORBIDDEN, Message: "not yours"}
	err := fmt.Errorf("%w: %w", outer, inner)
	if got := bookstore.ErrorCode(err); got != bookstore.EFORBIDDEN {
		t.Errorf("ErrorCode = %q, want the first in the chain %q", got, bookstore.EFORBIDDEN)
	}
}

func TestInternalErrorsHideDetails(t *testing.T) {
	err := fmt.Errorf("get book 3: %w", errors.New(`Error 1146: Table 'shop.books' doesn't exist at /srv/app/db.go:12`))
	if got := bookstore.ErrorCode(err); got != bookstore.EINTERNAL {
		t.Errorf("ErrorCode = %q, want %q", got, bookstore.EINTERNAL)
	}
	if got := bookstore.ErrorMessage(err); got != "internal error" {
		t.Errorf("ErrorMessage = %q, want the generic text", got)
	}
}

func TestNilError(t *testing.T) {
	if got := bookstore.ErrorCode(nil); got != "" {
		t.Errorf("ErrorCode(nil) = %q, want empty", got)
	}
	if got := bookstore.ErrorMessage(nil); got != "" {
		t.Errorf("ErrorMessage(nil) = %q, want empty", got)
	}
}

func TestErrorfFormatsMessage(t *testing.T) {
	err := bookstore.Errorf(bookstore.EINVALID, "quantity must be at most %d", 1000)
	if err.Code != bookstore.EINVALID || err.Error() != "quantity must be at most 1000" {
		t.Errorf("Errorf = %+v", err)
	}
}
