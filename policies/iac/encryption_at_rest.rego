# EBS volumes encrypted: Every EBS volume, the root volume included, is encrypted.
package migrator.iac.encryption_at_rest

import data.migrator.lib
import rego.v1

metadata := {
	"id": "IAC-ENCRYPTION-AT-REST",
	"severity": "critical",
	"title": "EBS volumes encrypted",
	"description": "Every EBS volume, the root volume included, is encrypted.",
	"remediation": "Set encrypted = true (and kms_key_id) on aws_ebs_volume and in root_block_device.",
	"applies_to": ["terraform"],
}

findings contains {"resource": r.address, "file": r.file, "message": "EBS volume is not encrypted"} if {
	some r in lib.resources("aws_ebs_volume")
	object.get(r.config, "encrypted", false) != true
}

findings contains {"resource": r.address, "file": r.file, "message": "root volume is not encrypted"} if {
	some r in lib.resources("aws_instance")
	object.get(lib.first_block(r.config, "root_block_device"), "encrypted", false) != true
}

findings contains {"resource": r.address, "file": r.file, "message": "an ebs_block_device is not encrypted"} if {
	some r in lib.resources("aws_instance")
	some device in object.get(r.config, "ebs_block_device", [])
	object.get(device, "encrypted", false) != true
}
