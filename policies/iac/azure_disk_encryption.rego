# Azure disks encrypted with a key the customer holds: Every managed disk and VM OS disk names a disk encryption set (customer-managed key), or the VM encrypts at host; Azure's platform-managed default is not enough for migrated workloads.
package migrator.iac.azure_disk_encryption

import data.migrator.lib
import rego.v1

metadata := {
	"id": "IAC-AZURE-DISK-ENCRYPTION",
	"severity": "critical",
	"title": "Azure disks encrypted with a customer-managed key",
	"description": "Every managed disk and VM OS disk names a disk encryption set (customer-managed key), or the VM encrypts at host; Azure's platform-managed default is not enough for migrated workloads.",
	"remediation": "Set disk_encryption_set_id on azurerm_managed_disk and in each VM's os_disk (or encryption_settings on the disk, or encryption_at_host_enabled = true on the VM).",
	"applies_to": ["terraform"],
	"scope": "any",
}

vm_types := ["azurerm_linux_virtual_machine", "azurerm_windows_virtual_machine"]

keyed(config) if object.get(config, "disk_encryption_set_id", "") != ""

keyed(config) if object.get(config, "secure_vm_disk_encryption_set_id", "") != ""

settings_enabled(config) if {
	some s in object.get(config, "encryption_settings", [])
	object.get(s, "enabled", true) == true
}

findings contains {"resource": r.address, "file": r.file, "message": "managed disk has no customer-managed key (disk_encryption_set_id) nor encryption_settings"} if {
	some r in lib.resources("azurerm_managed_disk")
	not keyed(r.config)
	not settings_enabled(r.config)
}

findings contains {"resource": r.address, "file": r.file, "message": "OS disk has no customer-managed key (disk_encryption_set_id) and the VM does not encrypt at host"} if {
	some type in vm_types
	some r in lib.resources(type)
	object.get(r.config, "encryption_at_host_enabled", false) != true
	not keyed(lib.first_block(r.config, "os_disk"))
}
