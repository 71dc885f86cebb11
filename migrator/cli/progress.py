"""A Rich progress bar with counts, on stderr so stdout stays parseable."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TaskID, TextColumn, TimeElapsedColumn

from migrator.vcenter.discovery import ProgressFn

_LABELS = {"infrastructure": "Reading clusters, hosts, networks", "vms": "Reading VMs"}


@contextmanager
def discovery_progress() -> Iterator[ProgressFn]:
    console = Console(stderr=True)
    with Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=console,
        transient=False,
        disable=not console.is_terminal,
    ) as progress:
        tasks: dict[str, TaskID] = {}

        def update(phase: str, done: int, total: int) -> None:
            if phase not in tasks:
                tasks[phase] = progress.add_task(_LABELS.get(phase, phase), total=total)
            progress.update(tasks[phase], completed=done, total=total)

        yield update
