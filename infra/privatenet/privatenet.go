// Package privatenet is a VPC for load-balanced objectives: public subnets
// (load balancers, the NAT gateway) and private subnets (instances, databases,
// file systems) in as many availability zones as there are subnet pairs.
// Private subnets reach out through one NAT gateway and reach S3 through a
// free gateway endpoint; nothing in them has a public address.
package privatenet

import (
	"fmt"
	"net"

	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws"
	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/ec2"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
)

// Args configures the network; zero values take the defaults.
type Args struct {
	// CidrBlock of the VPC; default 10.20.0.0/16.
	CidrBlock string
	// PublicSubnetCidrs and PrivateSubnetCidrs, one pair per availability
	// zone, in zone order; default two zones: 10.20.1.0/24, 10.20.2.0/24
	// public and 10.20.11.0/24, 10.20.12.0/24 private.
	PublicSubnetCidrs  []string
	PrivateSubnetCidrs []string
	// NoNatGateway leaves private subnets without a route to the internet
	// (only the S3 endpoint): for workloads whose every dependency has a
	// VPC endpoint. The default is one NAT gateway in the first zone.
	NoNatGateway bool
}

// Network is the component.
type Network struct {
	pulumi.ResourceState

	VpcID     pulumi.IDOutput
	CidrBlock string
	// Zones are the availability zones, index-aligned with the subnets.
	Zones            []string
	PublicSubnetIDs  []pulumi.IDOutput
	PrivateSubnetIDs []pulumi.IDOutput
	// PrivateRouteTableID is shared by every private subnet, for more
	// gateway endpoints.
	PrivateRouteTableID pulumi.IDOutput
}

// PrivateSubnets is PrivateSubnetIDs as one array input.
func (n *Network) PrivateSubnets() pulumi.StringArray { return ids(n.PrivateSubnetIDs) }

// PublicSubnets is PublicSubnetIDs as one array input.
func (n *Network) PublicSubnets() pulumi.StringArray { return ids(n.PublicSubnetIDs) }

func ids(in []pulumi.IDOutput) pulumi.StringArray {
	out := make(pulumi.StringArray, len(in))
	for i, id := range in {
		out[i] = id.ToStringOutput()
	}
	return out
}

func (a *Args) withDefaults() (Args, error) {
	out := Args{
		CidrBlock:          "10.20.0.0/16",
		PublicSubnetCidrs:  []string{"10.20.1.0/24", "10.20.2.0/24"},
		PrivateSubnetCidrs: []string{"10.20.11.0/24", "10.20.12.0/24"},
	}
	if a != nil {
		if a.CidrBlock != "" {
			out.CidrBlock = a.CidrBlock
		}
		if len(a.PublicSubnetCidrs) > 0 || len(a.PrivateSubnetCidrs) > 0 {
			out.PublicSubnetCidrs, out.PrivateSubnetCidrs = a.PublicSubnetCidrs, a.PrivateSubnetCidrs
		}
		out.NoNatGateway = a.NoNatGateway
	}
	if len(out.PublicSubnetCidrs) != len(out.PrivateSubnetCidrs) || len(out.PublicSubnetCidrs) < 2 {
		return out, fmt.Errorf("privatenet: want one public and one private subnet per zone in at least 2 zones, got %d public and %d private",
			len(out.PublicSubnetCidrs), len(out.PrivateSubnetCidrs))
	}
	_, vpc, err := net.ParseCIDR(out.CidrBlock)
	if err != nil {
		return out, fmt.Errorf("privatenet: VPC CIDR %q: %v", out.CidrBlock, err)
	}
	for _, c := range append(append([]string{}, out.PublicSubnetCidrs...), out.PrivateSubnetCidrs...) {
		ip, _, err := net.ParseCIDR(c)
		if err != nil || !vpc.Contains(ip) {
			return out, fmt.Errorf("privatenet: subnet %q is not a CIDR inside %s", c, out.CidrBlock)
		}
	}
	return out, nil
}

// New declares the VPC, its gateways, route tables and subnets.
func New(ctx *pulumi.Context, name string, args *Args, opts ...pulumi.ResourceOption) (*Network, error) {
	a, err := args.withDefaults()
	if err != nil {
		return nil, err
	}
	n := &Network{CidrBlock: a.CidrBlock}
	if err := ctx.RegisterComponentResource("bookstore:privatenet:Network", name, n, opts...); err != nil {
		return nil, err
	}
	parent := pulumi.Parent(n)

	zones, err := aws.GetAvailabilityZones(ctx, &aws.GetAvailabilityZonesArgs{State: pulumi.StringRef("available")}, parent)
	if err != nil {
		return nil, fmt.Errorf("privatenet: availability zones: %w", err)
	}
	if len(zones.Names) < len(a.PublicSubnetCidrs) {
		return nil, fmt.Errorf("privatenet: %d zones wanted, the region has %d", len(a.PublicSubnetCidrs), len(zones.Names))
	}
	n.Zones = zones.Names[:len(a.PublicSubnetCidrs)]

	vpc, err := ec2.NewVpc(ctx, name+"-vpc", &ec2.VpcArgs{
		CidrBlock: pulumi.String(a.CidrBlock),
		// EFS mount helpers and RDS endpoints are found through VPC DNS.
		EnableDnsHostnames: pulumi.Bool(true),
		EnableDnsSupport:   pulumi.Bool(true),
		Tags:               tags(name + "-vpc"),
	}, parent)
	if err != nil {
		return nil, err
	}
	n.VpcID = vpc.ID()
	publicRoutes, err := n.publicRouteTable(ctx, name, parent)
	if err != nil {
		return nil, err
	}
	for i := range n.Zones {
		id, err := n.subnet(ctx, fmt.Sprintf("%s-public-%d", name, i+1), a.PublicSubnetCidrs[i], n.Zones[i], publicRoutes, parent)
		if err != nil {
			return nil, err
		}
		n.PublicSubnetIDs = append(n.PublicSubnetIDs, id)
	}
	privateRoutes, err := n.privateRouteTable(ctx, name, a, parent)
	if err != nil {
		return nil, err
	}
	n.PrivateRouteTableID = privateRoutes
	for i := range n.Zones {
		id, err := n.subnet(ctx, fmt.Sprintf("%s-private-%d", name, i+1), a.PrivateSubnetCidrs[i], n.Zones[i], privateRoutes, parent)
		if err != nil {
			return nil, err
		}
		n.PrivateSubnetIDs = append(n.PrivateSubnetIDs, id)
	}
	// Package repositories (Amazon Linux's are in S3) and S3 downloads stay
	// off the NAT gateway's per-gigabyte charge.
	if _, err := ec2.NewVpcEndpoint(ctx, name+"-s3", &ec2.VpcEndpointArgs{
		VpcId:           vpc.ID(),
		ServiceName:     pulumi.String("com.amazonaws." + zones.Id + ".s3"), // the data source's id is the region
		VpcEndpointType: pulumi.String("Gateway"),
		RouteTableIds:   pulumi.StringArray{privateRoutes.ToStringOutput()},
		Tags:            tags(name + "-s3"),
	}, parent); err != nil {
		return nil, err
	}
	return n, ctx.RegisterResourceOutputs(n, pulumi.Map{
		"vpcId":            vpc.ID(),
		"publicSubnetIds":  n.PublicSubnets(),
		"privateSubnetIds": n.PrivateSubnets(),
	})
}

func (n *Network) publicRouteTable(ctx *pulumi.Context, name string, parent pulumi.ResourceOption) (pulumi.IDOutput, error) {
	igw, err := ec2.NewInternetGateway(ctx, name+"-igw", &ec2.InternetGatewayArgs{VpcId: n.VpcID, Tags: tags(name + "-igw")}, parent)
	if err != nil {
		return pulumi.IDOutput{}, err
	}
	rt, err := ec2.NewRouteTable(ctx, name+"-public", &ec2.RouteTableArgs{
		VpcId:  n.VpcID,
		Routes: ec2.RouteTableRouteArray{ec2.RouteTableRouteArgs{CidrBlock: pulumi.String("0.0.0.0/0"), GatewayId: igw.ID()}},
		Tags:   tags(name + "-public"),
	}, parent)
	if err != nil {
		return pulumi.IDOutput{}, err
	}
	return rt.ID(), nil
}

// privateRouteTable sends the private subnets' internet traffic to one NAT
// gateway in the first public subnet: one gateway costs half of two, and
// losing its zone only stops new outbound connections (boots, log
// shipping), not serving through the load balancer. The table has no
// inline routes, only separate Route resources: other programs add their
// own (objective 3's VPC peering), and inline routes would overwrite them
// at the next refresh.
func (n *Network) privateRouteTable(ctx *pulumi.Context, name string, a Args, parent pulumi.ResourceOption) (pulumi.IDOutput, error) {
	rt, err := ec2.NewRouteTable(ctx, name+"-private", &ec2.RouteTableArgs{VpcId: n.VpcID, Tags: tags(name + "-private")}, parent)
	if err != nil {
		return pulumi.IDOutput{}, err
	}
	if a.NoNatGateway {
		return rt.ID(), nil
	}
	eip, err := ec2.NewEip(ctx, name+"-nat", &ec2.EipArgs{Domain: pulumi.String("vpc"), Tags: tags(name + "-nat")}, parent)
	if err != nil {
		return pulumi.IDOutput{}, err
	}
	nat, err := ec2.NewNatGateway(ctx, name+"-nat", &ec2.NatGatewayArgs{
		AllocationId: eip.AllocationId,
		SubnetId:     n.PublicSubnetIDs[0],
		Tags:         tags(name + "-nat"),
	}, parent)
	if err != nil {
		return pulumi.IDOutput{}, err
	}
	if _, err := ec2.NewRoute(ctx, name+"-private-internet", &ec2.RouteArgs{
		RouteTableId:         rt.ID(),
		DestinationCidrBlock: pulumi.String("0.0.0.0/0"),
		NatGatewayId:         nat.ID(),
	}, parent); err != nil {
		return pulumi.IDOutput{}, err
	}
	return rt.ID(), nil
}

func (n *Network) subnet(ctx *pulumi.Context, name, cidr, zone string, routes pulumi.IDOutput, parent pulumi.ResourceOption) (pulumi.IDOutput, error) {
	subnet, err := ec2.NewSubnet(ctx, name, &ec2.SubnetArgs{
		VpcId:               n.VpcID,
		CidrBlock:           pulumi.String(cidr),
		AvailabilityZone:    pulumi.String(zone),
		MapPublicIpOnLaunch: pulumi.Bool(false), // the ALB and NAT gateway bring their own addresses
		Tags:                tags(name),
	}, parent)
	if err != nil {
		return pulumi.IDOutput{}, err
	}
	if _, err := ec2.NewRouteTableAssociation(ctx, name, &ec2.RouteTableAssociationArgs{
		SubnetId:     subnet.ID(),
		RouteTableId: routes,
	}, parent); err != nil {
		return pulumi.IDOutput{}, err
	}
	return subnet.ID(), nil
}

func tags(name string) pulumi.StringMap {
	return pulumi.StringMap{"Name": pulumi.String(name), "project": pulumi.String("bookstore")}
}
