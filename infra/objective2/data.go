package objective2

import (
	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/secretsmanager"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"

	"github.com/tet-bookstore/bookstore/infra/aurora"
	"github.com/tet-bookstore/bookstore/infra/config"
	"github.com/tet-bookstore/bookstore/infra/firewall"
	"github.com/tet-bookstore/bookstore/infra/privatenet"
	"github.com/tet-bookstore/bookstore/infra/stackkey"
)

// uploadsDir is where every instance mounts the shared file system, and so
// the app's BOOKSTORE_UPLOADS_DIR.
const uploadsDir = "/mnt/bookstore-uploads"

// The bookstore user's ids on the image, and the access point's owner.
const (
	appUID = 2000
	appGID = 2000
)

// data is what every instance shares: the database, the uploads and the
// admin password.
type data struct {
	db          *aurora.Cluster
	files       *sharedFiles
	adminSecret *secretsmanager.Secret
	// key encrypts both secrets; only the app's role (and the roles named
	// by bookstore:dbSecretReaders) may decrypt with it.
	key *stackkey.Key
}

func newData(ctx *pulumi.Context, cfg *config.Config, s *settings, net *privatenet.Network, app *firewall.Group) (*data, error) {
	key, err := stackkey.New(ctx, "secrets", &stackkey.Args{
		Description: "Secrets of the bookstore stack " + cfg.Stack + " (database master, admin password)",
		Readers:     append([]string{stackkey.RoleName(cfg.Stack, "app")}, s.DBSecretReaders...),
	})
	if err != nil {
		return nil, err
	}
	args := &aurora.Args{
		SecretKmsKeyID:      key.Arn,
		LogRetentionDays:    s.LogRetentionDays,
		VpcID:               net.VpcID,
		SubnetIDs:           stringInputs(net.PrivateSubnetIDs),
		Zones:               net.Zones,
		ClientGroupIDs:      []pulumi.IDInput{app.ID},
		InstanceClass:       s.DBInstanceClass,
		BackupRetentionDays: s.DBBackupRetentionDays,
		AllowDeletion:       !s.DBDeletionProtection,
		SkipFinalSnapshot:   s.DBSkipFinalSnapshot,
		ClusterIdentifier:   s.DBClusterIdentifier,
	}
	if s.DBServerlessMaxACU > 0 {
		args.Serverless = &aurora.Serverless{MinACU: s.DBServerlessMinACU, MaxACU: s.DBServerlessMaxACU}
	}
	db, err := aurora.New(ctx, "bookstore", args)
	if err != nil {
		return nil, err
	}
	files, err := newSharedFiles(ctx, net, app)
	if err != nil {
		return nil, err
	}
	admin, err := newAdminSecret(ctx, cfg, s, key)
	if err != nil {
		return nil, err
	}
	return &data{db: db, files: files, adminSecret: admin, key: key}, nil
}

// newAdminSecret keeps the first admin's password in Secrets Manager, where
// instances read it at boot like the database's.
func newAdminSecret(ctx *pulumi.Context, cfg *config.Config, s *settings, key *stackkey.Key) (*secretsmanager.Secret, error) {
	secret, err := secretsmanager.NewSecret(ctx, "admin-password", &secretsmanager.SecretArgs{
		Name:        pulumi.String("/bookstore/" + cfg.Stack + "/admin-password"),
		KmsKeyId:    key.Arn,
		Description: pulumi.String("Password of the bookstore's first admin (BOOKSTORE_ADMIN_PASSWORD)"),
		// Deleted at once: the value lives in the stack's config anyway, and a
		// pending deletion would block the name for a destroy-and-recreate.
		RecoveryWindowInDays: pulumi.Int(0),
		Tags:                 pulumi.StringMap{"project": pulumi.String("bookstore")},
	})
	if err != nil {
		return nil, err
	}
	if _, err := secretsmanager.NewSecretVersion(ctx, "admin-password", &secretsmanager.SecretVersionArgs{
		SecretId:     secret.ID(),
		SecretString: pulumi.ToSecret(s.AdminPassword).(pulumi.StringOutput),
	}); err != nil {
		return nil, err
	}
	return secret, nil
}

func stringInputs(ids []pulumi.IDOutput) []pulumi.StringInput {
	out := make([]pulumi.StringInput, len(ids))
	for i, id := range ids {
		out[i] = id.ToStringOutput()
	}
	return out
}
