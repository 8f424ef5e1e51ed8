package plan

import (
	"fmt"

	"github.com/pulumi/pulumi/sdk/v3/go/common/resource"
)

// The values AWS computes for the resources objectives 2 and 3 declare:
// image, launch template, file system and access point ids, the load
// balancers' DNS names, the database's endpoints and managed secret, the
// repositories' URLs. One hook per type, shared by every objective, so a
// type behaves the same in every plan.
func init() {
	hooks := map[string]ResourceHook{
		"aws:ec2/amiFromInstance:AmiFromInstance": func(_ *mocks, name, _ string, _ resource.PropertyMap, _ func(string, any)) string {
			return "ami-" + hash8("ami/"+name)
		},
		"aws:ec2/launchTemplate:LaunchTemplate": func(_ *mocks, name, _ string, _ resource.PropertyMap, set func(string, any)) string {
			set("latestVersion", 1)
			return "lt-" + hash8("lt/"+name)
		},
		"aws:ec2/natGateway:NatGateway": func(_ *mocks, name, _ string, _ resource.PropertyMap, _ func(string, any)) string {
			return "nat-" + hash8("nat/"+name)
		},
		"aws:ec2/vpcEndpoint:VpcEndpoint": func(_ *mocks, name, _ string, _ resource.PropertyMap, _ func(string, any)) string {
			return "vpce-" + hash8("vpce/"+name)
		},
		"aws:efs/fileSystem:FileSystem": func(m *mocks, name, _ string, _ resource.PropertyMap, set func(string, any)) string {
			fsID := "fs-" + hash8("efs/"+name)
			set("dnsName", fmt.Sprintf("%s.efs.%s.amazonaws.com", fsID, m.Region()))
			set("arn", fmt.Sprintf("arn:aws:elasticfilesystem:%s:%s:file-system/%s", m.Region(), m.Account(), fsID))
			return fsID
		},
		"aws:efs/accessPoint:AccessPoint": func(m *mocks, name, _ string, _ resource.PropertyMap, set func(string, any)) string {
			apID := "fsap-" + hash8("fsap/"+name)
			set("arn", fmt.Sprintf("arn:aws:elasticfilesystem:%s:%s:access-point/%s", m.Region(), m.Account(), apID))
			return apID
		},
		"aws:rds/cluster:Cluster": func(m *mocks, name, _ string, _ resource.PropertyMap, set func(string, any)) string {
			h := hash8("rds/" + name)
			set("endpoint", fmt.Sprintf("%s.cluster-%s.%s.rds.amazonaws.com", name, h, m.Region()))
			set("readerEndpoint", fmt.Sprintf("%s.cluster-ro-%s.%s.rds.amazonaws.com", name, h, m.Region()))
			set("clusterIdentifier", name)
			set("masterUserSecrets", []any{map[string]any{
				"secretArn":    fmt.Sprintf("arn:aws:secretsmanager:%s:%s:secret:rds!cluster-%s-AbCdEf", m.Region(), m.Account(), h),
				"secretStatus": "active",
			}})
			return name
		},
		"aws:rds/clusterInstance:ClusterInstance": func(_ *mocks, name, _ string, _ resource.PropertyMap, set func(string, any)) string {
			set("identifier", name)
			return name
		},
		"aws:rds/subnetGroup:SubnetGroup":                     named,
		"aws:rds/clusterParameterGroup:ClusterParameterGroup": named,
		"aws:lb/loadBalancer:LoadBalancer": func(m *mocks, name, id string, _ resource.PropertyMap, set func(string, any)) string {
			h := hash8("lb/" + name)
			set("dnsName", fmt.Sprintf("%s-%s.elb.%s.amazonaws.com", name, h, m.Region()))
			set("arnSuffix", fmt.Sprintf("app/%s/%s", name, h))
			set("arn", fmt.Sprintf("arn:aws:elasticloadbalancing:%s:%s:loadbalancer/app/%s/%s", m.Region(), m.Account(), name, h))
			return id
		},
		"aws:lb/targetGroup:TargetGroup": func(m *mocks, name, id string, _ resource.PropertyMap, set func(string, any)) string {
			h := hash8("tg/" + name)
			set("arnSuffix", fmt.Sprintf("targetgroup/%s/%s", name, h))
			set("arn", fmt.Sprintf("arn:aws:elasticloadbalancing:%s:%s:targetgroup/%s/%s", m.Region(), m.Account(), name, h))
			return id
		},
		"aws:autoscaling/group:Group": named,
		"aws:secretsmanager/secret:Secret": func(m *mocks, name, _ string, inputs resource.PropertyMap, set func(string, any)) string {
			secret := name
			if v, ok := inputs["name"]; ok && v.IsString() {
				secret = v.StringValue()
			}
			arn := fmt.Sprintf("arn:aws:secretsmanager:%s:%s:secret:%s-%s", m.Region(), m.Account(), secret, hash8("secret/" + name)[:6])
			set("arn", arn)
			return arn
		},
		"aws:cloudwatch/logGroup:LogGroup": func(m *mocks, name, _ string, inputs resource.PropertyMap, set func(string, any)) string {
			group := name
			if v, ok := inputs["name"]; ok && v.IsString() {
				group = v.StringValue()
			}
			set("name", group)
			set("arn", fmt.Sprintf("arn:aws:logs:%s:%s:log-group:%s", m.Region(), m.Account(), group))
			return group
		},
		"aws:ecr/repository:Repository": func(m *mocks, name, _ string, inputs resource.PropertyMap, set func(string, any)) string {
			repo := name
			if v, ok := inputs["name"]; ok && v.IsString() {
				repo = v.StringValue()
			}
			set("repositoryUrl", fmt.Sprintf("%s.dkr.ecr.%s.amazonaws.com/%s", m.Account(), m.Region(), repo))
			set("arn", fmt.Sprintf("arn:aws:ecr:%s:%s:repository/%s", m.Region(), m.Account(), repo))
			return repo
		},
		"aws:kms/key:Key": func(m *mocks, name, _ string, _ resource.PropertyMap, set func(string, any)) string {
			h := hash8("kms/" + name)
			id := fmt.Sprintf("%s-0000-4000-8000-0000%s", h, h)
			set("keyId", id)
			set("arn", fmt.Sprintf("arn:aws:kms:%s:%s:key/%s", m.Region(), m.Account(), id))
			return id
		},
		"aws:s3/bucketV2:BucketV2": func(m *mocks, name, _ string, _ resource.PropertyMap, set func(string, any)) string {
			bucket := name + "-" + hash8("s3/"+name)
			set("bucket", bucket)
			set("arn", "arn:aws:s3:::"+bucket)
			return bucket
		},
	}
	for typ, hook := range hooks {
		resourceHooks[typ] = hook
	}
	invokes := map[string]InvokeHook{
		// The image builder has powered itself off: the AMI may be taken.
		"aws:ec2/getInstance:getInstance": func(_ *mocks, args resource.PropertyMap) (resource.PropertyMap, error) {
			id := args["instanceId"].StringValue()
			return resource.NewPropertyMapFromMap(map[string]any{"id": id, "instanceState": "stopped"}), nil
		},
	}
	// Who runs the plan: a CI role's session, as `pulumi up` in deploy.yml would be.
	invokes["aws:index/getCallerIdentity:getCallerIdentity"] = func(m *mocks, _ resource.PropertyMap) (resource.PropertyMap, error) {
		return resource.NewPropertyMapFromMap(map[string]any{
			"accountId": m.Account(), "id": m.Account(), "userId": "AROAMOCK:pulumi",
			"arn": "arn:aws:sts::" + m.Account() + ":assumed-role/" + DeployRole + "/pulumi",
		}), nil
	}
	invokes["aws:iam/getSessionContext:getSessionContext"] = func(m *mocks, args resource.PropertyMap) (resource.PropertyMap, error) {
		return resource.NewPropertyMapFromMap(map[string]any{
			"arn": args["arn"].StringValue(), "id": args["arn"].StringValue(), "issuerName": DeployRole, "issuerId": "AROAMOCK",
			"issuerArn": "arn:aws:iam::" + m.Account() + ":role/" + DeployRole, "sessionName": "pulumi",
		}), nil
	}
	for token, hook := range invokes {
		invokeHooks[token] = hook
	}
}

// DeployRole is the mocked deploying role (the README's CI deploy role).
const DeployRole = "bookstore-deploy"

// named gives a resource whose AWS name is its logical name that name as
// its id and "name" output, as Pulumi's auto-naming would (less the suffix).
func named(_ *mocks, name, _ string, _ resource.PropertyMap, set func(string, any)) string {
	set("name", name)
	return name
}
