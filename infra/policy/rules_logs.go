package policy

import (
	"strings"

	"github.com/tet-bookstore/bookstore/infra/plan"
)

// CloudWatch keeps log events forever unless the group says otherwise, and
// RDS creates the groups of exported logs itself, without a retention.
var logGroupsExpire = Rule{
	Name:   "log-groups-expire",
	Guards: "CloudWatch log groups never expire by default, and RDS creates /aws/rds/cluster/NAME/TYPE itself without retention",
	Check: func(rs []plan.Resource) []Violation {
		var out []Violation
		groups := map[string]plan.Resource{}
		for _, g := range ofType(rs, typeLogGroup) {
			groups[str(g.Inputs["name"])] = g
			if n, _ := g.Inputs["retentionInDays"].(int64); n <= 0 {
				out = append(out, violation("log-groups-expire", g, "no retention: events are kept forever"))
			}
		}
		for _, c := range ofType(rs, typeRDSCluster) {
			exports := stringsOf(c.Inputs["enabledCloudwatchLogsExports"])
			if len(exports) == 0 {
				continue
			}
			id := str(c.Inputs["clusterIdentifier"])
			if id == "" {
				out = append(out, violation("log-groups-expire", c, "exports logs but has no fixed clusterIdentifier, so its log groups cannot be created first"))
				continue
			}
			for _, typ := range exports {
				name := "/aws/rds/cluster/" + id + "/" + typ
				g, ok := groups[name]
				if !ok {
					out = append(out, violation("log-groups-expire", c, "exports %s logs but declares no log group %s: RDS would create it without retention", typ, name))
					continue
				}
				if !dependsOn(c, g) {
					out = append(out, violation("log-groups-expire", c, "must depend on log group %s, or RDS may create it first", name))
				}
			}
		}
		return out
	},
}

// dependsOn: r lists the URN of d among its explicit dependencies.
func dependsOn(r, d plan.Resource) bool {
	for _, urn := range r.DependsOn {
		if strings.HasSuffix(urn, "::"+d.Name) && strings.Contains(urn, d.Type) {
			return true
		}
	}
	return false
}

// An internet-facing listener without TLS carries passwords and session
// cookies across the internet in cleartext.
var noPublicCleartextListener = Rule{
	Name:   "no-public-cleartext-listener",
	Guards: "an internet-facing HTTP or TCP listener carries passwords and cookies across the internet in cleartext",
	Check: func(rs []plan.Resource) []Violation {
		lbs := map[string]plan.Resource{}
		for _, l := range ofType(rs, typeLoadBalancer) {
			lbs[str(l.State["arn"])] = l
		}
		var out []Violation
		for _, l := range ofType(rs, typeListener) {
			proto := strings.ToUpper(str(l.Inputs["protocol"]))
			if proto != "HTTP" && proto != "TCP" && proto != "UDP" && proto != "TCP_UDP" {
				continue
			}
			lb, ok := lbs[str(l.Inputs["loadBalancerArn"])]
			if !ok {
				out = append(out, violation("no-public-cleartext-listener", l, "its load balancer is not in the plan"))
				continue
			}
			if !truthy(lb.Inputs["internal"]) {
				out = append(out, violation("no-public-cleartext-listener", l, "%s on the internet-facing %s; make the balancer internal or use TLS", proto, lb.Name))
			}
		}
		return out
	},
}
