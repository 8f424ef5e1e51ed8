package objective3

import (
	"fmt"

	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/efs"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"

	"github.com/tet-bookstore/bookstore/infra/firewall"
)

type sharedFiles struct {
	id           pulumi.IDOutput
	dnsName      pulumi.StringOutput
	mountTargets []pulumi.Resource
}

// newSharedFiles is the EFS file system behind the stack's NFS volume.
// infra/sharedfs is not reused: its policy refuses connections without TLS
// and its access point needs the EFS mount helper, while Docker's local
// volume driver speaks plain NFS 4.1. So NFS is admitted only from the
// nodes' group, inside the VPC; the data is encrypted at rest and backed up.
func newSharedFiles(ctx *pulumi.Context, vpc pulumi.IDOutput, subnets []pulumi.IDOutput, nodes pulumi.IDOutput) (*sharedFiles, error) {
	group, err := firewall.New(ctx, "swarm-efs", &firewall.Args{
		VpcID:       vpc,
		Description: "EFS mount targets: NFS from the Swarm nodes only",
		Ingress:     []firewall.Rule{{Name: "nfs", Port: 2049, FromGroup: nodes, Description: "NFS from the Swarm nodes"}},
	})
	if err != nil {
		return nil, err
	}
	fs, err := efs.NewFileSystem(ctx, "swarm-shared", &efs.FileSystemArgs{
		Encrypted:      pulumi.Bool(true),
		ThroughputMode: pulumi.String("elastic"),
		LifecyclePolicies: efs.FileSystemLifecyclePolicyArray{
			efs.FileSystemLifecyclePolicyArgs{TransitionToIa: pulumi.String("AFTER_30_DAYS")},
			efs.FileSystemLifecyclePolicyArgs{TransitionToPrimaryStorageClass: pulumi.String("AFTER_1_ACCESS")},
		},
		Tags: pulumi.StringMap{"Name": pulumi.String("swarm-shared"), "project": pulumi.String("bookstore")},
	})
	if err != nil {
		return nil, err
	}
	out := &sharedFiles{id: fs.ID(), dnsName: fs.DnsName}
	for i, subnet := range subnets {
		mt, err := efs.NewMountTarget(ctx, fmt.Sprintf("swarm-shared-%d", i+1), &efs.MountTargetArgs{
			FileSystemId:   fs.ID(),
			SubnetId:       subnet,
			SecurityGroups: pulumi.StringArray{group.ID.ToStringOutput()},
		})
		if err != nil {
			return nil, err
		}
		out.mountTargets = append(out.mountTargets, mt)
	}
	if _, err := efs.NewBackupPolicy(ctx, "swarm-shared", &efs.BackupPolicyArgs{
		FileSystemId: fs.ID(),
		BackupPolicy: efs.BackupPolicyBackupPolicyArgs{Status: pulumi.String("ENABLED")},
	}); err != nil {
		return nil, err
	}
	return out, nil
}
