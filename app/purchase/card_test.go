package purchase

import (
	"context"
	"testing"

	"github.com/tet-bookstore/bookstore/app/bookstore"
)

func TestValidCardNumber(t *testing.T) {
	tests := []struct {
		number string
		want   bool
	}{
		{"4242424242424242", true},
		{DeclinedTestCard, true}, // declined by the processor, but a well-formed number
		{"4242424242424241", false},
		{"424242424242", true},          // 12 digits, the shortest accepted
		{"42424242420", false},          // 11 digits, Luhn-valid but too short
		{"4242424242424242428", true},   // 19 digits, the longest accepted
		{"42424242424242424242", false}, // 20 digits, Luhn-valid but too long
		{"", false},
		{"4242 4242 4242 4242", false}, // callers strip separators first
		{"424242424242424a", false},
		{"424242424242424/", false}, // just below '0'
		{"424242424242424:", false}, // just above '9'
		{"٤٢٤٢٤٢٤٢٤٢٤٢٤٢٤٢", false}, // Arabic-Indic digits
		{"-4242424242424242", false},
	}
	for _, tt := range tests {
		if got := ValidCardNumber(tt.number); got != tt.want {
			t.Errorf("ValidCardNumber(%q) = %v, want %v", tt.number, got, tt.want)
		}
	}
}

func TestSimulatedProcessor(t *testing.T) {
	ctx := context.Background()
	p := NewSimulatedProcessor()
	_, err := p.Charge(ctx, Charge{IdempotencyKey: "a", AmountCents: 100, CardNumber: DeclinedTestCard, CardHolder: "X"})
	if bookstore.ErrorCode(err) != bookstore.EPAYMENT {
		t.Fatalf("declined card: %v, want %s", err, bookstore.EPAYMENT)
	}
	ref1, err := p.Charge(ctx, Charge{IdempotencyKey: "a", AmountCents: 100, CardNumber: "4242424242424242", CardHolder: "X"})
	if err != nil || ref1 == "" {
		t.Fatalf("Charge = %q, %v", ref1, err)
	}
	ref2, _ := p.Charge(ctx, Charge{IdempotencyKey: "a", AmountCents: 100, CardNumber: "4242424242424242", CardHolder: "X"})
	ref3, _ := p.Charge(ctx, Charge{IdempotencyKey: "b", AmountCents: 100, CardNumber: "4242424242424242", CardHolder: "X"})
	if ref2 != ref1 || ref3 == ref1 {
		t.Errorf("refs %q %q %q: want the first two equal, the third different", ref1, ref2, ref3)
	}
	if p.Charges() != 2 {
		t.Errorf("Charges = %d, want 2 (one per key)", p.Charges())
	}
}

func TestDefaultProviders(t *testing.T) {
	want := []Provider{
		{Name: "DHL", CoverageArea: "international", CostCents: 5000},
		{Name: "FedEx", CoverageArea: "international", CostCents: 4500},
		{Name: "Envia", CoverageArea: "national", CostCents: 2000},
		{Name: "Servientrega", CoverageArea: "national", CostCents: 1500},
	}
	if len(DefaultProviders) != len(want) {
		t.Fatalf("%d providers, want %d", len(DefaultProviders), len(want))
	}
	for i := range want {
		if DefaultProviders[i] != want[i] {
			t.Errorf("provider %d = %+v, want %+v", i, DefaultProviders[i], want[i])
		}
	}
}
