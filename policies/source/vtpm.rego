# Virtual TPM: The VM has a virtual TPM; keys sealed to it (BitLocker, measured boot) do not move.
package migrator.source.vtpm

import rego.v1

metadata := {
	"id": "SRC-VTPM",
	"severity": "warning",
	"title": "Virtual TPM",
	"description": "The VM has a virtual TPM; keys sealed to it (BitLocker, measured boot) do not move.",
	"remediation": "Suspend BitLocker or re-seal keys before the move; enable a TPM on the target.",
	"vsphere_path": "config.hardware.device[VirtualTPM]",
	"targets": {
		"kubevirt": "Add spec.domain.devices.tpm with persistence after import; sealed keys are lost.",
		"terraform-aws": "Use an instance type and AMI with NitroTPM; sealed keys are lost.",
		"terraform-azure": "Secure boot and vTPM are set for EFI sources, but the source vTPM's sealed keys are lost.",
	},
}

findings := [{"vm": vm.name, "message": msg} |
	some vm in input.vms
	vm.vtpm == true
	msg := "virtual TPM present"
]
