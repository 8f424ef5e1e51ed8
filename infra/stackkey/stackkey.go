// Package stackkey is the customer-managed KMS key one stack's SecureString
// parameters and Secrets Manager secrets are encrypted under. Unlike the
// AWS-managed aws/ssm and aws/secretsmanager keys, which every principal of
// the account may use through those services, its key policy lets the
// account administer the key but gives cryptographic use only to the roles
// it names (and to whoever runs `pulumi up`, which writes and refreshes the
// values), and only through SSM, Secrets Manager and RDS. Rotation is on.
package stackkey

import (
	"encoding/json"
	"fmt"
	"regexp"
	"strings"

	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws"
	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/kms"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
	pconfig "github.com/pulumi/pulumi/sdk/v3/go/pulumi/config"
)

// Args names the key's users by IAM role name (roles of this account; they
// need not exist yet, see Policy).
type Args struct {
	Description string
	// Readers decrypt (read parameters and secrets).
	Readers []string
	// Writers also encrypt (write SecureStrings, as the Swarm leader does).
	Writers []string
}

// Key is the component.
type Key struct {
	pulumi.ResourceState
	Arn pulumi.StringOutput
	// Alias (alias/bookstore/STACK/NAME) is known before the key exists,
	// for scripts that write SecureStrings (aws ssm put-parameter --key-id).
	Alias string
}

// RoleName is the fixed IAM name of a stack's role: the key policy names
// roles before they exist, so their names must be known in advance.
func RoleName(stack, role string) string { return "bookstore-" + stack + "-" + role }

var roleNamePattern = regexp.MustCompile(`^[A-Za-z0-9+=,.@_-]{1,64}$`)

// roleArnPattern is an IAM role's ARN (with an optional path).
var roleArnPattern = regexp.MustCompile(`^arn:(aws[a-z-]*):iam::(\d{12}):role/[A-Za-z0-9+=,.@_/-]{1,512}$`)

// New declares the key.
func New(ctx *pulumi.Context, name string, args *Args, opts ...pulumi.ResourceOption) (*Key, error) {
	if args == nil || len(args.Readers)+len(args.Writers) == 0 {
		return nil, fmt.Errorf("stackkey %s: a key nobody may use", name)
	}
	for _, r := range append(append([]string{}, args.Readers...), args.Writers...) {
		if !roleNamePattern.MatchString(r) {
			return nil, fmt.Errorf("stackkey %s: %q is not an IAM role name", name, r)
		}
	}
	// bookstore:deployRoleArn names the deploy role: not whoever runs the
	// program, or a preview by CI's read-only role or an operator's local
	// `pulumi up` would show (or make) a different key policy.
	deployer := pconfig.Get(ctx, "bookstore:deployRoleArn")
	if !roleArnPattern.MatchString(deployer) {
		return nil, fmt.Errorf("stackkey %s: bookstore:deployRoleArn is required and must be an IAM role ARN (arn:aws:iam::ACCOUNT:role/NAME), got %q", name, deployer)
	}
	k := &Key{Alias: "alias/bookstore/" + ctx.Stack() + "/" + name}
	if err := ctx.RegisterComponentResource("bookstore:stackkey:Key", name, k, opts...); err != nil {
		return nil, err
	}
	parent := pulumi.Parent(k)
	caller, err := aws.GetCallerIdentity(ctx, nil, parent)
	if err != nil {
		return nil, fmt.Errorf("stackkey %s: who is deploying: %w", name, err)
	}
	if acct := roleArnPattern.FindStringSubmatch(deployer)[2]; acct != caller.AccountId {
		return nil, fmt.Errorf("stackkey %s: bookstore:deployRoleArn %q is not a role of this account (%s)", name, deployer, caller.AccountId)
	}
	policy, err := Policy(PolicyArgs{
		Partition: strings.Split(caller.Arn, ":")[1], Account: caller.AccountId, Region: pconfig.Get(ctx, "aws:region"),
		Deployer: deployer, Readers: args.Readers, Writers: args.Writers,
	})
	if err != nil {
		return nil, fmt.Errorf("stackkey %s: %w", name, err)
	}
	key, err := kms.NewKey(ctx, name, &kms.KeyArgs{
		Description:          pulumi.String(args.Description),
		EnableKeyRotation:    pulumi.Bool(true),
		DeletionWindowInDays: pulumi.Int(30),
		Policy:               pulumi.String(policy),
		Tags:                 pulumi.StringMap{"Name": pulumi.String(name), "project": pulumi.String("bookstore")},
	}, parent)
	if err != nil {
		return nil, err
	}
	if _, err := kms.NewAlias(ctx, name, &kms.AliasArgs{Name: pulumi.String(k.Alias), TargetKeyId: key.KeyId}, parent); err != nil {
		return nil, err
	}
	k.Arn = key.Arn
	return k, ctx.RegisterResourceOutputs(k, pulumi.Map{"arn": key.Arn, "alias": pulumi.String(k.Alias)})
}

// PolicyArgs are what the key policy is made of.
type PolicyArgs struct {
	Partition, Account, Region string
	Deployer                   string // ARN of the principal running pulumi up
	Readers, Writers           []string
}

// administer is every key-management action and no cryptographic one.
// Not kms:Create*: it includes kms:CreateGrant, and a grant gives its
// grantee Decrypt without any of the conditions below, so any IAM principal
// of the account allowed CreateGrant could grant itself use of the key.
var administer = []string{
	"kms:CreateAlias", "kms:Describe*", "kms:Enable*", "kms:List*", "kms:Put*", "kms:Update*", "kms:Revoke*",
	"kms:Disable*", "kms:Get*", "kms:Delete*", "kms:TagResource", "kms:UntagResource",
	"kms:ScheduleKeyDeletion", "kms:CancelKeyDeletion", "kms:RotateKeyOnDemand",
}

// Policy is the key policy. The account root administers the key (every
// management action, no cryptographic one and no kms:CreateGrant): KMS
// refuses a policy that would not let the creator call PutKeyPolicy again
// (the lockout safety check), and without it a deleted deploy role would
// leave the key unmanageable. Use is granted to the root too, which is how
// a policy may name principals that do not exist yet, but only with
// aws:PrincipalArn equal to one of the named roles (so IAM policies of the
// account cannot extend it to anyone else) and kms:ViaService (so the roles
// decrypt only through SSM, Secrets Manager or RDS, where IAM confines them
// to their own parameters and secrets). kms:CreateGrant goes only to the
// writers (the deployer among them) and only for grants to AWS services
// (kms:GrantIsForAWSResource): RDS and Secrets Manager create grants on the
// key for the cluster and its master user secret.
func Policy(a PolicyArgs) (string, error) {
	if a.Partition == "" || a.Account == "" || a.Region == "" || a.Deployer == "" {
		return "", fmt.Errorf("key policy: partition, account, region and deployer are required")
	}
	root := fmt.Sprintf("arn:%s:iam::%s:root", a.Partition, a.Account)
	role := func(name string) string { return fmt.Sprintf("arn:%s:iam::%s:role/%s", a.Partition, a.Account, name) }
	writers := []string{a.Deployer}
	for _, w := range a.Writers {
		writers = append(writers, role(w))
	}
	readers := append([]string{}, writers...)
	for _, r := range a.Readers {
		readers = append(readers, role(r))
	}
	via := []string{"ssm." + a.Region + ".amazonaws.com", "secretsmanager." + a.Region + ".amazonaws.com", "rds." + a.Region + ".amazonaws.com"}
	use := func(sid string, actions, principals []string) map[string]any {
		return map[string]any{
			"Sid": sid, "Effect": "Allow", "Principal": map[string]any{"AWS": root}, "Action": actions, "Resource": "*",
			"Condition": map[string]any{
				"ArnEquals":    map[string]any{"aws:PrincipalArn": principals},
				"StringEquals": map[string]any{"kms:ViaService": via},
			},
		}
	}
	doc := map[string]any{
		"Version": "2012-10-17",
		"Statement": []map[string]any{
			{"Sid": "AccountAdministersTheKey", "Effect": "Allow", "Principal": map[string]any{"AWS": root}, "Action": administer, "Resource": "*"},
			use("NamedRolesDecrypt", []string{"kms:Decrypt", "kms:DescribeKey"}, readers),
			use("NamedRolesEncrypt", []string{"kms:Encrypt", "kms:GenerateDataKey*", "kms:ReEncrypt*"}, writers),
			{
				"Sid": "NamedRolesGrantToAWSServices", "Effect": "Allow", "Principal": map[string]any{"AWS": root},
				"Action": []string{"kms:CreateGrant"}, "Resource": "*",
				"Condition": map[string]any{
					"ArnEquals": map[string]any{"aws:PrincipalArn": writers},
					"Bool":      map[string]any{"kms:GrantIsForAWSResource": "true"},
				},
			},
		},
	}
	b, err := json.Marshal(doc)
	return string(b), err
}

// DecryptStatement is the IAM half of a reader's grant: a key policy that
// names the account root needs the role's own policy to allow the use too.
func DecryptStatement(keyArn string, write bool) map[string]any {
	actions := []string{"kms:Decrypt"}
	if write {
		actions = append(actions, "kms:Encrypt", "kms:GenerateDataKey")
	}
	return map[string]any{"Sid": "UseTheStackKey", "Effect": "Allow", "Action": actions, "Resource": []string{keyArn}}
}
