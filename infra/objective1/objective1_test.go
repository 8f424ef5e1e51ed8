package objective1_test

import (
	"encoding/json"
	"fmt"
	"path/filepath"
	"strings"
	"testing"

	"github.com/tet-bookstore/bookstore/infra/instance"
	"github.com/tet-bookstore/bookstore/infra/nginx/nginxtest"
	"github.com/tet-bookstore/bookstore/infra/plan"
	"github.com/tet-bookstore/bookstore/infra/plan/plantest"
	"github.com/tet-bookstore/bookstore/infra/userdata"
	"github.com/tet-bookstore/bookstore/infra/userdata/scripttest"
	"github.com/tet-bookstore/bookstore/internal/testenv"
)

const (
	instanceType  = "aws:ec2/instance:Instance"
	ruleType      = "aws:ec2/securityGroupRule:SecurityGroupRule"
	groupType     = "aws:ec2/securityGroup:SecurityGroup"
	parameterType = "aws:ssm/parameter:Parameter"
	testSecret    = "TEST-SECRET-5b7c9d"
)

// run plans objective 1 with the example stack file plus overrides, under
// the same mocks as `make plan`.
func run(t *testing.T, config map[string]string, refs map[string]map[string]any) *plan.Plan {
	t.Helper()
	p, err := plan.Run(plan.Options{
		Objective: 1, Root: "../..", Config: config, StackReferences: refs,
		Secrets: map[string]string{
			"bookstore:dbPassword":    testSecret + "-db",
			"bookstore:duckdnsToken":  testSecret + "-duck",
			"bookstore:adminPassword": testSecret + "-admin",
		},
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

func groupID(t *testing.T, p *plan.Plan, name string) string {
	t.Helper()
	// Mock ids derive from names: look the id up through a rule that
	// targets the group, the way AWS would attach it.
	for _, r := range p.Find(ruleType, "") {
		if strings.HasPrefix(r.Name, name+"-") {
			return str(r.Inputs["securityGroupId"])
		}
	}
	t.Fatalf("no rule of group %s", name)
	return ""
}

func TestInstancesAreHardened(t *testing.T) {
	p := run(t, nil, nil)
	vms := p.Find(instanceType, "")
	if len(vms) != 2 {
		t.Fatalf("want the app and proxy VMs, got %d", len(vms))
	}
	for _, vm := range vms {
		md := obj(vm.Inputs["metadataOptions"])
		if md["httpTokens"] != "required" {
			t.Errorf("%s: IMDSv2 must be required, metadataOptions=%v", vm.Name, md)
		}
		if md["httpPutResponseHopLimit"] != int64(1) {
			t.Errorf("%s: IMDS hop limit must be 1", vm.Name)
		}
		root := obj(vm.Inputs["rootBlockDevice"])
		if root["encrypted"] != true || root["volumeType"] != "gp3" {
			t.Errorf("%s: root volume must be encrypted gp3, got %v", vm.Name, root)
		}
		if str(vm.Inputs["iamInstanceProfile"]) != vm.Name+"-profile" {
			t.Errorf("%s: needs its instance profile (Session Manager), got %v", vm.Name, vm.Inputs["iamInstanceProfile"])
		}
		if len(vm.IgnoreChanges) != 1 || vm.IgnoreChanges[0] != "ami" {
			t.Errorf("%s: a newer upstream AMI must not replace the VM; ignoreChanges=%v", vm.Name, vm.IgnoreChanges)
		}
	}
	// AmazonSSMManagedInstanceCore reads every parameter of the account:
	// Session Manager comes from a minimal inline policy instead.
	if n := len(p.Find("aws:iam/rolePolicyAttachment:RolePolicyAttachment", "")); n != 0 {
		t.Errorf("no managed policy may be attached, found %d", n)
	}
	for _, name := range []string{"app", "proxy"} {
		a := one(t, p, "aws:iam/rolePolicy:RolePolicy", name+"-session-manager")
		if a.Inputs["policy"] != instance.SessionManagerPolicy || strings.Contains(instance.SessionManagerPolicy, "Parameter") {
			t.Errorf("%s: Session Manager policy %v", name, a.Inputs["policy"])
		}
	}
}

// TestVMsBootDebian12: both VMs run the official Debian 12 image, the OS
// whose packages the scripts install with apt and that infra/firstboot boots.
func TestVMsBootDebian12(t *testing.T) {
	p := run(t, nil, nil)
	for _, vm := range p.Find(instanceType, "") {
		if vm.Inputs["ami"] != "ami-0mockdebian12" {
			t.Errorf("%s: AMI %v, want the Debian 12 lookup's (owner 136693071363, debian-12-amd64-*)", vm.Name, vm.Inputs["ami"])
		}
		ud := str(vm.Inputs["userData"])
		if !strings.Contains(ud, "apt-get install -y -q") || !strings.Contains(ud, " awscli\n") || strings.Contains(ud, "snap ") {
			t.Errorf("%s: user data must install the AWS CLI from Debian's awscli package, not a snap", vm.Name)
		}
	}
}

func TestAMICanBePinned(t *testing.T) {
	p := run(t, map[string]string{"bookstore:ami": "ami-0123456789abcdef0"}, nil)
	for _, vm := range p.Find(instanceType, "") {
		if vm.Inputs["ami"] != "ami-0123456789abcdef0" {
			t.Errorf("%s: pinned AMI not used: %v", vm.Name, vm.Inputs["ami"])
		}
	}
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

func TestNoSSHUnlessConfigured(t *testing.T) {
	for _, r := range ingress(run(t, nil, nil)) {
		if r.Inputs["fromPort"] == int64(22) || r.Inputs["toPort"] == int64(22) {
			t.Errorf("SSH must be closed by default, found %s", r.Name)
		}
	}
	p := run(t, map[string]string{"bookstore:sshCidr": "198.51.100.7/32"}, nil)
	ssh := 0
	for _, r := range ingress(p) {
		if r.Inputs["fromPort"] != int64(22) {
			continue
		}
		ssh++
		cidrs, _ := r.Inputs["cidrBlocks"].([]any)
		if len(cidrs) != 1 || cidrs[0] != "198.51.100.7/32" {
			t.Errorf("%s: SSH only from bookstore:sshCidr, got %v", r.Name, cidrs)
		}
	}
	if ssh != 2 {
		t.Errorf("with sshCidr both VMs admit SSH from it; found %d rules", ssh)
	}
}

func TestSecurityGroupsReferenceEachOther(t *testing.T) {
	p := run(t, nil, nil)
	proxySG, appSG := groupID(t, p, "proxy"), groupID(t, p, "app")
	for _, r := range ingress(p) {
		cidrs, _ := r.Inputs["cidrBlocks"].([]any)
		world := len(cidrs) == 1 && cidrs[0] == "0.0.0.0/0"
		switch r.Inputs["securityGroupId"] {
		case appSG:
			if r.Inputs["fromPort"] != int64(8080) || r.Inputs["sourceSecurityGroupId"] != proxySG || len(cidrs) > 0 {
				t.Errorf("the app admits only its port from the proxy's group, found %s: %v", r.Name, r.Inputs)
			}
		case proxySG:
			port := r.Inputs["fromPort"]
			if !world || (port != int64(80) && port != int64(443)) || r.Inputs["toPort"] != port {
				t.Errorf("the proxy admits 80 and 443 from the world only, found %s: %v", r.Name, r.Inputs)
			}
		default:
			t.Errorf("rule %s targets an unknown group", r.Name)
		}
	}
	if len(ingress(p)) != 3 {
		t.Errorf("want exactly 3 ingress rules (proxy 80, 443; app port), got %d", len(ingress(p)))
	}
	for _, g := range p.Find(groupType, "") {
		if _, inline := g.Inputs["ingress"]; inline {
			t.Errorf("group %s has inline rules; they would fight the rule resources", g.Name)
		}
	}
}

func TestElasticIPIsAttachedToProxy(t *testing.T) {
	p := run(t, nil, nil)
	assoc := one(t, p, "aws:ec2/eipAssociation:EipAssociation", "proxy")
	if !strings.HasPrefix(str(assoc.Inputs["allocationId"]), "eipalloc-") {
		t.Errorf("association must use the EIP's allocation id: %v", assoc.Inputs)
	}
	proxyID := str(p.Outputs["proxyInstanceId"])
	if proxyID == "" || assoc.Inputs["instanceId"] != proxyID {
		t.Errorf("the EIP must be associated with the proxy VM (%s), got %v", proxyID, assoc.Inputs["instanceId"])
	}
	proxy := one(t, p, instanceType, "proxy")
	if ip := str(p.Outputs["proxyPublicIp"]); ip == "" || !strings.Contains(str(proxy.Inputs["userData"]), "= '"+ip+"' ]") {
		t.Error("the proxy must wait for its Elastic IP before DNS and certbot")
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
	for _, vm := range p.Find(instanceType, "") {
		if !strings.Contains(str(vm.Inputs["userData"]), "ssm_get '/bookstore/objective1/") {
			t.Errorf("%s: secrets must be read from SSM at boot", vm.Name)
		}
	}
	key := one(t, p, "aws:kms/key:Key", "secrets")
	for _, name := range []string{"db-password", "duckdns-token", "admin-password"} {
		param := one(t, p, parameterType, name)
		if param.Inputs["type"] != "SecureString" || param.Inputs["value"] != plan.Secret {
			t.Errorf("%s must be a SecureString holding a Pulumi secret: %v", name, param.Inputs)
		}
		// Not aws/ssm, which every principal of the account may use through SSM.
		if param.Inputs["keyId"] != key.State["arn"] {
			t.Errorf("%s must be under the stack's key, keyId=%v", name, param.Inputs["keyId"])
		}
	}
}

// The key policy gives use to the app's and the proxy's roles (and the
// deployer) by name, nobody else, and only through SSM.
func TestStackKeyNamesOnlyItsReaders(t *testing.T) {
	for name, tc := range map[string]struct {
		cfg     map[string]string
		readers []string
	}{
		"duckdns": {nil, []string{"bookstore-objective1-app", "bookstore-objective1-proxy"}},
		"route53": {map[string]string{"bookstore:dnsProvider": "route53", "bookstore:route53ZoneId": "Z0123456789ABC", "bookstore:route53Domain": "shop.example.com"}, []string{"bookstore-objective1-app"}},
	} {
		p := run(t, tc.cfg, nil)
		key := one(t, p, "aws:kms/key:Key", "secrets")
		var doc struct {
			Statement []struct {
				Sid       string
				Condition map[string]map[string]any // Bool conditions hold a string
			}
		}
		if err := json.Unmarshal([]byte(str(key.Inputs["policy"])), &doc); err != nil || key.Inputs["enableKeyRotation"] != true {
			t.Fatalf("%s: key %v (%v)", name, key.Inputs, err)
		}
		want := append([]string{"arn:aws:iam::123456789012:role/" + plan.DeployRole}, nil...)
		for _, r := range tc.readers {
			want = append(want, "arn:aws:iam::123456789012:role/"+r)
		}
		for _, s := range doc.Statement {
			if s.Sid == "NamedRolesDecrypt" {
				arns, _ := s.Condition["ArnEquals"]["aws:PrincipalArn"].([]any)
				if got := fmt.Sprint(arns); got != fmt.Sprint(want) {
					t.Errorf("%s: decrypt for %s, want %v", name, got, want)
				}
			}
		}
		for _, vm := range []string{"app", "proxy"} {
			if got := one(t, p, "aws:iam/role:Role", vm+"-role").Inputs["name"]; got != "bookstore-objective1-"+vm {
				t.Errorf("%s: role name %v, the key policy names bookstore-objective1-%s", name, got, vm)
			}
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

func TestInstanceRolesReadOnlyTheirOwnParameters(t *testing.T) {
	p := run(t, nil, nil)
	want := map[string][]string{
		"app":   {"/bookstore/objective1/db-password", "/bookstore/objective1/app-release", "/bookstore/objective1/admin-password"},
		"proxy": {"/bookstore/objective1/nginx-sites", "/bookstore/objective1/duckdns-token"},
	}
	for vm, params := range want {
		var doc policy
		raw := str(one(t, p, "aws:iam/rolePolicy:RolePolicy", vm+"-read-parameters").Inputs["policy"])
		if err := json.Unmarshal([]byte(raw), &doc); err != nil {
			t.Fatal(err)
		}
		// The SecureStrings are under the stack's key: the role may decrypt with it, nothing else.
		if len(doc.Statement) != 2 || doc.Statement[0].Effect != "Allow" || strings.Join(doc.Statement[0].Action, ",") != "ssm:GetParameter" ||
			strings.Join(doc.Statement[1].Action, ",") != "kms:Decrypt" || len(doc.Statement[1].Resource) != 1 || !strings.Contains(doc.Statement[1].Resource[0], ":key/") {
			t.Fatalf("%s: want ssm:GetParameter and kms:Decrypt on the stack key, got %s", vm, raw)
		}
		got := doc.Statement[0].Resource
		if len(got) != len(params) {
			t.Errorf("%s: readable parameters %v, want %v", vm, got, params)
		}
		for i, r := range got {
			if strings.Contains(r, "*") || !strings.HasSuffix(r, ":parameter"+params[i]) {
				t.Errorf("%s: resource %q is not exactly parameter %s", vm, r, params[i])
			}
		}
	}
}

func proxyUserData(t *testing.T, p *plan.Plan) string {
	return str(one(t, p, instanceType, "proxy").Inputs["userData"])
}

func TestCertbotStagingFollowsConfig(t *testing.T) {
	if ud := proxyUserData(t, run(t, map[string]string{"bookstore:acmeStaging": "true"}, nil)); !strings.Contains(ud, " --staging") {
		t.Error("acmeStaging=true must run certbot with --staging")
	}
	if ud := proxyUserData(t, run(t, map[string]string{"bookstore:acmeStaging": "false"}, nil)); strings.Contains(ud, "--staging") {
		t.Error("acmeStaging=false must get a trusted certificate")
	}
}

func TestRenewalHookReloadsNginx(t *testing.T) {
	ud := proxyUserData(t, run(t, nil, nil))
	hook := "cat > '" + userdata.ReloadHook + "' <<'BOOKSTORE_SCRIPT_END'\n"
	i := strings.Index(ud, hook)
	if i < 0 {
		t.Fatal("the proxy must install certbot's deploy hook")
	}
	body := ud[i+len(hook):]
	body = body[:strings.Index(body, "BOOKSTORE_SCRIPT_END")]
	if !strings.Contains(body, "systemctl reload nginx") {
		t.Errorf("the deploy hook must reload NGINX:\n%s", body)
	}
}

func sites(t *testing.T, p *plan.Plan) string {
	return str(one(t, p, parameterType, "nginx-sites").Inputs["insecureValue"])
}

func TestSitesWithoutOtherObjectivesAnswer503(t *testing.T) {
	p := run(t, nil, nil)
	s := sites(t, p)
	app := str(p.Outputs["appPrivateIp"])
	if !strings.Contains(s, "proxy_pass http://"+app+":8080;") {
		t.Errorf("objective1 must proxy to the app VM %s:8080", app)
	}
	if strings.Count(s, "return 503 '") != 2 {
		t.Error("objectives 2 and 3 without stacks must answer the 503 page")
	}
}

// Configuring the other stacks changes the sites parameter, not the proxy VM.
func TestOtherStacksAreWiredInWithoutReplacingTheProxy(t *testing.T) {
	before := run(t, nil, nil)
	after := run(t, map[string]string{
		"bookstore:objective2Stack": "org/bookstore/objective2",
		"bookstore:objective3Stack": "org/bookstore/objective3",
	}, map[string]map[string]any{
		"org/bookstore/objective2": {"proxyUpstream": "bookstore-alb-123.us-east-1.elb.amazonaws.com:80", "vpcId": "vpc-2", "vpcCidr": "10.20.0.0/16", "privateRouteTableId": "rtb-2"},
		"org/bookstore/objective3": {"proxyUpstream": "10.2.1.15:8080", "vpcId": "vpc-3", "vpcCidr": "10.30.0.0/16", "privateRouteTableId": "rtb-3"},
	})
	s := sites(t, after)
	if !strings.Contains(s, "set $upstream_objective2 http://bookstore-alb-123.us-east-1.elb.amazonaws.com:80;") ||
		!strings.Contains(s, "proxy_pass http://10.2.1.15:8080;") || strings.Contains(s, "return 503 '") {
		t.Errorf("objectives 2 and 3 must be proxied to their stacks' upstreams:\n%s", s)
	}
	if proxyUserData(t, before) != proxyUserData(t, after) {
		t.Error("wiring in another objective must not change the proxy's user data (it would replace the VM)")
	}
	if len(after.Find("pulumi:pulumi:StackReference", "")) != 2 {
		t.Error("want a stack reference per configured objective")
	}
	// The proxy reaches their internal balancers over a VPC peering, not the
	// internet: routes to their VPCs, and back to the proxy's subnet only.
	for n, peer := range map[string]string{"objective2": "10.20.0.0/16", "objective3": "10.30.0.0/16"} {
		pc := one(t, after, "aws:ec2/vpcPeeringConnection:VpcPeeringConnection", n+"-peering").Inputs
		if pc["peerVpcId"] != "vpc-"+n[len(n)-1:] || pc["autoAccept"] != true {
			t.Errorf("%s peering %v", n, pc)
		}
		if !hasRoute(one(t, after, "aws:ec2/routeTable:RouteTable", "bookstore-public"), peer, "vpcPeeringConnectionId", one(t, after, "aws:ec2/vpcPeeringConnection:VpcPeeringConnection", n+"-peering").ID) {
			t.Errorf("the public route table must route %s to the %s peering inline", peer, n)
		}
		if r := one(t, after, "aws:ec2/route:Route", "from-"+n).Inputs; r["destinationCidrBlock"] != "10.0.2.0/24" || r["routeTableId"] != "rtb-"+n[len(n)-1:] {
			t.Errorf("route back from %s must reach the proxy's subnet only: %v", n, r)
		}
	}
	if len(before.Find("aws:ec2/vpcPeeringConnection:VpcPeeringConnection", "")) != 0 {
		t.Error("no peering without the other stacks")
	}
	// Every route of the public table is inline, as the internet route was
	// before peering existed: a separate Route for it would fail with
	// "already exists" on such a stack, and a separate peering Route would
	// be removed by the table's inline routes.
	for _, p := range []*plan.Plan{before, after} {
		table := one(t, p, "aws:ec2/routeTable:RouteTable", "bookstore-public")
		if !hasRoute(table, "0.0.0.0/0", "gatewayId", one(t, p, "aws:ec2/internetGateway:InternetGateway", "bookstore-igw").ID) {
			t.Errorf("the internet route must be inline in the public table: %v", table.Inputs["routes"])
		}
		for _, r := range p.Find("aws:ec2/route:Route", "") {
			if r.Inputs["routeTableId"] == table.ID {
				t.Errorf("route %s is a separate resource on the public table", r.Name)
			}
		}
	}
}

// hasRoute: the table declares cidr → target inline.
func hasRoute(table plan.Resource, cidr, targetKey, target string) bool {
	routes, _ := table.Inputs["routes"].([]any)
	for _, r := range routes {
		m, _ := r.(map[string]any)
		if m["cidrBlock"] == cidr && m[targetKey] == target {
			return true
		}
	}
	return false
}

// The deployed sites, as the proxy will install them, pass the real nginx -t.
func TestDeployedSitesPassNginxT(t *testing.T) {
	bin := testenv.Tool(t, "nginx")
	// "peered": objectives 2 and 3 wired in, proxied over the VPC peering to
	// their internal balancers' names, the path production takes.
	peered := map[string]map[string]any{
		"org/bookstore/objective2": {"proxyUpstream": "internal-bookstore-123.us-east-1.elb.amazonaws.com:80", "vpcId": "vpc-2", "vpcCidr": "10.20.0.0/16", "privateRouteTableId": "rtb-2"},
		"org/bookstore/objective3": {"proxyUpstream": "swarm-entry-456.elb.us-east-1.amazonaws.com:80", "vpcId": "vpc-3", "vpcCidr": "10.30.0.0/16", "privateRouteTableId": "rtb-3"},
	}
	for name, tc := range map[string]struct {
		cfg  map[string]string
		refs map[string]map[string]any
	}{
		"http01": {nil, nil},
		"dns01":  {map[string]string{"bookstore:acmeChallenge": "dns"}, nil},
		"peered": {map[string]string{"bookstore:objective2Stack": "org/bookstore/objective2", "bookstore:objective3Stack": "org/bookstore/objective3"}, peered},
	} {
		t.Run(name, func(t *testing.T) {
			prefix := t.TempDir()
			s := strings.NewReplacer(
				"/etc/letsencrypt/live/", filepath.Join(prefix, "live")+"/",
				"/var/www/letsencrypt", filepath.Join(prefix, "acme"),
			).Replace(sites(t, run(t, tc.cfg, tc.refs)))
			for _, dir := range certDirs(s) {
				issue(t, dir)
			}
			nginxtest.Validate(t, bin, prefix, s)
		})
	}
}

func TestRoute53Alternative(t *testing.T) {
	p := run(t, map[string]string{
		"bookstore:dnsProvider":   "route53",
		"bookstore:route53ZoneId": "Z0123456789ABC",
		"bookstore:route53Domain": "shop.example.com",
	}, nil)
	records := p.Find("aws:route53/record:Record", "")
	if len(records) != 2 {
		t.Fatalf("want apex and wildcard records, got %d", len(records))
	}
	ip := str(p.Outputs["proxyPublicIp"])
	for _, r := range records {
		recs, _ := r.Inputs["records"].([]any)
		if r.Inputs["type"] != "A" || len(recs) != 1 || recs[0] != ip || r.Inputs["zoneId"] != "Z0123456789ABC" {
			t.Errorf("%s must point at the Elastic IP: %v", r.Name, r.Inputs)
		}
	}
	if len(p.Find(parameterType, "duckdns-token")) != 0 || strings.Contains(proxyUserData(t, p), "bookstore-duckdns") {
		t.Error("route53 needs no DuckDNS token or updater")
	}
	if p.Outputs["url"] != "https://objective1.shop.example.com/" {
		t.Errorf("url output %v", p.Outputs["url"])
	}
}

// A new release changes the release parameter, not the VM with the database.
func TestNewReleaseDoesNotReplaceTheAppVM(t *testing.T) {
	appUserData := func(p *plan.Plan) string { return str(one(t, p, instanceType, "app").Inputs["userData"]) }
	releaseValue := func(p *plan.Plan) string { return str(one(t, p, parameterType, "app-release").Inputs["insecureValue"]) }
	v1 := run(t, nil, nil)
	v2 := run(t, map[string]string{"bookstore:appBinaryUrl": "https://example.org/v2/bookstore", "bookstore:appBinarySha256": strings.Repeat("0", 64)}, nil)
	img := run(t, map[string]string{"bookstore:appDelivery": "container", "bookstore:appImage": "ghcr.io/tet-bookstore/bookstore:v2"}, nil)
	if appUserData(v1) != appUserData(v2) || appUserData(v1) != appUserData(img) {
		t.Error("the app VM's user data must not depend on the release")
	}
	if want := "delivery=binary\nurl=https://example.org/v2/bookstore\nsha256=" + strings.Repeat("0", 64) + "\n"; releaseValue(v2) != want {
		t.Errorf("release parameter %q, want %q", releaseValue(v2), want)
	}
	if releaseValue(img) != "delivery=container\nimage=ghcr.io/tet-bookstore/bookstore:v2\n" {
		t.Errorf("container release parameter %q", releaseValue(img))
	}
	if one(t, v1, instanceType, "app").Inputs["userDataReplaceOnChange"] != false {
		t.Error("the app VM holds the database: a changed boot script must not replace it")
	}
}

// The user data the program renders (not just the package's fixtures)
// passes bash -n and shellcheck.
func TestRenderedUserDataPassesShellcheck(t *testing.T) {
	for _, cfg := range []map[string]string{nil, {"bookstore:appDelivery": "container", "bookstore:appImage": "ghcr.io/tet-bookstore/bookstore:v0.1.0"}} {
		p := run(t, cfg, nil)
		scripts := userdata.Scripts{}
		for _, vm := range p.Find(instanceType, "") {
			scripts[vm.Name] = str(vm.Inputs["userData"])
		}
		scripttest.Check(t, scripts)
	}
}

func TestProxyUserDataFitsEC2Limit(t *testing.T) {
	for _, vm := range run(t, map[string]string{"bookstore:acmeChallenge": "dns"}, nil).Find(instanceType, "") {
		if n := len(str(vm.Inputs["userData"])); n > 16384 {
			t.Errorf("%s: user data is %d bytes, EC2 accepts 16 KiB", vm.Name, n)
		}
	}
}

// The app believes only its proxy's X-Forwarded-For (so 20 failed logins
// lock out one shopper, not everyone) and runs as production over HTTPS
// (Secure cookies).
func TestAppRunsInProductionBehindItsProxy(t *testing.T) {
	p := run(t, nil, nil)
	ud := str(one(t, p, instanceType, "app").Inputs["userData"])
	proxySubnet := ""
	for _, s := range p.Find("aws:ec2/subnet:Subnet", "") {
		if s.Inputs["subnetId"] == nil && strings.HasSuffix(s.Name, "-2") {
			proxySubnet = str(s.Inputs["cidrBlock"])
		}
	}
	if proxySubnet == "" || str(one(t, p, instanceType, "proxy").Inputs["subnetId"]) == str(one(t, p, instanceType, "app").Inputs["subnetId"]) {
		t.Fatalf("the proxy must be alone in the second subnet (%q)", proxySubnet)
	}
	for _, want := range []string{
		"\nBOOKSTORE_TRUSTED_PROXIES=" + proxySubnet + "\n",
		"\nBOOKSTORE_ENV=production\n",
		"\nBOOKSTORE_HTTPS_ONLY=true\n",
		"\nBOOKSTORE_ADMIN_PASSWORD=${ADMIN_PASSWORD}\n",
	} {
		if !strings.Contains(ud, want) {
			t.Errorf("the app's environment lacks %q", strings.TrimSpace(want))
		}
	}
}

// Without an admin password the app would never start on MySQL: the plan
// refuses, naming the key.
func TestAdminPasswordIsRequired(t *testing.T) {
	_, err := plan.Run(plan.Options{Objective: 1, Root: "../..", Unset: []string{"bookstore:adminPassword"}})
	if err == nil || !strings.Contains(err.Error(), "bookstore:adminPassword is required") {
		t.Fatalf("want an error naming bookstore:adminPassword, got %v", err)
	}
}

// The key policy names the configured deploy role, never whoever runs the
// program: without bookstore:deployRoleArn (or with something that is not a
// role of this account) the plan refuses, naming the key.
func TestDeployRoleArnIsRequired(t *testing.T) {
	for name, opts := range map[string]plan.Options{
		"unset":         {Unset: []string{"bookstore:deployRoleArn"}},
		"a user":        {Config: map[string]string{"bookstore:deployRoleArn": "arn:aws:iam::123456789012:user/alice"}},
		"other account": {Config: map[string]string{"bookstore:deployRoleArn": "arn:aws:iam::999999999999:role/bookstore-deploy"}},
	} {
		opts.Objective, opts.Root = 1, "../.."
		if _, err := plan.Run(opts); err == nil || !strings.Contains(err.Error(), "bookstore:deployRoleArn") {
			t.Errorf("%s: want an error naming bookstore:deployRoleArn, got %v", name, err)
		}
	}
	p, err := plan.Run(plan.Options{Objective: 1, Root: "../..", Config: map[string]string{"bookstore:deployRoleArn": "arn:aws:iam::123456789012:role/ci/other-deploy"}})
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(str(one(t, p, "aws:kms/key:Key", "secrets").Inputs["policy"]), `"arn:aws:iam::123456789012:role/ci/other-deploy"`) {
		t.Error("the key policy must name the configured deploy role")
	}
}
