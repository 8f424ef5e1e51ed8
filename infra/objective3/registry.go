package objective3

import (
	"fmt"
	"strings"

	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/ecr"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
)

type imageRegistry struct {
	// prefix is the stack file's REGISTRY: the image is PREFIX/bookstore:TAG.
	prefix pulumi.StringOutput
	// repositoryURL and repositoryARN are empty with bookstore:registry.
	repositoryURL pulumi.StringOutput
	repositoryARN pulumi.StringOutput
	created       bool
}

// keepReleases bounds the repository; older images are expired.
const keepReleases = 30

// newImageRegistry is the stack's ECR repository, STACK/bookstore, unless
// bookstore:registry names another registry. Tags are immutable (a release
// is one tag, so a rollback finds the same image) and scanned on push.
func newImageRegistry(ctx *pulumi.Context, cfg *Config) (*imageRegistry, error) {
	if cfg.Registry != "" {
		empty := pulumi.String("").ToStringOutput()
		return &imageRegistry{prefix: pulumi.String(cfg.Registry).ToStringOutput(), repositoryURL: empty, repositoryARN: empty}, nil
	}
	repo, err := ecr.NewRepository(ctx, "bookstore", &ecr.RepositoryArgs{
		Name:                       pulumi.String(cfg.Stack + "/bookstore"),
		ImageTagMutability:         pulumi.String("IMMUTABLE"),
		ImageScanningConfiguration: ecr.RepositoryImageScanningConfigurationArgs{ScanOnPush: pulumi.Bool(true)},
		EncryptionConfigurations: ecr.RepositoryEncryptionConfigurationArray{
			ecr.RepositoryEncryptionConfigurationArgs{EncryptionType: pulumi.String("AES256")},
		},
		Tags: pulumi.StringMap{"project": pulumi.String("bookstore")},
	})
	if err != nil {
		return nil, err
	}
	if _, err := ecr.NewLifecyclePolicy(ctx, "bookstore", &ecr.LifecyclePolicyArgs{
		Repository: repo.Name,
		Policy: pulumi.String(fmt.Sprintf(`{"rules":[{"rulePriority":1,"description":"keep the last %[1]d releases",`+
			`"selection":{"tagStatus":"any","countType":"imageCountMoreThan","countNumber":%[1]d},"action":{"type":"expire"}}]}`, keepReleases)),
	}); err != nil {
		return nil, err
	}
	prefix := repo.RepositoryUrl.ApplyT(func(url string) string { return strings.TrimSuffix(url, "/bookstore") }).(pulumi.StringOutput)
	return &imageRegistry{prefix: prefix, repositoryURL: repo.RepositoryUrl, repositoryARN: repo.Arn, created: true}, nil
}
