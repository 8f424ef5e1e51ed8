// Package userdata renders the bash scripts the instances run at first boot
// (cloud-init user data) and the helper scripts those install. Nothing secret
// is ever rendered: scripts name SSM parameters and read them with the
// instance role at run time.
package userdata

import (
	"bytes"
	"embed"
	"fmt"
	"regexp"
	"sort"
	"strings"
	"text/template"
)

//go:embed scripts/*.tmpl
var scriptFiles embed.FS

var templates = template.Must(template.New("").Funcs(template.FuncMap{
	"shq": shellQuote,
	"heredoc": func(name, body string) string {
		return fmt.Sprintf("cat > %s <<'%s'\n%s%s\n", shellQuote(name), heredocEnd, body, heredocEnd)
	},
}).ParseFS(scriptFiles, "scripts/*.tmpl"))

// heredocEnd ends the quoted heredocs that embed helper scripts in user data.
const heredocEnd = "BOOKSTORE_SCRIPT_END"

// shellQuote quotes s as one bash word: no expansion happens inside it.
func shellQuote(s string) string {
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}

func render(name string, data any) (string, error) {
	var b bytes.Buffer
	if err := templates.ExecuteTemplate(&b, name, data); err != nil {
		return "", fmt.Errorf("userdata: %w", err)
	}
	out := b.String()
	if strings.Count(out, "\n"+heredocEnd+"\n") != strings.Count(out, "<<'"+heredocEnd+"'") {
		return "", fmt.Errorf("userdata: %s: a helper script contains the heredoc terminator", name)
	}
	return out, nil
}

// Scripts maps a script's name (its path on the instance, or "user-data")
// to its content; tests run bash -n and shellcheck on each one.
type Scripts map[string]string

// UserData is the script cloud-init runs.
func (s Scripts) UserData() string { return s["user-data"] }

// Names lists the scripts in a stable order.
func (s Scripts) Names() []string {
	names := make([]string, 0, len(s))
	for n := range s {
		names = append(names, n)
	}
	sort.Strings(names)
	return names
}

// Delivery says how the app reaches the VM.
type Delivery string

const (
	// Binary downloads a release binary (checked against its SHA-256).
	Binary Delivery = "binary"
	// Container runs an OCI image with podman.
	Container Delivery = "container"
)

// App is the app VM: the bookstore and its MariaDB, both under systemd.
type App struct {
	Port int
	// Env is extra non-secret BOOKSTORE_* configuration (demo seed, admin e-mail).
	Env map[string]string
	// DBPasswordParameter and AdminPasswordParameter name SecureString
	// parameters read at boot; AdminPasswordParameter may be empty.
	DBPasswordParameter    string
	AdminPasswordParameter string
	// ReleaseParameter names the String parameter holding the Release the
	// VM installs and follows.
	ReleaseParameter string
	// TrustedProxies is the proxy's address range, whose X-Forwarded-For
	// the app believes (so each shopper, not the proxy, is rate limited).
	TrustedProxies string
}

// DeployScript installs and follows the release on the app VM.
const DeployScript = "/usr/local/sbin/bookstore-deploy"

// Release is the app version the VM runs: the value of the release parameter.
type Release struct {
	Delivery     Delivery
	BinaryURL    string
	BinarySHA256 string
	Image        string
}

// Render is the parameter's value: KEY=VALUE lines the deploy script reads.
func (r Release) Render() (string, error) {
	if err := r.validate(); err != nil {
		return "", err
	}
	if r.Delivery == Binary {
		return fmt.Sprintf("delivery=binary\nurl=%s\nsha256=%s\n", r.BinaryURL, r.BinarySHA256), nil
	}
	return fmt.Sprintf("delivery=container\nimage=%s\n", r.Image), nil
}

func (r Release) validate() error {
	switch r.Delivery {
	case Binary:
		if !urlPattern.MatchString(r.BinaryURL) {
			return fmt.Errorf("userdata: the app binary URL must be https:// without spaces or quotes, got %q", r.BinaryURL)
		}
		if r.BinarySHA256 != "" && !sha256Pattern.MatchString(r.BinarySHA256) {
			return fmt.Errorf("userdata: app binary SHA-256 %q is not 64 lower-case hex digits", r.BinarySHA256)
		}
	case Container:
		if !imagePattern.MatchString(r.Image) {
			return fmt.Errorf("userdata: container image %q is not an image reference", r.Image)
		}
	default:
		return fmt.Errorf("userdata: app delivery %q is neither %q nor %q", r.Delivery, Binary, Container)
	}
	return nil
}

// EnvLine is one KEY=VALUE of the app's environment file.
type EnvLine struct{ Key, Value string }

// SortedEnv is Env in key order, so the rendered script is deterministic.
func (a App) SortedEnv() []EnvLine {
	var lines []EnvLine
	for k, v := range a.Env {
		lines = append(lines, EnvLine{k, v})
	}
	sort.Slice(lines, func(i, j int) bool { return lines[i].Key < lines[j].Key })
	return lines
}

var (
	envKeyPattern   = regexp.MustCompile(`^BOOKSTORE_[A-Z0-9_]+$`)
	envValuePattern = regexp.MustCompile(`^[A-Za-z0-9 ._:/@,+=%-]*$`)
	paramPattern    = regexp.MustCompile(`^/[A-Za-z0-9_.\-/]+$`)
	sha256Pattern   = regexp.MustCompile(`^[0-9a-f]{64}$`)
	imagePattern    = regexp.MustCompile(`^[a-z0-9][a-z0-9._/:@-]*$`)
	urlPattern      = regexp.MustCompile(`^https://[A-Za-z0-9._~:/?#\[\]@!&()*+,;=%-]+$`)
)

// reservedEnv is set by the boot script itself.
var reservedEnv = map[string]bool{
	"BOOKSTORE_ADDR": true, "BOOKSTORE_DB_DSN": true, "BOOKSTORE_UPLOADS_DIR": true, "BOOKSTORE_ADMIN_PASSWORD": true,
	"BOOKSTORE_ENV": true, "BOOKSTORE_TRUSTED_PROXIES": true, "BOOKSTORE_HTTPS_ONLY": true,
}

func (a App) validate() error {
	if a.Port < 1 || a.Port > 65535 {
		return fmt.Errorf("userdata: app port %d", a.Port)
	}
	for k, v := range a.Env {
		if !envKeyPattern.MatchString(k) || reservedEnv[k] {
			return fmt.Errorf("userdata: app environment key %q is not a free BOOKSTORE_* name", k)
		}
		// Written to a systemd/podman environment file, which quote differently.
		if !envValuePattern.MatchString(v) {
			return fmt.Errorf("userdata: app environment %s has characters unsafe in an environment file", k)
		}
	}
	for _, p := range []string{a.DBPasswordParameter, a.AdminPasswordParameter, a.ReleaseParameter} {
		if p != "" && !paramPattern.MatchString(p) {
			return fmt.Errorf("userdata: %q is not an SSM parameter name", p)
		}
	}
	if a.DBPasswordParameter == "" || a.ReleaseParameter == "" || a.AdminPasswordParameter == "" {
		return fmt.Errorf("userdata: the database password, admin password and release parameters are required")
	}
	if !cidrListPattern.MatchString(a.TrustedProxies) {
		return fmt.Errorf("userdata: invalid trusted proxies %q", a.TrustedProxies)
	}
	return nil
}

// RenderApp renders the app VM's user data and the deploy script it installs.
func RenderApp(a App) (Scripts, error) {
	if err := a.validate(); err != nil {
		return nil, err
	}
	deploy, err := render("deploy.sh.tmpl", a)
	if err != nil {
		return nil, err
	}
	helpers := []Helper{{Path: DeployScript, Body: deploy}}
	ud, err := render("app.sh.tmpl", struct {
		App
		Helpers      []Helper
		DeployScript string
	}{a, helpers, DeployScript})
	if err != nil {
		return nil, err
	}
	return Scripts{"user-data": ud, DeployScript: deploy}, nil
}
