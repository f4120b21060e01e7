"""Human-readable output on stderr (rich)."""

from __future__ import annotations

import os
from contextlib import contextmanager

from rich.console import Console
from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

err_console = Console(stderr=True)
if not err_console.is_terminal:  # pipes and logs: wide enough that no column is cut
    err_console = Console(stderr=True, width=140)


def result_table(result, truth_seconds: list[float] | None = None) -> Table:
    t = Table(title="videosync: offsets relative to the reference", title_justify="left")
    t.add_column("video")
    t.add_column("offset s", justify="right")
    t.add_column("offset frames", justify="right")
    t.add_column("fps", justify="right")
    t.add_column("confidence", justify="right")
    t.add_column("status")
    if truth_seconds is not None:
        t.add_column("truth s", justify="right")
        t.add_column("error frames", justify="right")
    names = [v.path for v in result.videos]
    base = [os.path.basename(p) for p in names]
    if len(set(base)) == len(base):
        names = base
    for i, v in enumerate(result.videos):
        colour = {"reference": "cyan", "synced": "green", "low_confidence": "yellow"}[v.status]
        row = [
            names[i],
            f"{v.offset_seconds:+.4f}",
            f"{v.offset_frames:+.2f}",
            f"{v.fps:.3f}",
            f"{v.confidence:.2f}",
            f"[{colour}]{v.status}[/{colour}]",
        ]
        if truth_seconds is not None:
            row += [f"{truth_seconds[i]:+.4f}", f"{(v.offset_seconds - truth_seconds[i]) * v.fps:+.3f}"]
        t.add_row(*row)
    return t


def camera_notes(result) -> list[str]:
    """One line per video whose embedder reported something about it as a whole (e.g. a
    moving camera whose own motion ``motion`` took out)."""
    notes = []
    for path, details in (result.provenance.get("embeddings") or {}).items():
        cm = details.get("camera_motion") or {}
        share = cm.get("compensated_share", 0.0)
        if share > 0:
            notes.append(f"{os.path.basename(path)}: moving camera, its own motion taken out on "
                         f"{100 * share:.0f} % of frames")
    return notes


def pairs_table(result) -> Table:
    t = Table(title="pairs (offset of b with a as reference)", title_justify="left")
    for c in ("a", "b", "offset s", "confidence", "used"):
        t.add_column(c)
    for p in result.pairs:
        t.add_row(
            result.videos[p.a].path, result.videos[p.b].path, f"{p.offset_seconds:+.4f}",
            f"{p.confidence:.2f}", "yes" if p.used else "[yellow]no[/yellow]",
        )
    return t


@contextmanager
def progress_reporter(enabled: bool):
    """Yields a ``progress(stage, item, fraction)`` callback drawing bars on stderr."""
    if not enabled:
        yield None
        return
    bars = Progress(
        TextColumn("{task.description}"), BarColumn(), TextColumn("{task.percentage:>3.0f}%"),
        TimeElapsedColumn(), console=err_console, transient=True,
    )
    tasks: dict[tuple[str, str], int] = {}

    def update(stage: str, item: str, fraction: float) -> None:
        key = (stage, item if stage == "embed" else "")
        if key not in tasks:
            label = f"{stage} {item}" if stage == "embed" else "matching pairs"
            tasks[key] = bars.add_task(label[-60:], total=1.0)
        bars.update(tasks[key], completed=fraction)

    with bars:
        yield update
