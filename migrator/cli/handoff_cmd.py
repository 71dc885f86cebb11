"""`migrator handoff`: the hand-off files completed with what exists only after apply (docs/handoff.md)."""

from __future__ import annotations

from pathlib import Path

import typer
from rich.console import Console

from migrator.app.handoff import MgnHandoffRequest, mgn_import
from migrator.atomic import atomic_write_text

app = typer.Typer(
    help="Hand-off files for the tools that move the VMs, completed after apply.", no_args_is_help=True
)

_WAVE = typer.Option(..., "--wave", help="The wave number.")
_TF_OUTPUT = typer.Option(
    ..., "--terraform-output", help="`terraform output -json` of the wave's Terraform, after apply (a file)."
)
_OUT = typer.Option(Path("migration"), "--out", help="The folder `migrator plan --out` wrote.")
_OUTPUT = typer.Option(None, "-o", "--output", help="Write to this file instead of stdout.")


@app.command("mgn")
def mgn(
    wave: int = _WAVE,
    terraform_output: Path = _TF_OUTPUT,
    out: Path = _OUT,
    output: Path = _OUTPUT,
) -> None:
    """The wave's MGN import CSV with real subnet and security group IDs from its Terraform outputs."""
    result = mgn_import(MgnHandoffRequest(wave, terraform_output, out))
    if output is None:
        typer.echo(result.csv_text, nl=False)
        return
    atomic_write_text(output, result.csv_text)
    Console(stderr=True, highlight=False).print(
        f"wrote {result.rows} servers, {result.filled} IDs filled in, to {output}", markup=False
    )
