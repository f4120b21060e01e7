"""Commands that turn a saved result into things to look at: ``apply`` (synced copies) and
``review`` (an HTML page, optional PNG plots).

Registered on the ``videosync`` group by one import line at the end of ``_app.py``.
Saved results are read with :func:`videosync.cli._handoff._load_result`.
"""

from __future__ import annotations

import json
import os
from contextlib import contextmanager

import click

from videosync.cli._app import cli
from videosync.cli._handoff import _load_result, corrections_option


@contextmanager
def _bars(enabled: bool, what: str):
    """``progress(item, fraction)`` drawing one bar per item on stderr (rich)."""
    if not enabled:
        yield None
        return
    from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn

    from videosync.cli._render import err_console

    bars = Progress(TextColumn("{task.description}"), BarColumn(), TextColumn("{task.percentage:>3.0f}%"),
                    TimeElapsedColumn(), console=err_console, transient=True)
    tasks: dict[str, int] = {}

    def update(item: str, fraction: float) -> None:
        if item not in tasks:
            tasks[item] = bars.add_task(f"{what} {os.path.basename(item)}"[-60:], total=1.0)
        bars.update(tasks[item], completed=fraction)

    with bars:
        yield update


@cli.command()
@click.argument("result_json", metavar="SYNC_JSON", type=click.Path(dir_okay=False))
@click.option("--out", "out_dir", required=True, type=click.Path(file_okay=False), help="Folder for the synced copies.")
@click.option("--span", type=click.Choice(["union", "overlap"]), default="union", show_default=True,
              help="union: from the earliest instant any camera shows; overlap: only what every camera shows.")
@click.option("--timing", type=click.Choice(["frames", "exact"]), default="frames", show_default=True,
              help="frames: every output starts with a frame at 0 (black lead-in); "
                   "exact: exact timestamps, gaps as container start offsets.")
@click.option("--crf", type=click.IntRange(0, 51), default=18, show_default=True, help="Quality of re-encoded cameras.")
@click.option("--preset", default="medium", show_default=True, help="x264 preset of re-encoded cameras.")
@click.option("--json", "as_json", is_flag=True, help="Also print what was done as JSON on stdout.")
@click.option("-q", "--quiet", is_flag=True, help="No table, no progress bars.")
@corrections_option
def apply(result_json, out_dir, span, timing, crf, preset, as_json, quiet, corrections):
    """Write every camera onto one timeline: stream copy where possible, re-encode otherwise."""
    from dataclasses import asdict

    from rich.table import Table

    from videosync.apply import apply_sync
    from videosync.cli._render import err_console

    result = _load_result(result_json, corrections)
    with _bars(not quiet and err_console.is_terminal, "re-encoding") as progress:
        done = apply_sync(result, out_dir, span=span, timing=timing, crf=crf, preset=preset,
                          base_dir=os.path.dirname(os.path.abspath(result_json)), progress=progress)
    if as_json:
        d = asdict(done)
        for o, out in zip(d["outputs"], done.outputs):
            o["residual_frames"] = out.residual_frames
        click.echo(json.dumps(d, indent=2))
    if quiet:
        return
    t = Table(title=f"videosync apply: timeline zero = reference time {done.timeline_zero_seconds:+.4f} s "
                    f"({span}), {done.duration_seconds:.3f} s long, in {out_dir}", title_justify="left")
    for c in ("output", "method", "why", "first frame", "frames", "black lead-in", "starts at s", "residual frames"):
        t.add_column(c, justify="right" if c not in ("output", "method", "why") else "left")
    for o in done.outputs:
        colour = "green" if o.method == "copy" else "yellow"
        t.add_row(os.path.basename(o.output), f"[{colour}]{o.method}[/{colour}]", o.reason, str(o.first_frame_index), str(o.n_frames),
                  str(o.pad_frames), f"{o.start_seconds:.4f}", f"{o.residual_frames:+.3f}")
    err_console.print(t)


@cli.command()
@click.argument("result_json", metavar="SYNC_JSON", type=click.Path(dir_okay=False))
@click.option("-o", "--output", type=click.Path(dir_okay=False), default=None,
              help="The HTML page to write (media it needs go beside it).")
@click.option("--proxies", type=click.Choice(["auto", "always", "never"]), default="auto", show_default=True,
              help="auto: small H.264 proxies only for videos a browser cannot play as they are.")
@click.option("--plot", "plot_dir", type=click.Path(file_okay=False), default=None,
              help="Also write PNG figures (lag curve and similarity matrix per pair) into this folder.")
@corrections_option
def review(result_json, output, proxies, plot_dir, corrections):
    """Write a review page: every camera playing in sync, lag curves, nudges you can save."""
    from videosync.cli._render import err_console
    from videosync.corrections import load_corrections

    if output is None and plot_dir is None:
        raise click.UsageError("nothing to write: give -o PAGE.html and/or --plot DIR")
    result = _load_result(result_json)
    if output:
        from videosync.review import write_review

        corr = load_corrections(corrections) if corrections else None
        with _bars(err_console.is_terminal, "proxy") as progress:
            page = write_review(result, output, corrections=corr, proxies=proxies, progress=progress)
        for m in page.media:
            err_console.print(f"{os.path.basename(m.source)}: {'[yellow]proxy[/yellow] ' if m.proxy else ''}{m.src}  ({m.reason})")
        err_console.print(f"videosync: wrote {output}; open it in a browser")
    if plot_dir:
        from videosync.plots import write_plots

        result = _load_result(result_json, corrections)
        for p in write_plots(result, plot_dir):
            err_console.print(f"videosync: wrote {p}")
