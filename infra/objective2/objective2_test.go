package objective2_test

import (
	"encoding/base64"
	"encoding/json"
	"slices"
	"strings"
	"testing"

	"github.com/tet-bookstore/bookstore/infra/instance"
	"github.com/tet-bookstore/bookstore/infra/plan"
	"github.com/tet-bookstore/bookstore/infra/plan/plantest"
	"github.com/tet-bookstore/bookstore/infra/userdata"
)

const (
	groupType    = "aws:autoscaling/group:Group"
	policyType   = "aws:autoscaling/policy:Policy"
	ruleType     = "aws:ec2/securityGroupRule:SecurityGroupRule"
	subnetType   = "aws:ec2/subnet:Subnet"
	templateType = "aws:ec2/launchTemplate:LaunchTemplate"
	instanceType = "aws:ec2/instance:Instance"
	testSecret   = "TEST-SECRET-4e1f0a"
)

// run plans objective 2 with the example stack file plus overrides, under
// the same mocks as `make plan`.
func run(t *testing.T, config map[string]string) *plan.Plan {
	t.Helper()
	p, err := plan.Run(plan.Options{
		Objective: 2, Root: "../..", Config: config,
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

// userData is the launch template's boot script, decoded.
func userData(t *testing.T, p *plan.Plan) string {
	t.Helper()
	b, err := base64.StdEncoding.DecodeString(str(one(t, p, templateType, "app").Inputs["userData"]))
	if err != nil {
		t.Fatalf("launch template user data is not base64: %v", err)
	}
	return string(b)
}

func subnetIDs(t *testing.T, p *plan.Plan, kind string) map[string]string {
	t.Helper()
	// Mock ids derive from names: find them through the route table
	// associations, which name the subnet they attach.
	out := map[string]string{}
	for _, a := range p.Find("aws:ec2/routeTableAssociation:RouteTableAssociation", "") {
		if strings.Contains(a.Name, "-"+kind+"-") {
			out[str(a.Inputs["subnetId"])] = a.Name
		}
	}
	return out
}

func zoneOf(t *testing.T, p *plan.Plan, subnetName string) string {
	return str(one(t, p, subnetType, subnetName).Inputs["availabilityZone"])
}

// groupID is the security group id a rule of that group targets.
func groupID(t *testing.T, p *plan.Plan, prefix string) string {
	t.Helper()
	for _, r := range p.Find(ruleType, "") {
		if strings.HasPrefix(r.Name, prefix+"-") {
			return str(r.Inputs["securityGroupId"])
		}
	}
	t.Fatalf("no rule of group %s", prefix)
	return ""
}

func ingress(p *plan.Plan) []plan.Resource {
	var out []plan.Resource
	for _, r := range p.Find(ruleType, "") {
		if r.Inputs["type"] == "ingress" {
			out = append(out, r)
		}
	}
	return out
}

func TestNetworkSpansTwoZonesWithPrivateInstances(t *testing.T) {
	p := run(t, nil)
	private, public := subnetIDs(t, p, "private"), subnetIDs(t, p, "public")
	if len(private) != 2 || len(public) != 2 {
		t.Fatalf("want 2 private and 2 public subnets, got %v %v", private, public)
	}
	zones := map[string]bool{}
	for _, name := range private {
		zones[zoneOf(t, p, name)] = true
	}
	if len(zones) != 2 {
		t.Errorf("private subnets must be in two zones, got %v", zones)
	}
	asg := one(t, p, groupType, "app").Inputs
	for _, id := range list(asg["vpcZoneIdentifiers"]) {
		if _, ok := private[str(id)]; !ok {
			t.Errorf("the group launches into %v, which is not a private subnet", id)
		}
	}
	if len(list(asg["vpcZoneIdentifiers"])) != 2 {
		t.Errorf("the group must spread over both zones: %v", asg["vpcZoneIdentifiers"])
	}
	// Internal, in the private subnets: the proxy reaches it over the VPC
	// peering, so passwords never cross the internet in cleartext.
	alb := one(t, p, "aws:lb/loadBalancer:LoadBalancer", "bookstore").Inputs
	if alb["internal"] != true {
		t.Error("the ALB must be internal")
	}
	for _, id := range list(alb["subnets"]) {
		if _, ok := private[str(id)]; !ok {
			t.Errorf("the ALB sits in %v, which is not a private subnet", id)
		}
	}
	_ = public
	if str(one(t, p, instanceType, "image-builder").Inputs["subnetId"]) == "" {
		t.Error("the builder needs a subnet")
	}
	if _, ok := private[str(one(t, p, instanceType, "image-builder").Inputs["subnetId"])]; !ok {
		t.Error("the image builder belongs in a private subnet")
	}
	if len(p.Find("aws:ec2/natGateway:NatGateway", "")) != 1 {
		t.Error("want exactly one NAT gateway (see the README's cost choice)")
	}
}

func TestImageIsBakedFromAFinishedBuilder(t *testing.T) {
	p := run(t, nil)
	builder := one(t, p, instanceType, "image-builder")
	ud := str(builder.Inputs["userData"])
	if !strings.HasSuffix(strings.TrimSpace(ud), "systemctl poweroff") || !strings.Contains(ud, "/readyz") {
		t.Error("the builder must power itself off after its /readyz check")
	}
	if builder.Inputs["instanceInitiatedShutdownBehavior"] != "stop" {
		t.Error("powering off must stop the builder, not terminate it")
	}
	if builder.Inputs["userDataReplaceOnChange"] != true {
		t.Error("a new release (new user data) must make a new builder")
	}
	if !strings.Contains(ud, "https://github.com/tet-bookstore/bookstore/releases/download/v0.1.0/bookstore-linux-amd64") {
		t.Error("the builder must install the configured release")
	}
	ami := one(t, p, "aws:ec2/amiFromInstance:AmiFromInstance", "app")
	if !strings.HasPrefix(str(ami.Inputs["sourceInstanceId"]), "i-") {
		t.Errorf("the AMI comes from the builder: %v", ami.Inputs)
	}
	lt := one(t, p, templateType, "app")
	if lt.Inputs["imageId"] != p.Outputs["amiId"] || !strings.HasPrefix(str(lt.Inputs["imageId"]), "ami-") {
		t.Errorf("the launch template must start the baked AMI, got %v", lt.Inputs["imageId"])
	}
	if !strings.Contains(userData(t, p), userdata.BakedMarker) {
		t.Error("instances must refuse an unfinished image")
	}
}

func TestBaseImageRebuildsOnlyWhenPinned(t *testing.T) {
	latest := one(t, run(t, nil), instanceType, "image-builder")
	if !slices.Equal(latest.IgnoreChanges, []string{"ami"}) {
		t.Errorf("a newer Amazon Linux must not rebuild the image by itself, ignoreChanges=%v", latest.IgnoreChanges)
	}
	pinned := one(t, run(t, map[string]string{"bookstore:ami": "ami-0123456789abcdef0"}), instanceType, "image-builder")
	if pinned.Inputs["ami"] != "ami-0123456789abcdef0" || len(pinned.IgnoreChanges) != 0 {
		t.Errorf("a pinned base image must be used and a new pin must rebuild: ami=%v ignoreChanges=%v", pinned.Inputs["ami"], pinned.IgnoreChanges)
	}
}

func TestNewReleaseRollsOutThroughInstanceRefresh(t *testing.T) {
	before, after := run(t, nil), run(t, map[string]string{
		"bookstore:appBinaryUrl": "https://github.com/tet-bookstore/bookstore/releases/download/v0.2.0/bookstore-linux-amd64",
	})
	b1 := str(one(t, before, instanceType, "image-builder").Inputs["userData"])
	b2 := str(one(t, after, instanceType, "image-builder").Inputs["userData"])
	if b1 == b2 || !strings.Contains(b2, "v0.2.0") {
		t.Error("a new release must change the builder's user data (and so replace builder and AMI)")
	}
	asg := one(t, after, groupType, "app").Inputs
	refresh := obj(asg["instanceRefresh"])
	prefs := obj(refresh["preferences"])
	if refresh["strategy"] != "Rolling" || prefs["minHealthyPercentage"] != int64(90) {
		t.Errorf("instance refresh must be rolling keeping 90%% healthy: %v", refresh)
	}
	if !slices.Contains(list(refresh["triggers"]), any("tag")) {
		t.Errorf("the release tag must trigger a refresh too: %v", refresh)
	}
	tagged := false
	for _, tag := range list(asg["tags"]) {
		if obj(tag)["key"] == "bookstore-release" && strings.Contains(str(obj(tag)["value"]), "v0.2.0") {
			tagged = true
		}
	}
	if !tagged {
		t.Error("the group must carry the release it runs")
	}
	if obj(asg["launchTemplate"])["version"] != "1" {
		t.Errorf("the group must follow the template's latest version, got %v", asg["launchTemplate"])
	}
	if p := run(t, map[string]string{"bookstore:minHealthyPercentage": "50"}); obj(obj(one(t, p, groupType, "app").Inputs["instanceRefresh"])["preferences"])["minHealthyPercentage"] != int64(50) {
		t.Error("minHealthyPercentage must come from config")
	}
}

func TestAutoscalingGroup(t *testing.T) {
	p := run(t, nil)
	asg := one(t, p, groupType, "app")
	in := asg.Inputs
	if in["minSize"] != int64(1) || in["desiredCapacity"] != int64(2) || in["maxSize"] != int64(6) {
		t.Errorf("sizes %v/%v/%v, want 1/2/6", in["minSize"], in["desiredCapacity"], in["maxSize"])
	}
	if in["healthCheckType"] != "ELB" || in["healthCheckGracePeriod"] != int64(300) {
		t.Errorf("health check must be ELB with a grace period: %v %v", in["healthCheckType"], in["healthCheckGracePeriod"])
	}
	if !slices.Equal(asg.IgnoreChanges, []string{"desiredCapacity"}) {
		t.Errorf("desiredCapacity must be ignored after creation, ignoreChanges=%v", asg.IgnoreChanges)
	}
	tg := one(t, p, "aws:lb/targetGroup:TargetGroup", "app")
	if arns := list(in["targetGroupArns"]); len(arns) != 1 || !strings.Contains(str(arns[0]), "targetgroup/app/") {
		t.Errorf("instances must register with the target group: %v (%v)", arns, tg.Name)
	}
	sized := one(t, run(t, map[string]string{"bookstore:minSize": "2", "bookstore:desiredCapacity": "3", "bookstore:maxSize": "4", "bookstore:healthCheckGracePeriod": "420"}), groupType, "app").Inputs
	if sized["minSize"] != int64(2) || sized["desiredCapacity"] != int64(3) || sized["maxSize"] != int64(4) || sized["healthCheckGracePeriod"] != int64(420) {
		t.Errorf("sizes and grace period must come from config: %v", sized)
	}
}

func TestScalingPoliciesFromConfig(t *testing.T) {
	p := run(t, nil)
	cpu := obj(one(t, p, policyType, "app-cpu").Inputs["targetTrackingConfiguration"])
	if obj(cpu["predefinedMetricSpecification"])["predefinedMetricType"] != "ASGAverageCPUUtilization" || cpu["targetValue"] != int64(60) {
		t.Errorf("CPU policy: %v", cpu)
	}
	req := obj(one(t, p, policyType, "app-requests").Inputs["targetTrackingConfiguration"])
	spec := obj(req["predefinedMetricSpecification"])
	if spec["predefinedMetricType"] != "ALBRequestCountPerTarget" || req["targetValue"] != int64(1000) ||
		!strings.HasPrefix(str(spec["resourceLabel"]), "app/bookstore/") || !strings.Contains(str(spec["resourceLabel"]), "/targetgroup/app/") {
		t.Errorf("requests policy: %v", req)
	}
	only := run(t, map[string]string{"bookstore:scaleRequestsPerTarget": "0"})
	if len(only.Find(policyType, "")) != 1 {
		t.Error("a policy set to 0 must not exist")
	}
	if _, err := plan.Run(plan.Options{Objective: 2, Root: "../..", Config: map[string]string{"bookstore:scaleRequestsPerTarget": "0", "bookstore:scaleCpuTarget": "0"}}); err == nil || !strings.Contains(err.Error(), "scaling policy") {
		t.Errorf("no policy at all must be refused, got %v", err)
	}
}

func TestLaunchTemplateIsHardened(t *testing.T) {
	p := run(t, nil)
	lt := one(t, p, templateType, "app").Inputs
	md := obj(lt["metadataOptions"])
	if md["httpTokens"] != "required" || md["httpPutResponseHopLimit"] != int64(1) {
		t.Errorf("IMDSv2 only, hop limit 1: %v", md)
	}
	bdm := list(lt["blockDeviceMappings"])
	if len(bdm) != 1 || obj(obj(bdm[0])["ebs"])["encrypted"] != "true" {
		t.Errorf("root volume must be encrypted: %v", bdm)
	}
	builder := one(t, p, instanceType, "image-builder").Inputs
	if obj(builder["rootBlockDevice"])["encrypted"] != true || obj(builder["metadataOptions"])["httpTokens"] != "required" {
		t.Error("the builder (and so the AMI's snapshot) must be encrypted and IMDSv2-only")
	}
	if str(obj(lt["iamInstanceProfile"])["arn"]) != "arn:aws:iam::123456789012:profile/app-profile" {
		t.Errorf("instances need their profile: %v", lt["iamInstanceProfile"])
	}
}

type policyDoc struct {
	Statement []struct {
		Effect   string
		Action   []string
		Resource []string
	}
}

func TestInstanceRoleReadsOnlyTheAppSecrets(t *testing.T) {
	p := run(t, nil)
	// Not AmazonSSMManagedInstanceCore: it reads every parameter of the account.
	if n := len(p.Find("aws:iam/rolePolicyAttachment:RolePolicyAttachment", "")); n != 0 {
		t.Errorf("no managed policy may be attached, found %d", n)
	}
	for _, role := range []string{"app", "image-builder"} {
		if one(t, p, "aws:iam/rolePolicy:RolePolicy", role+"-session-manager").Inputs["policy"] != instance.SessionManagerPolicy {
			t.Errorf("%s needs the minimal Session Manager policy", role)
		}
	}
	var doc policyDoc
	raw := str(one(t, p, "aws:iam/rolePolicy:RolePolicy", "app-secrets-and-logs").Inputs["policy"])
	if err := json.Unmarshal([]byte(raw), &doc); err != nil {
		t.Fatal(err)
	}
	admin := str(one(t, p, "aws:secretsmanager/secret:Secret", "admin-password").Inputs["name"])
	for _, s := range doc.Statement {
		for _, r := range s.Resource {
			if r == "*" || strings.HasSuffix(r, ":secret:*") {
				t.Errorf("statement grants %v on %q: too wide", s.Action, r)
			}
		}
		if slices.Contains(s.Action, "secretsmanager:GetSecretValue") {
			if len(s.Resource) != 2 || s.Resource[0] != str(p.Outputs["dbSecretArn"]) || !strings.Contains(s.Resource[1], ":secret:"+admin+"-") {
				t.Errorf("secrets readable: %v, want the database's and the admin's only", s.Resource)
			}
		}
		if slices.Contains(s.Action, "kms:Decrypt") && (len(s.Resource) != 1 || s.Resource[0] != str(p.Outputs["secretsKeyArn"])) {
			t.Errorf("decrypt with %v, want the stack's key only", s.Resource)
		}
		for _, a := range s.Action {
			if !strings.HasPrefix(a, "secretsmanager:GetSecretValue") && !strings.HasPrefix(a, "logs:") && a != "kms:Decrypt" {
				t.Errorf("unexpected permission %s", a)
			}
		}
	}
	// Both secrets are under the stack's key, whose policy names the app's role.
	key := str(p.Outputs["secretsKeyArn"])
	if one(t, p, "aws:secretsmanager/secret:Secret", "admin-password").Inputs["kmsKeyId"] != key ||
		one(t, p, "aws:rds/cluster:Cluster", "bookstore").Inputs["masterUserSecretKmsKeyId"] != key {
		t.Errorf("the admin and master secrets must be under the stack key %s", key)
	}
	if name := one(t, p, "aws:iam/role:Role", "app-role").Inputs["name"]; name != "bookstore-objective2-app" ||
		!strings.Contains(str(one(t, p, "aws:kms/key:Key", "secrets").Inputs["policy"]), `"arn:aws:iam::123456789012:role/bookstore-objective2-app"`) {
		t.Errorf("the key policy must name the app's role %v", name)
	}
}

func TestLoadBalancer(t *testing.T) {
	p := run(t, nil)
	alb := one(t, p, "aws:lb/loadBalancer:LoadBalancer", "bookstore").Inputs
	if alb["dropInvalidHeaderFields"] != true || alb["enableDeletionProtection"] != true || alb["loadBalancerType"] != "application" {
		t.Errorf("ALB: %v", alb)
	}
	if _, logs := alb["accessLogs"]; logs || len(p.Find("aws:s3/bucketV2:BucketV2", "")) != 0 {
		t.Error("access logs (and their bucket) only when enabled")
	}
	tg := one(t, p, "aws:lb/targetGroup:TargetGroup", "app").Inputs
	hc := obj(tg["healthCheck"])
	if tg["port"] != int64(8080) || hc["path"] != "/readyz" || hc["matcher"] != "200" ||
		hc["healthyThreshold"] != int64(2) || hc["unhealthyThreshold"] != int64(2) || hc["interval"] != int64(10) {
		t.Errorf("target group health check: %v", tg)
	}
	// The app's defaults: 5 s drain + 20 s shutdown.
	if tg["deregistrationDelay"] != int64(25) {
		t.Errorf("deregistration delay %v, want 25 (drain + shutdown)", tg["deregistrationDelay"])
	}
	listener := one(t, p, "aws:lb/listener:Listener", "http").Inputs
	action := obj(list(listener["defaultActions"])[0])
	if listener["port"] != int64(80) || action["type"] != "forward" || !strings.Contains(str(action["targetGroupArn"]), "targetgroup/app/") {
		t.Errorf("listener: %v", listener)
	}
	if p.Outputs["proxyUpstream"] != str(p.Outputs["albDnsName"])+":80" || !strings.HasSuffix(str(p.Outputs["albDnsName"]), ".elb.us-east-1.amazonaws.com") {
		t.Errorf("proxyUpstream must be the ALB's HOST:80, got %v", p.Outputs["proxyUpstream"])
	}

	custom := run(t, map[string]string{
		"bookstore:appEnv":                `{"BOOKSTORE_DRAIN_DELAY":"10s","BOOKSTORE_SHUTDOWN_TIMEOUT":"30s"}`,
		"bookstore:albDeletionProtection": "false",
		"bookstore:albAccessLogs":         "true",
	})
	if d := one(t, custom, "aws:lb/targetGroup:TargetGroup", "app").Inputs["deregistrationDelay"]; d != int64(40) {
		t.Errorf("deregistration delay %v, want 40 for 10s + 30s", d)
	}
	calb := one(t, custom, "aws:lb/loadBalancer:LoadBalancer", "bookstore").Inputs
	if calb["enableDeletionProtection"] != false || obj(calb["accessLogs"])["enabled"] != true || obj(calb["accessLogs"])["bucket"] == "" {
		t.Errorf("deletion protection and access logs must follow config: %v", calb)
	}
	if len(custom.Find("aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock", "")) != 1 {
		t.Error("the log bucket must block public access")
	}
	if !strings.Contains(str(one(t, custom, instanceType, "image-builder").Inputs["userData"]), "TimeoutStopSec=50") {
		t.Error("systemd must wait for the whole graceful shutdown (40 s + margin)")
	}
}

func TestListenerOpenOnlyToTheProxyWhenConfigured(t *testing.T) {
	for _, tc := range []struct {
		cidr, want string
	}{{"10.0.2.0/28", "10.0.2.0/28"}, {"", "10.0.2.0/24"}} { // unset: the objective 1 proxy's subnet, never the world
		p := run(t, map[string]string{"bookstore:proxyCidr": tc.cidr})
		albSG := groupID(t, p, "alb")
		n := 0
		for _, r := range ingress(p) {
			if r.Inputs["securityGroupId"] != albSG {
				continue
			}
			n++
			if cidrs := list(r.Inputs["cidrBlocks"]); r.Inputs["fromPort"] != int64(80) || len(cidrs) != 1 || cidrs[0] != tc.want {
				t.Errorf("proxyCidr %q: ALB rule %v", tc.cidr, r.Inputs)
			}
		}
		if n != 1 {
			t.Errorf("proxyCidr %q: want one ALB ingress rule, got %d", tc.cidr, n)
		}
	}
}

// Only the ALB ever admits an address range; instances, the database and
// the file system admit security groups.
func TestNoWorldIngressToInstancesDatabaseOrFiles(t *testing.T) {
	p := run(t, map[string]string{"bookstore:proxyCidr": ""})
	albSG, appSG, dbSG, nfsSG := groupID(t, p, "alb"), groupID(t, p, "app"), groupID(t, p, "bookstore-db"), groupID(t, p, "uploads-nfs")
	want := map[string]struct {
		port int64
		from string
	}{appSG: {8080, albSG}, dbSG: {3306, appSG}, nfsSG: {2049, appSG}}
	for _, r := range ingress(p) {
		sg := str(r.Inputs["securityGroupId"])
		if sg == albSG {
			continue
		}
		w, ok := want[sg]
		if !ok {
			t.Errorf("%s: ingress on an unexpected group (the builder admits nothing)", r.Name)
			continue
		}
		if r.Inputs["cidrBlocks"] != nil || r.Inputs["fromPort"] != w.port || r.Inputs["sourceSecurityGroupId"] != w.from {
			t.Errorf("%s: want port %d from %s only, got %v", r.Name, w.port, w.from, r.Inputs)
		}
	}
	if len(ingress(p)) != 4 {
		t.Errorf("want 4 ingress rules (ALB, app, database, NFS), got %d", len(ingress(p)))
	}
	for _, res := range append(p.Find("aws:rds/clusterInstance:ClusterInstance", ""), one(t, p, instanceType, "image-builder")) {
		if res.Inputs["publiclyAccessible"] == true || res.Inputs["associatePublicIpAddress"] == true {
			t.Errorf("%s must not be reachable from the internet", res.Name)
		}
	}
}

func TestAuroraCluster(t *testing.T) {
	p := run(t, nil)
	c := one(t, p, "aws:rds/cluster:Cluster", "bookstore").Inputs
	if c["engine"] != "aurora-mysql" || !strings.HasPrefix(str(c["engineVersion"]), "8.0.mysql_aurora.3") {
		t.Errorf("engine: %v %v", c["engine"], c["engineVersion"])
	}
	if c["storageEncrypted"] != true || c["deletionProtection"] != true || c["skipFinalSnapshot"] != false ||
		c["finalSnapshotIdentifier"] == nil || c["backupRetentionPeriod"] != int64(7) || c["manageMasterUserPassword"] != true {
		t.Errorf("cluster safety: %v", c)
	}
	if _, ok := c["masterPassword"]; ok {
		t.Error("no master password may be passed: Secrets Manager keeps it")
	}
	params := one(t, p, "aws:rds/clusterParameterGroup:ClusterParameterGroup", "bookstore").Inputs
	tls := false
	for _, param := range list(params["parameters"]) {
		tls = tls || (obj(param)["name"] == "require_secure_transport" && obj(param)["value"] == "ON")
	}
	if !tls || c["dbClusterParameterGroupName"] != "bookstore" {
		t.Errorf("the cluster must require TLS: %v", params)
	}
	w := one(t, p, "aws:rds/clusterInstance:ClusterInstance", "bookstore-writer").Inputs
	r := one(t, p, "aws:rds/clusterInstance:ClusterInstance", "bookstore-reader").Inputs
	if w["availabilityZone"] == r["availabilityZone"] || w["availabilityZone"] == nil {
		t.Errorf("writer (%v) and reader (%v) must be in different zones", w["availabilityZone"], r["availabilityZone"])
	}
	if w["instanceClass"] != "db.t4g.medium" {
		t.Errorf("instance class from config: %v", w["instanceClass"])
	}
	sv2 := run(t, map[string]string{"bookstore:dbServerlessMaxAcu": "8", "bookstore:dbDeletionProtection": "false", "bookstore:dbSkipFinalSnapshot": "true"})
	c2 := one(t, sv2, "aws:rds/cluster:Cluster", "bookstore").Inputs
	if obj(c2["serverlessv2ScalingConfiguration"])["maxCapacity"] != int64(8) || c2["deletionProtection"] != false || c2["skipFinalSnapshot"] != true {
		t.Errorf("serverless v2 and deletion settings from config: %v", c2)
	}
	if one(t, sv2, "aws:rds/clusterInstance:ClusterInstance", "bookstore-reader").Inputs["instanceClass"] != "db.serverless" {
		t.Error("serverless instances must be db.serverless")
	}
}

func TestAppConnectsWithTLSUsingTheManagedSecret(t *testing.T) {
	p := run(t, nil)
	ud := userData(t, p)
	for _, want := range []string{
		"secret " + "'" + str(p.Outputs["dbSecretArn"]) + "'",
		"@" + str(p.Outputs["dbEndpoint"]) + ":3306/bookstore?tls=true",
		// The ALB and the objective 1 proxy's subnet (over the peering).
		"BOOKSTORE_TRUSTED_PROXIES=10.20.0.0/16,10.0.2.0/24\n",
		"BOOKSTORE_ENV=production",
	} {
		if !strings.Contains(ud, want) {
			t.Errorf("boot script lacks %q", want)
		}
	}
	if ud := userData(t, run(t, map[string]string{"bookstore:proxyCidr": "10.0.2.0/28"})); !strings.Contains(ud, "BOOKSTORE_TRUSTED_PROXIES=10.20.0.0/16,10.0.2.0/28\n") {
		t.Error("the configured proxyCidr is trusted")
	}
	if !strings.Contains(str(one(t, p, instanceType, "image-builder").Inputs["userData"]), "truststore.pki.rds.amazonaws.com") {
		t.Error("the image must trust Amazon's RDS CA so tls=true verifies")
	}
}

func TestSharedUploadsOnEFS(t *testing.T) {
	p := run(t, nil)
	fs := one(t, p, "aws:efs/fileSystem:FileSystem", "uploads")
	if fs.Inputs["encrypted"] != true {
		t.Error("EFS must be encrypted")
	}
	private := subnetIDs(t, p, "private")
	zones := map[string]bool{}
	for _, mt := range p.Find("aws:efs/mountTarget:MountTarget", "") {
		name, ok := private[str(mt.Inputs["subnetId"])]
		if !ok {
			t.Errorf("%s: mount target outside the private subnets", mt.Name)
			continue
		}
		zones[zoneOf(t, p, name)] = true
	}
	if len(zones) != 2 {
		t.Errorf("want a mount target in each zone, got %v", zones)
	}
	ap := one(t, p, "aws:efs/accessPoint:AccessPoint", "uploads").Inputs
	if obj(ap["posixUser"])["uid"] != int64(2000) || obj(obj(ap["rootDirectory"])["creationInfo"])["ownerUid"] != int64(2000) {
		t.Errorf("access point owner: %v", ap)
	}
	if !strings.Contains(str(one(t, p, "aws:efs/fileSystemPolicy:FileSystemPolicy", "uploads").Inputs["policy"]), `"aws:SecureTransport":"false"`) {
		t.Error("the file system policy must refuse non-TLS access")
	}
	if obj(one(t, p, "aws:efs/backupPolicy:BackupPolicy", "uploads").Inputs["backupPolicy"])["status"] != "ENABLED" {
		t.Error("EFS backups must be on")
	}
	ud := userData(t, p)
	fsID := str(p.Outputs["fileSystemId"])
	if !strings.Contains(ud, fsID+":/ /mnt/bookstore-uploads efs _netdev,noresvport,tls,accesspoint=fsap-") {
		t.Error("instances must mount the share with TLS through the access point at boot")
	}
	if !strings.Contains(ud, "BOOKSTORE_UPLOADS_DIR=/mnt/bookstore-uploads") {
		t.Error("the app must write uploads to the share")
	}
}

func TestAlarmsAndLogs(t *testing.T) {
	p := run(t, map[string]string{"bookstore:alarmTopicArn": "arn:aws:sns:us-east-1:123456789012:ops"})
	want := map[string]string{"alb-5xx": "HTTPCode_ELB_5XX_Count", "app-5xx": "HTTPCode_Target_5XX_Count", "unhealthy-hosts": "UnHealthyHostCount", "db-cpu": "CPUUtilization"}
	for name, metric := range want {
		a := one(t, p, "aws:cloudwatch/metricAlarm:MetricAlarm", name).Inputs
		if a["metricName"] != metric || len(obj(a["dimensions"])) == 0 {
			t.Errorf("%s: %v", name, a)
		}
		if actions := list(a["alarmActions"]); len(actions) != 1 || actions[0] != "arn:aws:sns:us-east-1:123456789012:ops" {
			t.Errorf("%s: alarm actions %v", name, actions)
		}
	}
	if d := obj(one(t, p, "aws:cloudwatch/metricAlarm:MetricAlarm", "db-cpu").Inputs["dimensions"]); d["DBClusterIdentifier"] != "bookstore" || d["Role"] != "WRITER" {
		t.Errorf("database CPU alarm must watch the writer: %v", d)
	}
	logs := one(t, p, "aws:cloudwatch/logGroup:LogGroup", "app").Inputs
	if logs["name"] != "/bookstore/objective2/app" || logs["retentionInDays"] != int64(30) {
		t.Errorf("log group: %v", logs)
	}
	if !strings.Contains(userData(t, p), `"log_group_name": "/bookstore/objective2/app"`) {
		t.Error("the CloudWatch agent must ship to the log group")
	}
}

func TestNoSecretInUserDataOrPlan(t *testing.T) {
	p := run(t, nil)
	b, err := p.JSON()
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(string(b), testSecret) || strings.Contains(userData(t, p), testSecret) {
		t.Fatal("a secret value appears in the plan or the user data")
	}
	v := one(t, p, "aws:secretsmanager/secretVersion:SecretVersion", "admin-password")
	if v.Inputs["secretString"] != plan.Secret {
		t.Errorf("the admin password must travel as a Pulumi secret: %v", v.Inputs)
	}
	if !strings.Contains(userData(t, p), "get-secret-value") {
		t.Error("instances must read their secrets at boot")
	}
}

func TestBadConfigurationIsOneReadableError(t *testing.T) {
	for key, value := range map[string]string{
		"bookstore:proxyCidr":            "0.0.0.0/0",
		"bookstore:maxSize":              "0",
		"bookstore:desiredCapacity":      "9",
		"bookstore:minHealthyPercentage": "20",
		"bookstore:dbInstanceClass":      "t3.medium",
		"bookstore:appDelivery":          "zip",
		"bookstore:appEnv":               `{"BOOKSTORE_DRAIN_DELAY":"soon"}`,
	} {
		_, err := plan.Run(plan.Options{Objective: 2, Root: "../..", Config: map[string]string{key: value}})
		if err == nil {
			t.Errorf("%s=%s accepted", key, value)
			continue
		}
		if !strings.Contains(err.Error(), "configuration of stack objective2") {
			t.Errorf("%s=%s: %v", key, value, err)
		}
	}
}

// An existing stack keeps its auto-named cluster through
// bookstore:dbClusterIdentifier (the identifier is ForceNew); a new stack
// gets NAME-STACK. The RDS log groups follow the identifier.
func TestClusterIdentifierFromConfig(t *testing.T) {
	for want, cfg := range map[string]map[string]string{
		"bookstore-objective2":         nil,
		"bookstore-20240101120000abcd": {"bookstore:dbClusterIdentifier": "bookstore-20240101120000abcd"},
	} {
		p := run(t, cfg)
		if got := one(t, p, "aws:rds/cluster:Cluster", "bookstore").Inputs["clusterIdentifier"]; got != want {
			t.Errorf("identifier %v, want %s", got, want)
		}
		if got := one(t, p, "aws:cloudwatch/logGroup:LogGroup", "bookstore-error-log").Inputs["name"]; got != "/aws/rds/cluster/"+want+"/error" {
			t.Errorf("error log group %v does not follow %s", got, want)
		}
	}
}
