package userdata_test

import (
	"strings"
	"testing"

	"github.com/tet-bookstore/bookstore/infra/userdata"
	"github.com/tet-bookstore/bookstore/infra/userdata/scripttest"
)

func builder(delivery userdata.Delivery) userdata.ImageBuilder {
	return userdata.ImageBuilder{Release: release(delivery), UID: 2000, GID: 2000, UploadsDir: "/mnt/bookstore-uploads", StopTimeoutSeconds: 35}
}

func scaledApp() userdata.ScaledApp {
	return userdata.ScaledApp{
		Port:           8080,
		Env:            map[string]string{"BOOKSTORE_SEED_DEMO": "true", "BOOKSTORE_DRAIN_DELAY": "10s"},
		DBSecretArn:    "arn:aws:secretsmanager:us-east-1:123456789012:secret:rds!cluster-0a1b-Xy12Zq",
		AdminSecretArn: "arn:aws:secretsmanager:us-east-1:123456789012:secret:/bookstore/objective2/admin-password-AbC123",
		DBHost:         "bookstore.cluster-c1x2.us-east-1.rds.amazonaws.com",
		DBPort:         3306,
		DBName:         "bookstore",
		FileSystemID:   "fs-0123abcd",
		AccessPointID:  "fsap-0123abcd",
		UploadsDir:     "/mnt/bookstore-uploads",
		LogGroup:       "/bookstore/objective2/app",
		TrustedProxies: "10.20.0.0/16",
	}
}

func TestObjective2ScriptsPassBashAndShellcheck(t *testing.T) {
	for _, d := range []userdata.Delivery{userdata.Binary, userdata.Container} {
		s, err := userdata.RenderImageBuilder(builder(d))
		if err != nil {
			t.Fatal(err)
		}
		scripttest.Check(t, s)
	}
	s, err := userdata.RenderScaledApp(scaledApp())
	if err != nil {
		t.Fatal(err)
	}
	scripttest.Check(t, s)
}

// The builder must finish (release installed, /readyz answered, marker
// written) before it powers itself off, since powering off is what lets
// the program snapshot it.
func TestBuilderPowersOffOnlyAfterReadiness(t *testing.T) {
	for _, d := range []userdata.Delivery{userdata.Binary, userdata.Container} {
		ud := mustBuilder(t, builder(d)).UserData()
		order := []string{"update-ca-trust", "/readyz >/dev/null", `if [ "${ready}" != yes ]`, userdata.BakedMarker, "systemctl poweroff"}
		at := -1
		for _, step := range order {
			i := strings.Index(ud, step)
			if i <= at {
				t.Fatalf("%s: %q missing or out of order", d, step)
			}
			at = i
		}
		if strings.Count(ud, "poweroff") != 1 || !strings.HasSuffix(strings.TrimSpace(ud), "systemctl poweroff") {
			t.Errorf("%s: poweroff must be the last step and the only one", d)
		}
		if !strings.Contains(ud, "set -euo pipefail") {
			t.Errorf("%s: a failed step must stop the script before poweroff", d)
		}
	}
	bin := mustBuilder(t, builder(userdata.Binary)).UserData()
	if !strings.Contains(bin, "sha256sum -c -") {
		t.Error("the binary must be checked against its SHA-256")
	}
	for _, want := range []string{"amazon-efs-utils", "amazon-cloudwatch-agent", "global-bundle.pem", "--uid 2000 --gid 2000", "TimeoutStopSec=35"} {
		if !strings.Contains(bin, want) {
			t.Errorf("builder lacks %q", want)
		}
	}
}

func mustBuilder(t *testing.T, b userdata.ImageBuilder) userdata.Scripts {
	t.Helper()
	s, err := userdata.RenderImageBuilder(b)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func TestScaledAppMountsEFSWithTLSAndReadsSecretsAtBoot(t *testing.T) {
	s, err := userdata.RenderScaledApp(scaledApp())
	if err != nil {
		t.Fatal(err)
	}
	ud, env := s.UserData(), s[userdata.EnvScript]
	if !strings.Contains(ud, "fs-0123abcd:/ /mnt/bookstore-uploads efs _netdev,noresvport,tls,accesspoint=fsap-0123abcd 0 0") {
		t.Error("EFS must be mounted through the access point with TLS and _netdev")
	}
	if strings.Index(ud, "mountpoint -q '/mnt/bookstore-uploads'\n") > strings.Index(ud, "systemctl enable --now bookstore.service") {
		t.Error("the app must start only once the share is mounted")
	}
	if !strings.Contains(ud, userdata.BakedMarker) {
		t.Error("instances must refuse an unfinished image")
	}
	for _, want := range []string{
		"get-secret-value",
		"'arn:aws:secretsmanager:us-east-1:123456789012:secret:rds!cluster-0a1b-Xy12Zq'",
		"BOOKSTORE_DB_DSN=mysql://${db_user}:${db_password}@bookstore.cluster-c1x2.us-east-1.rds.amazonaws.com:3306/bookstore?tls=true",
		"BOOKSTORE_UPLOADS_DIR=/mnt/bookstore-uploads",
		"BOOKSTORE_TRUSTED_PROXIES=10.20.0.0/16",
		// Browsers come through objective 1's TLS proxy, but the ALB tells the
		// app "http": without this, session cookies would lose Secure.
		"BOOKSTORE_HTTPS_ONLY=true",
		"BOOKSTORE_DRAIN_DELAY=10s",
		"umask 077",
	} {
		if !strings.Contains(env, want) {
			t.Errorf("environment script lacks %q", want)
		}
	}
	if !strings.Contains(ud, `"log_group_name": "/bookstore/objective2/app"`) {
		t.Error("logs must go to the stack's log group")
	}
}

func TestScaledAppRefusesUnsafeValues(t *testing.T) {
	for name, mutate := range map[string]func(*userdata.ScaledApp){
		"quote in host":    func(a *userdata.ScaledApp) { a.DBHost = "db'; rm -rf /" },
		"not a secret arn": func(a *userdata.ScaledApp) { a.DBSecretArn = "arn:aws:ssm:us-east-1:123456789012:parameter/x" },
		"bad fs id":        func(a *userdata.ScaledApp) { a.FileSystemID = "fs-$(id)" },
		"reserved env":     func(a *userdata.ScaledApp) { a.Env = map[string]string{"BOOKSTORE_ENV": "development"} },
		"dsn in env":       func(a *userdata.ScaledApp) { a.Env = map[string]string{"BOOKSTORE_DB_DSN": "sqlite:x"} },
		"relative uploads": func(a *userdata.ScaledApp) { a.UploadsDir = "uploads" },
	} {
		a := scaledApp()
		mutate(&a)
		if _, err := userdata.RenderScaledApp(a); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
	b := builder(userdata.Binary)
	b.UID = 0
	if _, err := userdata.RenderImageBuilder(b); err == nil {
		t.Error("builder: root uid accepted")
	}
}
