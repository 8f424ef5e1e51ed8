package objective3

import (
	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/ec2"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"

	"github.com/tet-bookstore/bookstore/infra/aurora"
	"github.com/tet-bookstore/bookstore/infra/privatenet"
	"github.com/tet-bookstore/bookstore/infra/stackkey"
)

// database is where the services' databases live: the writer's endpoint
// and the master credentials' secret, with which the manager creates one
// database and one user per service.
type database struct {
	endpoint        pulumi.StringOutput
	masterSecretArn pulumi.StringOutput
	// secretKey is objective 2's key when its cluster is used (nil for our own).
	secretKey pulumi.StringInput
}

// Outputs objective 2 exports (infra/objective2) that bookstore:databaseStack
// reads: its cluster, and what peering this VPC with its own needs.
const (
	databaseEndpointOutput      = "dbEndpoint"
	databaseMasterSecretOutput  = "dbSecretArn"
	databaseSecurityGroupOutput = "dbSecurityGroupId"
	databaseVpcOutput           = "vpcId"
	databaseVpcCidrOutput       = "vpcCidr"
	databaseRouteTableOutput    = "privateRouteTableId"
	databaseSecretKeyOutput     = "secretsKeyArn"
)

// newDatabase is an Aurora Serverless v2 cluster of this stack, reachable
// only from the nodes' group, or objective 2's cluster when
// bookstore:databaseStack names its stack, reached through VPC peering.
func newDatabase(ctx *pulumi.Context, cfg *Config, net *privatenet.Network, nodes pulumi.IDOutput, key *stackkey.Key) (*database, error) {
	if cfg.DatabaseStack != "" {
		ref, err := pulumi.NewStackReference(ctx, "database", &pulumi.StackReferenceArgs{Name: pulumi.String(cfg.DatabaseStack)})
		if err != nil {
			return nil, err
		}
		if err := peerWithDatabaseVpc(ctx, net, ref); err != nil {
			return nil, err
		}
		return &database{
			endpoint:        ref.GetStringOutput(pulumi.String(databaseEndpointOutput)),
			masterSecretArn: ref.GetStringOutput(pulumi.String(databaseMasterSecretOutput)),
			secretKey:       ref.GetStringOutput(pulumi.String(databaseSecretKeyOutput)),
		}, nil
	}
	subnets := make([]pulumi.StringInput, len(net.PrivateSubnetIDs))
	for i, id := range net.PrivateSubnetIDs {
		subnets[i] = id.ToStringOutput()
	}
	cluster, err := aurora.New(ctx, "swarm-db", &aurora.Args{
		VpcID:             net.VpcID,
		SubnetIDs:         subnets,
		Zones:             net.Zones,
		ClientGroupIDs:    []pulumi.IDInput{nodes},
		Serverless:        &aurora.Serverless{MinACU: cfg.DBMinACU, MaxACU: cfg.DBMaxACU},
		SecretKmsKeyID:    key.Arn,
		ClusterIdentifier: cfg.DBClusterIdentifier,
	})
	if err != nil {
		return nil, err
	}
	return &database{endpoint: cluster.Endpoint, masterSecretArn: cluster.MasterSecretArn}, nil
}

// peerWithDatabaseVpc connects this VPC with objective 2's (same account and
// region, so the peering accepts itself), routes each side's private
// subnets to the other, and lets exactly the three nodes' addresses reach
// objective 2's cluster on 3306. The rule lives in this stack, so
// destroying objective 3 takes it away again.
func peerWithDatabaseVpc(ctx *pulumi.Context, net *privatenet.Network, ref *pulumi.StackReference) error {
	out := func(name string) pulumi.StringOutput { return ref.GetStringOutput(pulumi.String(name)) }
	peering, err := ec2.NewVpcPeeringConnection(ctx, "database-peering", &ec2.VpcPeeringConnectionArgs{
		VpcId:      net.VpcID,
		PeerVpcId:  out(databaseVpcOutput),
		AutoAccept: pulumi.Bool(true),
		Tags:       pulumi.StringMap{"Name": pulumi.String("objective3-to-objective2-database"), "project": pulumi.String("bookstore")},
	})
	if err != nil {
		return err
	}
	if _, err := ec2.NewRoute(ctx, "to-database-vpc", &ec2.RouteArgs{
		RouteTableId:           net.PrivateRouteTableID,
		DestinationCidrBlock:   out(databaseVpcCidrOutput),
		VpcPeeringConnectionId: peering.ID(),
	}); err != nil {
		return err
	}
	if _, err := ec2.NewRoute(ctx, "from-database-vpc", &ec2.RouteArgs{
		RouteTableId:           out(databaseRouteTableOutput),
		DestinationCidrBlock:   pulumi.String(net.CidrBlock),
		VpcPeeringConnectionId: peering.ID(),
	}); err != nil {
		return err
	}
	nodes := make(pulumi.StringArray, nodeCount)
	for i := range nodes {
		nodes[i] = pulumi.String(nodeIP(i) + "/32")
	}
	_, err = ec2.NewSecurityGroupRule(ctx, "database-from-swarm-nodes", &ec2.SecurityGroupRuleArgs{
		SecurityGroupId: out(databaseSecurityGroupOutput),
		Type:            pulumi.String("ingress"), Protocol: pulumi.String("tcp"),
		FromPort: pulumi.Int(3306), ToPort: pulumi.Int(3306), CidrBlocks: nodes,
		Description: pulumi.String("MySQL from objective 3's Swarm nodes, over the VPC peering"),
	})
	return err
}
