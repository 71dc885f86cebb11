"""`migrator size --cloud ...`: each VM's one need priced on several clouds side by side, with
totals per cloud and the licensing each cloud's price cannot show (docs/size.md)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from migrator.app.inventory import SizingResult, size_snapshot
from migrator.app.workspace import Workspace
from migrator.errors import UsageError
from waves.clouds import CLOUDS, choice, cloud_totals
from waves.sizing import SizingParameters

if TYPE_CHECKING:
    from waves.flavors import FlavorCatalogue


def parse_clouds(text: str) -> tuple[str, ...]:
    """`aws,azure,gcp[,openstack]` in the order given, each once; an unknown name is a UsageError."""
    names = [part.strip().lower() for part in text.split(",") if part.strip()]
    unknown = [name for name in names if name not in CLOUDS]
    if unknown or not names:
        shown = repr(unknown[0]) if unknown else "nothing"
        raise UsageError(f"{{cloud}} {shown}: use one or more of {', '.join(CLOUDS)}", field="cloud")
    return tuple(dict.fromkeys(names))


@dataclass(frozen=True)
class CloudComparison:
    sizing: SizingResult
    clouds: tuple[str, ...]
    rows: list[dict[str, Any]]  # one per VM: its sizing plus `clouds`: cloud -> choice
    totals: dict[str, Any]  # cloud -> monthly, currency, priced, no_fit, catalogue

    def as_dict(self) -> dict[str, Any]:
        """`size --cloud ... --format json` (docs/size.md)."""
        doc = self.sizing.as_dict()
        return {**doc, "clouds": list(self.clouds), "cloud_totals": self.totals, "vms": self.rows}


def compare_clouds(
    ws: Workspace,
    params: SizingParameters,
    clouds: Sequence[str],
    flavors_file: str | None = None,
    snapshot: int | None = None,
) -> CloudComparison:
    """Size every VM of a snapshot once and show the choice and price on each cloud asked for;
    OpenStack needs the user's flavor file (prices only if the file has them)."""
    flavors = _flavors(clouds, flavors_file)
    result = size_snapshot(ws, params, snapshot)
    rows = [{**s, "clouds": {c: choice(s, c, flavors) for c in clouds}} for s in result.vms]
    return CloudComparison(result, tuple(clouds), rows, cloud_totals(rows, clouds, flavors))


def _flavors(clouds: Sequence[str], flavors_file: str | None) -> FlavorCatalogue | None:
    if "openstack" not in clouds:
        if flavors_file is not None:
            raise UsageError("{flavors} is for {cloud} openstack", field=("flavors", "cloud"))
        return None
    if flavors_file is None:
        raise UsageError(
            "{cloud} openstack needs {flavors} FILE: your cloud's flavor catalogue (docs/targets.md)",
            field=("cloud", "flavors"),
        )
    from waves.flavors import load_flavors  # YAML and jsonschema only for OpenStack

    return load_flavors(flavors_file)
