"""Cutover and rollback runbooks for a wave of the terraform-azure target (PLAN.md).

The same order and quoting as the other runbooks (migrator/review/runbooks.py): clients stop
before their servers, servers come back first, every name passes through shlex. The commands
are the Azure CLI's (`az vm ...`) on the IDs the root module outputs; migrator never runs them.
"""

from __future__ import annotations

from migrator.review.runbooks import (
    Step,
    WaveView,
    _govc_power,
    _nc,
    _ports,
    _repoint,
    _source_checks,
    _tf_expected,
    q,
)

_VM_IDS = "$(terraform output -json vm_ids | jq -r '.[]')"


def azure_cutover(v: WaveView, files: dict[str, str]) -> list[Step]:
    plan_file = f"wave-{v.wave.number:02d}.tfplan"
    ip_of = "\"$(terraform output -json private_ips | jq -r --arg vm {vm} '.[$vm]')\""
    checks = [_nc(proto, ip_of.format(vm=q(vm)), port) for vm in v.placed for proto, port in _ports(v, vm)]
    return [
        Step(
            "Before the window: fill in the variables and give each VM its replicated disk as an image",
            [f"cd {q(v.folder)}", "cp terraform.tfvars.example terraform.tfvars"],
            [
                "Set `resource_group_name`, `subnet_ids`, `image_ids`, `disk_encryption_set_id` and "
                "`admin_ssh_public_key` in `terraform.tfvars` (the subscription from "
                "`ARM_SUBSCRIPTION_ID`; a Windows wave's `admin_password` from `TF_VAR_admin_password`, "
                "never a file); give each VM the image made from its replicated disk (Azure Migrate "
                "replication, or an uploaded VHD and `az image create`) in `image_overrides`. Sources "
                "that boot EFI need Generation 2 images (`linux-gen2`, `windows-gen2`).",
            ],
        ),
        Step(
            "Initialise and save the plan; review it",
            ["terraform init -input=false", f"terraform plan -input=false -out={plan_file}"],
            [f"Expect {_tf_expected(files)} resource(s) to add and nothing to change or destroy."],
        ),
        Step(
            "Stop the source VMs (clients before the servers they use), then take the final sync",
            _govc_power(v, list(reversed(v.placed)), "-s"),
        ),
        Step("Apply the saved plan", [f"terraform apply -input=false {plan_file}"]),
        Step(
            "Verify: VMs running and the observed ports answering",
            [
                "terraform output -json private_ips",
                f"az vm wait --created --ids {_VM_IDS}",
                f"az vm get-instance-view --ids {_VM_IDS} --query '[].instanceView.statuses[1].code'",
                *checks,
            ],
        ),
        _repoint(v, back=False),
    ]


def azure_rollback(v: WaveView) -> list[Step]:
    return [
        _repoint(v, back=True),
        Step(
            "Deallocate the new VMs so only one copy serves",
            [f"cd {q(v.folder)}", f"az vm deallocate --ids {_VM_IDS}"],
        ),
        Step("Power the source VMs back on (servers first)", _govc_power(v, v.placed, "-on")),
        Step("Verify the source VMs serve again", _source_checks(v) or ["# no observed ports to check"]),
        Step(
            "Only after the decision is final: remove the wave's Azure resources",
            [
                "terraform plan -destroy -input=false -out=destroy.tfplan",
                "terraform apply -input=false destroy.tfplan",
            ],
            ["Writes made on the new VMs since cutover are lost unless copied back first."],
        ),
    ]
