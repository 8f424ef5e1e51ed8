// Package sharedfs is an encrypted EFS file system shared by several
// instances: a mount target in every given subnet, NFS open only to the
// given security groups, one access point that pins the POSIX owner of
// everything written through it, a policy refusing connections without TLS,
// and AWS Backup's daily backups.
package sharedfs

import (
	"encoding/json"
	"fmt"
	"regexp"

	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/efs"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"

	"github.com/tet-bookstore/bookstore/infra/firewall"
)

// Args configures the file system; zero values take the defaults.
type Args struct {
	VpcID pulumi.IDInput
	// SubnetIDs get one mount target each: one per availability zone the
	// clients run in (EFS allows one mount target per zone).
	SubnetIDs []pulumi.StringInput
	// ClientGroupIDs are the security groups admitted on NFS (2049).
	ClientGroupIDs []pulumi.IDInput
	// Path is the access point's root directory; default /shared.
	Path string
	// UID and GID own Path and every file written through the access point,
	// whatever user the client runs as; default 2000:2000.
	UID, GID int
	// Permissions of Path when EFS creates it; default 0750.
	Permissions string
	// ThroughputMode is elastic (default: pay per use) or bursting.
	ThroughputMode string
	// NoBackups turns AWS Backup's daily backups off (on by default).
	NoBackups bool
}

// FileSystem is the component.
type FileSystem struct {
	pulumi.ResourceState

	ID             pulumi.IDOutput
	Arn            pulumi.StringOutput
	AccessPointID  pulumi.IDOutput
	AccessPointArn pulumi.StringOutput
	// SecurityGroupID is the mount targets' group.
	SecurityGroupID pulumi.IDOutput
	// MountTargets are in SubnetIDs order; clients mount once all exist.
	MountTargets []pulumi.Resource
}

var permissionsPattern = regexp.MustCompile(`^0?[0-7]{3}$`)

func (a *Args) withDefaults() (Args, error) {
	out := *a
	if out.Path == "" {
		out.Path = "/shared"
	}
	if out.UID == 0 {
		out.UID = 2000
	}
	if out.GID == 0 {
		out.GID = 2000
	}
	if out.Permissions == "" {
		out.Permissions = "0750"
	}
	if out.ThroughputMode == "" {
		out.ThroughputMode = "elastic"
	}
	switch {
	case out.VpcID == nil || len(out.SubnetIDs) == 0:
		return out, fmt.Errorf("sharedfs: VpcID and at least one subnet are required")
	case len(out.ClientGroupIDs) == 0:
		return out, fmt.Errorf("sharedfs: no client security group: nobody could mount it")
	case out.Path[0] != '/':
		return out, fmt.Errorf("sharedfs: access point path %q must be absolute", out.Path)
	case !permissionsPattern.MatchString(out.Permissions):
		return out, fmt.Errorf("sharedfs: permissions %q are not octal like 0750", out.Permissions)
	case out.UID < 0 || out.GID < 0:
		return out, fmt.Errorf("sharedfs: negative owner %d:%d", out.UID, out.GID)
	case out.ThroughputMode != "elastic" && out.ThroughputMode != "bursting":
		return out, fmt.Errorf("sharedfs: throughput mode %q is neither elastic nor bursting", out.ThroughputMode)
	}
	return out, nil
}

// New declares the file system, its security group, mount targets, access
// point, policy and backup policy.
func New(ctx *pulumi.Context, name string, args *Args, opts ...pulumi.ResourceOption) (*FileSystem, error) {
	if args == nil {
		args = &Args{}
	}
	a, err := args.withDefaults()
	if err != nil {
		return nil, err
	}
	f := &FileSystem{}
	if err := ctx.RegisterComponentResource("bookstore:sharedfs:FileSystem", name, f, opts...); err != nil {
		return nil, err
	}
	parent := pulumi.Parent(f)

	var rules []firewall.Rule
	for i, g := range a.ClientGroupIDs {
		rules = append(rules, firewall.Rule{Name: fmt.Sprintf("nfs-%d", i+1), Port: 2049, FromGroup: g, Description: "NFS from a client group"})
	}
	group, err := firewall.New(ctx, name+"-nfs", &firewall.Args{
		VpcID:       a.VpcID,
		Description: "EFS mount targets: NFS from the client groups only",
		Ingress:     rules,
	}, parent)
	if err != nil {
		return nil, err
	}
	fs, err := efs.NewFileSystem(ctx, name, &efs.FileSystemArgs{
		Encrypted:      pulumi.Bool(true), // with the AWS-managed aws/elasticfilesystem key
		ThroughputMode: pulumi.String(a.ThroughputMode),
		LifecyclePolicies: efs.FileSystemLifecyclePolicyArray{
			efs.FileSystemLifecyclePolicyArgs{TransitionToIa: pulumi.String("AFTER_30_DAYS")},
			efs.FileSystemLifecyclePolicyArgs{TransitionToPrimaryStorageClass: pulumi.String("AFTER_1_ACCESS")},
		},
		Tags: pulumi.StringMap{"Name": pulumi.String(name), "project": pulumi.String("bookstore")},
	}, parent)
	if err != nil {
		return nil, err
	}
	for i, subnet := range a.SubnetIDs {
		mt, err := efs.NewMountTarget(ctx, fmt.Sprintf("%s-%d", name, i+1), &efs.MountTargetArgs{
			FileSystemId:   fs.ID(),
			SubnetId:       subnet,
			SecurityGroups: pulumi.StringArray{group.ID.ToStringOutput()},
		}, parent)
		if err != nil {
			return nil, err
		}
		f.MountTargets = append(f.MountTargets, mt)
	}
	ap, err := efs.NewAccessPoint(ctx, name, &efs.AccessPointArgs{
		FileSystemId: fs.ID(),
		PosixUser:    efs.AccessPointPosixUserArgs{Uid: pulumi.Int(a.UID), Gid: pulumi.Int(a.GID)},
		RootDirectory: efs.AccessPointRootDirectoryArgs{
			Path: pulumi.String(a.Path),
			CreationInfo: efs.AccessPointRootDirectoryCreationInfoArgs{
				OwnerUid: pulumi.Int(a.UID), OwnerGid: pulumi.Int(a.GID), Permissions: pulumi.String(a.Permissions),
			},
		},
		Tags: pulumi.StringMap{"Name": pulumi.String(name), "project": pulumi.String("bookstore")},
	}, parent)
	if err != nil {
		return nil, err
	}
	if _, err := efs.NewFileSystemPolicy(ctx, name, &efs.FileSystemPolicyArgs{
		FileSystemId: fs.ID(),
		Policy:       fs.Arn.ApplyT(policy).(pulumi.StringOutput),
	}, parent); err != nil {
		return nil, err
	}
	status := "ENABLED"
	if a.NoBackups {
		status = "DISABLED"
	}
	if _, err := efs.NewBackupPolicy(ctx, name, &efs.BackupPolicyArgs{
		FileSystemId: fs.ID(),
		BackupPolicy: efs.BackupPolicyBackupPolicyArgs{Status: pulumi.String(status)},
	}, parent); err != nil {
		return nil, err
	}
	f.ID, f.Arn, f.AccessPointID, f.AccessPointArn, f.SecurityGroupID = fs.ID(), fs.Arn, ap.ID(), ap.Arn, group.ID
	return f, ctx.RegisterResourceOutputs(f, pulumi.Map{"id": fs.ID(), "accessPointId": ap.ID()})
}

// policy refuses every request without TLS and lets clients mount and write
// only through a mount target, never as root: root squashing for anything
// not going through the access point, whose POSIX user wins anyway.
func policy(arn string) (string, error) {
	doc := map[string]any{
		"Version": "2012-10-17",
		"Statement": []map[string]any{
			{
				"Sid": "DenyWithoutTLS", "Effect": "Deny", "Principal": map[string]any{"AWS": "*"},
				"Action": "*", "Resource": arn,
				"Condition": map[string]any{"Bool": map[string]string{"aws:SecureTransport": "false"}},
			},
			{
				"Sid": "MountAndWriteThroughMountTargets", "Effect": "Allow", "Principal": map[string]any{"AWS": "*"},
				"Action":    []string{"elasticfilesystem:ClientMount", "elasticfilesystem:ClientWrite"},
				"Resource":  arn,
				"Condition": map[string]any{"Bool": map[string]string{"elasticfilesystem:AccessedViaMountTarget": "true"}},
			},
		},
	}
	b, err := json.Marshal(doc)
	return string(b), err
}
