# Shared helpers for the policy pack (not a policy: no metadata).
package migrator.lib

import rego.v1

world_cidrs := {"0.0.0.0/0", "::/0"}

admin_ports := {22, 23, 3389, 5985, 5986}

database_ports := {1433, 1521, 3306, 5432, 5984, 6379, 9042, 9200, 11211, 27017}

# Resources of one Terraform type.
resources(type) := object.get(_resources_by_type, type, [])

# Each type's resources in input order, built once per query: rego-cpp does not memoise a
# function's result, so every call scanned the wave's resources again (the pack made 40 such
# calls); IaC inputs with resources are evaluated as one query for the whole pack
# (docs/policies.md, "How the input reaches the engine"). Callers name string types only, so
# only string types are indexed (a hostile non-string `type` cannot become an object key).
_resources_by_type := {type: [r | some r in input.resources; r.type == type] | some type in _resource_types}

_resource_types := {r.type | some r in input.resources; is_string(r.type)}

# The first block of a nested block list, or {} when absent.
# Indexed, not `some b in`: a resource with two such blocks (invalid, reported by Terraform's
# core) would otherwise give the function two values, a conflict that aborts the whole query.
first_block(config, name) := blocks[0] if {
	blocks := object.get(config, name, [])
	count(blocks) > 0
} else := {}

# Ingress rules open to the whole internet, from any of the three ways Terraform writes one,
# as {sg, protocol, from, to, address, file}. Arrays, not partial sets: rego-cpp inserts into
# sets slowly, and a large wave has a thousand rules (benchmarks/plan.py).
world_ingress := array.concat(
	array.concat(
		array.concat(array.concat(array.concat(_vpc_rules, _sg_rules), _inline_rules), azure_world_ingress),
		google_world_ingress,
	),
	openstack_world_ingress,
)

# Google Cloud: enabled INGRESS google_compute_firewall rules (the direction defaults to INGRESS)
# whose source_ranges hold 0.0.0.0/0 or ::/0, one entry per allow block and port range (no ports:
# every port; protocol "all": every protocol); `sg` is the rule's address, `targets` its
# target_tags ([]: the rule applies to every instance of the network).
google_world_ingress := [rule |
	some r in resources("google_compute_firewall")
	upper(object.get(r.config, "direction", "INGRESS")) == "INGRESS"
	object.get(r.config, "disabled", false) != true
	some cidr in object.get(r.config, "source_ranges", [])
	cidr in world_cidrs
	some allow in object.get(r.config, "allow", [])
	some range in _google_port_ranges(allow)
	rule := {
		"sg": r.address,
		"targets": object.get(r.config, "target_tags", []),
		"protocol": _google_protocol(lower(object.get(allow, "protocol", ""))),
		"from": range[0],
		"to": range[1],
		"address": r.address,
		"file": r.file,
	}
]

# OpenStack: ingress openstack_networking_secgroup_rule_v2 resources whose remote is the world:
# remote_ip_prefix 0.0.0.0/0 or ::/0, or neither a prefix nor a remote group (Neutron then admits
# every address). No protocol admits every protocol, no port range every port; `sg` is the
# rule's security_group_id (`${openstack_networking_secgroup_v2.NAME.id}`).
openstack_world_ingress := [rule |
	some r in resources("openstack_networking_secgroup_rule_v2")
	lower(object.get(r.config, "direction", "")) == "ingress"
	_openstack_world(r.config)
	rule := {
		"sg": object.get(r.config, "security_group_id", ""),
		"protocol": _openstack_protocol(lower(object.get(r.config, "protocol", ""))),
		"from": object.get(r.config, "port_range_min", 0),
		"to": object.get(r.config, "port_range_max", 65535),
		"address": r.address,
		"file": r.file,
	}
]

_google_protocol(p) := "-1" if p == "all"

_google_protocol(p) := p if p != "all"

_google_port_ranges(allow) := [[0, 65535]] if count(object.get(allow, "ports", [])) == 0

_google_port_ranges(allow) := [_azure_range(text) | some text in allow.ports] if count(object.get(allow, "ports", [])) > 0

_openstack_world(config) if object.get(config, "remote_ip_prefix", "") in world_cidrs

_openstack_world(config) if {
	object.get(config, "remote_ip_prefix", "") == ""
	object.get(config, "remote_group_id", "") == ""
}

_openstack_protocol(p) := "-1" if p in {"", "any"}

_openstack_protocol(p) := p if not p in {"", "any"}

# Azure: inbound Allow rules of network security groups whose source is the world (`*`, `Any`,
# the `Internet` service tag, 0.0.0.0/0 or ::/0), as azurerm_network_security_rule resources or
# inline security_rule blocks of azurerm_network_security_group, one entry per port range;
# `sg` is the group's `${azurerm_network_security_group.NAME.name}` reference.
azure_world_sources := {"*", "any", "internet", "0.0.0.0/0", "::/0"}

azure_world_ingress := array.concat(_azure_rule_resources, _azure_inline_rules)

_azure_rule_resources := [rule |
	some r in resources("azurerm_network_security_rule")
	_azure_world_allow(r.config)
	some range in _azure_port_ranges(r.config)
	rule := _azure_rule(r, object.get(r.config, "network_security_group_name", ""), r.config, range)
]

_azure_inline_rules := [rule |
	some r in resources("azurerm_network_security_group")
	some block in object.get(r.config, "security_rule", [])
	_azure_world_allow(block)
	some range in _azure_port_ranges(block)
	rule := _azure_rule(r, sprintf("${azurerm_network_security_group.%s.name}", [r.name]), block, range)
]

_azure_world_allow(config) if {
	lower(object.get(config, "direction", "")) == "inbound"
	lower(object.get(config, "access", "")) == "allow"
	some source in array.concat([object.get(config, "source_address_prefix", "")], object.get(config, "source_address_prefixes", []))
	lower(source) in azure_world_sources
}

_azure_port_ranges(config) := [range |
	some text in array.concat([object.get(config, "destination_port_range", "")], object.get(config, "destination_port_ranges", []))
	text != ""
	range := _azure_range(text)
]

_azure_range(text) := [0, 65535] if text == "*"

_azure_range(text) := [to_number(parts[0]), to_number(parts[1])] if {
	text != "*"
	parts := split(text, "-")
	count(parts) == 2
}

_azure_range(text) := [to_number(text), to_number(text)] if {
	text != "*"
	not contains(text, "-")
}

_azure_rule(r, sg, config, range) := {
	"sg": sg,
	"protocol": _azure_protocol(object.get(config, "protocol", "")),
	"from": range[0],
	"to": range[1],
	"address": r.address,
	"file": r.file,
}

_azure_protocol(p) := "-1" if p == "*"

_azure_protocol(p) := lower(p) if p != "*"

_vpc_rules := [rule |
	some r in resources("aws_vpc_security_group_ingress_rule")
	some key in ["cidr_ipv4", "cidr_ipv6"]
	object.get(r.config, key, "") in world_cidrs
	rule := _rule(r, object.get(r.config, "security_group_id", ""), r.config, "ip_protocol")
]

_sg_rules := [rule |
	some r in resources("aws_security_group_rule")
	object.get(r.config, "type", "") == "ingress"
	_world_in(r.config)
	rule := _rule(r, object.get(r.config, "security_group_id", ""), r.config, "protocol")
]

_inline_rules := [rule |
	some r in resources("aws_security_group")
	some block in object.get(r.config, "ingress", [])
	_world_in(block)
	rule := _rule(r, sprintf("${aws_security_group.%s.id}", [r.name]), block, "protocol")
]

_world_in(config) if {
	some key in ["cidr_blocks", "ipv6_cidr_blocks"]
	some cidr in object.get(config, key, [])
	cidr in world_cidrs
}

_rule(r, sg, config, protocol_key) := {
	"sg": sg,
	"protocol": object.get(config, protocol_key, ""),
	"from": object.get(config, "from_port", -1),
	"to": object.get(config, "to_port", -1),
	"address": r.address,
	"file": r.file,
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

# Forklift: the source-facts ConfigMap a Plan names (migrator.io/source-facts), its data keys
# `vm.<i>.id`, `vm.<i>.network.<j>`, `vm.<i>.datastore.<k>` (transpilers/forklift.py).
# (`some key; v := facts[key]`, not `some key, v in facts`: rego-cpp rejects the latter in a
# comprehension whose head is the bound value.)
forklift_facts(plan) := m.doc.data if {
	name := plan.doc.metadata.annotations["migrator.io/source-facts"]
	some m in manifests("ConfigMap")
	m.name == name
}

forklift_wave_vms(plan) := [id |
	facts := forklift_facts(plan)
	some key
	id := facts[key]
	parts := split(key, ".")
	count(parts) == 3
	parts[0] == "vm"
	parts[2] == "id"
]

# [moref, name] of every network (what = "network") or datastore (what = "datastore") a VM uses.
forklift_uses(plan, what) := [[id, name] |
	facts := forklift_facts(plan)
	some key
	name := facts[key]
	parts := split(key, ".")
	count(parts) == 4
	parts[2] == what
	id := facts[sprintf("vm.%s.id", [parts[1]])]
]
