package objective1

import (
	"strconv"

	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/ec2"
	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/route53"
	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/ssm"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"

	"github.com/tet-bookstore/bookstore/infra/config"
	"github.com/tet-bookstore/bookstore/infra/firewall"
	"github.com/tet-bookstore/bookstore/infra/instance"
	"github.com/tet-bookstore/bookstore/infra/network"
	"github.com/tet-bookstore/bookstore/infra/nginx"
	"github.com/tet-bookstore/bookstore/infra/userdata"
)

// Where the proxy keeps things; the user data and the rendered nginx.conf agree on them.
const (
	sitesFile   = "/etc/nginx/bookstore-sites.conf"
	acmeWebroot = "/var/www/letsencrypt"
	certName    = "bookstore"
	vpcResolver = "169.254.169.253"
)

type proxyVMArgs struct {
	net *network.Network
	// refs are the configured objectives' stacks by name (peerStacks).
	refs   map[string]*pulumi.StackReference
	ami    string
	subnet pulumi.IDOutput
	group  *firewall.Group
	params *secretParameters
	appIP  pulumi.StringOutput
}

type proxyVM struct {
	vm             *instance.Instance
	publicIP       pulumi.StringOutput
	sitesParameter pulumi.StringOutput
}

// newProxyVM is NGINX + certbot on its own VM with an Elastic IP. The sites
// it serves live in an SSM parameter the VM follows, so wiring in another
// objective changes a parameter, not the VM.
func newProxyVM(ctx *pulumi.Context, cfg *config.Config, a proxyVMArgs) (*proxyVM, error) {
	eip, err := ec2.NewEip(ctx, "proxy", &ec2.EipArgs{
		Domain: pulumi.String("vpc"),
		Tags:   pulumi.StringMap{"Name": pulumi.String("proxy"), "project": pulumi.String("bookstore")},
	})
	if err != nil {
		return nil, err
	}
	if err := newRoute53Records(ctx, cfg, eip.PublicIp); err != nil {
		return nil, err
	}
	sites, err := newSitesParameter(ctx, cfg, a.net, a.refs, a.appIP)
	if err != nil {
		return nil, err
	}
	// The DuckDNS token is the only secret the internet-facing proxy reads.
	readable := []pulumi.StringInput{sites.Arn}
	var key pulumi.StringInput
	if a.params.duckdnsToken != nil {
		readable = append(readable, a.params.duckdnsToken.arn)
		key = a.params.key.Arn
	}
	userData := eip.PublicIp.ApplyT(func(ip string) (string, error) {
		scripts, err := renderProxyUserData(cfg, ip, a.params)
		if err != nil {
			return "", err
		}
		return scripts.UserData(), nil
	}).(pulumi.StringOutput)
	vm, err := instance.New(ctx, "proxy", &instance.Args{
		AMI:                     a.ami,
		InstanceType:            cfg.Proxy.InstanceType,
		SubnetID:                a.subnet,
		SecurityGroupIDs:        pulumi.StringArray{a.group.ID.ToStringOutput()},
		UserData:                userData,
		ReplaceOnUserDataChange: true, // stateless: certbot re-issues on a new VM
		ReadableParameters:      readable,
		RoleName:                roleName(cfg, "proxy"),
		DecryptKey:              key,
	}, pulumi.DependsOn([]pulumi.Resource{sites}))
	if err != nil {
		return nil, err
	}
	if _, err := ec2.NewEipAssociation(ctx, "proxy", &ec2.EipAssociationArgs{
		AllocationId: eip.AllocationId,
		InstanceId:   vm.ID,
	}); err != nil {
		return nil, err
	}
	return &proxyVM{vm: vm, publicIP: eip.PublicIp, sitesParameter: sites.Name}, nil
}

// proxyDescription is what NGINX serves once the certificate exists.
func proxyDescription(cfg *config.Config, objective1, objective2, objective3 string) nginx.Proxy {
	tls := nginx.TLS{CertName: certName}
	if cfg.ACME.Challenge == "dns" {
		tls.CertName = "" // one certificate per name, see userdata.ACME
	}
	return nginx.Proxy{
		Domain:      cfg.DNS.Apex(),
		Sites:       nginx.ObjectiveSites(objective1, objective2, objective3),
		TLS:         tls,
		ACMEWebroot: acmeWebroot,
		Resolver:    vpcResolver,
	}
}

// newSitesParameter renders the sites for the backends known now: the app
// VM, and objectives 2 and 3 when their stacks are configured.
func newSitesParameter(ctx *pulumi.Context, cfg *config.Config, net *network.Network, refs map[string]*pulumi.StackReference, appIP pulumi.StringOutput) (*ssm.Parameter, error) {
	obj2, err := stackUpstream(ctx, net, "objective2", refs["objective2"])
	if err != nil {
		return nil, err
	}
	obj3, err := stackUpstream(ctx, net, "objective3", refs["objective3"])
	if err != nil {
		return nil, err
	}
	rendered := pulumi.All(appIP, obj2, obj3).ApplyT(func(v []any) (string, error) {
		app := v[0].(string) + ":" + strconv.Itoa(cfg.App.Port)
		return nginx.RenderSites(proxyDescription(cfg, app, v[1].(string), v[2].(string)))
	}).(pulumi.StringOutput)
	return ssm.NewParameter(ctx, "nginx-sites", &ssm.ParameterArgs{
		Name:          pulumi.String(parameterName(cfg, "nginx-sites")),
		Type:          pulumi.String("String"),
		Tier:          pulumi.String("Intelligent-Tiering"), // standard under 4 KB, advanced above
		Description:   pulumi.String("NGINX sites of the proxy, rendered by infra/nginx"),
		InsecureValue: rendered, // not secret: readable in plans and the console
		Tags:          pulumi.StringMap{"project": pulumi.String("bookstore")},
	})
}

// upstreamOutput is what objectives 2 and 3 export for the proxy: HOST:PORT
// of their internal load balancer, reached through the VPC peering.
const upstreamOutput = "proxyUpstream"

// stackUpstream peers with another objective's VPC and reads its upstream;
// "" when the stack is not configured or does not export it yet (the site
// then answers 503).
func stackUpstream(ctx *pulumi.Context, net *network.Network, name string, ref *pulumi.StackReference) (pulumi.StringOutput, error) {
	if ref == nil {
		return pulumi.String("").ToStringOutput(), nil
	}
	if err := peerWith(ctx, net, name, ref); err != nil {
		return pulumi.StringOutput{}, err
	}
	return ref.GetOutput(pulumi.String(upstreamOutput)).ApplyT(func(v any) string {
		s, _ := v.(string)
		return s
	}).(pulumi.StringOutput), nil
}

// renderProxyUserData renders the proxy's boot script for its Elastic IP.
func renderProxyUserData(cfg *config.Config, elasticIP string, params *secretParameters) (userdata.Scripts, error) {
	desc := proxyDescription(cfg, "", "", "")
	bootstrap, err := nginx.RenderBootstrap(desc)
	if err != nil {
		return nil, err
	}
	mainConf, err := nginx.RenderMain(nginx.Main{
		Prefix: "/etc/nginx", SitesFile: sitesFile, LogDir: "/var/log/nginx",
		PidFile: "/run/nginx.pid", TempDir: "/var/lib/nginx", User: "www-data",
	})
	if err != nil {
		return nil, err
	}
	p := userdata.Proxy{
		ElasticIP:      elasticIP,
		Hosts:          desc.Hosts(),
		DNS:            cfg.DNS.Provider,
		DuckDNSDomain:  cfg.DNS.DuckDNSDomain,
		SitesParameter: parameterName(cfg, "nginx-sites"),
		MainConf:       mainConf,
		BootstrapSites: bootstrap,
		ACME:           userdata.ACME{Email: cfg.ACME.Email, Staging: cfg.ACME.Staging, Challenge: cfg.ACME.Challenge, CertName: certName},
	}
	if params.duckdnsToken != nil {
		p.DuckDNSTokenParameter = params.duckdnsToken.name
	}
	return userdata.RenderProxy(p)
}

// newRoute53Records points the apex and every subdomain at the Elastic IP
// when Route 53 owns the domain (DuckDNS records are kept by the VM itself).
func newRoute53Records(ctx *pulumi.Context, cfg *config.Config, ip pulumi.StringOutput) error {
	if cfg.DNS.Provider != "route53" {
		return nil
	}
	records := []struct{ name, fqdn string }{
		{"apex", cfg.DNS.Route53Domain},
		{"wildcard", "*." + cfg.DNS.Route53Domain}, // objective1/2/3 and any later name
	}
	for _, r := range records {
		if _, err := route53.NewRecord(ctx, "dns-"+r.name, &route53.RecordArgs{
			ZoneId:  pulumi.String(cfg.DNS.Route53Zone),
			Name:    pulumi.String(r.fqdn),
			Type:    pulumi.String("A"),
			Ttl:     pulumi.Int(300),
			Records: pulumi.StringArray{ip},
		}); err != nil {
			return err
		}
	}
	return nil
}
