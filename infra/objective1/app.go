package objective1

import (
	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/ssm"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"

	"github.com/tet-bookstore/bookstore/infra/config"
	"github.com/tet-bookstore/bookstore/infra/firewall"
	"github.com/tet-bookstore/bookstore/infra/instance"
	"github.com/tet-bookstore/bookstore/infra/userdata"
)

type appVMArgs struct {
	ami    string
	subnet pulumi.IDOutput
	group  *firewall.Group
	params *secretParameters
	// proxyCidr is the proxy's subnet, the only peer the app believes.
	proxyCidr string
}

// newAppVM is the bookstore and its MariaDB on one VM. The release it runs
// lives in an SSM parameter the VM follows: a new version changes the
// parameter, never the VM that holds the database.
func newAppVM(ctx *pulumi.Context, cfg *config.Config, a appVMArgs) (*instance.Instance, error) {
	release, err := newReleaseParameter(ctx, cfg)
	if err != nil {
		return nil, err
	}
	app := userdata.App{
		Port:                cfg.App.Port,
		Env:                 cfg.App.Env,
		DBPasswordParameter: a.params.dbPassword.name,
		ReleaseParameter:    parameterName(cfg, "app-release"),
		// MySQL makes the app refuse to start without one: required config.
		AdminPasswordParameter: a.params.adminPassword.name,
		TrustedProxies:         a.proxyCidr,
	}
	readable := []pulumi.StringInput{a.params.dbPassword.arn, release.Arn, a.params.adminPassword.arn}
	scripts, err := userdata.RenderApp(app)
	if err != nil {
		return nil, err
	}
	return instance.New(ctx, "app", &instance.Args{
		AMI:                a.ami,
		InstanceType:       cfg.App.InstanceType,
		SubnetID:           a.subnet,
		SecurityGroupIDs:   pulumi.StringArray{a.group.ID.ToStringOutput()},
		UserData:           pulumi.String(scripts.UserData()),
		RootVolumeGiB:      20,
		ReadableParameters: readable,
		RoleName:           roleName(cfg, "app"),
		DecryptKey:         a.params.key.Arn,
	}, pulumi.DependsOn([]pulumi.Resource{release}))
}

// newReleaseParameter names the binary or image the app VM runs.
func newReleaseParameter(ctx *pulumi.Context, cfg *config.Config) (*ssm.Parameter, error) {
	value, err := userdata.Release{
		Delivery:     userdata.Delivery(cfg.App.Delivery),
		BinaryURL:    cfg.App.BinaryURL,
		BinarySHA256: cfg.App.BinarySHA256,
		Image:        cfg.App.Image,
	}.Render()
	if err != nil {
		return nil, err
	}
	return ssm.NewParameter(ctx, "app-release", &ssm.ParameterArgs{
		Name:          pulumi.String(parameterName(cfg, "app-release")),
		Type:          pulumi.String("String"),
		Description:   pulumi.String("Bookstore release the app VM installs, read by " + userdata.DeployScript),
		InsecureValue: pulumi.String(value),
		Tags:          pulumi.StringMap{"project": pulumi.String("bookstore")},
	})
}
