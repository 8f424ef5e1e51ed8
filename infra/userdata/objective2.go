package userdata

import (
	"encoding/json"
	"fmt"
	"regexp"
	"strings"
)

// Objective 2 bakes the release into an image (ImageBuilder) that an
// autoscaling group starts many times (ScaledApp).

// ImageBuilder is the builder instance of objective 2's image.
type ImageBuilder struct {
	Release Release
	// UID and GID of the bookstore user: the EFS access point's owner.
	UID, GID int
	// UploadsDir is where instances mount the shared file system.
	UploadsDir string
	// StopTimeoutSeconds bounds the app's graceful stop (drain + shutdown).
	StopTimeoutSeconds int
}

// builderCheckPort is where the builder runs the release once to see it answer.
const builderCheckPort = 18080

// BakedMarker is the file a finished image holds; instances refuse to
// start without it.
const BakedMarker = "/etc/bookstore/baked"

var dirPattern = regexp.MustCompile(`^/[A-Za-z0-9_./-]+$`)

// RenderImageBuilder renders the builder's user data.
func RenderImageBuilder(b ImageBuilder) (Scripts, error) {
	if err := b.Release.validate(); err != nil {
		return nil, err
	}
	if b.UID < 1000 || b.GID < 1000 || b.UID > 65000 || b.GID > 65000 {
		return nil, fmt.Errorf("userdata: bookstore uid/gid %d:%d must be in 1000..65000", b.UID, b.GID)
	}
	if !dirPattern.MatchString(b.UploadsDir) {
		return nil, fmt.Errorf("userdata: uploads directory %q is not an absolute path", b.UploadsDir)
	}
	if b.StopTimeoutSeconds < 1 {
		return nil, fmt.Errorf("userdata: stop timeout %d must be positive", b.StopTimeoutSeconds)
	}
	line, err := b.Release.Render()
	if err != nil {
		return nil, err
	}
	ud, err := render("ami-builder.sh.tmpl", struct {
		ImageBuilder
		CheckPort   int
		ReleaseLine string
	}{b, builderCheckPort, releaseLine(line)})
	if err != nil {
		return nil, err
	}
	return Scripts{"user-data": ud}, nil
}

// releaseLine is the release's KEY=VALUE lines on one line, for the marker.
func releaseLine(s string) string { return strings.Join(strings.Fields(s), " ") }

// ScaledApp is an autoscaled instance started from the baked image.
type ScaledApp struct {
	Port int
	// Env is extra non-secret BOOKSTORE_* configuration.
	Env map[string]string
	// DBSecretArn is Aurora's managed master secret, AdminSecretArn the
	// admin password's secret; both are read at boot by the instance role.
	DBSecretArn, AdminSecretArn string
	DBHost                      string
	DBPort                      int
	DBName                      string
	// FileSystemID and AccessPointID are mounted at UploadsDir.
	FileSystemID, AccessPointID string
	UploadsDir                  string
	// LogGroup receives the app's and the boot's logs.
	LogGroup string
	// TrustedProxies is the load balancer's address range (the VPC).
	TrustedProxies string
}

// EnvScript writes the app's environment from Secrets Manager.
const EnvScript = "/usr/local/sbin/bookstore-env"

var (
	secretArnPattern = regexp.MustCompile(`^arn:aws[a-z-]*:secretsmanager:[a-z0-9-]+:[0-9]{12}:secret:[A-Za-z0-9/_+=.@!-]+$`)
	dbHostPattern    = regexp.MustCompile(`^[a-z0-9]([a-z0-9.-]*[a-z0-9])?$`)
	dbNamePattern    = regexp.MustCompile(`^[a-z][a-z0-9_]{0,63}$`)
	fsPattern        = regexp.MustCompile(`^fs-[0-9a-f]+$`)
	apPattern        = regexp.MustCompile(`^fsap-[0-9a-f]+$`)
	logGroupPattern  = regexp.MustCompile(`^[A-Za-z0-9_./-]+$`)
	cidrListPattern  = regexp.MustCompile(`^[0-9a-f.:/,]+$`)
)

// scaledReservedEnv is written by the environment script itself.
var scaledReservedEnv = map[string]bool{"BOOKSTORE_ENV": true, "BOOKSTORE_TRUSTED_PROXIES": true}

func (a ScaledApp) validate() error {
	env := App{Port: a.Port, Env: a.Env, DBPasswordParameter: "/unused", AdminPasswordParameter: "/unused", ReleaseParameter: "/unused", TrustedProxies: a.TrustedProxies}
	if err := env.validate(); err != nil {
		return err
	}
	for k := range a.Env {
		if scaledReservedEnv[k] {
			return fmt.Errorf("userdata: app environment key %q is set by the instance itself", k)
		}
	}
	checks := []struct {
		ok   bool
		what string
	}{
		{secretArnPattern.MatchString(a.DBSecretArn), "database secret ARN " + a.DBSecretArn},
		{secretArnPattern.MatchString(a.AdminSecretArn), "admin secret ARN " + a.AdminSecretArn},
		{dbHostPattern.MatchString(a.DBHost), "database host " + a.DBHost},
		{a.DBPort > 0 && a.DBPort < 65536, fmt.Sprintf("database port %d", a.DBPort)},
		{dbNamePattern.MatchString(a.DBName), "database name " + a.DBName},
		{fsPattern.MatchString(a.FileSystemID), "file system id " + a.FileSystemID},
		{apPattern.MatchString(a.AccessPointID), "access point id " + a.AccessPointID},
		{dirPattern.MatchString(a.UploadsDir), "uploads directory " + a.UploadsDir},
		{logGroupPattern.MatchString(a.LogGroup), "log group " + a.LogGroup},
		{cidrListPattern.MatchString(a.TrustedProxies), "trusted proxies " + a.TrustedProxies},
	}
	for _, c := range checks {
		if !c.ok {
			return fmt.Errorf("userdata: invalid %s", c.what)
		}
	}
	return nil
}

// SortedEnv is Env in key order, so the rendered script is deterministic.
func (a ScaledApp) SortedEnv() []EnvLine { return App{Env: a.Env}.SortedEnv() }

// FstabLine mounts the access point over TLS once the network is up.
func (a ScaledApp) FstabLine() string {
	return fmt.Sprintf("%s:/ %s efs _netdev,noresvport,tls,accesspoint=%s 0 0", a.FileSystemID, a.UploadsDir, a.AccessPointID)
}

// AgentConfig is the CloudWatch agent's configuration: the app's log and the
// boot log, one stream per instance.
func (a ScaledApp) AgentConfig() (string, error) {
	file := func(path, stream string) map[string]any {
		return map[string]any{"file_path": path, "log_group_name": a.LogGroup, "log_stream_name": "{instance_id}/" + stream}
	}
	doc := map[string]any{
		"agent": map[string]any{"run_as_user": "root"},
		"logs": map[string]any{"logs_collected": map[string]any{"files": map[string]any{"collect_list": []any{
			file("/var/log/bookstore/bookstore.log", "app"),
			file("/var/log/bookstore-boot.log", "boot"),
		}}}},
	}
	b, err := json.MarshalIndent(doc, "", "  ")
	return string(b), err
}

// RenderScaledApp renders the launch template's user data and the
// environment script it installs.
func RenderScaledApp(a ScaledApp) (Scripts, error) {
	if err := a.validate(); err != nil {
		return nil, err
	}
	envScript, err := render("asg-env.sh.tmpl", a)
	if err != nil {
		return nil, err
	}
	agent, err := a.AgentConfig()
	if err != nil {
		return nil, err
	}
	ud, err := render("asg-app.sh.tmpl", struct {
		ScaledApp
		Helpers     []Helper
		EnvScript   string
		AgentConfig string
	}{a, []Helper{{Path: EnvScript, Body: envScript}}, EnvScript, agent})
	if err != nil {
		return nil, err
	}
	return Scripts{"user-data": ud, EnvScript: envScript}, nil
}
