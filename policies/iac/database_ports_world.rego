# No database ports open to the world: Database and cache ports (SQL Server, Oracle, MySQL, PostgreSQL, MongoDB, Redis, ...) are never reachable from the world (0.0.0.0/0, ::/0; on Azure also `*`, `Any`, `Internet`; on OpenStack also a rule with no remote).
package migrator.iac.database_ports_world

import data.migrator.lib
import rego.v1

metadata := {
	"id": "IAC-DATABASE-PORTS-WORLD",
	"severity": "critical",
	"title": "No database ports open to the world",
	"description": "Database and cache ports (SQL Server, Oracle, MySQL, PostgreSQL, MongoDB, Redis, ...) are never reachable from the world (0.0.0.0/0, ::/0; on Azure also `*`, `Any`, `Internet`; on OpenStack also a rule with no remote).",
	"remediation": "Admit the application tier's security group (on Azure: its application security group; on Google Cloud: a firewall rule with its network tag in source_tags) instead.",
	"applies_to": ["terraform"],
	"scope": "any",
}

findings contains {"resource": rule.address, "file": rule.file, "message": sprintf("database port %d open to the world", [port])} if {
	some rule in lib.world_ingress
	some port in lib.database_ports
	lib.admits(rule, port)
}
