"""`migrator estate ...`: the vCenters of a multi-vCenter estate (docs/scale.md#multi-vcenter-estates)."""

from __future__ import annotations

from pathlib import Path

import typer

from migrator.app.estates import (
    VCenterDefinition,
    add_vcenter,
    estate_duplicates,
    list_vcenters,
    remove_vcenter,
)
from migrator.app.identities import cli_actor
from migrator.cli.context import state
from migrator.cli.output import Format, render

app = typer.Typer(
    help="The vCenters of the estate: add, list, remove; duplicates across them.", no_args_is_help=True
)
COLUMNS = [
    ("name", "Name"),
    ("server", "Server"),
    ("user", "User"),
    ("password_env", "Password env"),
    ("password_file", "Password file"),
    ("created_at", "Added (UTC)"),
]
DUPLICATE_COLUMNS = [("kind", "Kind"), ("key", "Key"), ("value", "Value"), ("where", "VMs (vCenter/moref)")]
WHO_OPTION = typer.Option(None, "--who", help="Your name in the audit log [default: the login name].")


@app.command("add")
def add(
    ctx: typer.Context,
    name: str = typer.Argument(..., help="The estate's name for this vCenter, e.g. prod-vc-01."),
    server: str = typer.Option(..., "--server", help="vCenter URL or host name (https and /sdk by default)."),
    user: str = typer.Option(..., "--user", help="A read-only vCenter account."),
    password_env: str = typer.Option(
        None, "--password-env", help="NAME of the environment variable that will hold the password."
    ),
    password_file: Path = typer.Option(
        None, "--password-file", help="File (mode 600) that will hold the password, read at discovery."
    ),
    insecure: bool = typer.Option(False, "--insecure", help="Do not verify the TLS certificate (labs only)."),
    thumbprint: str = typer.Option(None, "--thumbprint", help="Pin the certificate by SHA-256 fingerprint."),
    ca_file: Path = typer.Option(None, "--ca-file", dir_okay=False, help="Trust this CA bundle."),
    who: str = WHO_OPTION,
) -> None:
    """Add a vCenter to the estate; only where its password is read is stored, never the password."""
    definition = VCenterDefinition(
        name, server, user, password_env, password_file, insecure, thumbprint, ca_file
    )
    added = add_vcenter(state(ctx), definition, cli_actor(who))
    typer.echo(f"vCenter {added['name']} ({added['server']}) added to the estate")


@app.command("list")
def list_cmd(
    ctx: typer.Context, fmt: Format = typer.Option(Format.table, "--format", help="table, json or csv.")
) -> None:
    """The estate's vCenters (never a password)."""
    render(list_vcenters(state(ctx)), COLUMNS, fmt, title="Estate")


@app.command("remove")
def remove(
    ctx: typer.Context, name: str = typer.Argument(..., help="The vCenter's name."), who: str = WHO_OPTION
) -> None:
    """Remove a vCenter from the estate; its earlier snapshots stay."""
    removed = remove_vcenter(state(ctx), name, cli_actor(who))
    typer.echo(f"vCenter {removed['name']} removed from the estate")


@app.command("duplicates")
def duplicates_cmd(
    ctx: typer.Context,
    snapshot: int = typer.Option(
        None, "--snapshot", help="Estate snapshot id [default: the latest complete one]."
    ),
    fmt: Format = typer.Option(Format.table, "--format", help="table, json or csv."),
) -> None:
    """VMs that may be one machine counted twice (same instance UUID in several vCenters, same
    BIOS UUID), and VMs moved between vCenters since the previous estate snapshot. Never merged."""
    found = estate_duplicates(state(ctx), snapshot)
    rows = [
        {**f, "where": [f"{vm['name']} ({vm['vcenter']}/{vm['moref']})" for vm in f["vms"]]} for f in found
    ]
    render(rows, DUPLICATE_COLUMNS, fmt, title="Duplicates across vCenters", json_payload=found)
