package firstboot

import (
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"regexp"
	"strings"
	"sync"
	"time"
)

// VM is what the metadata service knows about one instance, by its address.
type VM struct {
	Name      string // "proxy", "app"
	PrivateIP string
	PublicIP  string // the Elastic IP; "" for none
	Role      string // the instance profile's role
	// Allowed are the SSM parameter ARNs the role's policy grants
	// ssm:GetParameter on (the plan's RolePolicy).
	Allowed []string
}

// Parameter is one SSM parameter.
type Parameter struct {
	Name, Type, Value, ARN string
}

// AWS stands in for the instance metadata service (IMDSv2 only, as the
// instances are configured), SSM GetParameter and Secrets Manager
// GetSecretValue, checking that each call is signed with the credentials the
// metadata service handed that VM's role and that the role may read what
// it asks for.
type AWS struct {
	Region     string
	VMs        []VM
	Parameters map[string]Parameter // by name
	Secrets    map[string]string    // Secrets Manager, by name or ARN

	mu     sync.Mutex
	tokens map[string]string // IMDSv2 token -> VM name
	calls  []string
}

func (a *AWS) vmByIP(remote string) (VM, bool) {
	host, _, _ := net.SplitHostPort(remote)
	for _, vm := range a.VMs {
		if vm.PrivateIP == host {
			return vm, true
		}
	}
	return VM{}, false
}

// accessKey is the key id the metadata service hands a role.
func accessKey(role string) string {
	return "ASIABOOKSTORE" + strings.ToUpper(hex.EncodeToString([]byte(role)))
}

// Calls lists the API calls served, "VM ACTION NAME", for assertions.
func (a *AWS) Calls() []string {
	a.mu.Lock()
	defer a.mu.Unlock()
	return append([]string(nil), a.calls...)
}

// IMDS serves /latest/api/token and /latest/meta-data/...
func (a *AWS) IMDS() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("PUT /latest/api/token", func(w http.ResponseWriter, r *http.Request) {
		vm, ok := a.vmByIP(r.RemoteAddr)
		if !ok || r.Header.Get("X-aws-ec2-metadata-token-ttl-seconds") == "" {
			http.Error(w, "bad request", http.StatusBadRequest)
			return
		}
		token := randomHex(16)
		a.mu.Lock()
		if a.tokens == nil {
			a.tokens = map[string]string{}
		}
		a.tokens[token] = vm.Name
		a.mu.Unlock()
		fmt.Fprint(w, token)
	})
	mux.HandleFunc("GET /latest/meta-data/", func(w http.ResponseWriter, r *http.Request) {
		vm, ok := a.vmByIP(r.RemoteAddr)
		a.mu.Lock()
		owner, known := a.tokens[r.Header.Get("X-aws-ec2-metadata-token")]
		a.mu.Unlock()
		if !ok || !known || owner != vm.Name {
			http.Error(w, "Unauthorized", http.StatusUnauthorized) // IMDSv1 is off
			return
		}
		path := strings.TrimPrefix(r.URL.Path, "/latest/meta-data/")
		switch {
		case path == "placement/region":
			fmt.Fprint(w, a.Region)
		case path == "placement/availability-zone":
			fmt.Fprint(w, a.Region+"a")
		case path == "local-ipv4":
			fmt.Fprint(w, vm.PrivateIP)
		case path == "public-ipv4" && vm.PublicIP != "":
			fmt.Fprint(w, vm.PublicIP)
		case path == "instance-id":
			fmt.Fprint(w, "i-0firstboot"+vm.Name)
		case path == "iam/security-credentials/" || path == "iam/security-credentials":
			fmt.Fprint(w, vm.Role)
		case path == "iam/security-credentials/"+vm.Role:
			now := time.Now().UTC()
			_ = json.NewEncoder(w).Encode(map[string]string{
				"Code": "Success", "Type": "AWS-HMAC", "AccessKeyId": accessKey(vm.Role),
				"SecretAccessKey": randomHex(20), "Token": randomHex(32),
				"LastUpdated": now.Format(time.RFC3339), "Expiration": now.Add(6 * time.Hour).Format(time.RFC3339),
			})
		default:
			http.NotFound(w, r)
		}
	})
	return mux
}

var credentialPattern = regexp.MustCompile(`Credential=([A-Z0-9]+)/[0-9]{8}/([a-z0-9-]+)/([a-z]+)/aws4_request`)

// API serves the JSON-1.1 APIs of SSM and Secrets Manager on one endpoint
// (the stand-in's TLS certificate names both hosts).
func (a *AWS) API() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		vm, _ := a.vmByIP(r.RemoteAddr)
		m := credentialPattern.FindStringSubmatch(r.Header.Get("Authorization"))
		if m == nil || m[1] != accessKey(vm.Role) || m[2] != a.Region {
			awsError(w, "UnrecognizedClientException", "request not signed with this instance's role credentials")
			return
		}
		var in struct{ Name, SecretId string }
		if err := json.NewDecoder(io.LimitReader(r.Body, 1<<16)).Decode(&in); err != nil {
			awsError(w, "SerializationException", err.Error())
			return
		}
		target := r.Header.Get("X-Amz-Target")
		a.mu.Lock()
		a.calls = append(a.calls, vm.Name+" "+target+" "+in.Name+in.SecretId)
		a.mu.Unlock()
		switch target {
		case "AmazonSSM.GetParameter":
			p, ok := a.Parameters[in.Name]
			if !ok {
				awsError(w, "ParameterNotFound", "parameter "+in.Name+" not found")
				return
			}
			if !contains(vm.Allowed, p.ARN) {
				awsError(w, "AccessDeniedException", vm.Role+" is not authorized to perform ssm:GetParameter on "+p.ARN)
				return
			}
			writeJSON(w, map[string]any{"Parameter": map[string]any{
				"Name": p.Name, "Type": p.Type, "Value": p.Value, "ARN": p.ARN, "Version": 1, "DataType": "text",
			}})
		case "secretsmanager.GetSecretValue":
			v, ok := a.Secrets[in.SecretId]
			if !ok || !contains(vm.Allowed, in.SecretId) {
				awsError(w, "AccessDeniedException", vm.Role+" may not read secret "+in.SecretId)
				return
			}
			writeJSON(w, map[string]any{"Name": in.SecretId, "SecretString": v})
		default:
			awsError(w, "UnknownOperationException", "the stand-in does not implement "+target)
		}
	})
}

func awsError(w http.ResponseWriter, typ, msg string) {
	w.Header().Set("Content-Type", "application/x-amz-json-1.1")
	w.WriteHeader(http.StatusBadRequest)
	_ = json.NewEncoder(w).Encode(map[string]string{"__type": typ, "message": msg})
}

func writeJSON(w http.ResponseWriter, v any) {
	w.Header().Set("Content-Type", "application/x-amz-json-1.1")
	_ = json.NewEncoder(w).Encode(v)
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

func randomHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

// DNS is where DuckDNS's records go: challtestsrv's A and TXT records.
type DNS interface {
	SetA(host, ip string) error
	SetTXT(host, value string) error
	ClearTXT(host string) error
}

// DuckDNS answers https://www.duckdns.org/update as DuckDNS does ("OK" or
// "KO"), for one domain and its token, writing the records into DNS for
// the domain and the names under it that the proxy serves.
type DuckDNS struct {
	Domain string // the label, "shop" for shop.duckdns.org
	Token  string
	Names  []string // the names DuckDNS would answer for (it answers every name under the domain)
	DNS    DNS
}

func (d *DuckDNS) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	if r.URL.Path != "/update" || q.Get("domains") != d.Domain || q.Get("token") != d.Token {
		fmt.Fprint(w, "KO")
		return
	}
	var err error
	for _, name := range d.Names {
		switch {
		case q.Get("clear") == "true":
			err = d.DNS.ClearTXT("_acme-challenge." + name + ".")
		case q.Has("txt"):
			err = d.DNS.SetTXT("_acme-challenge."+name+".", q.Get("txt"))
		case net.ParseIP(q.Get("ip")) != nil:
			err = d.DNS.SetA(name+".", q.Get("ip"))
		default:
			fmt.Fprint(w, "KO")
			return
		}
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadGateway)
			return
		}
	}
	fmt.Fprint(w, "OK")
}
