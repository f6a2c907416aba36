"""The progress bar of long commands (imports): shown on a terminal, silent otherwise."""

from __future__ import annotations

import sys
from collections.abc import Callable

from rich.progress import BarColumn, MofNCompleteColumn, Progress, TaskID, TextColumn, TimeElapsedColumn

Report = Callable[[str, int, "int | None"], None]


def import_progress(prefix: str = "") -> tuple[Progress, Report]:
    """A rich Progress (a context manager) and the `progress(phase, done, total)` callback the importer calls."""
    progress = Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        transient=True,
        disable=not sys.stderr.isatty(),
    )
    tasks: dict[str, TaskID] = {}

    def report(phase: str, done: int, total: int | None) -> None:
        if phase not in tasks:
            label = {
                "download": "downloading (bytes)",
                "validate": "validating",
                "write": "writing",
                "link": "linking copies across sources",
            }.get(phase, phase)
            tasks[phase] = progress.add_task(prefix + label, total=total)
        progress.update(tasks[phase], completed=done, total=total)

    return progress, report
