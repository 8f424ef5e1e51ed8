package userdata

import (
	"fmt"
	"net"
	"regexp"
	"strings"
)

// SwarmNode is one EC2 node of objective 3's Docker Swarm. Its boot script
// installs Docker and two helpers kept running by systemd timers: the join
// helper on every node, the stack deploy helper on managers.
type SwarmNode struct {
	Index     int
	PrivateIP string
	Manager   bool
	// Init marks the first node: with no other manager answering, it
	// initializes the swarm and publishes the join tokens.
	Init bool
	// Managers are the managers' private IPs, which never change: nodes
	// have fixed addresses, so a replaced node finds the others.
	Managers []string
	// TokenParameter is the SecureString holding the join token of this
	// node's role; Publish lists where the Init node writes the tokens.
	TokenParameter string
	Publish        []JoinToken
	// Placeholder is the value parameters hold until a node writes them.
	Placeholder string
	// AddressPool is where Swarm allocates overlay subnets (the ingress
	// network included); it must not overlap the VPC.
	AddressPool string
	// Deploy is set on managers.
	Deploy *SwarmDeploy
	// KeyAlias is the stack's KMS key (alias/...), which every SecureString
	// a manager writes is put under: without it SSM would use aws/ssm.
	KeyAlias string
}

var keyAliasPattern = regexp.MustCompile(`^alias/[A-Za-z0-9/_-]+$`)

// JoinToken is a role's join-token parameter.
type JoinToken struct {
	Role      string // "worker" or "manager"
	Parameter string
}

// SwarmDeploy is what the leader needs to deploy the stack: where the stack
// file, the gateway configuration and the settings are, and where the
// secrets it generates on first use are kept.
type SwarmDeploy struct {
	StackName              string
	StackParameter         string
	GatewayConfParameter   string
	SettingsParameter      string
	SigningKeyParameter    string
	AdminPasswordParameter string
	// ServiceKeys: one key pair per service, which it signs its calls to
	// the others with.
	ServiceKeys []ServiceKey
	// Databases: one database and user per service.
	Databases []ServiceDatabase
	// DSNOptions ends every service's DSN, e.g. "tls=true&ca=/run/secrets/rds_ca".
	DSNOptions string
}

// ServiceKey is where a service's own Ed25519 key (PKCS#8 PEM) is kept;
// its Docker secrets are NAME_service_key (the key, for that service only)
// and NAME_service_public_key (for the services it calls).
type ServiceKey struct {
	Name      string
	Parameter string
}

// ServiceDatabase is a service's database, user and password parameter; the
// Docker secret of its DSN is NAME_db_dsn.
type ServiceDatabase struct {
	Name              string
	PasswordParameter string
}

// SwarmSettings is the value of the settings parameter: the variables of
// the stack file plus where the database is.
type SwarmSettings struct {
	Registry          string
	Version           string
	EFSDNS            string
	AdminEmail        string
	GatewayImage      string // empty: the stack file's default
	DBHost            string
	DBMasterSecretARN string
}

// Paths of the swarm helpers on the nodes.
const (
	SwarmJoinScript   = "/usr/local/sbin/bookstore-swarm-join"
	SwarmDeployScript = "/usr/local/sbin/bookstore-stack-deploy"
)

var (
	serviceNamePattern = regexp.MustCompile(`^[a-z][a-z0-9]*$`)
	registryPattern    = regexp.MustCompile(`^[a-z0-9]([a-z0-9.-]*[a-z0-9])?(:[0-9]+)?(/[a-z0-9._-]+)*$`)
	tagPattern         = regexp.MustCompile(`^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$`)
	arnPattern         = regexp.MustCompile(`^arn:aws[a-z-]*:secretsmanager:[a-z0-9-]+:[0-9]{12}:secret:[A-Za-z0-9/_+=.@!-]+$`)
	dsnOptionsPattern  = regexp.MustCompile(`^[a-z]+=[a-z-]+(&[a-z]+=[a-z0-9/_.-]+)*$`)
)

// Render is the settings parameter's value: KEY=VALUE lines the deploy
// helper reads key by key (never sourced as shell).
func (s SwarmSettings) Render() (string, error) {
	if !registryPattern.MatchString(s.Registry) {
		return "", fmt.Errorf("userdata: registry %q is not HOST[/PREFIX]", s.Registry)
	}
	if !tagPattern.MatchString(s.Version) {
		return "", fmt.Errorf("userdata: image tag %q is not a Docker tag", s.Version)
	}
	if !hostPattern.MatchString(s.EFSDNS) || !hostPattern.MatchString(s.DBHost) {
		return "", fmt.Errorf("userdata: EFS %q and database %q must be DNS names", s.EFSDNS, s.DBHost)
	}
	if !emailPattern.MatchString(s.AdminEmail) {
		return "", fmt.Errorf("userdata: admin e-mail %q", s.AdminEmail)
	}
	if s.GatewayImage != "" && !imagePattern.MatchString(s.GatewayImage) {
		return "", fmt.Errorf("userdata: gateway image %q is not an image reference", s.GatewayImage)
	}
	if !arnPattern.MatchString(s.DBMasterSecretARN) {
		return "", fmt.Errorf("userdata: %q is not a Secrets Manager secret ARN", s.DBMasterSecretARN)
	}
	lines := []string{
		"REGISTRY=" + s.Registry,
		"VERSION=" + s.Version,
		"EFS_DNS=" + s.EFSDNS,
		"ADMIN_EMAIL=" + s.AdminEmail,
		"GATEWAY_IMAGE=" + s.GatewayImage,
		"DB_HOST=" + s.DBHost,
		"DB_MASTER_SECRET=" + s.DBMasterSecretARN,
	}
	return strings.Join(lines, "\n") + "\n", nil
}

func (n SwarmNode) validate() error {
	if ip := net.ParseIP(n.PrivateIP); ip == nil || ip.To4() == nil {
		return fmt.Errorf("userdata: node %d: private IP %q", n.Index, n.PrivateIP)
	}
	if len(n.Managers) == 0 {
		return fmt.Errorf("userdata: node %d: no manager addresses", n.Index)
	}
	for _, m := range n.Managers {
		if ip := net.ParseIP(m); ip == nil || ip.To4() == nil {
			return fmt.Errorf("userdata: manager address %q", m)
		}
	}
	if n.Init && !n.Manager {
		return fmt.Errorf("userdata: node %d initializes the swarm, so it must be a manager", n.Index)
	}
	if n.Init != (len(n.Publish) > 0) {
		return fmt.Errorf("userdata: node %d: exactly the initializing node publishes join tokens", n.Index)
	}
	params := []string{n.TokenParameter}
	for _, p := range n.Publish {
		if p.Role != "worker" && p.Role != "manager" {
			return fmt.Errorf("userdata: join token role %q", p.Role)
		}
		params = append(params, p.Parameter)
	}
	if _, _, err := net.ParseCIDR(n.AddressPool); err != nil {
		return fmt.Errorf("userdata: swarm address pool %q: %v", n.AddressPool, err)
	}
	if n.Placeholder == "" || !labelPattern.MatchString(n.Placeholder) {
		return fmt.Errorf("userdata: placeholder %q must be a plain word", n.Placeholder)
	}
	if n.Manager && !keyAliasPattern.MatchString(n.KeyAlias) {
		return fmt.Errorf("userdata: node %d: managers write SecureStrings and need the stack key's alias, got %q", n.Index, n.KeyAlias)
	}
	if n.Manager != (n.Deploy != nil) {
		return fmt.Errorf("userdata: node %d: managers, and only they, deploy the stack", n.Index)
	}
	if d := n.Deploy; d != nil {
		if !labelPattern.MatchString(d.StackName) || !dsnOptionsPattern.MatchString(d.DSNOptions) || len(d.Databases) == 0 {
			return fmt.Errorf("userdata: stack name %q, DSN options %q, %d databases", d.StackName, d.DSNOptions, len(d.Databases))
		}
		params = append(params, d.StackParameter, d.GatewayConfParameter, d.SettingsParameter,
			d.SigningKeyParameter, d.AdminPasswordParameter)
		if len(d.ServiceKeys) == 0 {
			return fmt.Errorf("userdata: node %d: no service keys", n.Index)
		}
		for _, k := range d.ServiceKeys {
			if !serviceNamePattern.MatchString(k.Name) {
				return fmt.Errorf("userdata: service name %q", k.Name)
			}
			params = append(params, k.Parameter)
		}
		for _, db := range d.Databases {
			if !serviceNamePattern.MatchString(db.Name) {
				return fmt.Errorf("userdata: service name %q", db.Name)
			}
			params = append(params, db.PasswordParameter)
		}
	}
	for _, p := range params {
		if !paramPattern.MatchString(p) {
			return fmt.Errorf("userdata: %q is not an SSM parameter name", p)
		}
	}
	return nil
}

// Role is "manager" or "worker".
func (n SwarmNode) Role() string {
	if n.Manager {
		return "manager"
	}
	return "worker"
}

// RenderSwarmNode renders a node's user data and, for tests, its helpers.
func RenderSwarmNode(n SwarmNode) (Scripts, error) {
	if err := n.validate(); err != nil {
		return nil, err
	}
	join, err := render("swarm-join.sh.tmpl", n)
	if err != nil {
		return nil, err
	}
	helpers := []Helper{{Path: SwarmJoinScript, Body: join}}
	if n.Deploy != nil {
		deploy, err := render("swarm-deploy.sh.tmpl", n)
		if err != nil {
			return nil, err
		}
		helpers = append(helpers, Helper{Path: SwarmDeployScript, Body: deploy})
	}
	ud, err := render("swarm-node.sh.tmpl", struct {
		SwarmNode
		Helpers      []Helper
		JoinScript   string
		DeployScript string
	}{n, helpers, SwarmJoinScript, SwarmDeployScript})
	if err != nil {
		return nil, err
	}
	scripts := Scripts{"user-data": ud}
	for _, h := range helpers {
		scripts[h.Path] = h.Body
	}
	return scripts, nil
}
