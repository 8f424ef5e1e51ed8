package main

import (
	"encoding/json"
	"fmt"
	"io"
	"os"
	"text/tabwriter"
)

// Row is one target on one database.
type Row struct {
	DB        string  `json:"db"`     // sqlite or mysql
	Target    string  `json:"target"` // catalog-html, catalog-json, book, buy-pay
	Ops       int     `json:"ops"`    // operations measured (buy-pay: a buy and its payment)
	Errors    int     `json:"errors"`
	Seconds   float64 `json:"seconds"`
	OpsPerSec float64 `json:"ops_per_sec"`
	P50MS     float64 `json:"p50_ms"`
	P99MS     float64 `json:"p99_ms"`
	PeakRSSMB float64 `json:"peak_rss_mb"`
	// CPU milliseconds per operation: the app process's, and the database
	// server's over the same interval (MySQL only; -1 when it could not be
	// read). The database figure includes anyone else's load on that
	// server during the run; DBIdleMSPerSec is its CPU rate just before the
	// run with the app idle, for judging how much.
	AppCPUMS       float64 `json:"app_cpu_ms"`
	DBCPUMS        float64 `json:"db_cpu_ms"`
	DBIdleMSPerSec float64 `json:"db_idle_cpu_ms_per_s"`
	// DBNetCPUMS is DBCPUMS less the idle rate over the run's length (at
	// least 0): an estimate of the database's CPU for this app alone.
	DBNetCPUMS float64 `json:"db_net_cpu_ms"`
}

// TotalCPUMS is the app's and the database's CPU per operation.
func (r Row) TotalCPUMS() float64 { return r.AppCPUMS + max(r.DBCPUMS, 0) }

// Report is one run of the bench, as written by --json.
type Report struct {
	Date    string `json:"date"` // UTC, RFC 3339
	Host    string `json:"host"`
	CPUs    int    `json:"cpus"`
	LoadAvg string `json:"loadavg"` // /proc/loadavg at the start
	Binary  string `json:"binary"`
	Books   int    `json:"books"`
	Workers int    `json:"workers"`
	Rows    []Row  `json:"rows"`
}

func printTable(w io.Writer, rows []Row) {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "db\ttarget\tops/s\tp50 ms\tp99 ms\tRSS MB\tapp CPU ms/op\tDB CPU ms/op\ttotal CPU ms/op\tDB idle ms/s\tDB net ms/op\tops\terrors\t")
	for _, r := range rows {
		fmt.Fprintf(tw, "%s\t%s\t%.0f\t%.2f\t%.2f\t%.1f\t%.3f\t%s\t%.3f\t%s\t%s\t%d\t%d\t\n", r.DB, r.Target, r.OpsPerSec,
			r.P50MS, r.P99MS, r.PeakRSSMB, r.AppCPUMS, orDash(r.DBCPUMS, "%.3f"), r.TotalCPUMS(), orDash(r.DBIdleMSPerSec, "%.0f"),
			orDash(r.DBNetCPUMS, "%.3f"), r.Ops, r.Errors)
	}
	tw.Flush()
}

func orDash(v float64, format string) string {
	if v < 0 {
		return "-"
	}
	return fmt.Sprintf(format, v)
}

func writeReport(path string, rep Report) error {
	b, err := json.MarshalIndent(rep, "", "  ")
	if err != nil {
		return err
	}
	return os.WriteFile(path, append(b, '\n'), 0o644)
}

func readReport(path string) (Report, error) {
	var rep Report
	b, err := os.ReadFile(path)
	if err != nil {
		return rep, err
	}
	if err := json.Unmarshal(b, &rep); err != nil {
		return rep, fmt.Errorf("read %s: %w", path, err)
	}
	return rep, nil
}

// compare prints, for every db and target in both reports, A's and B's
// figures and B's change relative to A (negative CPU change is better).
func compare(w io.Writer, a, b Report) int {
	type key struct{ db, target string }
	byKey := map[key]Row{}
	for _, r := range a.Rows {
		byKey[key{r.DB, r.Target}] = r
	}
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "db\ttarget\tops/s A\tops/s B\tΔ\tp99 A\tp99 B\tΔ\tCPU ms/op A\tCPU ms/op B\tΔ\tapp A\tapp B\tDB A\tDB B\t")
	n := 0
	for _, rb := range b.Rows {
		ra, ok := byKey[key{rb.DB, rb.Target}]
		if !ok {
			continue
		}
		n++
		fmt.Fprintf(tw, "%s\t%s\t%.0f\t%.0f\t%s\t%.2f\t%.2f\t%s\t%.3f\t%.3f\t%s\t%.3f\t%.3f\t%s\t%s\t\n", rb.DB, rb.Target,
			ra.OpsPerSec, rb.OpsPerSec, change(ra.OpsPerSec, rb.OpsPerSec), ra.P99MS, rb.P99MS, change(ra.P99MS, rb.P99MS),
			ra.TotalCPUMS(), rb.TotalCPUMS(), change(ra.TotalCPUMS(), rb.TotalCPUMS()),
			ra.AppCPUMS, rb.AppCPUMS, orDash(ra.DBCPUMS, "%.3f"), orDash(rb.DBCPUMS, "%.3f"))
	}
	tw.Flush()
	return n
}

func change(a, b float64) string {
	if a == 0 {
		return "-"
	}
	return fmt.Sprintf("%+.1f%%", (b-a)/a*100)
}
