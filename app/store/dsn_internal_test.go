package store

import (
	"testing"
	"time"
)

func TestMySQLConfig(t *testing.T) {
	cfg, err := mysqlConfig("mysql://shop:p%40ss@db.example.com/bookstore?tls=true")
	if err != nil {
		t.Fatal(err)
	}
	switch {
	case cfg.User != "shop" || cfg.Passwd != "p@ss":
		t.Errorf("credentials = %q %q", cfg.User, cfg.Passwd)
	case cfg.Addr != "db.example.com:3306" || cfg.DBName != "bookstore":
		t.Errorf("address = %q, database = %q", cfg.Addr, cfg.DBName)
	case !cfg.ParseTime || cfg.Loc != time.UTC:
		t.Error("times are not parsed as UTC")
	case cfg.Collation != "utf8mb4_unicode_ci":
		t.Errorf("collation = %q", cfg.Collation)
	case !cfg.ClientFoundRows:
		t.Error("RowsAffected would count changed rows, not matched ones")
	case cfg.TLSConfig != "true" || cfg.TLS == nil || cfg.TLS.ServerName != "db.example.com":
		t.Errorf("tls = %q %+v", cfg.TLSConfig, cfg.TLS)
	case cfg.Timeout == 0 || cfg.ReadTimeout == 0 || cfg.WriteTimeout == 0:
		t.Error("no network timeouts")
	}
	for _, v := range []string{"skip-verify", "preferred", "false"} {
		if _, err := mysqlConfig("mysql://u:p@h:3307/d?tls=" + v); err != nil {
			t.Errorf("tls=%s: %v", v, err)
		}
	}
	if cfg, err := mysqlConfig("mysql://u:@[::1]:3307/d"); err != nil || cfg.Addr != "[::1]:3307" || cfg.Passwd != "" {
		t.Errorf("IPv6 with empty password: %+v %v", cfg, err)
	}
}

func TestLockNameFitsMySQL(t *testing.T) {
	db := &DB{where: "a_rather_long_database_name_that_goes_on_and_on_and_on"}
	if n := db.lockName("bookstore_migrate"); len(n) > 64 {
		t.Fatalf("lock name %q is %d characters; MySQL allows 64", n, len(n))
	}
	short := &DB{where: "shop"}
	if n := short.lockName("bookstore_migrate"); n != "shop.bookstore_migrate" {
		t.Fatalf("lock name = %q", n)
	}
}
