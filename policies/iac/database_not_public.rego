# Database servers never publicly addressable: A VM of the database tier gets no public IP (on OpenStack: no floating IP) and no security group open to the world, on any port.
package migrator.iac.database_not_public

import data.migrator.lib
import rego.v1

metadata := {
	"id": "IAC-DATABASE-NOT-PUBLIC",
	"severity": "critical",
	"title": "Database servers never publicly addressable",
	"description": "A VM of the database tier gets no public IP (on OpenStack: no floating IP) and no security group open to the world, on any port.",
	"remediation": "Remove associate_public_ip_address and world-open rules from database instances; on Azure, public_ip_address_id from their NICs and world-open rules from their NICs' network security groups; on Google Cloud, access_config from their network interfaces and world-open firewall rules that target their network tags; on OpenStack, floating IP associations of their ports and world-open rules from their ports' security groups.",
	"applies_to": ["terraform", "kubernetes"],
	"scope": "any",
}

database_tiers := {"db", "database", "sql", "data"}

findings contains {"resource": r.address, "file": r.file, "message": "database instance has a public IP address"} if {
	some r in database_instances
	object.get(r.config, "associate_public_ip_address", false) == true
}

findings contains {"resource": r.address, "file": r.file, "message": "database instance is in a security group open to the world"} if {
	some r in database_instances
	some sg in object.get(r.config, "vpc_security_group_ids", [])
	some rule in lib.world_ingress
	rule.sg == sg
}

findings contains {"resource": sprintf("Service/%s", [m.name]), "file": m.file, "message": "service exposes database VMs outside the cluster"} if {
	some m in lib.manifests("Service")
	object.get(m.doc.spec, "type", "ClusterIP") in {"LoadBalancer", "NodePort"}
	object.get(object.get(m.doc.spec, "selector", {}), "tier", "") in database_tiers
}

database_instances contains r if {
	some r in lib.resources("aws_instance")
	object.get(object.get(r.config, "tags", {}), "tier", "") in database_tiers
}

# Azure: a database VM's NIC (network_interface_ids) with a public IP, or in a network security
# group (azurerm_network_interface_security_group_association) that admits the world. Indexed
# once per query (sets and a reference -> name object), so a wave of a hundred VMs is not a
# VM x NIC x association product.
azure_nic_names := {sprintf("${azurerm_network_interface.%s.id}", [nic.name]): nic.name |
	some nic in lib.resources("azurerm_network_interface")
}

azure_public_nics contains nic.name if {
	some nic in lib.resources("azurerm_network_interface")
	some config in object.get(nic.config, "ip_configuration", [])
	object.get(config, "public_ip_address_id", "") != ""
}

azure_world_nsgs := {rule.sg | some rule in lib.azure_world_ingress}

azure_exposed_nics contains object.get(link.config, "network_interface_id", "") if {
	some link in lib.resources("azurerm_network_interface_security_group_association")
	id := object.get(link.config, "network_security_group_id", "")
	name := trim_suffix(trim_prefix(id, "${azurerm_network_security_group."), ".id}")
	sprintf("${azurerm_network_security_group.%s.name}", [name]) in azure_world_nsgs
}

azure_database_nics contains [vm, ref] if {
	some type in ["azurerm_linux_virtual_machine", "azurerm_windows_virtual_machine"]
	some vm in lib.resources(type)
	object.get(object.get(vm.config, "tags", {}), "tier", "") in database_tiers
	some ref in object.get(vm.config, "network_interface_ids", [])
}

findings contains {"resource": vm.address, "file": vm.file, "message": sprintf("database VM's NIC azurerm_network_interface.%s has a public IP address", [azure_nic_names[ref]])} if {
	some [vm, ref] in azure_database_nics
	azure_nic_names[ref] in azure_public_nics
}

findings contains {"resource": vm.address, "file": vm.file, "message": sprintf("database VM's NIC azurerm_network_interface.%s is in a network security group open to the world", [azure_nic_names[ref]])} if {
	some [vm, ref] in azure_database_nics
	ref in azure_exposed_nics
}

# Google Cloud: a database instance (labels.tier) with an external IP (an access_config block on
# a network interface), or reached by a world-open firewall rule that targets one of its network
# tags or every instance (no target_tags).
google_database_instances contains r if {
	some r in lib.resources("google_compute_instance")
	object.get(object.get(r.config, "labels", {}), "tier", "") in database_tiers
}

findings contains {"resource": r.address, "file": r.file, "message": "database instance has an external IP address (access_config)"} if {
	some r in google_database_instances
	some nic in object.get(r.config, "network_interface", [])
	count(object.get(nic, "access_config", [])) > 0
}

findings contains {"resource": r.address, "file": r.file, "message": sprintf("database instance is reached by %s, open to the world", [rule.address])} if {
	some r in google_database_instances
	some rule in lib.google_world_ingress
	_google_targets(rule, r)
}

_google_targets(rule, _) if count(rule.targets) == 0

_google_targets(rule, r) if {
	some tag in rule.targets
	tag in object.get(r.config, "tags", [])
}

# OpenStack: a database instance (metadata tier) whose port (network.port) has a floating IP
# (openstack_networking_floatingip_associate_v2.port_id) or is in a security group with a
# world-open rule, or with a floating IP associated to the instance itself
# (openstack_compute_floatingip_associate_v2.instance_id).
openstack_database_ports contains [vm, object.get(net, "port", "")] if {
	some vm in lib.resources("openstack_compute_instance_v2")
	object.get(object.get(vm.config, "metadata", {}), "tier", "") in database_tiers
	some net in object.get(vm.config, "network", [])
}

openstack_floating_ports := {object.get(a.config, "port_id", "") | some a in lib.resources("openstack_networking_floatingip_associate_v2")}

openstack_world_groups := {rule.sg | some rule in lib.openstack_world_ingress}

openstack_exposed_ports contains sprintf("${openstack_networking_port_v2.%s.id}", [port.name]) if {
	some port in lib.resources("openstack_networking_port_v2")
	some sg in object.get(port.config, "security_group_ids", [])
	sg in openstack_world_groups
}

findings contains {"resource": vm.address, "file": vm.file, "message": sprintf("database instance's port %s has a floating IP", [trim_suffix(trim_prefix(ref, "${"), "}")])} if {
	some [vm, ref] in openstack_database_ports
	ref in openstack_floating_ports
}

findings contains {"resource": vm.address, "file": vm.file, "message": sprintf("database instance's port %s is in a security group open to the world", [trim_suffix(trim_prefix(ref, "${"), "}")])} if {
	some [vm, ref] in openstack_database_ports
	ref in openstack_exposed_ports
}

findings contains {"resource": vm.address, "file": vm.file, "message": "database instance has a floating IP"} if {
	some vm in lib.resources("openstack_compute_instance_v2")
	object.get(object.get(vm.config, "metadata", {}), "tier", "") in database_tiers
	some a in lib.resources("openstack_compute_floatingip_associate_v2")
	object.get(a.config, "instance_id", "") == sprintf("${openstack_compute_instance_v2.%s.id}", [vm.name])
}
