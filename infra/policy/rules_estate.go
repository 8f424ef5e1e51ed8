package policy

import (
	"encoding/base64"
	"fmt"
	"regexp"
	"strings"

	"github.com/tet-bookstore/bookstore/infra/firewall"
	"github.com/tet-bookstore/bookstore/infra/plan"
)

// IMDSv1 hands the role's credentials to any server-side request forgery;
// a hop limit above 1 hands them to every container on the host.
var imdsV2HopLimitOne = Rule{
	Name:   "imdsv2-hop-limit-1",
	Guards: "IMDSv1 answers an SSRF with the role's credentials; a hop limit of 2 answers every container behind Docker's bridge",
	Check: func(rs []plan.Resource) []Violation {
		var out []Violation
		for _, r := range ofType(rs, typeInstance, typeLaunchTemplate) {
			md := obj(r.Inputs["metadataOptions"])
			if str(md["httpTokens"]) != "required" {
				out = append(out, violation("imdsv2-hop-limit-1", r, "httpTokens is %v, IMDSv2 must be required", md["httpTokens"]))
			}
			if md["httpPutResponseHopLimit"] != int64(1) {
				out = append(out, violation("imdsv2-hop-limit-1", r, "httpPutResponseHopLimit is %v, want 1", md["httpPutResponseHopLimit"]))
			}
		}
		return out
	},
}

// PublicEntryTag marks the one security group the internet may reach (on
// 80 and 443 only): the objective 1 proxy's.
const PublicEntryTag = firewall.PublicEntryTag

var openCidrs = map[string]bool{"0.0.0.0/0": true, "::/0": true}

// A security group open to 0.0.0.0/0 or ::/0 is scanned within minutes.
var noOpenIngress = Rule{
	Name:   "no-open-ingress",
	Guards: "a security group rule from 0.0.0.0/0 or ::/0 exposes the port to the whole internet",
	Check: func(rs []plan.Resource) []Violation {
		public := map[string]bool{}
		for _, g := range ofType(rs, typeSG) {
			if str(obj(g.Inputs["tags"])[PublicEntryTag]) == "public" {
				public[g.ID] = true
			}
		}
		var out []Violation
		for _, r := range ofType(rs, typeSGRule) {
			if str(r.Inputs["type"]) != "ingress" {
				continue
			}
			for _, c := range append(stringsOf(r.Inputs["cidrBlocks"]), stringsOf(r.Inputs["ipv6CidrBlocks"])...) {
				if !openCidrs[c] {
					continue
				}
				from, to := r.Inputs["fromPort"], r.Inputs["toPort"]
				web := from == to && (from == int64(80) || from == int64(443))
				if !web || !public[str(r.Inputs["securityGroupId"])] || str(r.Inputs["protocol"]) != "tcp" {
					out = append(out, violation("no-open-ingress", r, "admits %s on %v-%v; only 80/443 on the group tagged %s=public may", c, from, to, PublicEntryTag))
				}
			}
		}
		// The VPC API's rule resource: one CIDR per rule, ipProtocol.
		for _, r := range ofType(rs, typeIngressRule) {
			for _, c := range []string{str(r.Inputs["cidrIpv4"]), str(r.Inputs["cidrIpv6"])} {
				if !openCidrs[c] {
					continue
				}
				from, to := r.Inputs["fromPort"], r.Inputs["toPort"]
				web := from == to && (from == int64(80) || from == int64(443))
				if !web || !public[str(r.Inputs["securityGroupId"])] || str(r.Inputs["ipProtocol"]) != "tcp" {
					out = append(out, violation("no-open-ingress", r, "admits %s on %v-%v; only 80/443 on the group tagged %s=public may", c, from, to, PublicEntryTag))
				}
			}
		}
		for _, g := range ofType(rs, typeSG) {
			for _, in := range list(g.Inputs["ingress"]) {
				for _, c := range append(stringsOf(obj(in)["cidrBlocks"]), stringsOf(obj(in)["ipv6CidrBlocks"])...) {
					if openCidrs[c] {
						out = append(out, violation("no-open-ingress", g, "inline ingress from %s", c))
					}
				}
			}
		}
		return out
	},
}

// EBS, EFS and Aurora store plaintext unless encryption is chosen when the
// resource is created; it cannot be switched on later.
var encryptedAtRest = Rule{
	Name:   "encrypted-at-rest",
	Guards: "EBS volumes, EFS and Aurora are unencrypted unless asked at creation, and cannot be encrypted in place later",
	Check: func(rs []plan.Resource) []Violation {
		var out []Violation
		bad := func(r plan.Resource, what string) {
			out = append(out, violation("encrypted-at-rest", r, "%s is not encrypted", what))
		}
		for _, r := range ofType(rs, typeInstance) {
			if !truthy(obj(r.Inputs["rootBlockDevice"])["encrypted"]) {
				bad(r, "the root volume")
			}
			for i, d := range list(r.Inputs["ebsBlockDevices"]) {
				if !truthy(obj(d)["encrypted"]) {
					bad(r, fmt.Sprintf("EBS block device %d", i))
				}
			}
		}
		for _, r := range ofType(rs, typeLaunchTemplate) {
			maps := list(r.Inputs["blockDeviceMappings"])
			if len(maps) == 0 {
				bad(r, "the image's root volume (no block device mapping)")
			}
			for i, m := range maps {
				if !truthy(obj(obj(m)["ebs"])["encrypted"]) {
					bad(r, fmt.Sprintf("block device mapping %d", i))
				}
			}
		}
		for _, r := range ofType(rs, typeVolume, typeEFS) {
			if !truthy(r.Inputs["encrypted"]) {
				bad(r, "the volume")
			}
		}
		for _, r := range ofType(rs, typeRDSCluster) {
			if !truthy(r.Inputs["storageEncrypted"]) {
				bad(r, "the cluster's storage")
			}
		}
		for _, r := range ofType(rs, typeParameter) {
			if t := str(r.Inputs["type"]); t != "SecureString" && r.Inputs["value"] == plan.Secret {
				out = append(out, violation("encrypted-at-rest", r, "a Pulumi secret stored as a %s parameter", t))
			}
		}
		return out
	},
}

// secretLooking are shapes of credentials that must never be in user data
// (readable by anyone with ec2:DescribeInstanceAttribute) or plain parameters.
var secretLooking = []*regexp.Regexp{
	regexp.MustCompile(`-----BEGIN [A-Z ]*PRIVATE KEY-----`),
	regexp.MustCompile(`\b(AKIA|ASIA)[0-9A-Z]{16}\b`),
	// An environment or shell assignment of a literal (NAME=${VAR} and
	// NAME=$(cmd) are references, not values).
	regexp.MustCompile(`\b[A-Z_]*(PASSWORD|PASSWD|SECRET|TOKEN|PRIVATE_KEY)[A-Z_]*=['"]?[^\s'"$/][^\s'"]{7,}`),
	// A JSON or YAML field holding a literal.
	regexp.MustCompile(`(?i)"?(password|passwd|secret|token)"?\s*:\s*"[^"$]{8,}"`),
}

// secretName: parameters named like this must be SecureStrings.
var secretName = regexp.MustCompile(`(?i)(password|passwd|secret|token|private|signing-key)`)

// User data is readable by anyone allowed ec2:DescribeInstanceAttribute and
// plain parameters by anyone allowed ssm:GetParameter: neither holds a secret.
var noSecretInPlainText = Rule{
	Name:   "no-secret-in-plain-text",
	Guards: "EC2 user data and String parameters are stored and shown unencrypted to anyone who may describe them",
	Check: func(rs []plan.Resource) []Violation {
		var out []Violation
		scan := func(r plan.Resource, what, text string) {
			if text == plan.Secret {
				out = append(out, violation("no-secret-in-plain-text", r, "%s is a Pulumi secret: it would be stored in the clear", what))
				return
			}
			for _, mock := range plan.MockSecrets {
				if strings.Contains(text, mock) {
					out = append(out, violation("no-secret-in-plain-text", r, "%s holds a configured secret's value", what))
					return
				}
			}
			for _, re := range secretLooking {
				for _, m := range re.FindAllString(text, -1) {
					if !isARN(m) {
						out = append(out, violation("no-secret-in-plain-text", r, "%s holds something secret-looking: %.24s…", what, m))
						return
					}
				}
			}
		}
		for _, r := range ofType(rs, typeInstance) {
			scan(r, "userData", str(r.Inputs["userData"]))
		}
		for _, r := range ofType(rs, typeLaunchTemplate) {
			ud := str(r.Inputs["userData"])
			if b, err := base64.StdEncoding.DecodeString(ud); err == nil {
				ud = string(b)
			}
			scan(r, "userData", ud)
		}
		for _, r := range ofType(rs, typeParameter) {
			if str(r.Inputs["type"]) == "SecureString" {
				continue
			}
			if name := str(r.Inputs["name"]); secretName.MatchString(name[strings.LastIndex(name, "/")+1:]) {
				out = append(out, violation("no-secret-in-plain-text", r, "%s is named like a secret but is a %s", name, str(r.Inputs["type"])))
			}
			scan(r, "the value", str(r.Inputs["insecureValue"]))
		}
		return out
	},
}

// isARN: NAME=arn:... names a secret (DB_MASTER_SECRET=arn:aws:secretsmanager:...), it does not hold one.
func isARN(m string) bool {
	i := strings.IndexAny(m, "=:")
	return strings.HasPrefix(strings.TrimLeft(m[i+1:], " '\""), "arn:")
}
