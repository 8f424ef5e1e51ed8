package objective1

import (
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
}

// newAppVM is the bookstore and its MariaDB on one VM.
func newAppVM(ctx *pulumi.Context, cfg *config.Config, a appVMArgs) (*instance.Instance, error) {
	app := userdata.App{
		Port:                cfg.App.Port,
		Delivery:            userdata.Delivery(cfg.App.Delivery),
		BinaryURL:           cfg.App.BinaryURL,
		BinarySHA256:        cfg.App.BinarySHA256,
		Image:               cfg.App.Image,
		Env:                 cfg.App.Env,
		DBPasswordParameter: a.params.dbPassword.name,
	}
	readable := []pulumi.StringInput{a.params.dbPassword.arn}
	if a.params.adminPassword != nil {
		app.AdminPasswordParameter = a.params.adminPassword.name
		readable = append(readable, a.params.adminPassword.arn)
	}
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
	})
}
