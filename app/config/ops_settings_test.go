package config_test

import (
	"strings"
	"testing"

	"github.com/tet-bookstore/bookstore/app/config"
)

func TestQuotaMetricsAndHSTSSettings(t *testing.T) {
	c, err := config.FromLookup(lookup(nil))
	if err != nil {
		t.Fatal(err)
	}
	if c.MaxBooksPerHour != 60 || c.MaxUploadBytesPerHour != 20<<20 || c.MetricsAddr != "off" || c.HSTS {
		t.Errorf("defaults: books %d, bytes %d, metrics %q, hsts %v", c.MaxBooksPerHour, c.MaxUploadBytesPerHour, c.MetricsAddr, c.HSTS)
	}
	c, err = config.FromLookup(lookup(map[string]string{
		"BOOKSTORE_MAX_BOOKS_PER_HOUR": "0", "BOOKSTORE_MAX_UPLOAD_BYTES_PER_HOUR": "1048576",
		"BOOKSTORE_METRICS_ADDR": "127.0.0.1:9090", "BOOKSTORE_HSTS": "true",
	}))
	if err != nil {
		t.Fatal(err)
	}
	if c.MaxBooksPerHour != 0 || c.MaxUploadBytesPerHour != 1<<20 || c.MetricsAddr != "127.0.0.1:9090" || !c.HSTS {
		t.Errorf("read: %+v", c)
	}
	for name, value := range map[string]string{
		"BOOKSTORE_MAX_BOOKS_PER_HOUR":        "-1",
		"BOOKSTORE_MAX_UPLOAD_BYTES_PER_HOUR": "lots",
		"BOOKSTORE_METRICS_ADDR":              "9090",
		"BOOKSTORE_HSTS":                      "maybe",
	} {
		_, err := config.FromLookup(lookup(map[string]string{name: value}))
		if err == nil || !strings.Contains(err.Error(), name) {
			t.Errorf("%s=%q: %v, want an error naming it", name, value, err)
		}
	}
}
