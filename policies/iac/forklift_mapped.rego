# Forklift maps cover the wave: Every network a NIC of the wave's VMs is on is in the Plan's NetworkMap, and every datastore holding one of their disks is in its StorageMap.
package migrator.iac.forklift_mapped

import data.migrator.lib
import rego.v1

metadata := {
	"id": "IAC-FORKLIFT-MAPPED",
	"severity": "critical",
	"title": "Forklift maps cover the wave",
	"description": "Every network a NIC of the wave's VMs is on is in the Plan's NetworkMap, and every datastore holding one of their disks is in its StorageMap.",
	"remediation": "Add the source network or datastore to the map the Plan names (spec.map), or regenerate the wave.",
	"applies_to": ["kubernetes"],
	"scope": "generated",
}

# The source references (id, else name) of the map of this kind that the Plan references (none when it is not in the wave).
sources(plan, kind, ref) := [s |
	some m in lib.manifests(kind)
	m.name == object.get(object.get(plan.doc.spec, "map", {}), ref, {}).name
	some entry in object.get(m.doc.spec, "map", [])
	s := object.get(entry.source, "id", object.get(entry.source, "name", ""))
]

findings contains {"resource": sprintf("Plan/%s", [p.name]), "file": p.file, "message": sprintf("network %s of VM %s is not in the NetworkMap", [use[1], use[0]])} if {
	some p in lib.manifests("Plan")
	some use in lib.forklift_uses(p, "network")
	not use[1] in sources(p, "NetworkMap", "network")
}

findings contains {"resource": sprintf("Plan/%s", [p.name]), "file": p.file, "message": sprintf("datastore %s of VM %s is not in the StorageMap", [use[1], use[0]])} if {
	some p in lib.manifests("Plan")
	some use in lib.forklift_uses(p, "datastore")
	not use[1] in sources(p, "StorageMap", "storage")
}
