"""Cutover and rollback runbooks for a wave of the terraform-google target (PLAN.md).

The same steps, order and quoting as the other Terraform targets (migrator/review/runbooks.py
`cloud_cutover`): clients stop before their servers, servers come back first, every name passes
through shlex. The commands are the Google Cloud CLI's (`gcloud compute instances ...`) on the
names the root module writes; migrator never runs them.
"""

from __future__ import annotations

from migrator.review.runbooks import CloudCommands, WaveView, q

_ZONE = '"$(terraform output -raw zone)"'


def _wave_filter(v: WaveView) -> str:
    return q(f"labels.migration-wave={v.wave.number}")


GOOGLE = CloudCommands(
    name="Google Cloud",
    prepare_title="Before the window: fill in the variables and give each VM its replicated disk as an image",
    prepare_note=(
        "Set `project`, `zone`, `network`, `subnetworks`, `images` and `kms_key_self_link` in "
        "`terraform.tfvars` (credentials from `gcloud auth application-default login` or "
        "`GOOGLE_APPLICATION_CREDENTIALS`, never a file in the repository); give each VM the "
        "image made from its replicated disk (Migrate to Virtual Machines, or an imported "
        "disk and `gcloud compute images create`) in `image_overrides`. Sources that boot "
        "EFI become shielded VMs: their images must be UEFI-compatible."
    ),
    verify_title="Verify: instances running and the observed ports answering",
    verify=lambda v: [
        f"gcloud compute instances list --filter={_wave_filter(v)} --format='value(name,status)'"
    ],
    stop_title="Stop the new instances so only one copy serves",
    stop=lambda v: [
        f"gcloud compute instances list --filter={_wave_filter(v)} --format='value(name)' | "
        f"xargs -r gcloud compute instances stop --zone {_ZONE}"
    ],
    destroy_note="Writes made on the new instances since cutover are lost unless copied back first.",
)
