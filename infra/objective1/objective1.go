// Package objective1 is the monolith on one VM behind the NGINX proxy VM:
// a VPC, the app VM (bookstore + MariaDB), the proxy VM with its Elastic IP,
// the secrets in SSM Parameter Store and, with Route 53, the DNS records.
package objective1

import (
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"

	"github.com/tet-bookstore/bookstore/infra/config"
	"github.com/tet-bookstore/bookstore/infra/instance"
	"github.com/tet-bookstore/bookstore/infra/network"
)

// proxySubnet is the index of the proxy's subnet (10.0.2.0/24), where
// nothing else runs: the app and objectives 2 and 3 admit that range.
const proxySubnet = 1

// Run declares objective 1's resources and exports its outputs. It is the
// body of `pulumi up` and of the offline plan alike.
func Run(ctx *pulumi.Context, cfg *config.Config) error {
	refs, peers, err := peerStacks(ctx, cfg)
	if err != nil {
		return err
	}
	net, err := network.New(ctx, "bookstore", &network.Args{Peers: peers})
	if err != nil {
		return err
	}
	ami, err := instance.DebianAMI(ctx, cfg.AMI)
	if err != nil {
		return err
	}
	groups, err := newSecurityGroups(ctx, cfg, net.VpcID)
	if err != nil {
		return err
	}
	params, err := newSecretParameters(ctx, cfg)
	if err != nil {
		return err
	}
	// The proxy is alone in the second subnet: its range is what the app
	// trusts for X-Forwarded-For (its own address would make a cycle: the
	// proxy's sites name the app's).
	app, err := newAppVM(ctx, cfg, appVMArgs{ami: ami, subnet: net.PublicSubnetIDs[0], group: groups.app, params: params, proxyCidr: net.PublicSubnetCidrs[proxySubnet]})
	if err != nil {
		return err
	}
	proxy, err := newProxyVM(ctx, cfg, proxyVMArgs{net: net, ami: ami, subnet: net.PublicSubnetIDs[proxySubnet], group: groups.proxy, params: params, appIP: app.PrivateIP, refs: refs})
	if err != nil {
		return err
	}
	exportOutputs(ctx, cfg, app, proxy)
	return nil
}

// exportOutputs are what an operator needs after `pulumi up`.
func exportOutputs(ctx *pulumi.Context, cfg *config.Config, app *instance.Instance, proxy *proxyVM) {
	apex := cfg.DNS.Apex()
	ctx.Export("url", pulumi.String("https://objective1."+apex+"/"))
	ctx.Export("urls", pulumi.StringMap{
		"objective1": pulumi.String("https://objective1." + apex + "/"),
		"objective2": pulumi.String("https://objective2." + apex + "/"),
		"objective3": pulumi.String("https://objective3." + apex + "/"),
	})
	ctx.Export("proxyPublicIp", proxy.publicIP)
	ctx.Export("appPrivateIp", app.PrivateIP)
	ctx.Export("appInstanceId", app.ID)
	ctx.Export("proxyInstanceId", proxy.vm.ID)
	ctx.Export("appSession", pulumi.Sprintf("aws ssm start-session --target %s", app.ID))
	ctx.Export("proxySession", pulumi.Sprintf("aws ssm start-session --target %s", proxy.vm.ID))
	ctx.Export("nginxSitesParameter", proxy.sitesParameter)
}
