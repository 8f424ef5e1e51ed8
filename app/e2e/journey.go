package e2e

import (
	"bytes"
	"fmt"
	"image"
	"image/color"
	"image/png"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

// Journey walks through the store as two people would: a seller lists a
// book with a cover; a buyer finds it, buys two copies, has a card declined,
// pays with another, picks a delivery and sees the order shipped. baseURL is
// the site's root, e.g. "http://127.0.0.1:8080". Accounts and the book get
// unique names, so it can run again against a long-lived deployment.
func Journey(t *testing.T, baseURL string) {
	t.Helper()
	baseURL = strings.TrimRight(baseURL, "/")
	b := NewBrowser(t)
	run := fmt.Sprintf("%d", time.Now().UnixNano())
	title := "The Glass Orchard " + run[len(run)-8:]
	seller := person{name: "Sam Seller", email: "seller-" + run + "@example.com", password: "seller-password-1"}
	buyer := person{name: "Bea Buyer", email: "buyer-" + run + "@example.com", password: "buyer-password-1"}

	// The seller opens an account, logs in and lists a book.
	b.register(baseURL, seller)
	b.login(baseURL, seller)
	b.Open("open the sell form", baseURL+"/books/new", "book_form")
	b.Do("fill in the book",
		chromedp.SendKeys(chromedp.CSS("#title"), title),
		chromedp.SendKeys(chromedp.CSS("#author"), "Imogen Vale"),
		chromedp.SetValue(chromedp.CSS("#price"), "12.50"),
		chromedp.SetValue(chromedp.CSS("#stock"), "5"),
		chromedp.SendKeys(chromedp.CSS("#description"), "Hardcover, first edition. Like new."),
	)
	b.Submit("list the book", "#book-form button[type=submit]", "book")
	b.WantText("the book page shows the title", ".book-title", title)
	b.WantText("the price is shown from cents", "#price", "$12.50")
	b.WantText("the stock is shown", ".stock", "5 copies available")
	bookURL := Eval[string](b, "read the book's address", "location.pathname")

	// …and gives it a cover: a real PNG made here, set on the file input.
	cover := writeCoverPNG(t)
	b.Do("choose the cover file", chromedp.SetUploadFiles(chromedp.CSS("#cover"), []string{cover}))
	b.Submit("upload the cover", "#cover-form button[type=submit]", "book")
	b.WantText("the upload is confirmed", ".flash-success", "Cover updated")
	b.WaitTrue("the cover image is served and decodes",
		`(() => { const i = document.querySelector(".book-cover img.cover"); return i && i.getAttribute("src").startsWith("/covers/") && i.complete && i.naturalWidth === 120 })()`)
	b.Screenshot("1-book-seller")
	b.logout()

	// The buyer opens an account, finds the book and buys two copies.
	b.register(baseURL, buyer)
	b.login(baseURL, buyer)
	b.Open("open the catalog", baseURL+"/books", "books")
	b.Do("search for the book", chromedp.SendKeys(chromedp.CSS("#q"), title))
	b.Submit("search", ".page-head .search button[type=submit]", "books")
	b.WantText("the search finds exactly the book", "#result-count", "Showing 1–1 of 1 book")
	b.WantText("the result is the book", "#results .card-title", title)
	b.Screenshot("2-catalog-search")
	b.Do("open the book", chromedp.Click(chromedp.CSS("#results a.card-link")))
	b.WaitPage("open the book", "book")
	if got := Eval[string](b, "read the book's address", "location.pathname"); got != bookURL {
		t.Fatalf("search result leads to %s, want %s", got, bookURL)
	}
	b.Do("choose quantity 2", chromedp.SetValue(chromedp.CSS("#quantity"), "2"))
	b.Submit("buy", "#buy-form button[type=submit]", "order")
	b.WantText("the order waits for payment", "#order-status", "Awaiting payment")
	b.WantText("the total is two copies", "#order-total", "$25.00")
	b.Screenshot("3-order-pay")

	// A declined card is refused with a message; a good card pays.
	b.Do("enter the declined test card", chromedp.SendKeys(chromedp.CSS("#card_number"), "4000000000000002"))
	b.Submit("pay with the declined card", "#pay-form button[type=submit]", "order")
	b.WantText("the decline is explained", ".flash-error", "declined")
	b.WantText("the order is still unpaid", "#order-status", "Awaiting payment")
	b.Do("enter a good card",
		chromedp.SetValue(chromedp.CSS("#card_number"), "4242424242424242"),
		chromedp.SetValue(chromedp.CSS("#card_holder"), buyer.name),
	)
	b.Submit("pay", "#pay-form button[type=submit]", "order")
	b.WantText("the payment is confirmed", ".flash-success", "Payment received")
	b.WantText("the order is paid", "#order-status", "Paid")
	b.Screenshot("4-order-delivery")

	// Delivery: a provider from the list and an address.
	b.WantText("the providers are listed with coverage and cost", "#delivery-form .providers", "Envia")
	b.WantText("the providers show their cost", "#delivery-form .providers", "$20.00")
	provider := Eval[string](b, "find Envia",
		`[...document.querySelectorAll("label.provider")].find(l => l.innerText.includes("Envia")).querySelector("input").value`)
	b.Do("choose Envia and an address",
		chromedp.Click(chromedp.CSS(fmt.Sprintf(`input[name=provider_id][value="%s"]`, provider))),
		chromedp.SendKeys(chromedp.CSS("#address"), "Calle 10 # 43-12\nMedellín, Colombia"),
	)
	b.Submit("ship", "#delivery-form button[type=submit]", "order")
	b.WantText("the order is shipped", "#order-status", "Shipped")
	b.WantText("the carrier is shown", ".order-grid", "Envia")
	b.Screenshot("5-order-shipped")

	// My orders lists it as shipped.
	b.Do("open My orders", chromedp.Click(chromedp.CSS(`nav a[href="/orders"]`)))
	b.WaitPage("open My orders", "orders")
	row := Eval[string](b, "find the order row", fmt.Sprintf(
		`([...document.querySelectorAll("#orders tbody tr")].find(r => r.innerText.includes(%q)) || {innerText: ""}).innerText`, title))
	if !strings.Contains(row, "Shipped") || !strings.Contains(row, "$25.00") {
		t.Fatalf("My orders row for %q = %q, want it shipped for $25.00", title, row)
	}
	b.Screenshot("6-my-orders")

	// On a phone-sized screen nothing spills sideways.
	b.Do("use a 390px wide phone screen", chromedp.EmulateViewport(390, 844, chromedp.EmulateMobile))
	for _, p := range []struct{ name, url, page string }{
		{"7-mobile-catalog", baseURL + "/books", "books"},
		{"8-mobile-book", baseURL + bookURL, "book"},
		{"9-mobile-orders", baseURL + "/orders", "orders"},
	} {
		b.Open("open "+p.name, p.url, p.page)
		if w := Eval[int](b, "measure the page width", "document.documentElement.scrollWidth"); w > 390 {
			b.Screenshot(p.name)
			t.Fatalf("%s is %dpx wide on a 390px screen", p.url, w)
		}
		b.Screenshot(p.name)
	}
	b.Do("back to a desktop screen", chromedp.EmulateReset())
}

type person struct{ name, email, password string }

func (b *Browser) register(baseURL string, p person) {
	b.t.Helper()
	b.Open("open the register form", baseURL+"/register", "register")
	b.Do("fill in the account of "+p.name,
		chromedp.SendKeys(chromedp.CSS("#name"), p.name),
		chromedp.SendKeys(chromedp.CSS("#email"), p.email),
		chromedp.SendKeys(chromedp.CSS("#password"), p.password),
	)
	b.Submit("register "+p.name, "#register-form button[type=submit]", "login")
	b.WantText("the account is created", ".flash-success", "Your account is ready")
}

func (b *Browser) login(baseURL string, p person) {
	b.t.Helper()
	if Eval[string](b, "where am I", "document.body.dataset.page") != "login" {
		b.Open("open the login form", baseURL+"/login", "login")
	}
	b.Do("fill in the login of "+p.name,
		chromedp.SendKeys(chromedp.CSS("#email"), p.email),
		chromedp.SendKeys(chromedp.CSS("#password"), p.password),
	)
	b.Submit("log in "+p.name, "#login-form button[type=submit]", "home")
	b.WantText("the header greets "+p.name, ".hello", "Hi "+p.name)
}

func (b *Browser) logout() {
	b.t.Helper()
	b.Submit("log out", "#logout", "home")
	b.WantText("logged out", ".account", "Log in")
	b.WantText("logged out", ".flash-success", "logged out")
}

// writeCoverPNG draws a 120×180 cover and returns its file.
func writeCoverPNG(t *testing.T) string {
	t.Helper()
	img := image.NewRGBA(image.Rect(0, 0, 120, 180))
	for y := range 180 {
		for x := range 120 {
			img.Set(x, y, color.RGBA{R: uint8(20 + y/2), G: uint8(90 + x/3), B: 140, A: 255})
		}
	}
	for y := 40; y < 48; y++ { // a title bar
		for x := 15; x < 105; x++ {
			img.Set(x, y, color.RGBA{250, 240, 220, 255})
		}
	}
	var buf bytes.Buffer
	if err := png.Encode(&buf, img); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "cover.png")
	if err := os.WriteFile(path, buf.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}
