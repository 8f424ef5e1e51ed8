package objective1

import (
	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/ec2"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"

	"github.com/tet-bookstore/bookstore/infra/config"
	"github.com/tet-bookstore/bookstore/infra/network"
)

// Outputs objectives 2 and 3 export for the peering (besides proxyUpstream).
const (
	peerVpcOutput        = "vpcId"
	peerVpcCidrOutput    = "vpcCidr"
	peerRouteTableOutput = "privateRouteTableId"
)

// peerWith routes back from another objective's private route table to
// the proxy's subnet only, over the peering the network declares with the
// route to that objective's VPC (infra/network: all of the public table's
// routes are inline). The route belongs to this stack, so `pulumi destroy`
// here leaves the other stack as it was.
func peerWith(ctx *pulumi.Context, net *network.Network, name string, ref *pulumi.StackReference) error {
	_, err := ec2.NewRoute(ctx, "from-"+name, &ec2.RouteArgs{
		RouteTableId:           ref.GetStringOutput(pulumi.String(peerRouteTableOutput)),
		DestinationCidrBlock:   pulumi.String(net.PublicSubnetCidrs[proxySubnet]),
		VpcPeeringConnectionId: net.Peerings[name],
	})
	return err
}

// peerStacks are the stacks the proxy fronts, each referenced once and
// peered with: the network needs their VPCs before its route table exists.
func peerStacks(ctx *pulumi.Context, cfg *config.Config) (map[string]*pulumi.StackReference, []network.Peer, error) {
	refs := map[string]*pulumi.StackReference{}
	var peers []network.Peer
	for _, s := range []struct{ name, stack string }{{"objective2", cfg.Objective2Stack}, {"objective3", cfg.Objective3Stack}} {
		if s.stack == "" {
			continue
		}
		ref, err := pulumi.NewStackReference(ctx, s.name, &pulumi.StackReferenceArgs{Name: pulumi.String(s.stack)})
		if err != nil {
			return nil, nil, err
		}
		refs[s.name] = ref
		peers = append(peers, network.Peer{Name: s.name, VpcID: ref.GetStringOutput(pulumi.String(peerVpcOutput)), CidrBlock: ref.GetStringOutput(pulumi.String(peerVpcCidrOutput))})
	}
	return refs, peers, nil
}
