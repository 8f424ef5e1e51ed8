// Package network is the VPC every objective-1 VM lives in: public subnets
// in two availability zones behind an internet gateway. No NAT gateway: the
// VMs have public addresses for egress (package installs) while their
// security groups admit only what each needs.
package network

import (
	"fmt"

	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws"
	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/ec2"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
)

// Args configures the VPC; zero values take the defaults.
type Args struct {
	// CidrBlock of the VPC; default 10.0.0.0/16.
	CidrBlock string
	// SubnetCidrs, one public subnet per entry in its own availability zone;
	// default 10.0.1.0/24 and 10.0.2.0/24.
	SubnetCidrs []string
	// Peers are VPCs of this account and region this one peers with; the
	// public route table routes each one's range to its peering.
	Peers []Peer
}

// Peer is another VPC (another stack's, so its ID and range are outputs).
type Peer struct {
	// Name is unique among the peers and names the peering (NAME-peering).
	Name      string
	VpcID     pulumi.StringInput
	CidrBlock pulumi.StringInput
}

func (a *Args) withDefaults() Args {
	out := Args{CidrBlock: "10.0.0.0/16", SubnetCidrs: []string{"10.0.1.0/24", "10.0.2.0/24"}}
	if a != nil && a.CidrBlock != "" {
		out.CidrBlock = a.CidrBlock
	}
	if a != nil && len(a.SubnetCidrs) > 0 {
		out.SubnetCidrs = a.SubnetCidrs
	}
	if a != nil {
		out.Peers = a.Peers
	}
	return out
}

// Network is the VPC component.
type Network struct {
	pulumi.ResourceState

	VpcID           pulumi.IDOutput
	PublicSubnetIDs []pulumi.IDOutput
	// CidrBlock and PublicSubnetCidrs are the ranges as declared (known
	// before anything exists), in PublicSubnetIDs order.
	CidrBlock         string
	PublicSubnetCidrs []string
	// RouteTableID is the public subnets' route table.
	RouteTableID pulumi.IDOutput
	// Peerings are the peering connections' IDs by Peer.Name.
	Peerings map[string]pulumi.IDOutput
}

// New declares the VPC, its internet gateway, one public route table and a
// public subnet per availability zone.
func New(ctx *pulumi.Context, name string, args *Args, opts ...pulumi.ResourceOption) (*Network, error) {
	a := args.withDefaults()
	n := &Network{CidrBlock: a.CidrBlock, PublicSubnetCidrs: a.SubnetCidrs, Peerings: map[string]pulumi.IDOutput{}}
	if err := ctx.RegisterComponentResource("bookstore:network:Network", name, n, opts...); err != nil {
		return nil, err
	}
	parent := pulumi.Parent(n)

	zones, err := aws.GetAvailabilityZones(ctx, &aws.GetAvailabilityZonesArgs{State: pulumi.StringRef("available")}, pulumi.Parent(n))
	if err != nil {
		return nil, fmt.Errorf("network: availability zones: %w", err)
	}
	if len(zones.Names) < len(a.SubnetCidrs) {
		return nil, fmt.Errorf("network: %d subnets need as many availability zones, the region has %d", len(a.SubnetCidrs), len(zones.Names))
	}

	vpc, err := ec2.NewVpc(ctx, name+"-vpc", &ec2.VpcArgs{
		CidrBlock:          pulumi.String(a.CidrBlock),
		EnableDnsHostnames: pulumi.Bool(true),
		EnableDnsSupport:   pulumi.Bool(true),
		Tags:               tags(name + "-vpc"),
	}, parent)
	if err != nil {
		return nil, err
	}
	igw, err := ec2.NewInternetGateway(ctx, name+"-igw", &ec2.InternetGatewayArgs{
		VpcId: vpc.ID(),
		Tags:  tags(name + "-igw"),
	}, parent)
	if err != nil {
		return nil, err
	}
	// Every route of the table is inline, none a separate ec2.Route: stacks
	// made before peering existed have the internet route inline, and
	// moving it to a Route would leave it in AWS (inline routes left out are
	// ignored, not deleted) and fail to create "already exists". A table
	// with inline routes also removes any route it does not declare, so
	// the peering routes are inline too.
	inline := ec2.RouteTableRouteArray{
		ec2.RouteTableRouteArgs{CidrBlock: pulumi.String("0.0.0.0/0"), GatewayId: igw.ID()},
	}
	for _, p := range a.Peers {
		peering, err := ec2.NewVpcPeeringConnection(ctx, p.Name+"-peering", &ec2.VpcPeeringConnectionArgs{
			VpcId:      vpc.ID(),
			PeerVpcId:  p.VpcID,
			AutoAccept: pulumi.Bool(true), // same account and region
			Tags:       tags(name + "-to-" + p.Name),
		}, parent)
		if err != nil {
			return nil, err
		}
		n.Peerings[p.Name] = peering.ID()
		inline = append(inline, ec2.RouteTableRouteArgs{CidrBlock: p.CidrBlock, VpcPeeringConnectionId: peering.ID()})
	}
	routes, err := ec2.NewRouteTable(ctx, name+"-public", &ec2.RouteTableArgs{
		VpcId:  vpc.ID(),
		Routes: inline,
		Tags:   tags(name + "-public"),
	}, parent)
	if err != nil {
		return nil, err
	}
	for i, cidr := range a.SubnetCidrs {
		subnetName := fmt.Sprintf("%s-public-%d", name, i+1)
		subnet, err := ec2.NewSubnet(ctx, subnetName, &ec2.SubnetArgs{
			VpcId:               vpc.ID(),
			CidrBlock:           pulumi.String(cidr),
			AvailabilityZone:    pulumi.String(zones.Names[i]),
			MapPublicIpOnLaunch: pulumi.Bool(true),
			Tags:                tags(subnetName),
		}, parent)
		if err != nil {
			return nil, err
		}
		if _, err := ec2.NewRouteTableAssociation(ctx, subnetName, &ec2.RouteTableAssociationArgs{
			SubnetId:     subnet.ID(),
			RouteTableId: routes.ID(),
		}, parent); err != nil {
			return nil, err
		}
		n.PublicSubnetIDs = append(n.PublicSubnetIDs, subnet.ID())
	}
	n.VpcID, n.RouteTableID = vpc.ID(), routes.ID()
	return n, ctx.RegisterResourceOutputs(n, pulumi.Map{"vpcId": vpc.ID()})
}

func tags(name string) pulumi.StringMap {
	return pulumi.StringMap{"Name": pulumi.String(name), "project": pulumi.String("bookstore")}
}
