package store

import (
	"fmt"
	"sort"
	"strings"

	"gorm.io/gorm"

	"github.com/tet-bookstore/bookstore/app/auth"
)

// normaliseEmails is auth migration 5: every stored e-mail rewritten to
// auth.NormalizeEmail's spelling, and on MySQL the column compared byte for
// byte (utf8mb4_bin), so the normaliser alone decides which addresses are
// one account; the table's utf8mb4_unicode_ci would otherwise also call
// "jose@…" and "josé@…" the same. Rows it cannot rewrite are not merged or
// dropped: when two rows normalise to one address, or a row's address is
// no longer accepted (an invisible character in it, say), the step changes
// nothing and fails naming the users, for an operator to resolve (change
// or delete the rows) before starting again.
func normaliseEmails(tx *gorm.DB, dialect string) error {
	var rows []struct {
		ID    int64
		Email string
	}
	if err := tx.Raw("SELECT id, email FROM users ORDER BY id").Scan(&rows).Error; err != nil {
		return fmt.Errorf("read users: %w", err)
	}
	owners := map[string][]int64{} // normalised e-mail → users
	changed := map[int64]string{}
	var problems []string
	for _, r := range rows {
		email, err := auth.NormalizeEmail(r.Email)
		if err != nil {
			problems = append(problems, fmt.Sprintf("user %d (%q) has an e-mail address that is no longer accepted", r.ID, r.Email))
			continue
		}
		owners[email] = append(owners[email], r.ID)
		if email != r.Email {
			changed[r.ID] = email
		}
	}
	emails := make([]string, 0, len(owners))
	for e := range owners {
		emails = append(emails, e)
	}
	sort.Strings(emails)
	for _, e := range emails {
		if ids := owners[e]; len(ids) > 1 {
			problems = append(problems, fmt.Sprintf("users %s are all %q", idList(ids), e))
		}
	}
	if len(problems) > 0 {
		return fmt.Errorf("e-mail addresses to resolve by hand (nothing was changed): %s", strings.Join(problems, "; "))
	}
	if dialect == DialectMySQL {
		if err := tx.Exec("ALTER TABLE users MODIFY email VARCHAR(254) CHARACTER SET utf8mb4 COLLATE utf8mb4_bin NOT NULL").Error; err != nil {
			return fmt.Errorf("compare e-mails byte for byte: %w", err)
		}
	}
	ids := make([]int64, 0, len(changed))
	for id := range changed {
		ids = append(ids, id)
	}
	sort.Slice(ids, func(i, j int) bool { return ids[i] < ids[j] })
	for _, id := range ids {
		if err := tx.Exec("UPDATE users SET email = ? WHERE id = ?", changed[id], id).Error; err != nil {
			return fmt.Errorf("normalise e-mail of user %d: %w", id, err)
		}
	}
	return nil
}

func idList(ids []int64) string {
	s := make([]string, len(ids))
	for i, id := range ids {
		s[i] = fmt.Sprint(id)
	}
	return strings.Join(s, ", ")
}
