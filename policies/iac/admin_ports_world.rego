# No admin ports open to the world: SSH, RDP, WinRM and telnet are never reachable from 0.0.0.0/0 or ::/0 (on Azure: from `*`, `Any` or `Internet`; on OpenStack also from a rule with no remote).
package migrator.iac.admin_ports_world

import data.migrator.lib
import rego.v1

metadata := {
	"id": "IAC-ADMIN-PORTS-WORLD",
	"severity": "critical",
	"title": "No admin ports open to the world",
	"description": "SSH, RDP, WinRM and telnet are never reachable from 0.0.0.0/0 or ::/0 (on Azure: from `*`, `Any` or `Internet`; on OpenStack also from a rule with no remote).",
	"remediation": "Admit the management network or a bastion's security group (on Azure: Azure Bastion or an application security group; on Google Cloud: Identity-Aware Proxy TCP forwarding, source range 35.235.240.0/20) instead of the world.",
	"applies_to": ["terraform"],
	"scope": "any",
}

findings contains {"resource": rule.address, "file": rule.file, "message": sprintf("port %d open to the world", [port])} if {
	some rule in lib.world_ingress
	some port in lib.admin_ports
	lib.admits(rule, port)
}
