"""The click commands. Plug-in choices come from the registries, so a new plug-in
appears here with no change to this file."""

from __future__ import annotations

import ast
import json
import os
import sys

import click

from videosync.embed import EMBEDDERS
from videosync.export import EXPORTERS
from videosync.predict import PREDICTORS
from videosync.registry import parse_spec
from videosync.train import TRAINERS

SYNTH_KINDS = ("human", "humans", "objects", "pendulums", "pouring", "flock")


def _parse_kv(pairs: tuple[str, ...], what: str) -> dict:
    out = {}
    for item in pairs:
        key, sep, raw = item.partition("=")
        if not sep or not key:
            raise click.BadParameter(f"expected key=value, got {item!r}", param_hint=what)
        try:
            out[key.strip()] = ast.literal_eval(raw)
        except (ValueError, SyntaxError):
            out[key.strip()] = raw
    return out


def _load_scenes(dataset: str, data: str | None, cache: str | None, log):
    """Scenes of a named dataset: real ones from a folder, synthetic ones rendered (cached)."""
    from videosync.eval import DATASETS

    if dataset.startswith("synthetic-"):
        from videosync.eval.datasets import load_synthetic

        data = data or cache or os.path.join(os.path.expanduser("~"), ".cache", "videosync")
        return load_synthetic(dataset.split("-", 1)[1], data, progress=log)
    if data is None:
        data = {"visualsync": "../shared/data/visualsync-dev", "caliscope": "../shared/data/caliscope"}.get(dataset)
        if data is None:
            raise click.BadParameter("--data is required with --dataset folder", param_hint="--data")
    return DATASETS[dataset](data)


def _parse_pairs(text: str | None, n: int):
    if not text:
        return None
    out = []
    for chunk in text.split(","):
        a, sep, b = chunk.strip().partition("-")
        if not sep or not a.isdigit() or not b.isdigit():
            raise click.BadParameter(f"expected pairs like 0-1,0-2; got {chunk!r}", param_hint="--pairs")
        out.append((int(a), int(b)))
    return out


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="videosync", prog_name="videosync")
def cli() -> None:
    """Synchronize videos of one event filmed by different cameras.

    offset_seconds[cam]: the instant shown at time t in the reference video appears at
    time t + offset_seconds[cam] in cam's own timeline; the reference has 0.
    """


@cli.command()
@click.argument("videos", nargs=-1, required=True)
@click.option("-o", "--output", type=click.Path(dir_okay=False), help="Write the result here (format from the suffix; .json).")
@click.option("--embedder", type=click.Choice(EMBEDDERS.names()), default="motion", show_default=True)
@click.option("--predictor", type=click.Choice(PREDICTORS.names()), default="lag", show_default=True)
@click.option("--embed-arg", multiple=True, metavar="KEY=VALUE", help="Embedder parameter (repeatable).")
@click.option("--predict-arg", multiple=True, metavar="KEY=VALUE", help="Predictor parameter (repeatable).")
@click.option("--reference", default="0", show_default=True, help="Reference video: index or path as given.")
@click.option("--max-offset", type=float, default=None, metavar="SECONDS", help="Largest |offset| to consider (default: as far as the overlap rule allows).")
@click.option("--min-overlap", type=float, default=2.0, show_default=True, metavar="SECONDS", help="Least overlap a candidate offset must leave.")
@click.option("--metric", type=click.Choice(["cosine", "neg_sqeuclidean"]), default=None, help="Similarity metric (default: the embedder's).")
@click.option("--temperature", type=float, default=0.1, show_default=True, help="Softmax temperature.")
@click.option("--min-confidence", type=float, default=None, help="Confidence below which a camera is low_confidence.")
@click.option("--pairs", default=None, metavar="0-1,0-2", help="Only these pairs (indices in the order given).")
@click.option("--pairs-table", is_flag=True, help="Also print every pair.")
@click.option("--drift", is_flag=True, help="Also fit each camera's clock rate (drift_ppm) from windows along the overlap.")
@click.option("--cues", default="visual", show_default=True, metavar="visual,audio,pose,geometry",
              help="What to match on, fused per pair: visual (the embedder above), audio (the sound tracks), "
                   "pose (MediaPipe body pose), geometry (epipolar lines of moving points).")
@click.option("--solve", type=click.Choice(["peaks", "profiles"]), default="peaks", show_default=True,
              help="N-camera solve from each pair's answer, or from every pair's whole lag profile.")
@click.option("-q", "--quiet", is_flag=True, help="No table, no progress bars.")
def sync(videos, output, embedder, predictor, embed_arg, predict_arg, reference, max_offset, min_overlap,
         metric, temperature, min_confidence, pairs, pairs_table, drift, cues, solve, quiet):
    """Find every video's offset relative to the reference (default: the first)."""
    from videosync.cli._render import (camera_notes, err_console, pairs_table as ptable, progress_reporter,
                                       result_table)
    from videosync.export import write_result
    from videosync.pipeline import DEFAULT_MIN_CONFIDENCE, sync as run_sync

    if reference.isdigit():
        ref = int(reference)
        if ref >= len(videos):
            raise click.BadParameter(f"index {ref} but only {len(videos)} videos", param_hint="--reference")
    elif reference in videos:
        ref = list(videos).index(reference)
    else:
        raise click.BadParameter(f"{reference!r} is neither an index nor one of the videos", param_hint="--reference")
    show = not quiet and err_console.is_terminal
    with progress_reporter(show) as progress:
        result = run_sync(
            list(videos), embedder=embedder, predictor=predictor,
            embedder_params=_parse_kv(embed_arg, "--embed-arg"),
            predictor_params=_parse_kv(predict_arg, "--predict-arg"),
            reference=ref, pairs=_parse_pairs(pairs, len(videos)), metric=metric, temperature=temperature,
            max_offset_seconds=max_offset, min_overlap_seconds=min_overlap,
            min_confidence=DEFAULT_MIN_CONFIDENCE if min_confidence is None else min_confidence,
            progress=progress, drift=drift, cues=cues, solve=solve,
        )
    if output:
        write_result(result, output)
    else:
        click.echo(result.to_json())
    if not quiet:
        err_console.print(result_table(result))
        for note in camera_notes(result):
            err_console.print(note)
        if pairs_table:
            err_console.print(ptable(result))
        if drift:
            from videosync.cli._session import drift_summary

            err_console.print(drift_summary(result))


@cli.command()
@click.argument("video")
@click.option("--json", "as_json", is_flag=True, help="Print JSON instead of a table.")
def info(video, as_json):
    """Streams, frame rate (header and measured), duration, audio."""
    from rich.table import Table

    from videosync.io import probe

    i = probe(video, allow_audio_only=True)
    if as_json:
        click.echo(json.dumps(i.to_dict(), indent=2))
        return
    t = Table(show_header=False, title=video, title_justify="left")
    audio = ("audio", f"yes, {i.audio_sample_rate_hz} Hz, {i.audio_channels} ch" if i.has_audio else "no")
    if not i.has_video:
        rows = [("picture", "none: sound only (a recorder's file; matched with --cues audio)"),
                ("duration", f"{i.duration_seconds:.3f} s"), audio]
    else:
        rows = [
            ("codec", i.codec),
            ("size", f"{i.width}×{i.height}" + (f" (rotated {i.rotation_degrees}°)" if i.rotation_degrees else "")),
            ("fps (header)", "—" if i.fps_from_header is None else f"{i.fps_from_header:.4f}"),
            ("fps (measured)", f"{i.fps_from_content:.4f}" + ("  variable frame rate" if i.is_variable_frame_rate
                                                             else "")),
            ("frames (header / counted)", f"{i.num_frames_from_header or '—'} / {i.num_frames_from_content}"),
            ("duration", f"{i.duration_seconds:.3f} s"),
            ("first pts", f"{i.start_pts_seconds:.6f} s"),
            audio,
        ]
    for k, v in rows:
        t.add_row(k, v)
    from rich.console import Console

    Console().print(t)


@cli.command()
@click.option("--params", "show_params", is_flag=True,
              help="List each plug-in's parameters and defaults (for --embed-arg / --predict-arg).")
def plugins(show_params):
    """Every registered embedder, predictor and exporter."""
    import inspect

    from rich.console import Console
    from rich.markup import escape
    from rich.table import Table

    t = Table(title="videosync plug-ins", title_justify="left")
    for c in ("kind", "name", "available", "parameters (defaults)" if show_params else "summary"):
        t.add_column(c)
    for kind, reg in (("embedder", EMBEDDERS), ("predictor", PREDICTORS), ("exporter", EXPORTERS)):
        for name, summary, ok in reg.describe():
            last = summary
            if show_params:
                try:
                    defaults = reg.param_defaults(name)
                except ImportError:
                    defaults = None
                last = "(cannot import)" if defaults is None else escape(", ".join(
                    k if v is inspect.Parameter.empty else f"{k}={v!r}" for k, v in defaults.items()) or "(none)")
            t.add_row(kind, name, "yes" if ok else "[yellow]no (optional dependency missing)[/yellow]", last)
    Console(width=160).print(t)


@cli.command()
@click.option("--out", type=click.Path(file_okay=False), default=None, help="Keep the generated rig in this folder.")
@click.option("--cameras", type=click.IntRange(2, 12), default=4, show_default=True)
@click.option("--seed", type=int, default=0, show_default=True)
@click.option("--embedder", type=click.Choice(EMBEDDERS.names()), default="motion", show_default=True)
@click.option("--predictor", type=click.Choice(PREDICTORS.names()), default="lag", show_default=True)
def demo(out, cameras, seed, embedder, predictor):
    """Make a synthetic multi-camera rig, sync it, show truth vs found."""
    import tempfile

    import numpy as np

    from videosync.cli._render import err_console, progress_reporter, result_table
    from videosync.pipeline import sync as run_sync
    from videosync.testing import make_rig

    rng = np.random.default_rng(seed)
    offsets = [0.0] + [round(float(x), 4) for x in rng.uniform(-2.0, 2.0, size=cameras - 1)]
    fps = [30.0, 25.0, 30.0, 24.0, 60.0, 29.97][:cameras] + [30.0] * max(0, cameras - 6)
    with tempfile.TemporaryDirectory(prefix="videosync-demo-") as tmp:
        folder = out or tmp
        err_console.print(f"rendering a {cameras}-camera rig in {folder} ...")
        rig = make_rig(folder, n_cameras=cameras, offsets_seconds=offsets, fps=fps, duration_seconds=8.0,
                       size=(160, 96), seed=seed)
        with progress_reporter(err_console.is_terminal) as progress:
            result = run_sync(list(rig.paths), embedder=embedder, predictor=predictor, progress=progress)
        err_console.print(result_table(result, truth_seconds=list(rig.offsets_seconds)))
        errs = [abs(v.offset_seconds - t) * v.fps for v, t in zip(result.videos, rig.offsets_seconds)]
        err_console.print(
            f"largest error: {max(errs):.3f} frames; elapsed {result.provenance['elapsed_seconds']:.2f} s"
        )


@cli.command()
@click.option("--dataset", type=click.Choice(["visualsync", "caliscope", "folder"] + [f"synthetic-{k}" for k in SYNTH_KINDS]),
              default="visualsync", show_default=True,
              help="Reader for --data (folder: any sub-folders with truth.json; synthetic-*: rendered worlds, seeds 0-2).")
@click.option("--data", type=click.Path(file_okay=False), default=None,
              help="Dataset folder (default: ../shared/data/<visualsync-dev|caliscope>; synthetic: the render cache).")
@click.option("--embedder", "embedders", default="motion,appearance", show_default=True,
              help="Comma-separated; NAME:weights=PATH uses your own weights (any NAME:key=value).")
@click.option("--predictor", "predictors", default="lag,argmax,dtw,naive", show_default=True,
              help="Comma-separated; NAME:weights=PATH as for --embedder.")
@click.option("--protocol", type=click.Choice(["whole", "crops"]), default=None,
              help="whole: every camera pair as recorded; crops: pairs with injected offsets (equal-length crops). "
                   "Default: crops when --pairs is given or the dataset is synthetic, else whole.")
@click.option("--pairs", "n_pairs", type=int, default=None, help="crops: number of pairs (default 200).")
@click.option("--max-offset-frames", type=float, default=30, show_default=True, help="crops: offsets uniform in ±R frames.")
@click.option("--clip-seconds", type=float, default=8.0, show_default=True, help="crops: duration of each crop.")
@click.option("--fractional", is_flag=True, help="crops: real-valued offsets (sub-frame metrics).")
@click.option("--leaky-crop", is_flag=True, help="crops: add the start-only crop rows that reproduce the duration leak.")
@click.option("--seed", type=int, default=0, show_default=True)
@click.option("--min-overlap", type=float, default=2.0, show_default=True, metavar="SECONDS")
@click.option("--suite", type=click.Choice(["standard"]), default=None,
              help="Run the whole published suite (writes BENCHMARKS.md with -o).")
@click.option("--data-root", type=click.Path(file_okay=False), default="../shared/data", show_default=True,
              help="--suite: folder holding visualsync-dev/ and caliscope/.")
@click.option("--cache", type=click.Path(file_okay=False), default=None,
              help="--suite: where rendered synthetic worlds are cached (default: ~/.cache/videosync).")
@click.option("-o", "--output", type=click.Path(dir_okay=False), default=None, help="Also write the Markdown report here.")
@click.option("--json", "json_path", type=click.Path(dir_okay=False), default=None,
              help="Also write the results (summary rows and every pair) as JSON here.")
@click.option("--entry", "entry_filter", default=None, metavar="TEXT",
              help="With --suite: run only the entries whose title contains TEXT (case-insensitive).")
@click.option("--update", is_flag=True, help="With --suite and -o: replace only the sections run, keep the others.")
def bench(dataset, data, embedders, predictors, protocol, n_pairs, max_offset_frames, clip_seconds, fractional,
          leaky_crop, seed, min_overlap, suite, data_root, cache, output, json_path, entry_filter, update):
    """Measure embedders × predictors on scenes with known offsets (Markdown table on stdout)."""
    import shlex

    from videosync.cli._render import err_console
    from videosync.eval import markdown, run_cropped, run_pairwise
    from videosync.export import atomic_write

    args = sys.argv[2:] if sys.argv[1:2] == ["bench"] else []
    command = " ".join(["videosync bench", *(shlex.quote(a) for a in args)])
    log = (lambda m: err_console.log(m)) if err_console.is_terminal else None
    if suite:
        from videosync.eval.suite import STANDARD, run_suite

        cache = cache or os.path.join(os.path.expanduser("~"), ".cache", "videosync")
        entries = [e for e in STANDARD if not entry_filter or entry_filter.lower() in e.title.lower()]
        if not entries:
            raise click.BadParameter(f"no suite entry title contains {entry_filter!r}", param_hint="--entry")
        entries_json: list = []
        text = run_suite(entries, data_root=data_root, cache_dir=cache, command=command, progress=log,
                         json_out=entries_json)
        if output and os.path.isfile(output):
            from videosync.eval.suite import report_to_write

            with open(output) as f:
                text = report_to_write(f.read(), text, [e.title for e in STANDARD], update=update,
                                       whole_suite=len(entries) == len(STANDARD))
        if output:
            atomic_write(output, text.encode())
        if json_path:
            atomic_write(json_path, json.dumps({"suite": "standard", "entries": entries_json}, indent=1).encode())
        click.echo(text)
        return

    if protocol is None:
        protocol = "crops" if (n_pairs is not None or dataset.startswith("synthetic-")) else "whole"
    n_pairs = 200 if n_pairs is None else n_pairs
    scenes = _load_scenes(dataset, data, cache, log)
    emb = [e.strip() for e in embedders.split(",") if e.strip()]
    pred = [p.strip() for p in predictors.split(",") if p.strip()]
    for e in emb:  # a spec "name:key=value" (e.g. learned:weights=my.npz) gives a plug-in its params
        EMBEDDERS.get(parse_spec(e)[0])
    for p in pred:
        PREDICTORS.get(parse_spec(p)[0])
    if protocol == "whole":
        report = run_pairwise(scenes, emb, pred, min_overlap_seconds=min_overlap, progress=log)
    else:
        report = run_cropped(scenes, emb, pred, n_pairs=n_pairs, max_offset_frames=max_offset_frames,
                             clip_seconds=clip_seconds, seed=seed, fractional=fractional, leaky_crop=leaky_crop,
                             min_overlap_seconds=min_overlap, progress=log)
    title = f"{dataset} ({protocol})"
    text = markdown(report, command=command, title=title, fractional=fractional)
    if output:
        atomic_write(output, text.encode())
    if json_path:
        from videosync.eval.benchmark import to_json_dict

        atomic_write(json_path, json.dumps(to_json_dict(report, command=command, title=title), indent=1).encode())
    click.echo(text)


def _floats(text: str | None, name: str):
    if text is None:
        return None
    try:
        vals = [float(x) for x in text.split(",") if x.strip()]
    except ValueError:
        raise click.BadParameter(f"expected comma-separated numbers, got {text!r}", param_hint=name) from None
    return vals[0] if len(vals) == 1 else vals


@cli.command()
@click.option("--scene", default="human", show_default=True,
              help="human, humans, objects, pendulums, pouring or flock.")
@click.option("--cameras", type=click.IntRange(1, 64), default=4, show_default=True)
@click.option("--seconds", default="10", show_default=True, help="Length per camera (one value or one per camera).")
@click.option("--fps", default=None, help="Frame rates, e.g. 30,25,30,60 (default: 30,25,30,60 cycled).")
@click.option("--offsets", default=None, help="Offsets in seconds, first 0 (default: random from the seed).")
@click.option("--size", default="320x240", show_default=True, help="WIDTHxHEIGHT.")
@click.option("--seed", type=int, default=0, show_default=True)
@click.option("--moving-camera", is_flag=True, help="Cameras orbit and bob.")
@click.option("--motion-blur", type=int, default=0, show_default=True, help="Sub-frames averaged per frame (0: none).")
@click.option("--noise", type=float, default=0.01, show_default=True, help="Sensor noise (std, 0–1 scale).")
@click.option("--drop-frames", type=float, default=0.0, show_default=True, help="Fraction of frames dropped.")
@click.option("--drift-ppm", default=None, help="Clock drift per camera in ppm (one value or one per camera).")
@click.option("--audio", is_flag=True, help="Add an audio track with sounds at impacts.")
@click.option("--out", "out_dir", type=click.Path(file_okay=False), required=True, help="Output folder.")
def synth(scene, cameras, seconds, fps, offsets, size, seed, moving_camera, motion_blur, noise, drop_frames,
          drift_ppm, audio, out_dir):
    """Render a synthetic multi-camera world with exact truth (truth.json) — needs MuJoCo."""
    from videosync.cli._render import err_console
    from videosync.synth import SCENES, render_scene

    if scene not in SCENES:
        raise click.BadParameter(f"{scene!r}; choose from {', '.join(SCENES)}", param_hint="--scene")
    try:
        w, h = (int(v) for v in size.lower().split("x"))
    except ValueError:
        raise click.BadParameter(f"expected WIDTHxHEIGHT, got {size!r}", param_hint="--size") from None
    result = render_scene(
        out_dir, scene=scene, cameras=cameras, seconds=_floats(seconds, "--seconds"), fps=_floats(fps, "--fps"),
        offsets_seconds=_floats(offsets, "--offsets") if offsets else None, size=(w, h), seed=seed,
        moving_camera=moving_camera, motion_blur=motion_blur, sensor_noise=noise, drop_frames=drop_frames,
        drift_ppm=_floats(drift_ppm, "--drift-ppm"), audio=audio,
    )
    for cam, path, off in zip(result.cameras, result.paths, result.offsets_seconds):
        err_console.print(f"{cam}: {path}  offset {off:+.6f} s")
    click.echo(os.path.join(out_dir, "truth.json"))


@cli.command()
@click.argument("model", type=click.Choice(sorted(TRAINERS)))
@click.option("--dataset", type=click.Choice(["visualsync", "caliscope", "folder"] + [f"synthetic-{k}" for k in SYNTH_KINDS]),
              default="synthetic-objects", show_default=True, help="Scenes to train on (models that need a dataset).")
@click.option("--data", type=click.Path(file_okay=False), default=None, help="Dataset folder or render cache.")
@click.option("--embedder", default=None, help="Heads: the embedder whose similarity they read (default motion).")
@click.option("--pairs", "n_pairs", type=int, default=None, help="Heads: training pairs (default 400).")
@click.option("--max-offset-frames", type=int, default=None, help="Heads: offsets in ±R frames (default 30).")
@click.option("--clip-seconds", type=float, default=None, help="Heads: crop length (default 6).")
@click.option("--arg", "args_kv", multiple=True, metavar="KEY=VALUE", help="Trainer parameter (repeatable).")
@click.option("--seed", type=int, default=0, show_default=True)
@click.option("--out", type=click.Path(dir_okay=False), required=True, help="Weights file; the run card goes beside it (.json).")
def train(model, dataset, data, embedder, n_pairs, max_offset_frames, clip_seconds, args_kv, seed, out):
    """Train a learned plug-in; writes the weights and a run card beside them."""
    import shlex

    from videosync.cli._render import err_console
    from videosync.train import TrainRequest, run_trainer

    # progress on a terminal as rich log lines, else plain lines on stderr (a log file of a long run)
    log = (lambda m: err_console.log(m)) if err_console.is_terminal else (lambda m: click.echo(m, err=True))
    params = {k: v for k, v in (("embedder", embedder), ("n_pairs", n_pairs), ("max_offset_frames", max_offset_frames),
                                ("clip_seconds", clip_seconds)) if v is not None}
    params.update(_parse_kv(args_kv, "--arg"))
    args = sys.argv[2:] if sys.argv[1:2] == ["train"] else []
    request = TrainRequest(out=out, seed=seed, progress=log, params=params,
                           load_scenes=lambda: _load_scenes(dataset, data, None, log),
                           command=" ".join(["videosync train", *(shlex.quote(a) for a in args)]))
    card = run_trainer(model, request)
    click.echo(json.dumps(card, indent=2))

import videosync.cli._handoff  # noqa: E402,F401  (registers export and framemap on cli)
import videosync.cli._review  # noqa: E402,F401  (registers apply and review on cli)
import videosync.cli._session  # noqa: E402,F401  (registers session on cli)
