# Database servers never publicly addressable: A VM of the database tier gets no public IP and no security group open to the world, on any port.
package migrator.iac.database_not_public

import data.migrator.lib
import rego.v1

metadata := {
	"id": "IAC-DATABASE-NOT-PUBLIC",
	"severity": "critical",
	"title": "Database servers never publicly addressable",
	"description": "A VM of the database tier gets no public IP and no security group open to the world, on any port.",
	"remediation": "Remove associate_public_ip_address and world-open rules from database instances.",
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
