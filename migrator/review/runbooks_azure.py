"""Cutover and rollback runbooks for a wave of the terraform-azure target (PLAN.md).

The same steps, order and quoting as the other Terraform targets (migrator/review/runbooks.py
`cloud_cutover`): clients stop before their servers, servers come back first, every name passes
through shlex. The commands are the Azure CLI's (`az vm ...`) on the IDs the root module
outputs; migrator never runs them.
"""

from __future__ import annotations

from migrator.review.runbooks import CloudCommands

_VM_IDS = "$(terraform output -json vm_ids | jq -r '.[]')"

AZURE = CloudCommands(
    name="Azure",
    prepare_title="Before the window: fill in the variables and give each VM its replicated disk as an image",
    prepare_note=(
        "Set `resource_group_name`, `subnet_ids`, `image_ids`, `disk_encryption_set_id` and "
        "`admin_ssh_public_key` in `terraform.tfvars` (the subscription from "
        "`ARM_SUBSCRIPTION_ID`; a Windows wave's `admin_password` from `TF_VAR_admin_password`, "
        "never a file); give each VM the image made from its replicated disk (Azure Migrate "
        "replication, or an uploaded VHD and `az image create`) in `image_overrides`. Sources "
        "that boot EFI need Generation 2 images (`linux-gen2`, `windows-gen2`)."
    ),
    verify_title="Verify: VMs running and the observed ports answering",
    verify=lambda v: [
        f"az vm wait --created --ids {_VM_IDS}",
        f"az vm get-instance-view --ids {_VM_IDS} --query '[].instanceView.statuses[1].code'",
    ],
    stop_title="Deallocate the new VMs so only one copy serves",
    stop=lambda v: [f"az vm deallocate --ids {_VM_IDS}"],
    destroy_note="Writes made on the new VMs since cutover are lost unless copied back first.",
)
