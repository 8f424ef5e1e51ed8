package objective3

import (
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"

	"github.com/tet-bookstore/bookstore/infra/aurora"
	"github.com/tet-bookstore/bookstore/infra/privatenet"
)

// database is where the services' databases live: the writer's endpoint
// and the master credentials' secret, with which the manager creates one
// database and one user per service.
type database struct {
	endpoint        pulumi.StringOutput
	masterSecretArn pulumi.StringOutput
}

// Outputs another stack must export for bookstore:databaseStack.
const (
	databaseEndpointOutput     = "databaseEndpoint"
	databaseMasterSecretOutput = "databaseMasterSecretArn"
)

// newDatabase is an Aurora Serverless v2 cluster of this stack, reachable
// only from the nodes' group, or objective 2's cluster when
// bookstore:databaseStack names its stack. That cluster must then admit
// this VPC (peering and its security group), which this program does not
// arrange.
func newDatabase(ctx *pulumi.Context, cfg *Config, net *privatenet.Network, nodes pulumi.IDOutput) (*database, error) {
	if cfg.DatabaseStack != "" {
		ref, err := pulumi.NewStackReference(ctx, "database", &pulumi.StackReferenceArgs{Name: pulumi.String(cfg.DatabaseStack)})
		if err != nil {
			return nil, err
		}
		return &database{
			endpoint:        ref.GetStringOutput(pulumi.String(databaseEndpointOutput)),
			masterSecretArn: ref.GetStringOutput(pulumi.String(databaseMasterSecretOutput)),
		}, nil
	}
	subnets := make([]pulumi.StringInput, len(net.PrivateSubnetIDs))
	for i, id := range net.PrivateSubnetIDs {
		subnets[i] = id.ToStringOutput()
	}
	cluster, err := aurora.New(ctx, "swarm-db", &aurora.Args{
		VpcID:          net.VpcID,
		SubnetIDs:      subnets,
		Zones:          net.Zones,
		ClientGroupIDs: []pulumi.IDInput{nodes},
		Serverless:     &aurora.Serverless{MinACU: cfg.DBMinACU, MaxACU: cfg.DBMaxACU},
	})
	if err != nil {
		return nil, err
	}
	return &database{endpoint: cluster.Endpoint, masterSecretArn: cluster.MasterSecretArn}, nil
}
