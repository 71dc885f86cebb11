# Google Cloud disks encrypted with a key the customer holds: Every google_compute_disk and every instance's boot disk names a Cloud KMS key (kms_key_self_link) or a customer-supplied key; Google's default encryption with Google-held keys is not enough for migrated workloads.
package migrator.iac.google_disk_encryption

import data.migrator.lib
import rego.v1

metadata := {
	"id": "IAC-GOOGLE-DISK-ENCRYPTION",
	"severity": "critical",
	"title": "Google Cloud disks encrypted with a customer-managed key",
	"description": "Every google_compute_disk and every instance's boot disk names a Cloud KMS key (kms_key_self_link) or a customer-supplied key; Google's default encryption with Google-held keys is not enough for migrated workloads.",
	"remediation": "Set disk_encryption_key { kms_key_self_link = ... } on google_compute_disk and kms_key_self_link in each instance's boot_disk (a boot disk attached by `source` is judged as its own google_compute_disk).",
	"applies_to": ["terraform"],
	"scope": "any",
}

key_fields := ["kms_key_self_link", "raw_key", "rsa_encrypted_key", "disk_encryption_key_raw", "disk_encryption_key_rsa"]

keyed(config) if {
	some field in key_fields
	object.get(config, field, "") != ""
}

findings contains {"resource": r.address, "file": r.file, "message": "disk has no customer-managed key (disk_encryption_key with kms_key_self_link)"} if {
	some r in lib.resources("google_compute_disk")
	not keyed(lib.first_block(r.config, "disk_encryption_key"))
}

findings contains {"resource": r.address, "file": r.file, "message": "boot disk has no customer-managed key (kms_key_self_link)"} if {
	some r in lib.resources("google_compute_instance")
	boot := lib.first_block(r.config, "boot_disk")
	object.get(boot, "source", "") == ""
	not keyed(boot)
}
