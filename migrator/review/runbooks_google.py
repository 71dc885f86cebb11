"""Cutover and rollback runbooks for a wave of the terraform-google target (PLAN.md).

The same order and quoting as the other runbooks (migrator/review/runbooks.py): clients stop
before their servers, servers come back first, every name passes through shlex. The commands
are the Google Cloud CLI's (`gcloud compute instances ...`) on the names the root module
writes; migrator never runs them.
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


def google_cutover(v: WaveView, files: dict[str, str]) -> list[Step]:
    plan_file = f"wave-{v.wave.number:02d}.tfplan"
    ip_of = "\"$(terraform output -json private_ips | jq -r --arg vm {vm} '.[$vm]')\""
    checks = [_nc(proto, ip_of.format(vm=q(vm)), port) for vm in v.placed for proto, port in _ports(v, vm)]
    return [
        Step(
            "Before the window: fill in the variables and give each VM its replicated disk as an image",
            [f"cd {q(v.folder)}", "cp terraform.tfvars.example terraform.tfvars"],
            [
                "Set `project`, `zone`, `network`, `subnetworks`, `images` and `kms_key_self_link` in "
                "`terraform.tfvars` (credentials from `gcloud auth application-default login` or "
                "`GOOGLE_APPLICATION_CREDENTIALS`, never a file in the repository); give each VM the "
                "image made from its replicated disk (Migrate to Virtual Machines, or an imported "
                "disk and `gcloud compute images create`) in `image_overrides`. Sources that boot "
                "EFI become shielded VMs: their images must be UEFI-compatible.",
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
            "Verify: instances running and the observed ports answering",
            [
                "terraform output -json private_ips",
                "gcloud compute instances list --filter="
                + q(f"labels.migration-wave={v.wave.number}")
                + " --format='value(name,status)'",
                *checks,
            ],
        ),
        _repoint(v, back=False),
    ]


def google_rollback(v: WaveView) -> list[Step]:
    zone = '"$(terraform output -raw zone)"'
    wave = q(f"labels.migration-wave={v.wave.number}")
    return [
        _repoint(v, back=True),
        Step(
            "Stop the new instances so only one copy serves",
            [
                f"cd {q(v.folder)}",
                f"gcloud compute instances list --filter={wave} --format='value(name)' | "
                f"xargs -r gcloud compute instances stop --zone {zone}",
            ],
        ),
        Step("Power the source VMs back on (servers first)", _govc_power(v, v.placed, "-on")),
        Step("Verify the source VMs serve again", _source_checks(v) or ["# no observed ports to check"]),
        Step(
            "Only after the decision is final: remove the wave's Google Cloud resources",
            [
                "terraform plan -destroy -input=false -out=destroy.tfplan",
                "terraform apply -input=false destroy.tfplan",
            ],
            ["Writes made on the new instances since cutover are lost unless copied back first."],
        ),
    ]
