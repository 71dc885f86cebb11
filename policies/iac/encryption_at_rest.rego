# EBS volumes encrypted: Every EBS volume, the root volume included, is encrypted, by its own setting or by the region's encryption by default.
package migrator.iac.encryption_at_rest

import data.migrator.lib
import rego.v1

metadata := {
	"id": "IAC-ENCRYPTION-AT-REST",
	"severity": "critical",
	"title": "EBS volumes encrypted",
	"description": "Every EBS volume, the root volume included, is encrypted, by its own setting or by the region's encryption by default.",
	"remediation": "Set encrypted = true (and kms_key_id) on aws_ebs_volume, in root_block_device and in launch templates' block_device_mappings, or enable aws_ebs_encryption_by_default.",
	"applies_to": ["terraform"],
	"scope": "any",
}

# aws_ebs_encryption_by_default in the same folder encrypts every volume that does not say
# otherwise; a setting made outside the folder cannot be seen (docs/validate.md).
by_default := true if {
	some d in lib.resources("aws_ebs_encryption_by_default")
	object.get(d.config, "enabled", true) == true
} else := false

unencrypted(config) if {
	object.get(config, "encrypted", by_default) != true
}

findings contains {"resource": r.address, "file": r.file, "message": "EBS volume is not encrypted"} if {
	some r in lib.resources("aws_ebs_volume")
	unencrypted(r.config)
}

# An instance started from a launch template without a root_block_device of its own takes the
# template's block devices (judged below).
findings contains {"resource": r.address, "file": r.file, "message": "root volume is not encrypted"} if {
	some r in lib.resources("aws_instance")
	not from_template_only(r)
	unencrypted(lib.first_block(r.config, "root_block_device"))
}

from_template_only(r) if {
	count(object.get(r.config, "launch_template", [])) > 0
	count(object.get(r.config, "root_block_device", [])) == 0
}

findings contains {"resource": r.address, "file": r.file, "message": "an ebs_block_device is not encrypted"} if {
	some r in lib.resources("aws_instance")
	some device in object.get(r.config, "ebs_block_device", [])
	unencrypted(device)
}

findings contains {"resource": r.address, "file": r.file, "message": "a launch template's EBS block device is not encrypted"} if {
	some r in lib.resources("aws_launch_template")
	some mapping in object.get(r.config, "block_device_mappings", [])
	some ebs in object.get(mapping, "ebs", [])
	unencrypted(ebs)
}
