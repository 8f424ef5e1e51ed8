// Package firewall declares security groups whose rules are separate
// resources, so groups can reference each other (the app admits the proxy's
// group, not an address range) without a dependency cycle.
package firewall

import (
	"fmt"

	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/ec2"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
)

// Args configures a group.
type Args struct {
	VpcID       pulumi.IDInput
	Description string
	// Ingress rules; there is no other way in. Egress is open (the VMs
	// install packages and reach SSM, DuckDNS and Let's Encrypt).
	Ingress []Rule
	// Public marks the estate's one public entry (the objective 1 proxy):
	// the only group the policy pack lets admit 0.0.0.0/0, on 80/443 only.
	Public bool
}

// PublicEntryTag (=public) is the tag Public sets.
const PublicEntryTag = "bookstore-entry"

// Rule admits TCP Port from either a CIDR or another security group.
type Rule struct {
	Name        string // part of the rule resource's name, e.g. "https"
	Description string
	Port        int
	FromCidr    string
	FromGroup   pulumi.IDInput
}

// Group is the security group component.
type Group struct {
	pulumi.ResourceState

	ID pulumi.IDOutput
}

// New declares the group and one ingress rule resource per rule.
func New(ctx *pulumi.Context, name string, args *Args, opts ...pulumi.ResourceOption) (*Group, error) {
	g := &Group{}
	if err := ctx.RegisterComponentResource("bookstore:firewall:Group", name, g, opts...); err != nil {
		return nil, err
	}
	parent := pulumi.Parent(g)
	tags := pulumi.StringMap{"Name": pulumi.String(name), "project": pulumi.String("bookstore")}
	if args.Public {
		tags[PublicEntryTag] = pulumi.String("public")
	}
	sg, err := ec2.NewSecurityGroup(ctx, name, &ec2.SecurityGroupArgs{
		VpcId:       args.VpcID,
		Description: pulumi.String(args.Description),
		Tags:        tags,
	}, parent)
	if err != nil {
		return nil, err
	}
	for _, r := range args.Ingress {
		if (r.FromCidr == "") == (r.FromGroup == nil) {
			return nil, fmt.Errorf("firewall: rule %s/%s needs exactly one of a CIDR or a source group", name, r.Name)
		}
		rule := &ec2.SecurityGroupRuleArgs{
			Type:            pulumi.String("ingress"),
			SecurityGroupId: sg.ID(),
			Protocol:        pulumi.String("tcp"),
			FromPort:        pulumi.Int(r.Port),
			ToPort:          pulumi.Int(r.Port),
			Description:     pulumi.String(r.Description),
		}
		if r.FromCidr != "" {
			rule.CidrBlocks = pulumi.StringArray{pulumi.String(r.FromCidr)}
		} else {
			rule.SourceSecurityGroupId = r.FromGroup
		}
		if _, err := ec2.NewSecurityGroupRule(ctx, name+"-"+r.Name, rule, parent); err != nil {
			return nil, err
		}
	}
	if _, err := ec2.NewSecurityGroupRule(ctx, name+"-egress", &ec2.SecurityGroupRuleArgs{
		Type:            pulumi.String("egress"),
		SecurityGroupId: sg.ID(),
		Protocol:        pulumi.String("-1"),
		FromPort:        pulumi.Int(0),
		ToPort:          pulumi.Int(0),
		CidrBlocks:      pulumi.StringArray{pulumi.String("0.0.0.0/0")},
		Description:     pulumi.String("packages, SSM, DNS updates and ACME"),
	}, parent); err != nil {
		return nil, err
	}
	g.ID = sg.ID()
	return g, ctx.RegisterResourceOutputs(g, pulumi.Map{"id": sg.ID()})
}
