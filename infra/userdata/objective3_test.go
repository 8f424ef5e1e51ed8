package userdata_test

import (
	"strings"
	"testing"

	"github.com/tet-bookstore/bookstore/infra/userdata"
	"github.com/tet-bookstore/bookstore/infra/userdata/scripttest"
)

const swarmParams = "/bookstore/objective3/"

func swarmDeploy() *userdata.SwarmDeploy {
	return &userdata.SwarmDeploy{
		StackName:              "bookstore",
		StackParameter:         swarmParams + "stack-file",
		GatewayConfParameter:   swarmParams + "gateway-conf",
		SettingsParameter:      swarmParams + "stack-settings",
		SigningKeyParameter:    swarmParams + "token-signing-key",
		AdminPasswordParameter: swarmParams + "admin-password",
		ServiceKeys: []userdata.ServiceKey{
			{Name: "auth", Parameter: swarmParams + "service-key-auth"},
			{Name: "catalog", Parameter: swarmParams + "service-key-catalog"},
			{Name: "purchase", Parameter: swarmParams + "service-key-purchase"},
		},
		Databases: []userdata.ServiceDatabase{
			{Name: "auth", PasswordParameter: swarmParams + "db-password-auth"},
			{Name: "catalog", PasswordParameter: swarmParams + "db-password-catalog"},
			{Name: "purchase", PasswordParameter: swarmParams + "db-password-purchase"},
		},
		DSNOptions: "tls=true",
	}
}

// swarmNodes are the three nodes with one manager, or three managers.
func swarmNodes(managers int) []userdata.SwarmNode {
	ips := []string{"10.3.1.10", "10.3.2.10", "10.3.3.10"}
	var nodes []userdata.SwarmNode
	for i, ip := range ips {
		n := userdata.SwarmNode{
			Index: i, PrivateIP: ip, Manager: i < managers, Init: i == 0,
			Managers: ips[:managers], Placeholder: "generated-at-boot", AddressPool: "10.208.0.0/16",
			TokenParameter: swarmParams + "swarm-worker-token",
		}
		if n.Manager {
			n.TokenParameter = swarmParams + "swarm-manager-token"
			n.Deploy = swarmDeploy()
			n.KeyAlias = "alias/bookstore/objective3/secrets"
		}
		if n.Init {
			n.Publish = []userdata.JoinToken{{Role: "manager", Parameter: swarmParams + "swarm-manager-token"}}
			if managers < 3 {
				n.Publish = append(n.Publish, userdata.JoinToken{Role: "worker", Parameter: swarmParams + "swarm-worker-token"})
			}
		}
		nodes = append(nodes, n)
	}
	return nodes
}

func renderSwarm(t *testing.T, n userdata.SwarmNode) userdata.Scripts {
	t.Helper()
	s, err := userdata.RenderSwarmNode(n)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func TestSwarmScriptsPassBashAndShellcheck(t *testing.T) {
	for _, managers := range []int{1, 3} {
		for _, n := range swarmNodes(managers) {
			scripttest.Check(t, renderSwarm(t, n))
		}
	}
}

func TestSwarmJoinHelper(t *testing.T) {
	nodes := swarmNodes(1)
	first := renderSwarm(t, nodes[0])[userdata.SwarmJoinScript]
	if !strings.Contains(first, "docker swarm init --advertise-addr \"${self}\"") ||
		!strings.Contains(first, "--default-addr-pool '10.208.0.0/16'") {
		t.Error("the first node initializes the swarm on its own address, overlays outside the VPC")
	}
	for _, role := range []string{"manager", "worker"} {
		if !strings.Contains(first, "docker swarm join-token -q "+role+" | tr -d '\\n' | put_secure '"+swarmParams+"swarm-"+role+"-token'") {
			t.Errorf("the first node publishes the %s token to its SecureString", role)
		}
	}
	worker := renderSwarm(t, nodes[1])
	join := worker[userdata.SwarmJoinScript]
	if strings.Contains(join, "swarm init") || strings.Contains(join, "put-parameter") || !strings.Contains(join, "exit 75") {
		t.Error("a worker never initializes a swarm nor writes a parameter; it waits for the token")
	}
	if !strings.Contains(join, "token=$(ssm_get '"+swarmParams+"swarm-worker-token')") || !strings.Contains(join, "managers=('10.3.1.10')") {
		t.Error("a worker joins with the worker token through the manager's fixed address")
	}
	if !strings.Contains(join, "docker swarm leave --force") {
		t.Error("a node whose swarm was re-initialized must leave the old one")
	}
	if _, ok := worker[userdata.SwarmDeployScript]; ok || strings.Contains(worker.UserData(), "mysql-client") {
		t.Error("workers do not deploy the stack")
	}

	three := swarmNodes(3)
	second := renderSwarm(t, three[1])[userdata.SwarmJoinScript]
	if !strings.Contains(second, "token=$(ssm_get '"+swarmParams+"swarm-manager-token')") ||
		!strings.Contains(second, "managers=('10.3.1.10' '10.3.2.10' '10.3.3.10')") || strings.Contains(second, "swarm init") {
		t.Error("with three managers, the others join as managers through any manager")
	}
	if strings.Contains(renderSwarm(t, three[0])[userdata.SwarmJoinScript], "join-token -q worker") {
		t.Error("with three managers there is no worker token to publish")
	}
}

func TestSwarmDeployHelper(t *testing.T) {
	deploy := renderSwarm(t, swarmNodes(1)[0])[userdata.SwarmDeployScript]
	for _, want := range []string{
		"docker node inspect self --format '{{.ManagerStatus.Leader}}'",
		"docker stack deploy --prune --with-registry-auth --compose-file docker-stack.yml 'bookstore'",
		"signing_key=$(secret_value '" + swarmParams + "token-signing-key' ed25519)",
		"openssl pkey -pubout | docker_secret token_public_key",
		"service_key=$(secret_value '" + swarmParams + "service-key-catalog' ed25519)",
		"printf '%s\\n' \"${service_key}\" | docker_secret 'catalog_service_key'",
		"printf '%s\\n' \"${service_key}\" | openssl pkey -pubout | docker_secret 'catalog_service_public_key'",
		"password=$(secret_value '" + swarmParams + "db-password-catalog' hex)",
		"GRANT ALL PRIVILEGES ON \\`catalog\\`.* TO 'catalog'@'%';",
		"printf 'mysql://%s:%s@%s:3306/%s?%s' 'purchase' \"${password}\" \"${DB_HOST}\" 'purchase' 'tls=true' | docker_secret 'purchase_db_dsn'",
		"--secret-id \"${DB_MASTER_SECRET}\"",
		"install -d -o 65532 -g 65532 -m 0755 /mnt/bookstore-efs/uploads",
		"global-bundle.pem | docker_secret rds_ca",
		// Under the stack's key, not aws/ssm (SSM's default when KeyId is absent).
		`"KeyId": sys.argv[2]`, `"$1" 'alias/bookstore/objective3/secrets' > "${input}"`,
	} {
		if !strings.Contains(deploy, want) {
			t.Errorf("the deploy helper lacks %q", want)
		}
	}
	if strings.Contains(deploy, "service_token") {
		t.Error("the shared service token is retired: each service has a key of its own")
	}
	if strings.Contains(deploy, "--value") {
		t.Error("secret values must not be passed on a command line")
	}
}

func TestSwarmNodeRefusesBadInput(t *testing.T) {
	cases := map[string]func(*userdata.SwarmNode){
		"worker that initializes": func(n *userdata.SwarmNode) { n.Manager, n.Deploy = false, nil },
		"bad address":             func(n *userdata.SwarmNode) { n.PrivateIP = "10.3.1" },
		"bad parameter":           func(n *userdata.SwarmNode) { n.TokenParameter = "token; rm -rf /" },
		"bad service":             func(n *userdata.SwarmNode) { n.Deploy.Databases[0].Name = "auth`x`" },
		"pool":                    func(n *userdata.SwarmNode) { n.AddressPool = "10.208.0.0" },
		"no key":                  func(n *userdata.SwarmNode) { n.KeyAlias = "" },
		"key not an alias":        func(n *userdata.SwarmNode) { n.KeyAlias = "alias/x'; reboot" },
	}
	for name, edit := range cases {
		n := swarmNodes(1)[0]
		n.Deploy = swarmDeploy()
		edit(&n)
		if _, err := userdata.RenderSwarmNode(n); err == nil {
			t.Errorf("%s: want an error", name)
		}
	}
}

func TestSwarmSettings(t *testing.T) {
	s := userdata.SwarmSettings{
		Registry: "123456789012.dkr.ecr.us-east-1.amazonaws.com/objective3", Version: "v0.1.0",
		EFSDNS: "fs-0123.efs.us-east-1.amazonaws.com", AdminEmail: "admin@example.org",
		DBHost:            "objective3.cluster-abc.us-east-1.rds.amazonaws.com",
		DBMasterSecretARN: "arn:aws:secretsmanager:us-east-1:123456789012:secret:rds!cluster-0a1b-AbCdEf",
	}
	got, err := s.Render()
	if err != nil {
		t.Fatal(err)
	}
	want := "REGISTRY=123456789012.dkr.ecr.us-east-1.amazonaws.com/objective3\nVERSION=v0.1.0\nEFS_DNS=fs-0123.efs.us-east-1.amazonaws.com\n" +
		"ADMIN_EMAIL=admin@example.org\nGATEWAY_IMAGE=\nDB_HOST=objective3.cluster-abc.us-east-1.rds.amazonaws.com\n" +
		"DB_MASTER_SECRET=arn:aws:secretsmanager:us-east-1:123456789012:secret:rds!cluster-0a1b-AbCdEf\n"
	if got != want {
		t.Errorf("settings:\n%s\nwant:\n%s", got, want)
	}
	for name, edit := range map[string]func(*userdata.SwarmSettings){
		"tag":      func(s *userdata.SwarmSettings) { s.Version = "v1\nDB_HOST=evil" },
		"registry": func(s *userdata.SwarmSettings) { s.Registry = "https://registry" },
		"secret":   func(s *userdata.SwarmSettings) { s.DBMasterSecretARN = "my-secret" },
		"email":    func(s *userdata.SwarmSettings) { s.AdminEmail = "admin" },
	} {
		bad := s
		edit(&bad)
		if _, err := bad.Render(); err == nil {
			t.Errorf("%s: want an error", name)
		}
	}
}
