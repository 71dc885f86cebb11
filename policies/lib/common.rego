# Shared helpers for the policy pack (not a policy: no metadata).
package migrator.lib

import rego.v1

world_cidrs := {"0.0.0.0/0", "::/0"}

admin_ports := {22, 23, 3389, 5985, 5986}

database_ports := {1433, 1521, 3306, 5432, 5984, 6379, 9042, 9200, 11211, 27017}

# Resources of one Terraform type.
resources(type) := [r | some r in input.resources; r.type == type]

# The first block of a nested block list, or {} when absent.
first_block(config, name) := b if {
	some b in object.get(config, name, [])
} else := {}

# An ingress rule as {sg, cidrs, protocol, from, to, address, file} from any of the three ways
# Terraform writes one.
ingress contains rule if {
	some r in resources("aws_vpc_security_group_ingress_rule")
	rule := {
		"sg": object.get(r.config, "security_group_id", ""),
		"cidrs": {c | some k in ["cidr_ipv4", "cidr_ipv6"]; c := object.get(r.config, k, null); c != null},
		"protocol": object.get(r.config, "ip_protocol", ""),
		"from": object.get(r.config, "from_port", -1),
		"to": object.get(r.config, "to_port", -1),
		"address": r.address,
		"file": r.file,
	}
}

ingress contains rule if {
	some r in resources("aws_security_group_rule")
	r.config.type == "ingress"
	rule := {
		"sg": object.get(r.config, "security_group_id", ""),
		"cidrs": {c | some k in ["cidr_blocks", "ipv6_cidr_blocks"]; some c in object.get(r.config, k, [])},
		"protocol": object.get(r.config, "protocol", ""),
		"from": object.get(r.config, "from_port", -1),
		"to": object.get(r.config, "to_port", -1),
		"address": r.address,
		"file": r.file,
	}
}

ingress contains rule if {
	some r in resources("aws_security_group")
	some block in object.get(r.config, "ingress", [])
	rule := {
		"sg": sprintf("${aws_security_group.%s.id}", [r.name]),
		"cidrs": {c | some k in ["cidr_blocks", "ipv6_cidr_blocks"]; some c in object.get(block, k, [])},
		"protocol": object.get(block, "protocol", ""),
		"from": object.get(block, "from_port", -1),
		"to": object.get(block, "to_port", -1),
		"address": r.address,
		"file": r.file,
	}
}

open_to_world(rule) if {
	some c in rule.cidrs
	c in world_cidrs
}

# Does the rule admit this port? "-1"/"all" protocols admit every port.
admits(rule, port) if {
	rule.protocol in {"-1", "all"}
}

admits(rule, port) if {
	rule.from <= port
	port <= rule.to
}

# Kubernetes documents of one kind.
manifests(kind) := [m | some m in input.manifests; m.kind == kind]
