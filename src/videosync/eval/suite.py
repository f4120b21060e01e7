"""The standard benchmark suite: the whole table the project publishes (BENCHMARKS.md).

``videosync bench --suite standard -o BENCHMARKS.md`` runs every entry of
:data:`STANDARD` in order and writes one Markdown file. Each entry says how its numbers
were produced; real data is read from ``--data-root`` (default ``../shared/data``),
synthetic worlds are rendered (and cached) under ``--cache``.
"""

from __future__ import annotations

import os
import platform
import time
from dataclasses import dataclass, field
from typing import Callable

from videosync.eval.benchmark import BenchReport, markdown, run_cropped, run_pairwise

Progress = Callable[[str], None] | None


@dataclass(frozen=True)
class SuiteEntry:
    title: str
    description: str
    run: Callable[[str, str, Progress], BenchReport | str]
    """(data_root, cache_dir, progress) → a report, or a string saying why it was skipped."""
    fractional: bool = False
    per_pair: bool = False
    options: dict = field(default_factory=dict)


def _available_embedders(names):
    from videosync.embed import EMBEDDERS

    out = []
    for n in names:
        cls = EMBEDDERS.get(n)
        if not hasattr(cls, "is_available") or cls.is_available():
            out.append(n)
    return out


ALL_EMBEDDERS = ("motion", "appearance", "pose")
ALL_PREDICTORS = ("lag", "argmax", "dtw", "naive")


def _visualsync(data_root, cache, progress):
    from videosync.eval.datasets import load_folder_scenes

    folder = os.path.join(data_root, "visualsync-dev")
    if not os.path.isdir(folder):
        return f"no data at {folder}"
    scenes = load_folder_scenes(folder)
    return run_pairwise(scenes, _available_embedders(ALL_EMBEDDERS), ALL_PREDICTORS, progress=progress)


def _caliscope(data_root, cache, progress):
    from videosync.eval.datasets import load_folder_scenes

    folder = os.path.join(data_root, "caliscope")
    if not os.path.isdir(folder):
        return f"no data at {folder}"
    scenes = load_folder_scenes(folder)
    return run_cropped(scenes, _available_embedders(ALL_EMBEDDERS), ALL_PREDICTORS, n_pairs=200,
                       max_offset_frames=12, clip_seconds=5.0, seed=0, leaky_crop=True, progress=progress)


STANDARD: list[SuiteEntry] = [
    SuiteEntry(
        "Real footage: visualsync-dev (whole clips, every camera pair)",
        "7 scenes × 3 cameras at 10 fps (CMU Panoptic, 3D-POP, EgoHumans; UDBD is synthetic). Labels are good "
        "to about ±1 frame. Offsets up to 14 s; some pairs overlap by only 3 frames.",
        _visualsync,
        per_pair=True,
    ),
    SuiteEntry(
        "Real footage: caliscope (equal-length crops with injected offsets, integrity rows)",
        "3 scenes × 4 webcams at 6 fps with per-frame capture times; 200 pairs of 5 s crops, offsets uniform in "
        "±12 frames, seed 0. Integrity rows: noise substitution (b replaced by noise of matching mean and "
        "variance: must fall to the naive level) and the leaky start-only crops of SeSyn-Net.",
        _caliscope,
    ),
]


def run_suite(entries, *, data_root: str, cache_dir: str, command: str, progress: Progress = None,
              json_out: list | None = None) -> str:
    """Run ``entries`` and return the Markdown document (entries' data appended to ``json_out``)."""
    from videosync import __version__

    started = time.perf_counter()
    parts = []
    for e in entries:
        t0 = time.perf_counter()
        result = e.run(data_root, cache_dir, progress)
        if isinstance(result, str):
            parts.append(f"## {e.title}\n\n{e.description}\n\nSkipped: {result}.\n")
            continue
        if json_out is not None:
            from videosync.eval.benchmark import to_json_dict

            json_out.append(to_json_dict(result, command=command, title=e.title))
        md = markdown(result, command=command, title=e.title, fractional=e.fractional, per_pair=e.per_pair)
        head, _, rest = md.partition("\n\n")
        parts.append(f"{head}\n\n{e.description} ({time.perf_counter() - t0:.0f} s)\n\n{rest}")
    total = time.perf_counter() - started
    header = [
        "# Benchmarks",
        "",
        "Written by `videosync bench --suite standard` only; every number below comes from that run of the",
        "committed code. The naive always-0 predictor is printed beside every result as the integrity",
        "baseline. Offsets follow the project convention (README).",
        "",
        f"Command: `{command}` — videosync {__version__}, Python {platform.python_version()}, "
        f"{os.cpu_count()} CPUs, {total / 60:.1f} min in all.",
        "",
    ]
    return "\n".join(header) + "\n" + "\n".join(parts)
