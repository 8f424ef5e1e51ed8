package objective1

import (
	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/ec2"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"

	"github.com/tet-bookstore/bookstore/infra/network"
)

// Outputs objectives 2 and 3 export for the peering (besides proxyUpstream).
const (
	peerVpcOutput        = "vpcId"
	peerVpcCidrOutput    = "vpcCidr"
	peerRouteTableOutput = "privateRouteTableId"
)

// peerWith connects this VPC with another objective's (same account and
// region, so the peering accepts itself): the proxy reaches that
// objective's internal load balancer privately, never over the internet.
// Routes: the other VPC from this one's public route table, and back only
// to the proxy's subnet from the other's private route table. They belong to
// this stack, so `pulumi destroy` here leaves the other stack as it was.
func peerWith(ctx *pulumi.Context, net *network.Network, name string, ref *pulumi.StackReference) error {
	out := func(key string) pulumi.StringOutput { return ref.GetStringOutput(pulumi.String(key)) }
	peering, err := ec2.NewVpcPeeringConnection(ctx, name+"-peering", &ec2.VpcPeeringConnectionArgs{
		VpcId:      net.VpcID,
		PeerVpcId:  out(peerVpcOutput),
		AutoAccept: pulumi.Bool(true),
		Tags:       pulumi.StringMap{"Name": pulumi.String("objective1-proxy-to-" + name), "project": pulumi.String("bookstore")},
	})
	if err != nil {
		return err
	}
	if _, err := ec2.NewRoute(ctx, "to-"+name, &ec2.RouteArgs{
		RouteTableId:           net.RouteTableID,
		DestinationCidrBlock:   out(peerVpcCidrOutput),
		VpcPeeringConnectionId: peering.ID(),
	}); err != nil {
		return err
	}
	_, err = ec2.NewRoute(ctx, "from-"+name, &ec2.RouteArgs{
		RouteTableId:           out(peerRouteTableOutput),
		DestinationCidrBlock:   pulumi.String(net.PublicSubnetCidrs[proxySubnet]),
		VpcPeeringConnectionId: peering.ID(),
	})
	return err
}
