package sharedfs_test

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"

	"github.com/tet-bookstore/bookstore/infra/pulumitest"
	"github.com/tet-bookstore/bookstore/infra/sharedfs"
)

const ruleType = "aws:ec2/securityGroupRule:SecurityGroupRule"

func build(t *testing.T, mutate func(*sharedfs.Args)) *pulumitest.Mocks {
	t.Helper()
	return pulumitest.Run(t, nil, func(ctx *pulumi.Context) error {
		args := &sharedfs.Args{
			VpcID:          pulumi.ID("vpc-1"),
			SubnetIDs:      []pulumi.StringInput{pulumi.String("subnet-a"), pulumi.String("subnet-b")},
			ClientGroupIDs: []pulumi.IDInput{pulumi.ID("sg-app")},
			Path:           "/uploads",
			UID:            2001, GID: 2002,
		}
		if mutate != nil {
			mutate(args)
		}
		_, err := sharedfs.New(ctx, "files", args)
		return err
	})
}

func TestEncryptedWithBackups(t *testing.T) {
	m := build(t, nil)
	fs := m.One(t, "aws:efs/fileSystem:FileSystem", "files")
	if fs.Inputs["encrypted"] != true {
		t.Errorf("file system must be encrypted: %v", fs.Inputs)
	}
	backup := m.One(t, "aws:efs/backupPolicy:BackupPolicy", "files")
	if pulumitest.Map(backup.Inputs["backupPolicy"])["status"] != "ENABLED" {
		t.Errorf("backups must be on by default: %v", backup.Inputs)
	}
	off := build(t, func(a *sharedfs.Args) { a.NoBackups = true })
	if pulumitest.Map(off.One(t, "aws:efs/backupPolicy:BackupPolicy", "files").Inputs["backupPolicy"])["status"] != "DISABLED" {
		t.Error("NoBackups must disable them")
	}
}

func TestOneMountTargetPerSubnetInTheNFSGroup(t *testing.T) {
	m := build(t, nil)
	mts := m.Find("aws:efs/mountTarget:MountTarget", "")
	if len(mts) != 2 {
		t.Fatalf("want a mount target per subnet, got %d", len(mts))
	}
	seen := map[any]bool{}
	for _, mt := range mts {
		seen[mt.Inputs["subnetId"]] = true
		groups := pulumitest.List(mt.Inputs["securityGroups"])
		if len(groups) != 1 || groups[0] != "files-nfs-id" {
			t.Errorf("%s: must use the NFS group only, got %v", mt.Name, groups)
		}
	}
	if !seen["subnet-a"] || !seen["subnet-b"] {
		t.Errorf("mount targets in %v, want subnet-a and subnet-b", seen)
	}
}

func TestNFSOnlyFromClientGroups(t *testing.T) {
	m := build(t, func(a *sharedfs.Args) { a.ClientGroupIDs = append(a.ClientGroupIDs, pulumi.ID("sg-worker")) })
	from := map[any]bool{}
	for _, r := range m.Find(ruleType, "") {
		if r.Inputs["type"] != "ingress" {
			continue
		}
		if r.Inputs["fromPort"] != 2049.0 || r.Inputs["toPort"] != 2049.0 || r.Inputs["cidrBlocks"] != nil {
			t.Errorf("%s: only NFS from groups, got %v", r.Name, r.Inputs)
		}
		from[r.Inputs["sourceSecurityGroupId"]] = true
	}
	if len(from) != 2 || !from["sg-app"] || !from["sg-worker"] {
		t.Errorf("NFS sources %v, want sg-app and sg-worker", from)
	}
}

func TestAccessPointPinsOwner(t *testing.T) {
	ap := build(t, nil).One(t, "aws:efs/accessPoint:AccessPoint", "files")
	user := pulumitest.Map(ap.Inputs["posixUser"])
	root := pulumitest.Map(ap.Inputs["rootDirectory"])
	info := pulumitest.Map(root["creationInfo"])
	if user["uid"] != 2001.0 || user["gid"] != 2002.0 {
		t.Errorf("access point user %v, want 2001:2002", user)
	}
	if root["path"] != "/uploads" || info["ownerUid"] != 2001.0 || info["ownerGid"] != 2002.0 || info["permissions"] != "0750" {
		t.Errorf("access point root %v", root)
	}
}

func TestPolicyDeniesWithoutTLS(t *testing.T) {
	raw := pulumitest.Str(build(t, nil).One(t, "aws:efs/fileSystemPolicy:FileSystemPolicy", "files").Inputs["policy"])
	var doc struct {
		Statement []struct {
			Effect    string
			Action    any
			Resource  string
			Condition map[string]map[string]string
		}
	}
	if err := json.Unmarshal([]byte(raw), &doc); err != nil {
		t.Fatalf("policy %q: %v", raw, err)
	}
	denied := false
	for _, s := range doc.Statement {
		if !strings.HasSuffix(s.Resource, "filesystem/files") {
			t.Errorf("statement on %q, want the file system's ARN", s.Resource)
		}
		if s.Effect == "Deny" && s.Action == "*" && s.Condition["Bool"]["aws:SecureTransport"] == "false" {
			denied = true
		}
		if s.Effect == "Allow" && strings.Contains(raw, "ClientRootAccess") {
			t.Error("root access must not be granted")
		}
	}
	if !denied {
		t.Errorf("no statement denies non-TLS access: %s", raw)
	}
}

func TestBadArgsAreRefused(t *testing.T) {
	for name, mutate := range map[string]func(*sharedfs.Args){
		"no clients":      func(a *sharedfs.Args) { a.ClientGroupIDs = nil },
		"relative path":   func(a *sharedfs.Args) { a.Path = "uploads" },
		"bad permissions": func(a *sharedfs.Args) { a.Permissions = "rwx" },
	} {
		err := pulumi.RunErr(func(ctx *pulumi.Context) error {
			args := &sharedfs.Args{VpcID: pulumi.ID("vpc"), SubnetIDs: []pulumi.StringInput{pulumi.String("s")}, ClientGroupIDs: []pulumi.IDInput{pulumi.ID("sg")}}
			mutate(args)
			_, err := sharedfs.New(ctx, "files", args)
			return err
		}, pulumi.WithMocks("bookstore", "test", &pulumitest.Mocks{}))
		if err == nil || !strings.Contains(err.Error(), "sharedfs:") {
			t.Errorf("%s: want a sharedfs error, got %v", name, err)
		}
	}
}
