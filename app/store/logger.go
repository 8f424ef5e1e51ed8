package store

import (
	"context"
	"errors"
	"log/slog"
	"time"

	"gorm.io/gorm"
	"gorm.io/gorm/logger"
)

// slowQuery is when a statement is worth a warning.
const slowQuery = time.Second

// quietLogger sends GORM's messages to slog without SQL text: statements
// carry user data (e-mails, password hashes, addresses) that logs must not.
// Expected outcomes (no row, a taken unique key) are not errors here; the
// store turns them into domain errors.
type quietLogger struct{}

func (l quietLogger) LogMode(logger.LogLevel) logger.Interface { return l }

func (quietLogger) Info(ctx context.Context, msg string, args ...any) {
	slog.DebugContext(ctx, "gorm", "msg", msg)
}

func (quietLogger) Warn(ctx context.Context, msg string, args ...any) {
	slog.WarnContext(ctx, "gorm", "msg", msg)
}

func (quietLogger) Error(ctx context.Context, msg string, args ...any) {
	slog.ErrorContext(ctx, "gorm", "msg", msg)
}

func (quietLogger) Trace(ctx context.Context, begin time.Time, fc func() (string, int64), err error) {
	elapsed := time.Since(begin)
	switch {
	case err != nil && !errors.Is(err, gorm.ErrRecordNotFound) && !errors.Is(err, context.Canceled) &&
		!isUniqueViolation(err) && !isForeignKeyViolation(err):
		slog.ErrorContext(ctx, "sql statement failed", "err", err, "elapsed_ms", elapsed.Milliseconds())
	case elapsed > slowQuery:
		slog.WarnContext(ctx, "slow sql statement", "elapsed_ms", elapsed.Milliseconds())
	}
}
