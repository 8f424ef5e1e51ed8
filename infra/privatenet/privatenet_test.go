package privatenet_test

import (
	"strings"
	"testing"

	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"

	"github.com/tet-bookstore/bookstore/infra/privatenet"
	"github.com/tet-bookstore/bookstore/infra/pulumitest"
)

const (
	subnetType = "aws:ec2/subnet:Subnet"
	routesType = "aws:ec2/routeTable:RouteTable"
	assocType  = "aws:ec2/routeTableAssociation:RouteTableAssociation"
)

func build(t *testing.T, args *privatenet.Args) (*pulumitest.Mocks, *privatenet.Network) {
	t.Helper()
	var n *privatenet.Network
	m := pulumitest.Run(t, nil, func(ctx *pulumi.Context) (err error) {
		n, err = privatenet.New(ctx, "net", args)
		return err
	})
	return m, n
}

func TestSubnetsSpanTwoZonesPublicAndPrivate(t *testing.T) {
	m, n := build(t, nil)
	if len(n.Zones) != 2 || n.Zones[0] == n.Zones[1] {
		t.Fatalf("want two distinct zones, got %v", n.Zones)
	}
	for i, zone := range n.Zones {
		for _, kind := range []string{"public", "private"} {
			s := m.One(t, subnetType, "net-"+kind+"-"+string(rune('1'+i)))
			if s.Inputs["availabilityZone"] != zone {
				t.Errorf("%s subnet %d in %v, want %s", kind, i+1, s.Inputs["availabilityZone"], zone)
			}
			if s.Inputs["mapPublicIpOnLaunch"] != false {
				t.Errorf("%s subnet %d must not give instances public addresses", kind, i+1)
			}
		}
	}
	if len(n.PrivateSubnetIDs) != 2 || len(n.PublicSubnetIDs) != 2 {
		t.Errorf("want 2+2 subnet ids, got %d public, %d private", len(n.PublicSubnetIDs), len(n.PrivateSubnetIDs))
	}
}

func TestPrivateSubnetsLeaveThroughOneNATGatewayOnly(t *testing.T) {
	m, _ := build(t, nil)
	nat := m.One(t, "aws:ec2/natGateway:NatGateway", "net-nat")
	if nat.Inputs["subnetId"] != "net-public-1-id" {
		t.Errorf("the NAT gateway belongs in a public subnet, got %v", nat.Inputs["subnetId"])
	}
	// A separate Route, never inline: other stacks add routes to this
	// table (objective 3's peering), which inline routes would overwrite.
	if routes := pulumitest.List(m.One(t, routesType, "net-private").Inputs["routes"]); len(routes) != 0 {
		t.Errorf("the private table must have no inline routes: %v", routes)
	}
	out := m.One(t, "aws:ec2/route:Route", "net-private-internet").Inputs
	if out["routeTableId"] != "net-private-id" || out["destinationCidrBlock"] != "0.0.0.0/0" || out["natGatewayId"] != "net-nat-id" || out["gatewayId"] != nil {
		t.Errorf("private default route must go to the NAT gateway, not the internet gateway: %v", out)
	}
	public := pulumitest.List(m.One(t, routesType, "net-public").Inputs["routes"])
	if len(public) != 1 || pulumitest.Map(public[0])["gatewayId"] != "net-igw-id" {
		t.Errorf("public default route must go to the internet gateway: %v", public)
	}
	for _, a := range m.Find(assocType, "") {
		want := "net-public-id"
		if strings.Contains(a.Name, "private") {
			want = "net-private-id"
		}
		if a.Inputs["routeTableId"] != want {
			t.Errorf("%s uses route table %v, want %s", a.Name, a.Inputs["routeTableId"], want)
		}
	}
	if got := len(m.Find(assocType, "")); got != 4 {
		t.Errorf("every subnet needs its route table association, got %d", got)
	}
	s3 := m.One(t, "aws:ec2/vpcEndpoint:VpcEndpoint", "net-s3")
	if s3.Inputs["serviceName"] != "com.amazonaws.us-east-1.s3" || s3.Inputs["vpcEndpointType"] != "Gateway" {
		t.Errorf("S3 gateway endpoint: %v", s3.Inputs)
	}
}

func TestWithoutNATPrivateSubnetsHaveNoDefaultRoute(t *testing.T) {
	m, _ := build(t, &privatenet.Args{NoNatGateway: true})
	if len(m.Find("aws:ec2/natGateway:NatGateway", "")) != 0 {
		t.Error("NoNatGateway must not create one")
	}
	if routes := pulumitest.List(m.One(t, routesType, "net-private").Inputs["routes"]); len(routes) != 0 || len(m.Find("aws:ec2/route:Route", "")) != 0 {
		t.Errorf("private routes without NAT: %v", routes)
	}
}

func TestBadSubnetsAreRefused(t *testing.T) {
	for _, args := range []*privatenet.Args{
		{PublicSubnetCidrs: []string{"10.20.1.0/24"}, PrivateSubnetCidrs: []string{"10.20.11.0/24"}},
		{PublicSubnetCidrs: []string{"10.20.1.0/24", "10.20.2.0/24"}, PrivateSubnetCidrs: []string{"10.20.11.0/24"}},
		{PublicSubnetCidrs: []string{"10.20.1.0/24", "10.99.2.0/24"}, PrivateSubnetCidrs: []string{"10.20.11.0/24", "10.20.12.0/24"}},
	} {
		err := pulumi.RunErr(func(ctx *pulumi.Context) error {
			_, err := privatenet.New(ctx, "net", args)
			return err
		}, pulumi.WithMocks("bookstore", "test", &pulumitest.Mocks{}))
		if err == nil || !strings.Contains(err.Error(), "privatenet:") {
			t.Errorf("%+v: want a privatenet error, got %v", args, err)
		}
	}
}
