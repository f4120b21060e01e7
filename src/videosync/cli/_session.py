"""``videosync session SHOOT/ -o session.json``: every clip of a shoot on one timeline.

Registered on the ``videosync`` group by one import line at the end of ``_app.py``. Also holds
:func:`drift_summary`, the lines ``videosync sync --drift`` prints under its table.
"""

from __future__ import annotations

import os

import click
from rich.table import Table

from videosync.cli._app import _parse_kv, cli
from videosync.embed import EMBEDDERS
from videosync.predict import PREDICTORS


def drift_summary(result) -> str:
    """One line per camera: its clock rate against the reference and the window fit's residual."""
    fits = result.provenance.get("drift", {}).get("fits", {})
    measured = result.provenance.get("drift", {}).get("rate_measured", {})
    lines = ["clock drift (cam τ = offset + (1 + drift_ppm·1e-6)·t_ref):"]
    for v in result.videos:
        if v.status == "reference":
            continue
        fit = next((f for k, f in fits.items() if k.endswith(f" ~ {v.path}") or k.startswith(f"{v.path} ~ ")), None)
        if not measured.get(v.path, False):
            lines.append(f"  {v.path}: not measured (needs ≥ 3 agreeing windows of a confident pair)")
            continue
        extra = ""
        if fit is not None:
            res = fit.get("residual_seconds")
            extra = f", window residual {res * 1000:.1f} ms" if res is not None else ""
            extra += f", {fit['inliers']}/{fit['windows']} windows agree"
        lines.append(f"  {v.path}: {v.drift_ppm:+.1f} ppm{extra}")
    return "\n".join(lines)


def session_table(result, reviews=None) -> Table:
    """The clips; with ``reviews`` (from ``--review``), the review page of each clip that has one."""
    t = Table(title="videosync session: clips on the session timeline", title_justify="left")
    for c, j in (("camera", "left"), ("clip", "left"), ("start s", "right"), ("drift ppm", "right"),
                 ("confidence", "right"), ("status", "left"), ("note", "left")):
        t.add_column(c, justify=j)
    colour = {"synced": "green", "low_confidence": "yellow", "unsynced": "red"}
    pages = {r.clip: r.page for r in reviews or () if r.page}
    for cam in result.cameras:
        for c in cam.clips:
            note = c.details.get("reason") or c.details.get("error") or ""
            if c.path in pages:
                note = f"{note}; review: {pages[c.path]}" if note else f"review: {pages[c.path]}"
            t.add_row(
                cam.name, os.path.basename(c.path),
                "—" if c.start_seconds is None else f"{c.start_seconds:.3f}",
                f"{c.drift_ppm:+.1f}", f"{c.confidence:.2f}",
                f"[{colour[c.status]}]{c.status}[/{colour[c.status]}]", note,
            )
    return t


@cli.command()
@click.argument("shoot", type=click.Path(exists=True, file_okay=False))
@click.option("-o", "--output", type=click.Path(dir_okay=False), help="Write the session JSON here (default: stdout).")
@click.option("--embedder", type=click.Choice(EMBEDDERS.names()), default="motion", show_default=True)
@click.option("--predictor", type=click.Choice(PREDICTORS.names()), default="lag", show_default=True)
@click.option("--embed-arg", multiple=True, metavar="KEY=VALUE", help="Embedder parameter (repeatable).")
@click.option("--predict-arg", multiple=True, metavar="KEY=VALUE", help="Predictor parameter (repeatable).")
@click.option("--drift", is_flag=True, help="Fit one clock rate per camera (windows along long overlaps).")
@click.option("--min-confidence", type=click.FloatRange(0, 1), default=0.5, show_default=True,
              help="A placed clip below this is low_confidence.")
@click.option("--min-overlap", type=float, default=2.0, show_default=True, metavar="SECONDS",
              help="Least overlap a candidate offset must leave.")
@click.option("--prune-seconds", type=float, default=300.0, show_default=True, metavar="SECONDS",
              help="Skip pairs whose record starts (time code / creation_time) are farther apart than their "
                   "spans plus this; a clip left with no match is then tried against every other camera's clips.")
@click.option("--no-prune", is_flag=True, help="Measure every pair of clips from different cameras.")
@click.option("--cues", default="visual,metadata", show_default=True, metavar="LIST",
              help="What to match on, comma-separated: visual (the embedder), audio (the sound tracks, fused "
                   "with the picture per pair; sound-only files such as a recorder's .wav become clips), "
                   "metadata (record starts: order, pruning, placing what no pair places).")
@click.option("--review", "review", is_flag=True,
              help="Mark what needs a human: a review page per low_confidence clip against the clip it was "
                   "matched to, in <output>_review/ (session_review/ without -o), listed after the table.")
@click.option("-q", "--quiet", is_flag=True, help="No table, no progress bars.")
def session(shoot, output, embedder, predictor, embed_arg, predict_arg, drift, min_confidence, min_overlap,
            prune_seconds, no_prune, cues, review, quiet):
    """Place every clip of SHOOT/<camera>/<clips...> on one session timeline.

    A clip's local time τ shows the session instant start_seconds + rate·τ; start_seconds is
    null for an unsynced clip (kept, never dropped). Session zero: the earliest synced clip.
    """
    from videosync.cli._render import err_console, progress_reporter
    from videosync.export import atomic_write
    from videosync.session import sync_session

    show = not quiet and err_console.is_terminal
    with progress_reporter(show) as progress:
        result = sync_session(
            shoot, embedder=embedder, predictor=predictor,
            embedder_params=_parse_kv(embed_arg, "--embed-arg"),
            predictor_params=_parse_kv(predict_arg, "--predict-arg"),
            drift=drift, min_confidence=min_confidence, min_overlap_seconds=min_overlap,
            prune_seconds=None if no_prune else prune_seconds, cues=cues, progress=progress,
        )
    text = result.to_json()
    if output:
        atomic_write(output, (text + "\n").encode())
    else:
        click.echo(text)
    reviews = None
    if review:
        from videosync.session_review import write_session_review

        folder = os.path.splitext(output)[0] + "_review" if output else "session_review"
        reviews = write_session_review(result, folder)
    if not quiet:
        err_console.print(session_table(result, reviews))
        n = result.counts()
        err_console.print(f"{n['synced']} synced, {n['low_confidence']} low_confidence, {n['unsynced']} unsynced; "
                          f"{result.provenance['pairs_measured']} of {result.provenance['pairs_possible']} "
                          f"cross-camera pairs measured")
    if reviews is not None:
        _print_reviews(reviews, folder)


def _print_reviews(reviews, folder: str) -> None:
    """What needs a human: one line per low_confidence clip (always printed: it is what was asked)."""
    from videosync.cli._render import err_console

    if not reviews:
        err_console.print("review: no clip needs a human (none is low_confidence)")
        return
    pages = sum(1 for r in reviews if r.page)
    err_console.print(f"review: {len(reviews)} clip(s) need a human; {pages} page(s) in {folder}/")
    for r in reviews:
        where = r.page if r.page else "no page"
        off = "" if r.offset_seconds is None else f" (offset {r.offset_seconds:+.3f} s)"
        err_console.print(f"  {r.camera}/{os.path.basename(r.clip)}: {where}{off} — {r.note}")
