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

# The map's sources as a set, once per Plan and kind (not once per VM's network or datastore).
mapped(plan, kind, ref) := {s | some s in sources(plan, kind, ref)}

findings contains {"resource": sprintf("Plan/%s", [p.name]), "file": p.file, "message": sprintf("network %s of VM %s is not in the NetworkMap", [use[1], use[0]])} if {
	some p in lib.manifests("Plan")
	uses := lib.forklift_uses(p, "network")
	absent := {u[1] | some u in uses} - mapped(p, "NetworkMap", "network")
	count(absent) > 0
	some use in uses
	use[1] in absent
}

findings contains {"resource": sprintf("Plan/%s", [p.name]), "file": p.file, "message": sprintf("datastore %s of VM %s is not in the StorageMap", [use[1], use[0]])} if {
	some p in lib.manifests("Plan")
	uses := lib.forklift_uses(p, "datastore")
	absent := {u[1] | some u in uses} - mapped(p, "StorageMap", "storage")
	count(absent) > 0
	some use in uses
	use[1] in absent
}
