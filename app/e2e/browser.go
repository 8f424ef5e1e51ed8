// Package e2e drives the store's HTML pages in headless Chromium, as a person
// would. Journey runs against any base URL, so the same walk-through checks
// the monolith in-process and, later, the microservices behind their gateway.
package e2e

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/tet-bookstore/bookstore/internal/testenv"
)

// stepTimeout bounds every browser step, so a broken page fails the test
// instead of hanging it.
const stepTimeout = 20 * time.Second

// Browser is one headless Chromium tab for a test.
type Browser struct {
	t   testing.TB
	ctx context.Context
}

// NewBrowser starts headless Chromium with a fresh profile; it is stopped when
// the test ends. Without Chromium the test is skipped (failed under CI=true).
func NewBrowser(t testing.TB) *Browser {
	t.Helper()
	exec := testenv.Tool(t, "chromium", "chromium-browser")
	profile := t.TempDir()
	opts := []chromedp.ExecAllocatorOption{
		chromedp.ExecPath(exec),
		chromedp.UserDataDir(profile),
		chromedp.Flag("headless", true),
		chromedp.Flag("no-sandbox", true),
		chromedp.Flag("disable-gpu", true),
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-dev-shm-usage", true),
		chromedp.Flag("no-first-run", true),
		chromedp.Flag("no-default-browser-check", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.Flag("disable-extensions", true),
		chromedp.Flag("hide-scrollbars", true),
		chromedp.Flag("mute-audio", true),
		chromedp.Flag("password-store", "basic"),
		chromedp.WindowSize(1280, 900),
	}
	allocCtx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	ctx, cancelTab := chromedp.NewContext(allocCtx)
	// Cleanups run last-in first-out: the browser stops before its profile
	// directory is removed.
	t.Cleanup(func() {
		cancelTab()
		cancelAlloc()
	})
	b := &Browser{t: t, ctx: ctx}
	// The first action starts the browser, which lives as long as the
	// context of that action: it gets the tab's own context, and a timer
	// instead of a deadline.
	timer := time.AfterFunc(60*time.Second, cancelTab)
	defer timer.Stop()
	if err := chromedp.Do(ctx, chromedp.Navigate("about:blank")); err != nil {
		t.Fatalf("start Chromium (%s): %v", exec, err)
	}
	return b
}

// Do runs actions as one named step, bounded by stepTimeout. On failure it
// saves a screenshot and reports where the browser was and what the page said.
func (b *Browser) Do(step string, actions ...chromedp.Action[chromedp.Void]) {
	b.t.Helper()
	ctx, cancel := context.WithTimeout(b.ctx, stepTimeout)
	defer cancel()
	if err := chromedp.Do(ctx, actions...); err != nil {
		b.fail(step, err)
	}
}

// Eval returns the value of a JavaScript expression in the page.
func Eval[T any](b *Browser, step, expr string) T {
	b.t.Helper()
	ctx, cancel := context.WithTimeout(b.ctx, stepTimeout)
	defer cancel()
	v, err := chromedp.Run(ctx, chromedp.Evaluate[T](expr))
	if err != nil {
		b.fail(step, err)
	}
	return v
}

// WaitTrue polls a JavaScript expression until it is true. (chromedp.Poll
// compiles its predicate with new Function, which the store's CSP forbids.)
func (b *Browser) WaitTrue(step, expr string) {
	b.t.Helper()
	deadline := time.Now().Add(stepTimeout)
	for {
		ctx, cancel := context.WithTimeout(b.ctx, stepTimeout)
		ok, err := chromedp.Run(ctx, chromedp.Evaluate[bool]("Boolean("+expr+")"))
		cancel()
		if err == nil && ok {
			return
		}
		if time.Now().After(deadline) {
			if err == nil {
				err = fmt.Errorf("still false after %s: %s", stepTimeout, expr)
			}
			b.fail(step, err)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// Submit clicks a form's button and waits until the next page, the one whose
// <body data-page> is page, has loaded. The old document is marked first so
// a page that redirects back to itself is not mistaken for the new one.
func (b *Browser) Submit(step, button, page string) {
	b.t.Helper()
	b.Do(step+": mark the page", chromedp.Evaluate[chromedp.Void](`document.documentElement.dataset.e2eOld = "1"`))
	b.Do(step+": click", chromedp.Click(chromedp.CSS(button)))
	b.WaitPage(step, page)
}

// Open navigates to url and waits for the page named page.
func (b *Browser) Open(step, url, page string) {
	b.t.Helper()
	b.Do(step, chromedp.Navigate(url))
	b.WaitPage(step, page)
}

// WaitPage waits for a freshly loaded page named page.
func (b *Browser) WaitPage(step, page string) {
	b.t.Helper()
	b.WaitTrue(step+": wait for the "+page+" page", fmt.Sprintf(
		`document.readyState === "complete" && !document.documentElement.dataset.e2eOld && document.body && document.body.dataset.page === %q`, page))
}

// Text returns the visible text of the first element matching a CSS
// selector, or "" when there is none.
func (b *Browser) Text(sel string) string {
	b.t.Helper()
	return Eval[string](b, "read "+sel, fmt.Sprintf(`(document.querySelector(%q) || {innerText: ""}).innerText`, sel))
}

// WantText fails unless the element's text contains want.
func (b *Browser) WantText(step, sel, want string) {
	b.t.Helper()
	if got := b.Text(sel); !strings.Contains(got, want) {
		b.fail(step, fmt.Errorf("%s says %q, want it to contain %q", sel, got, want))
	}
}

// Screenshot saves a full-page PNG under t.TempDir() and, when
// E2E_SCREENSHOT_DIR is set, there too, so a person can look at the pages.
func (b *Browser) Screenshot(name string) string {
	b.t.Helper()
	ctx, cancel := context.WithTimeout(b.ctx, stepTimeout)
	defer cancel()
	png, err := chromedp.Run(ctx, chromedp.FullScreenshot(100))
	if err != nil {
		b.t.Errorf("screenshot %s: %v", name, err)
		return ""
	}
	dirs := []string{b.t.TempDir()}
	if d := os.Getenv("E2E_SCREENSHOT_DIR"); d != "" {
		if err := os.MkdirAll(d, 0o755); err != nil {
			b.t.Errorf("screenshot dir: %v", err)
		}
		dirs = append(dirs, d)
	}
	var path string
	for _, d := range dirs {
		path = filepath.Join(d, name+".png")
		if err := os.WriteFile(path, png, 0o644); err != nil {
			b.t.Errorf("save screenshot: %v", err)
		}
	}
	b.t.Logf("screenshot %s: %s", name, path)
	return path
}

func (b *Browser) fail(step string, err error) {
	b.t.Helper()
	ctx, cancel := context.WithTimeout(b.ctx, 5*time.Second)
	defer cancel()
	where, _ := chromedp.Run(ctx, chromedp.Location())
	said, _ := chromedp.Run(ctx, chromedp.Evaluate[string](
		`[...document.querySelectorAll(".flash, #error-message, h1")].map(e => e.innerText).join(" | ")`))
	if png, serr := chromedp.Run(ctx, chromedp.FullScreenshot(100)); serr == nil {
		dir := os.Getenv("E2E_SCREENSHOT_DIR")
		if dir == "" {
			dir = b.t.TempDir()
		}
		name := filepath.Join(dir, "failure.png")
		if os.WriteFile(name, png, 0o644) == nil {
			b.t.Logf("screenshot of the failure: %s", name)
		}
	}
	b.t.Fatalf("%s: %v\n  at %s\n  page says: %s", step, err, where, said)
}
