package objective1

import (
	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/ssm"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"

	"github.com/tet-bookstore/bookstore/infra/config"
	"github.com/tet-bookstore/bookstore/infra/stackkey"
)

// secretParameters are the SecureString parameters the VMs read at boot.
// The values only exist as Pulumi secrets and in SSM, never in user data.
type secretParameters struct {
	dbPassword, adminPassword, duckdnsToken *parameter
	// key is the stack's KMS key they are under; only the app's role and,
	// with DuckDNS, the proxy's may decrypt with it.
	key *stackkey.Key
}

// roleName: the VMs' roles have fixed names, which the key policy names.
func roleName(cfg *config.Config, vm string) string { return stackkey.RoleName(cfg.Stack, vm) }

type parameter struct {
	name string
	arn  pulumi.StringOutput
}

// parameterName is the stack's namespace in Parameter Store.
func parameterName(cfg *config.Config, key string) string {
	return "/bookstore/" + cfg.Stack + "/" + key
}

func newSecretParameters(ctx *pulumi.Context, cfg *config.Config) (*secretParameters, error) {
	var p secretParameters
	readers := []string{roleName(cfg, "app")}
	if cfg.DNS.Provider == "duckdns" {
		readers = append(readers, roleName(cfg, "proxy"))
	}
	var err error
	if p.key, err = stackkey.New(ctx, "secrets", &stackkey.Args{
		Description: "SecureStrings of the bookstore stack " + cfg.Stack, Readers: readers,
	}); err != nil {
		return nil, err
	}
	if p.dbPassword, err = newSecureString(ctx, cfg, p.key, "db-password", "MariaDB password of the bookstore user", cfg.Secrets.DBPassword); err != nil {
		return nil, err
	}
	if p.adminPassword, err = newSecureString(ctx, cfg, p.key, "admin-password", "Password of the bookstore's first admin", cfg.Secrets.AdminPassword); err != nil {
		return nil, err
	}
	if cfg.DNS.Provider == "duckdns" {
		if p.duckdnsToken, err = newSecureString(ctx, cfg, p.key, "duckdns-token", "DuckDNS token for "+cfg.DNS.Apex(), cfg.Secrets.DuckDNSToken); err != nil {
			return nil, err
		}
	}
	return &p, nil
}

func newSecureString(ctx *pulumi.Context, cfg *config.Config, kms *stackkey.Key, key, description string, value pulumi.StringOutput) (*parameter, error) {
	name := parameterName(cfg, key)
	param, err := ssm.NewParameter(ctx, key, &ssm.ParameterArgs{
		Name:        pulumi.String(name),
		Type:        pulumi.String("SecureString"),
		KeyId:       kms.Arn,
		Description: pulumi.String(description),
		Value:       pulumi.ToSecret(value).(pulumi.StringOutput),
		Tags:        pulumi.StringMap{"project": pulumi.String("bookstore")},
	})
	if err != nil {
		return nil, err
	}
	return &parameter{name: name, arn: param.Arn}, nil
}
