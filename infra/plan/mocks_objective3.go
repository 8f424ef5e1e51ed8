package plan

import (
	"fmt"

	"github.com/pulumi/pulumi/sdk/v3/go/common/resource"
)

// Objective 3's resources, with the values AWS would compute: DNS names of
// the file system, the database and the load balancer, the repository's
// URL and the database's managed master secret. A hook another objective
// registered first is kept, so each objective's plan stays stable.
func init() {
	hooks := map[string]ResourceHook{
		"aws:efs/fileSystem:FileSystem": func(m *mocks, name, id string, _ resource.PropertyMap, set func(string, any)) string {
			fsID := "fs-" + hash8("efs/"+name)
			set("dnsName", fmt.Sprintf("%s.efs.%s.amazonaws.com", fsID, m.Region()))
			return fsID
		},
		"aws:rds/cluster:Cluster": func(m *mocks, name, id string, _ resource.PropertyMap, set func(string, any)) string {
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
		"aws:lb/loadBalancer:LoadBalancer": func(m *mocks, name, id string, _ resource.PropertyMap, set func(string, any)) string {
			set("dnsName", fmt.Sprintf("%s-%s.elb.%s.amazonaws.com", name, hash8("lb/"+name), m.Region()))
			return id
		},
		"aws:ecr/repository:Repository": func(m *mocks, name, id string, inputs resource.PropertyMap, set func(string, any)) string {
			repo := name
			if v, ok := inputs["name"]; ok && v.IsString() {
				repo = v.StringValue()
			}
			set("repositoryUrl", fmt.Sprintf("%s.dkr.ecr.%s.amazonaws.com/%s", m.Account(), m.Region(), repo))
			set("arn", fmt.Sprintf("arn:aws:ecr:%s:%s:repository/%s", m.Region(), m.Account(), repo))
			return repo
		},
	}
	for typ, hook := range hooks {
		if _, taken := resourceHooks[typ]; !taken {
			resourceHooks[typ] = hook
		}
	}
}
