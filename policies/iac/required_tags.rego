# Traceability tags and labels present: Instances and volumes (EC2 instances and EBS volumes, Azure VMs and managed disks) carry Name, migration-wave, source-moref, source-uuid, app and env tags (Compute Engine instances and disks: the same as lowercase labels; OpenStack instances and volumes: as metadata); VirtualMachines carry the migration-wave label and the source annotations.
package migrator.iac.required_tags

import data.migrator.lib
import rego.v1

metadata := {
	"id": "IAC-REQUIRED-TAGS",
	"severity": "warning",
	"title": "Traceability tags and labels present",
	"description": "Instances and volumes (EC2 instances and EBS volumes, Azure VMs and managed disks) carry Name, migration-wave, source-moref, source-uuid, app and env tags (Compute Engine instances and disks: the same as lowercase labels; OpenStack instances and volumes: as metadata); VirtualMachines carry the migration-wave label and the source annotations.",
	"remediation": "Regenerate with migrator, or add the missing tags by hand.",
	"applies_to": ["terraform", "kubernetes"],
	"scope": "generated",
}

required := {"Name", "migration-wave", "source-moref", "source-uuid", "app", "env"}

findings contains {"resource": r.address, "file": r.file, "message": sprintf("missing tag %s", [tag])} if {
	some type in ["aws_instance", "aws_ebs_volume", "azurerm_linux_virtual_machine", "azurerm_windows_virtual_machine", "azurerm_managed_disk"]
	some r in lib.resources(type)
	some tag in required - present(r.config, "tags")
}

# The keys of the object `config[name]` ({} when it is absent or not an object, an expression such
# as `${local.tags}`: then every tag counts as missing, as object.keys' failure made it before).
# Computed once per resource, not once per required tag: the pack's costliest rule on a wave.
present(config, name) := {key |
	value := object.get(config, name, {})
	is_object(value)
	some key
	_ = value[key]
}

# GCE label keys are lowercase: `name` stands for Name
google_required := {"name", "migration-wave", "source-moref", "source-uuid", "app", "env"}

findings contains {"resource": r.address, "file": r.file, "message": sprintf("missing label %s", [label])} if {
	some type in ["google_compute_instance", "google_compute_disk"]
	some r in lib.resources(type)
	some label in google_required - present(r.config, "labels")
}

findings contains {"resource": r.address, "file": r.file, "message": sprintf("missing metadata %s", [key])} if {
	some type in ["openstack_compute_instance_v2", "openstack_blockstorage_volume_v3"]
	some r in lib.resources(type)
	some key in required - present(r.config, "metadata")
}

findings contains {"resource": sprintf("VirtualMachine/%s", [m.name]), "file": m.file, "message": "missing label migration-wave"} if {
	some m in lib.manifests("VirtualMachine")
	not "migration-wave" in object.keys(object.get(m.doc.metadata, "labels", {}))
}

findings contains {"resource": sprintf("VirtualMachine/%s", [m.name]), "file": m.file, "message": "missing annotation migrator.io/source-moref"} if {
	some m in lib.manifests("VirtualMachine")
	not "migrator.io/source-moref" in object.keys(object.get(m.doc.metadata, "annotations", {}))
}
