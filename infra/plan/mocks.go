package plan

import (
	"fmt"
	"hash/fnv"
	"strings"
	"sync"

	"github.com/pulumi/pulumi/sdk/v3/go/common/resource"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
)

// mocks answers the Pulumi SDK in place of AWS: every id, address and ARN
// is derived from the resource's name, so a plan is byte-for-byte
// reproducible, and every registration is recorded for the plan.
type mocks struct {
	region          string
	stackReferences map[string]map[string]any

	mu        sync.Mutex
	resources []recorded
}

type recorded struct {
	typ, name     string
	custom        bool
	inputs        resource.PropertyMap
	ignoreChanges []string
	dependsOn     []string
	id            string
	state         resource.PropertyMap
}

const account = "123456789012"

var _ pulumi.MockResourceMonitor = (*mocks)(nil)

// hash8 is a short stable fingerprint of s.
func hash8(s string) string {
	h := fnv.New32a()
	_, _ = h.Write([]byte(s))
	return fmt.Sprintf("%08x", h.Sum32())
}

// octet is a stable host number in 10..249 for s.
func octet(s string) int {
	h := fnv.New32a()
	_, _ = h.Write([]byte(s))
	return 10 + int(h.Sum32()%240)
}

// idPrefix gives fake ids the shape of real ones.
var idPrefix = map[string]string{
	"aws:ec2/vpc:Vpc":                             "vpc-",
	"aws:ec2/subnet:Subnet":                       "subnet-",
	"aws:ec2/internetGateway:InternetGateway":     "igw-",
	"aws:ec2/routeTable:RouteTable":               "rtb-",
	"aws:ec2/securityGroup:SecurityGroup":         "sg-",
	"aws:ec2/securityGroupRule:SecurityGroupRule": "sgrule-",
	"aws:ec2/instance:Instance":                   "i-",
	"aws:ec2/eip:Eip":                             "eipalloc-",
	"aws:ec2/eipAssociation:EipAssociation":       "eipassoc-",
}

func (m *mocks) NewResource(args pulumi.MockResourceArgs) (string, resource.PropertyMap, error) {
	m.mu.Lock()
	r := recorded{typ: args.TypeToken, name: args.Name, custom: args.Custom, inputs: args.Inputs}
	if rpc := args.RegisterRPC; rpc != nil {
		r.ignoreChanges, r.dependsOn = rpc.GetIgnoreChanges(), rpc.GetDependencies()
	}
	m.resources = append(m.resources, r)
	index := len(m.resources) - 1
	m.mu.Unlock()

	id := idPrefix[args.TypeToken] + hash8(args.TypeToken+"/"+args.Name)
	state := args.Inputs.Copy()
	set := func(k string, v any) { state[resource.PropertyKey(k)] = resource.NewPropertyValue(v) }
	switch args.TypeToken {
	case "aws:ec2/instance:Instance":
		set("privateIp", fmt.Sprintf("10.0.1.%d", octet(args.Name)))
		set("publicIp", fmt.Sprintf("198.51.100.%d", octet(args.Name)))
		set("arn", fmt.Sprintf("arn:aws:ec2:%s:%s:instance/%s", m.region, account, id))
	case "aws:ec2/eip:Eip":
		set("publicIp", fmt.Sprintf("203.0.113.%d", octet(args.Name)))
		set("allocationId", id)
	case "aws:ssm/parameter:Parameter":
		name := args.Inputs["name"].StringValue()
		set("arn", fmt.Sprintf("arn:aws:ssm:%s:%s:parameter%s", m.region, account, name))
		id = name
	case "aws:iam/role:Role", "aws:iam/instanceProfile:InstanceProfile":
		kind := strings.ToLower(strings.TrimPrefix(args.TypeToken[strings.LastIndex(args.TypeToken, ":")+1:], "Instance"))
		name := args.Name
		if v, ok := args.Inputs["name"]; ok && v.IsString() {
			name = v.StringValue() // an explicit name, as AWS would keep it
		}
		set("name", name)
		set("arn", fmt.Sprintf("arn:aws:iam::%s:%s/%s", account, kind, name))
		id = name
	default:
		if hook, ok := resourceHooks[args.TypeToken]; ok {
			if newID := hook(m, args.Name, id, args.Inputs, set); newID != "" {
				id = newID
			}
		}
	case "pulumi:pulumi:StackReference":
		name := args.Inputs["name"].StringValue()
		outputs, ok := m.stackReferences[name]
		if !ok {
			outputs = map[string]any{}
		}
		set("outputs", outputs)
		set("secretOutputNames", []any{})
		id = name
	}
	// Every AWS resource gets an ARN unless it has one: policies and alarms
	// refer to ARNs, and an unknown one would hide what they grant.
	if strings.HasPrefix(args.TypeToken, "aws:") {
		if _, ok := state["arn"]; !ok {
			service := strings.SplitN(strings.TrimPrefix(args.TypeToken, "aws:"), "/", 2)[0]
			set("arn", fmt.Sprintf("arn:aws:%s:%s:%s:%s", service, m.region, account, args.Name))
		}
	}
	m.mu.Lock()
	m.resources[index].id, m.resources[index].state = id, state
	m.mu.Unlock()
	return id, state, nil
}

// ResourceHook fills in the outputs AWS would compute for one resource type
// (endpoints, DNS names ...) with stable fake values; it may return a new id.
// They are registered from mocks_aws.go, so this file stays small.
type ResourceHook func(m *mocks, name, id string, inputs resource.PropertyMap, set func(key string, value any)) string

// InvokeHook answers one data-source call.
type InvokeHook func(m *mocks, args resource.PropertyMap) (resource.PropertyMap, error)

var (
	resourceHooks = map[string]ResourceHook{}
	invokeHooks   = map[string]InvokeHook{}
)

// Region is the mocked stack's region, for hooks.
func (m *mocks) Region() string { return m.region }

// Account is the mocked AWS account id, for hooks.
func (m *mocks) Account() string { return account }

// Hash8 and Octet derive stable fake values from a name, for hooks.
func Hash8(s string) string { return hash8(s) }
func Octet(s string) int    { return octet(s) }

func (m *mocks) Call(args pulumi.MockCallArgs) (resource.PropertyMap, error) {
	switch args.Token {
	case "aws:index/getAvailabilityZones:getAvailabilityZones":
		return resource.NewPropertyMapFromMap(map[string]any{
			"names":   []any{m.region + "a", m.region + "b", m.region + "c"},
			"zoneIds": []any{"use1-az1", "use1-az2", "use1-az4"},
			"id":      m.region,
		}), nil
	case "aws:ec2/getAmi:getAmi":
		if owners := args.Args["owners"]; owners.IsArray() && len(owners.ArrayValue()) == 1 && owners.ArrayValue()[0].StringValue() == "136693071363" {
			return resource.NewPropertyMapFromMap(map[string]any{
				"id":      "ami-0mockdebian12",
				"imageId": "ami-0mockdebian12",
				"name":    "debian-12-amd64-20250101-1000",
			}), nil
		}
		return resource.NewPropertyMapFromMap(map[string]any{
			"id":      "ami-0mockubuntu2404",
			"imageId": "ami-0mockubuntu2404",
			"name":    "ubuntu/images/hvm-ssd-gp3/ubuntu-noble-24.04-amd64-server-20250101",
		}), nil
	case "aws:ssm/getParameter:getParameter":
		return resource.NewPropertyMapFromMap(map[string]any{
			"name":  args.Args["name"].StringValue(),
			"value": "mock-value-of-" + args.Args["name"].StringValue(),
			"type":  "String",
		}), nil
	}
	if hook, ok := invokeHooks[args.Token]; ok {
		return hook(m, args.Args)
	}
	return nil, fmt.Errorf("plan: no mock for the invoke %s; add one to infra/plan/mocks.go", args.Token)
}
