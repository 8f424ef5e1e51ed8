// Command bench measures the store the way it is deployed: it starts the
// bookstore binary as its own process, on a fresh SQLite file and on a fresh
// MySQL database, lists 200 books through the API and loads, from this
// process with concurrent keep-alive clients on loopback, the catalog page
// (HTML and JSON, 200 books), a book's page and buy + pay. For each it
// prints operations/s, p50/p99 latency, the server's peak RSS and the CPU
// milliseconds per operation of the app and of the database server (from
// /proc), as one table and, with --json, as a file that `bench compare A B`
// diffs.
//
//	bench [--binary bin/bookstore] [--db sqlite,mysql] [--json FILE]
//	bench compare A.json B.json
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"net/http"
	"os"
	"runtime"
	"strings"
	"time"
)

// defaultMySQL is the local MariaDB; a fresh database is made on it per run.
const defaultMySQL = "mysql://root:@127.0.0.1:3306/"

func main() {
	var err error
	if len(os.Args) > 1 && os.Args[1] == "compare" {
		err = runCompare(os.Args[2:])
	} else {
		err = run(os.Args[1:])
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "bench:", err)
		os.Exit(1)
	}
}

func runCompare(args []string) error {
	if len(args) != 2 {
		return errors.New("usage: bench compare A.json B.json")
	}
	a, err := readReport(args[0])
	if err != nil {
		return err
	}
	b, err := readReport(args[1])
	if err != nil {
		return err
	}
	fmt.Printf("A: %s (%s, load %s)\nB: %s (%s, load %s)\n", args[0], a.Date, a.LoadAvg, args[1], b.Date, b.LoadAvg)
	if compare(os.Stdout, a, b) == 0 {
		return errors.New("the reports have no db and target in common")
	}
	return nil
}

type options struct {
	binary            string
	books, workers    int
	maxOps            int
	duration          time.Duration
	dbs, targets      []string
	jsonPath, mysqlDS string
}

func run(args []string) error {
	fs := flag.NewFlagSet("bench", flag.ContinueOnError)
	var o options
	var dbs, targets string
	fs.StringVar(&o.binary, "binary", "./bin/bookstore", "bookstore binary to benchmark")
	fs.IntVar(&o.books, "books", 200, "books to list before measuring (the catalog pages show up to 200)")
	fs.DurationVar(&o.duration, "duration", 5*time.Second, "longest time to load each target")
	fs.IntVar(&o.maxOps, "max-ops", 50_000, "most operations per target")
	fs.IntVar(&o.workers, "c", 16, "concurrent clients")
	fs.StringVar(&dbs, "db", "sqlite,mysql", "databases, comma-separated: sqlite, mysql")
	fs.StringVar(&targets, "targets", strings.Join(targetNames, ","), "targets, comma-separated")
	fs.StringVar(&o.jsonPath, "json", "", "also write the results as JSON to this file")
	if err := fs.Parse(args); err != nil {
		return err
	}
	o.dbs, o.targets = strings.Split(dbs, ","), strings.Split(targets, ",")
	for _, t := range o.targets {
		if targetOps[t] == nil {
			return fmt.Errorf("unknown target %q (known: %s)", t, strings.Join(targetNames, ", "))
		}
	}
	o.mysqlDS = os.Getenv("BOOKSTORE_BENCH_MYSQL_DSN")
	if o.mysqlDS == "" {
		o.mysqlDS = defaultMySQL
	}
	host, _ := os.Hostname()
	load, _ := os.ReadFile("/proc/loadavg")
	rep := Report{Date: time.Now().UTC().Format(time.RFC3339), Host: host, CPUs: runtime.NumCPU(),
		LoadAvg: strings.Join(strings.Fields(string(load))[:min(3, len(strings.Fields(string(load))))], " "),
		Binary:  o.binary, Books: o.books, Workers: o.workers}
	fmt.Printf("%s on %s (%d CPUs, load %s): %d books, %d clients, each target up to %s or %d operations\n",
		rep.Date, host, rep.CPUs, rep.LoadAvg, o.books, o.workers, o.duration, o.maxOps)
	for _, db := range o.dbs {
		rows, err := runDB(o, db)
		if err != nil {
			return fmt.Errorf("%s: %w", db, err)
		}
		rep.Rows = append(rep.Rows, rows...)
	}
	fmt.Println()
	printTable(os.Stdout, rep.Rows)
	fmt.Println("CPU is user+system time from /proc/PID/stat over the run divided by operations; the database's includes")
	fmt.Println("every other client of that server meanwhile (DB idle ms/s: its CPU rate with the app idle, just before;")
	fmt.Println("DB net: DB CPU less that idle rate over the run, an estimate for this app alone).")
	if o.jsonPath != "" {
		if err := writeReport(o.jsonPath, rep); err != nil {
			return err
		}
	}
	for _, r := range rep.Rows {
		if r.Errors > 0 {
			return fmt.Errorf("%s %s: %d operations failed", r.DB, r.Target, r.Errors)
		}
	}
	return nil
}

// runDB starts one server on a fresh database of the given kind, seeds it
// and measures every target on it, in order.
func runDB(o options, db string) ([]Row, error) {
	dir, err := os.MkdirTemp("", "bookstore-bench-")
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(dir)
	var dsn string
	dbPID := -1
	switch db {
	case "sqlite":
		dsn = "sqlite:" + dir + "/bench.db"
	case "mysql":
		appDSN, drop, err := mysqlBenchDB(o.mysqlDS)
		if err != nil {
			return nil, err
		}
		defer drop()
		dsn = appDSN
		if port := loopbackPort(o.mysqlDS); port > 0 {
			if dbPID = listenerPID(port); dbPID == 0 {
				dbPID = -1
				fmt.Printf("mysql: no process of ours to read listens on port %d: database CPU not measured\n", port)
			}
		}
	default:
		return nil, fmt.Errorf("unknown database %q (sqlite or mysql)", db)
	}
	srv, err := startServer(o.binary, dsn, dir)
	if err != nil {
		return nil, err
	}
	defer srv.stop()
	fx, err := seed(srv.base, o.books)
	if err != nil {
		return nil, err
	}
	client := newClient(o.workers)
	var rows []Row
	for _, t := range o.targets {
		do := targetOps[t](srv.base, fx)
		// A short warm-up (connections, caches, JIT-free but page-cache warm).
		if r := load(client, do, time.Second, o.workers, 200); r.errors > 0 {
			return nil, fmt.Errorf("%s warm-up: %s", t, errSummary(r))
		}
		row, err := measure(client, do, o, srv.pid(), dbPID)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", t, err)
		}
		row.DB, row.Target = db, t
		fmt.Printf("%-6s %-13s %6.0f ops/s  app %.3f ms/op  db %s ms/op  %s\n", db, t, row.OpsPerSec, row.AppCPUMS,
			orDash(row.DBCPUMS, "%.3f"), errSummary(result{errors: row.Errors}))
		rows = append(rows, row)
	}
	return rows, nil
}

// measure loads one target and reads both processes' CPU time around it.
func measure(client *http.Client, do op, o options, appPID, dbPID int) (Row, error) {
	row := Row{DBCPUMS: -1, DBIdleMSPerSec: -1, DBNetCPUMS: -1}
	var dbIdle0, db0, db1 float64
	var err error
	if dbPID > 0 {
		if dbIdle0, err = cpuMS(dbPID); err != nil {
			return row, err
		}
		time.Sleep(time.Second)
	}
	resetPeakRSS(appPID)
	app0, err := cpuMS(appPID)
	if err != nil {
		return row, err
	}
	if dbPID > 0 {
		if db0, err = cpuMS(dbPID); err != nil {
			return row, err
		}
		row.DBIdleMSPerSec = db0 - dbIdle0
	}
	r := load(client, do, o.duration, o.workers, o.maxOps)
	app1, err := cpuMS(appPID)
	if err != nil {
		return row, err
	}
	if dbPID > 0 {
		if db1, err = cpuMS(dbPID); err != nil {
			return row, err
		}
	}
	if r.count == 0 {
		return row, fmt.Errorf("no operation succeeded: %s", errSummary(r))
	}
	rss, err := peakRSSKB(appPID)
	if err != nil {
		return row, err
	}
	n := float64(r.count)
	row.Ops, row.Errors, row.Seconds = r.count, r.errors, r.elapsed.Seconds()
	row.OpsPerSec = n / r.elapsed.Seconds()
	row.P50MS, row.P99MS = ms(r.pct(50)), ms(r.pct(99))
	row.PeakRSSMB = float64(rss) / 1024
	row.AppCPUMS = (app1 - app0) / n
	if dbPID > 0 {
		row.DBCPUMS = (db1 - db0) / n
		row.DBNetCPUMS = max(0, db1-db0-row.DBIdleMSPerSec*r.elapsed.Seconds()) / n
	}
	if r.errors > 0 {
		fmt.Fprintln(os.Stderr, "bench:", errSummary(r))
	}
	return row, nil
}

func ms(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }

// targetNames are the measured operations, in the order they run (buy-pay
// last: it changes stock, and so the cards of the pages before it).
var targetNames = []string{"catalog-html", "catalog-json", "book", "buy-pay"}

var targetOps = map[string]func(base string, fx fixture) op{
	"catalog-html": func(base string, _ fixture) op {
		return func(ctx context.Context, c *http.Client, _, _ int) error {
			return get(ctx, c, base+"/books?per_page=200")
		}
	},
	"catalog-json": func(base string, _ fixture) op {
		return func(ctx context.Context, c *http.Client, _, _ int) error {
			return get(ctx, c, base+"/api/v1/books?per_page=200")
		}
	},
	"book": func(base string, fx fixture) op {
		return func(ctx context.Context, c *http.Client, w, n int) error {
			id := fx.bookIDs[(w*7919+n)%len(fx.bookIDs)]
			return get(ctx, c, fmt.Sprintf("%s/books/%d", base, id))
		}
	},
	"buy-pay": func(base string, fx fixture) op {
		return func(ctx context.Context, c *http.Client, _, _ int) error { return buyAndPay(ctx, c, base, fx) }
	},
}
