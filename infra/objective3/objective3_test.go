package objective3_test

import (
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/tet-bookstore/bookstore/infra/instance"
	"github.com/tet-bookstore/bookstore/infra/objective3/stack"
	"github.com/tet-bookstore/bookstore/infra/plan"
	"github.com/tet-bookstore/bookstore/infra/plan/plantest"
	"github.com/tet-bookstore/bookstore/infra/userdata"
	"github.com/tet-bookstore/bookstore/infra/userdata/scripttest"
)

const (
	instanceType  = "aws:ec2/instance:Instance"
	ruleType      = "aws:ec2/securityGroupRule:SecurityGroupRule"
	groupType     = "aws:ec2/securityGroup:SecurityGroup"
	subnetType    = "aws:ec2/subnet:Subnet"
	parameterType = "aws:ssm/parameter:Parameter"
	policyType    = "aws:iam/rolePolicy:RolePolicy"
	testSecret    = "TEST-SECRET-3f1e2d"
	params        = "/bookstore/objective3/"
)

// run plans objective 3 with the example stack file plus overrides, under
// the same mocks as `make plan`.
func run(t *testing.T, config map[string]string, refs map[string]map[string]any) *plan.Plan {
	t.Helper()
	p, err := plan.Run(plan.Options{
		Objective: 3, Root: "../..", Config: config, StackReferences: refs,
		Secrets: map[string]string{"bookstore:adminPassword": testSecret + "-admin"},
	})
	if err != nil {
		t.Fatal(err)
	}
	return p
}

var (
	one  = plantest.One
	str  = plantest.Str
	obj  = plantest.Obj
	list = plantest.List
)

// mockID is the id the plan's mocks give a resource: its prefix and a hash
// of its type and name.
func mockID(prefix, typ, name string) string { return prefix + plan.Hash8(typ+"/"+name) }

func groupID(name string) string { return mockID("sg-", groupType, name) }

func ingress(p *plan.Plan, group string) []plan.Resource {
	var out []plan.Resource
	for _, r := range p.Find(ruleType, "") {
		if r.Inputs["type"] == "ingress" && (group == "" || r.Inputs["securityGroupId"] == groupID(group)) {
			out = append(out, r)
		}
	}
	return out
}

func TestThreeNodesInDistinctZones(t *testing.T) {
	p := run(t, nil, nil)
	zoneOf := map[string]string{}
	private := map[string]bool{}
	for _, s := range p.Find(subnetType, "") {
		id := mockID("subnet-", subnetType, s.Name)
		zoneOf[id] = str(s.Inputs["availabilityZone"])
		private[id] = strings.Contains(s.Name, "-private-")
	}
	vms := p.Find(instanceType, "")
	if len(vms) != 3 {
		t.Fatalf("want 3 nodes, got %d", len(vms))
	}
	zones, ips := map[string]bool{}, map[string]bool{}
	for _, vm := range vms {
		subnet := str(vm.Inputs["subnetId"])
		if !private[subnet] {
			t.Errorf("%s must live in a private subnet, got %s", vm.Name, subnet)
		}
		zones[zoneOf[subnet]] = true
		ips[str(vm.Inputs["privateIp"])] = true
		if len(vm.IgnoreChanges) != 1 || vm.IgnoreChanges[0] != "ami" {
			t.Errorf("%s: a newer AMI must not replace a node; ignoreChanges=%v", vm.Name, vm.IgnoreChanges)
		}
	}
	if len(zones) != 3 || zones[""] {
		t.Errorf("the nodes must be in three distinct zones, got %v", zones)
	}
	if len(ips) != 3 || !ips["10.30.11.10"] || !ips["10.30.12.10"] || !ips["10.30.13.10"] {
		t.Errorf("the nodes have fixed private addresses, got %v", ips)
	}
}

func TestOneOrThreeManagers(t *testing.T) {
	profiles := func(p *plan.Plan) []string {
		var out []string
		for _, name := range []string{"swarm-node-0", "swarm-node-1", "swarm-node-2"} {
			out = append(out, str(one(t, p, instanceType, name).Inputs["iamInstanceProfile"]))
		}
		return out
	}
	single := run(t, nil, nil)
	if got := strings.Join(profiles(single), ","); got != "swarm-manager-profile,swarm-worker-profile,swarm-worker-profile" {
		t.Errorf("by default node 0 manages and nodes 1, 2 work; profiles %s", got)
	}
	worker := str(one(t, single, instanceType, "swarm-node-1").Inputs["userData"])
	if !strings.Contains(worker, "ssm_get '"+params+"swarm-worker-token'") || strings.Contains(worker, userdata.SwarmDeployScript) {
		t.Error("a worker joins with the worker token and deploys nothing")
	}
	if len(single.Find(parameterType, "swarm-worker-token")) != 1 {
		t.Error("one manager needs a worker token parameter")
	}

	three := run(t, map[string]string{"bookstore:swarmManagers": "3"}, nil)
	if got := strings.Join(profiles(three), ","); got != "swarm-manager-profile,swarm-manager-profile,swarm-manager-profile" {
		t.Errorf("swarmManagers 3 makes every node a manager; profiles %s", got)
	}
	for _, name := range []string{"swarm-node-1", "swarm-node-2"} {
		ud := str(one(t, three, instanceType, name).Inputs["userData"])
		if !strings.Contains(ud, "ssm_get '"+params+"swarm-manager-token'") || !strings.Contains(ud, "managers=('10.30.11.10' '10.30.12.10' '10.30.13.10')") ||
			strings.Contains(ud, "docker swarm init") {
			t.Errorf("%s joins as a manager through the other managers and never initializes", name)
		}
	}
	if len(three.Find(parameterType, "swarm-worker-token")) != 0 || len(three.Find("aws:iam/role:Role", "swarm-worker-role")) != 0 {
		t.Error("three managers leave no worker token nor worker role behind")
	}
	if three.Outputs["swarmManagers"] != float64(3) {
		t.Errorf("swarmManagers output %v", three.Outputs["swarmManagers"])
	}
}

func TestSwarmPortsOnlyWithinTheCluster(t *testing.T) {
	p := run(t, nil, nil)
	want := map[string]bool{"tcp/2377": false, "tcp/7946": false, "udp/7946": false, "udp/4789": false, "50/0": false}
	for _, r := range ingress(p, "swarm-nodes") {
		key := fmt.Sprintf("%s/%v", r.Inputs["protocol"], r.Inputs["fromPort"])
		if _, swarm := want[key]; swarm {
			want[key] = true
			if r.Inputs["self"] != true || r.Inputs["cidrBlocks"] != nil || r.Inputs["sourceSecurityGroupId"] != nil {
				t.Errorf("%s must admit only the nodes' own group: %v", r.Name, r.Inputs)
			}
			continue
		}
		if key != "tcp/80" || r.Inputs["sourceSecurityGroupId"] != groupID("swarm-entry") {
			t.Errorf("the nodes admit only Swarm traffic among themselves and port 80 from the balancer; found %s: %v", r.Name, r.Inputs)
		}
	}
	for port, seen := range want {
		if !seen {
			t.Errorf("no rule for %s between the nodes", port)
		}
	}
}

func worldRules(p *plan.Plan) []plan.Resource {
	var out []plan.Resource
	for _, r := range ingress(p, "") {
		for _, c := range list(r.Inputs["cidrBlocks"]) {
			if c == "0.0.0.0/0" {
				out = append(out, r)
			}
		}
	}
	return out
}

func TestNothingOpenToTheWorldButTheGateway(t *testing.T) {
	// Unset, proxyCidr is the objective 1 proxy's subnet (over the peering), never the world.
	if open := worldRules(run(t, map[string]string{"bookstore:proxyCidr": ""}, nil)); len(open) != 0 {
		t.Errorf("without proxyCidr nothing is open to the world, got %v", open)
	}
	p := run(t, nil, nil)
	if open := worldRules(p); len(open) != 0 {
		t.Errorf("with proxyCidr nothing is open to the world, got %v", open)
	}
	entry := ingress(p, "swarm-entry")
	if len(entry) != 1 || str(list(entry[0].Inputs["cidrBlocks"])[0]) != "10.0.2.0/24" {
		t.Errorf("the balancer admits only the objective 1 proxy, got %v", entry)
	}
	for _, r := range ingress(p, "") {
		if r.Inputs["fromPort"] == int64(22) {
			t.Errorf("SSH must be closed without sshCidr: %s", r.Name)
		}
	}
	ssh := 0
	for _, r := range ingress(run(t, map[string]string{"bookstore:sshCidr": "198.51.100.7/32"}, nil), "swarm-nodes") {
		if r.Inputs["fromPort"] == int64(22) && str(list(r.Inputs["cidrBlocks"])[0]) == "198.51.100.7/32" {
			ssh++
		}
	}
	if ssh != 1 {
		t.Errorf("sshCidr opens 22 on the nodes from that CIDR only; %d rules", ssh)
	}
}

func TestNodesAreHardened(t *testing.T) {
	for _, vm := range run(t, nil, nil).Find(instanceType, "") {
		md := obj(vm.Inputs["metadataOptions"])
		// Hop limit 1: containers (one hop further) cannot take the node's role.
		if md["httpTokens"] != "required" || md["httpPutResponseHopLimit"] != int64(1) {
			t.Errorf("%s: IMDSv2 only, hop limit 1; got %v", vm.Name, md)
		}
		root := obj(vm.Inputs["rootBlockDevice"])
		if root["encrypted"] != true || root["volumeType"] != "gp3" {
			t.Errorf("%s: root volume must be encrypted gp3, got %v", vm.Name, root)
		}
		if _, public := vm.Inputs["associatePublicIpAddress"]; public {
			t.Errorf("%s must have no public address", vm.Name)
		}
	}
}

type policy struct {
	Statement []struct {
		Effect   string
		Action   []string
		Resource []string
	}
}

func statements(t *testing.T, p *plan.Plan, name string) map[string][]string {
	t.Helper()
	var doc policy
	if err := json.Unmarshal([]byte(str(one(t, p, policyType, name).Inputs["policy"])), &doc); err != nil {
		t.Fatal(err)
	}
	out := map[string][]string{}
	for _, s := range doc.Statement {
		if s.Effect != "Allow" {
			t.Errorf("%s: unexpected %s statement", name, s.Effect)
		}
		for _, a := range s.Action {
			out[a] = s.Resource
		}
	}
	return out
}

func parameterARNs(keys ...string) []string {
	var out []string
	for _, k := range keys {
		out = append(out, "arn:aws:ssm:us-east-1:123456789012:parameter"+params+k)
	}
	return out
}

func TestJoinTokensAndGeneratedSecrets(t *testing.T) {
	p := run(t, nil, nil)
	written := []string{"swarm-manager-token", "swarm-worker-token", "service-key-auth", "service-key-catalog", "service-key-purchase", "token-signing-key", "db-password-auth", "db-password-catalog", "db-password-purchase"}
	for _, key := range written {
		param := one(t, p, parameterType, key)
		if param.Inputs["type"] != "SecureString" || param.Inputs["value"] != plan.Secret {
			t.Errorf("%s must be a SecureString: %v", key, param.Inputs)
		}
		// An update would send the placeholder with Overwrite=true: no
		// input the nodes' PutParameter sets may ever differ.
		if !slices.Contains(param.IgnoreChanges, "value") || !slices.Contains(param.IgnoreChanges, "keyId") {
			t.Errorf("%s: the value and key the nodes write must be ignored by Pulumi; ignoreChanges=%v", key, param.IgnoreChanges)
		}
		if got, want := param.Inputs["keyId"], one(t, p, "aws:kms/alias:Alias", "secrets").Inputs["name"]; got != want {
			t.Errorf("%s: Pulumi declares key %v, the nodes write with %v", key, got, want)
		}
	}
	manager := statements(t, p, "swarm-manager-policy")
	if got, want := strings.Join(manager["ssm:PutParameter"], ","), strings.Join(parameterARNs(written...), ","); got != want {
		t.Errorf("managers may write exactly the tokens and generated secrets:\n got %s\nwant %s", got, want)
	}
	reads := append([]string{"swarm-manager-token", "service-key-auth", "service-key-catalog", "service-key-purchase", "token-signing-key", "admin-password", "db-password-auth", "db-password-catalog", "db-password-purchase"}, "stack-file", "gateway-conf", "stack-settings")
	if got, want := strings.Join(manager["ssm:GetParameter"], ","), strings.Join(parameterARNs(reads...), ","); got != want {
		t.Errorf("managers read exactly the stack's parameters:\n got %s\nwant %s", got, want)
	}
	if got := manager["secretsmanager:GetSecretValue"]; len(got) != 1 || got[0] != p.Outputs["databaseMasterSecretArn"] {
		t.Errorf("managers read the database master secret only, got %v", got)
	}
	worker := statements(t, p, "swarm-worker-policy")
	key := str(one(t, p, "aws:kms/key:Key", "secrets").State["arn"])
	if len(worker) != 2 || strings.Join(worker["ssm:GetParameter"], ",") != parameterARNs("swarm-worker-token")[0] || strings.Join(worker["kms:Decrypt"], ",") != key {
		t.Errorf("workers read their join token (decrypted with the stack key) and nothing else, got %v", worker)
	}
	alias := one(t, p, "aws:kms/alias:Alias", "secrets")
	if k := one(t, p, "aws:kms/key:Key", "secrets"); alias.Inputs["targetKeyId"] != k.ID {
		t.Errorf("alias %v names key %v, want %v", alias.Inputs["name"], alias.Inputs["targetKeyId"], k.ID)
	}
	for _, param := range p.Find(parameterType, "") {
		if param.Inputs["type"] == "SecureString" && param.Inputs["keyId"] != key && param.Inputs["keyId"] != alias.Inputs["name"] {
			t.Errorf("%s must be under the stack key, not aws/ssm: keyId=%v", param.Name, param.Inputs["keyId"])
		}
	}
	for action, resources := range manager {
		for _, r := range resources {
			if r == "*" && action != "ecr:GetAuthorizationToken" {
				t.Errorf("%s on every resource", action)
			}
		}
	}
	// AmazonSSMManagedInstanceCore would let a worker read every parameter
	// of the account (the manager join token included).
	if n := len(p.Find("aws:iam/rolePolicyAttachment:RolePolicyAttachment", "")); n != 0 {
		t.Errorf("no managed policy may be attached, found %d", n)
	}
	for _, role := range []string{"swarm-manager", "swarm-worker"} {
		if one(t, p, policyType, role+"-session-manager").Inputs["policy"] != instance.SessionManagerPolicy {
			t.Errorf("%s needs the minimal Session Manager policy", role)
		}
	}
}

func TestNoSecretInUserDataOrPlan(t *testing.T) {
	p := run(t, nil, nil)
	b, err := p.JSON()
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(string(b), testSecret) {
		t.Fatal("a secret value appears in the plan")
	}
	admin := one(t, p, parameterType, "admin-password")
	if admin.Inputs["type"] != "SecureString" || admin.Inputs["value"] != plan.Secret || len(admin.IgnoreChanges) != 0 {
		t.Errorf("a configured admin password is a SecureString Pulumi keeps in sync: %v", admin)
	}
	for _, vm := range p.Find(instanceType, "") {
		ud := str(vm.Inputs["userData"])
		for _, leak := range []string{"SWMTKN", "BEGIN PRIVATE KEY", "mock-admin-password", testSecret} {
			if strings.Contains(ud, leak) {
				t.Errorf("%s: user data contains %q", vm.Name, leak)
			}
		}
	}
	if got := str(one(t, p, parameterType, "stack-file").Inputs["insecureValue"]); got != stack.Shipped() {
		t.Error("the stack file parameter must hold the committed stack")
	}
	// The example names the objective 1 proxy: the gateway believes its
	// forwarding headers and nobody else's.
	conf := str(one(t, p, parameterType, "gateway-conf").Inputs["insecureValue"])
	if !strings.Contains(conf, "    10.0.2.0/24 1;") || !strings.Contains(conf, "listen 80 proxy_protocol;") {
		t.Errorf("the gateway must trust only the proxy's forwarding headers and read the PROXY protocol:\n%s", conf)
	}
	noProxy := run(t, map[string]string{"bookstore:proxyCidr": ""}, nil)
	if got := str(one(t, noProxy, parameterType, "gateway-conf").Inputs["insecureValue"]); got != conf {
		t.Error("without proxyCidr the gateway trusts the objective 1 proxy's subnet, the default")
	}
}

func TestECRRepository(t *testing.T) {
	p := run(t, nil, nil)
	repo := one(t, p, "aws:ecr/repository:Repository", "bookstore")
	if repo.Inputs["imageTagMutability"] != "IMMUTABLE" || obj(repo.Inputs["imageScanningConfiguration"])["scanOnPush"] != true || repo.Inputs["name"] != "objective3/bookstore" {
		t.Errorf("the repository has immutable tags and scans on push: %v", repo.Inputs)
	}
	if p.Outputs["image"] != "123456789012.dkr.ecr.us-east-1.amazonaws.com/objective3/bookstore:v0.1.0" {
		t.Errorf("image output %v", p.Outputs["image"])
	}
	if pull := statements(t, p, "swarm-manager-policy")["ecr:BatchGetImage"]; len(pull) != 1 || pull[0] != "arn:aws:ecr:us-east-1:123456789012:repository/objective3/bookstore" {
		t.Errorf("managers pull from this repository only, got %v", pull)
	}

	own := run(t, map[string]string{"bookstore:registry": "ghcr.io/tet-bookstore"}, nil)
	if len(own.Find("aws:ecr/repository:Repository", "")) != 0 || statements(t, own, "swarm-manager-policy")["ecr:BatchGetImage"] != nil {
		t.Error("with bookstore:registry there is no repository and no ECR permission")
	}
	if !strings.Contains(str(one(t, own, parameterType, "stack-settings").Inputs["insecureValue"]), "REGISTRY=ghcr.io/tet-bookstore\n") {
		t.Error("the stack deploys from bookstore:registry")
	}
}

func TestSharedFilesAndDatabaseOnlyFromTheNodes(t *testing.T) {
	p := run(t, nil, nil)
	for group, port := range map[string]int64{"swarm-efs": 2049, "swarm-db-db": 3306} {
		rules := ingress(p, group)
		if len(rules) != 1 || rules[0].Inputs["fromPort"] != port || rules[0].Inputs["sourceSecurityGroupId"] != groupID("swarm-nodes") {
			t.Errorf("%s admits port %v from the nodes' group only, got %v", group, port, rules)
		}
	}
	if fs := one(t, p, "aws:efs/fileSystem:FileSystem", "swarm-shared"); fs.Inputs["encrypted"] != true {
		t.Error("EFS must be encrypted at rest")
	}
	for _, mt := range p.Find("aws:efs/mountTarget:MountTarget", "") {
		if sgs := list(mt.Inputs["securityGroups"]); len(sgs) != 1 || sgs[0] != groupID("swarm-efs") {
			t.Errorf("%s must carry the EFS group only", mt.Name)
		}
	}
	cluster := one(t, p, "aws:rds/cluster:Cluster", "swarm-db")
	if cluster.Inputs["storageEncrypted"] != true || cluster.Inputs["manageMasterUserPassword"] != true ||
		obj(cluster.Inputs["serverlessv2ScalingConfiguration"])["maxCapacity"] != int64(2) {
		t.Errorf("Aurora Serverless v2, encrypted, master password in Secrets Manager: %v", cluster.Inputs)
	}
}

// With bookstore:databaseStack, objective 3 reads the outputs objective 2
// really exports (its own plan feeds the stack reference here), peers the
// two VPCs and admits exactly the nodes on objective 2's cluster.
func TestObjective2Database(t *testing.T) {
	o2, err := plan.Run(plan.Options{Objective: 2, Root: "../.."})
	if err != nil {
		t.Fatal(err)
	}
	p := run(t, map[string]string{"bookstore:databaseStack": "org/bookstore/objective2"}, map[string]map[string]any{
		"org/bookstore/objective2": o2.Outputs,
	})
	if len(p.Find("aws:rds/cluster:Cluster", "")) != 0 {
		t.Error("with databaseStack no cluster of this stack")
	}
	settings := str(one(t, p, parameterType, "stack-settings").Inputs["insecureValue"])
	if host := str(o2.Outputs["dbEndpoint"]); host == "" || !strings.Contains(settings, "DB_HOST="+host+"\n") ||
		!strings.Contains(settings, "DB_MASTER_SECRET="+str(o2.Outputs["dbSecretArn"])+"\n") {
		t.Errorf("the services' databases are made on objective 2's cluster (%q):\n%s", host, settings)
	}

	peering := one(t, p, "aws:ec2/vpcPeeringConnection:VpcPeeringConnection", "database-peering")
	if peering.Inputs["peerVpcId"] != o2.Outputs["vpcId"] || peering.Inputs["autoAccept"] != true {
		t.Errorf("the peering must reach objective 2's VPC %v and accept itself: %v", o2.Outputs["vpcId"], peering.Inputs)
	}
	to := one(t, p, "aws:ec2/route:Route", "to-database-vpc").Inputs
	from := one(t, p, "aws:ec2/route:Route", "from-database-vpc").Inputs
	if to["destinationCidrBlock"] != o2.Outputs["vpcCidr"] || from["destinationCidrBlock"] != "10.30.0.0/16" ||
		from["routeTableId"] != o2.Outputs["privateRouteTableId"] {
		t.Errorf("each VPC's private subnets must route to the other over the peering: to %v, from %v", to, from)
	}
	rule := one(t, p, "aws:ec2/securityGroupRule:SecurityGroupRule", "database-from-swarm-nodes").Inputs
	cidrs := list(rule["cidrBlocks"])
	if rule["securityGroupId"] != o2.Outputs["dbSecurityGroupId"] || rule["fromPort"] != int64(3306) || rule["toPort"] != int64(3306) ||
		len(cidrs) != 3 || cidrs[0] != "10.30.11.10/32" || cidrs[2] != "10.30.13.10/32" {
		t.Errorf("objective 2's database must admit exactly the three nodes on 3306: %v", rule)
	}
}

func TestEntryPointForTheProxy(t *testing.T) {
	p := run(t, nil, nil)
	nlb := one(t, p, "aws:lb/loadBalancer:LoadBalancer", "swarm-entry")
	// Internal: the proxy reaches it over objective 1's VPC peering, never the internet.
	if nlb.Inputs["loadBalancerType"] != "network" || nlb.Inputs["internal"] != true || len(list(nlb.Inputs["subnets"])) != 3 {
		t.Errorf("an internal NLB across the three zones: %v", nlb.Inputs)
	}
	for _, out := range []string{"vpcId", "vpcCidr", "privateRouteTableId"} {
		if str(p.Outputs[out]) == "" {
			t.Errorf("objective 1's peering needs the output %s", out)
		}
	}
	if up := str(p.Outputs["proxyUpstream"]); !strings.HasSuffix(up, ".elb.us-east-1.amazonaws.com:80") {
		t.Errorf("proxyUpstream is HOST:PORT of the balancer, got %q", up)
	}
	if n := len(p.Find("aws:lb/targetGroupAttachment:TargetGroupAttachment", "")); n != 3 {
		t.Errorf("every node's routing mesh is a target, got %d", n)
	}
	hc := obj(one(t, p, "aws:lb/targetGroup:TargetGroup", "swarm-gateway").Inputs["healthCheck"])
	if hc["path"] != "/healthz" || hc["protocol"] != "HTTP" {
		t.Errorf("the balancer checks the gateway's /healthz, got %v", hc)
	}
	// The gateway's port 80 expects the header (stack.GatewayConf).
	if tg := one(t, p, "aws:lb/targetGroup:TargetGroup", "swarm-gateway"); tg.Inputs["proxyProtocolV2"] != true {
		t.Errorf("the balancer must send the PROXY protocol header the gateway reads: %v", tg.Inputs)
	}
}

func TestBadConfigurationIsOneLineEach(t *testing.T) {
	_, err := plan.Run(plan.Options{Objective: 3, Root: "../..", Config: map[string]string{
		"bookstore:swarmManagers": "2", "bookstore:imageTag": "", "bookstore:proxyCidr": "everyone",
	}})
	if err == nil {
		t.Fatal("want a configuration error")
	}
	for _, want := range []string{"bookstore:swarmManagers must be 1", "bookstore:imageTag must be", "bookstore:proxyCidr must be the proxy's address range"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error lacks %q:\n%v", want, err)
		}
	}
	// The gateway believes the proxy's forwarding headers: never the world's.
	_, err = plan.Run(plan.Options{Objective: 3, Root: "../..", Config: map[string]string{"bookstore:proxyCidr": "0.0.0.0/1"}})
	if err == nil || !strings.Contains(err.Error(), "bookstore:proxyCidr must be the proxy's address range") {
		t.Errorf("proxyCidr 0.0.0.0/1: %v, want a configuration error", err)
	}
}

// The user data the program renders passes bash -n and shellcheck.
func TestRenderedUserDataPassesShellcheck(t *testing.T) {
	for _, managers := range []string{"1", "3"} {
		scripts := userdata.Scripts{}
		for _, vm := range run(t, map[string]string{"bookstore:swarmManagers": managers}, nil).Find(instanceType, "") {
			ud := str(vm.Inputs["userData"])
			if len(ud) > 16384 {
				t.Errorf("%s: user data is %d bytes, EC2 accepts 16 KiB", vm.Name, len(ud))
			}
			scripts[vm.Name] = ud
		}
		scripttest.Check(t, scripts)
	}
}
