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

from videosync.eval import audio_suite, fractional_pose
from videosync.eval import session_suite
from videosync.eval import geometric_suite, handheld_suite
from videosync.eval.benchmark import BenchReport, markdown, run_cropped, run_pairwise
from videosync.eval.sesyn_suite import SESYN_DESCRIPTION, SESYN_TITLE, sesyn_entry

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


ALL_EMBEDDERS = ("motion", "appearance", "pose", "learned")
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


def _synthetic(kinds, seeds, *, seconds=10.0, crops=True, fractional=False, n_pairs=200, max_offset_frames=30,
               clip_seconds=6.0, leaky=False, pairwise=False, embedders=ALL_EMBEDDERS, predictors=ALL_PREDICTORS):
    """An entry runner over rendered worlds (MuJoCo), cached under ``cache_dir/synth``."""

    def run(data_root, cache, progress):
        from videosync.eval.datasets import synth_unavailable

        why = synth_unavailable()
        if why:
            return why
        from videosync.eval.datasets import load_synthetic

        scenes = []
        for kind in kinds:
            scenes += load_synthetic(kind, cache, seeds=seeds, seconds=seconds, progress=progress)
        emb = _available_embedders(embedders)
        if pairwise:
            return run_pairwise(scenes, emb, predictors, progress=progress)
        return run_cropped(scenes, emb, predictors, n_pairs=n_pairs, max_offset_frames=max_offset_frames,
                           clip_seconds=clip_seconds, seed=0, fractional=fractional, leaky_crop=leaky,
                           progress=progress)

    return run


def _heads(data_root, cache, progress):
    """VideoSync's learned heads, trained here on two caliscope scenes, tested on the third."""
    import numpy as np

    from videosync.eval.benchmark import Outcome, embed_scenes
    from videosync.eval.datasets import load_folder_scenes
    from videosync.eval.pairs import make_pairs, noise_like, split_by_scene
    from videosync.io import probe
    from videosync.predict import PREDICTORS, SearchRange
    from videosync.similarity import SimilarityMatrix

    folder = os.path.join(data_root, "caliscope")
    if not os.path.isdir(folder):
        return f"no data at {folder}"
    scenes = load_folder_scenes(folder)
    train_s, val_s, test_s = split_by_scene(scenes, (0.67, 0.0, 0.33), seed=0)
    test_s = test_s or val_s
    R, clip = 12, 5.0
    report = BenchReport()
    durations = {p: probe(p).duration_seconds for s in scenes for p in s.paths}
    report.video_seconds = sum(durations.values())
    t0 = time.perf_counter()
    cache_e = embed_scenes(scenes, "motion", progress)
    report.embed_seconds["motion"] = time.perf_counter() - t0

    def sims(scs, n, seed):
        pairs = make_pairs(scs, durations, n_pairs=n, max_offset_frames=R, clip_seconds=clip, seed=seed)
        by = {s.name: s for s in scs}
        out = []
        for p in pairs:
            s = by[p.scene]
            a, b = p.apply(cache_e[s.paths[p.a]], cache_e[s.paths[p.b]])
            out.append((p, s, a, b))
        return out

    train = sims(train_s, 300, 0)
    test = sims(test_s, 150, 1)
    train_sims = [SimilarityMatrix(a, b) for _, _, a, b in train]
    train_steps = np.array([p.truth_seconds / sm.step_seconds for (p, _, _, _), sm in zip(train, train_sims)])
    heads = []
    for name, params in (("logreg", {}), ("svr", {}), ("mlp", {}), ("cnn", {"epochs": 15})):
        cls = PREDICTORS.get(name)
        if hasattr(cls, "is_available") and not cls.is_available():
            report.skipped.append(f"predictor {name}: optional dependency missing")
            continue
        if progress:
            progress(f"train {name}")
        t0 = time.perf_counter()
        heads.append((name, PREDICTORS.create(name, max_offset_frames=R, **params).fit(train_sims, train_steps)))
        report.predict_seconds[f"{name} (training)"] = time.perf_counter() - t0
    from videosync.registry import _available

    # our head with its shipped weights (trained on rendered worlds, not on caliscope)
    heads += [(n, PREDICTORS.create(n)) for n in ("lag", "profile", "naive") if _available(PREDICTORS.get(n))]
    rng = np.random.default_rng(1)
    for cond, noise in (("equal crops", False), ("noise-substituted", True)):
        for p, s, a, b in test:
            bb = noise_like(b, rng) if noise else b
            sm = SimilarityMatrix(a, bb)
            for name, h in heads:
                est = h.predict(sm, SearchRange(max_offset_seconds=(R + 1) / p.fps, min_overlap_seconds=2.0))
                report.outcomes.append(Outcome(
                    "caliscope (held-out scene)", cond, "motion", name, s.name, s.cameras[p.a], s.cameras[p.b],
                    p.truth_seconds, est.offset_seconds, est.confidence, p.fps))
    return report


def _confidence(data_root, cache, progress):
    """Mixed positive/negative pairs on the bench's worlds and on caliscope: is confidence useful?"""
    from videosync.eval.confidence import run_confidence
    from videosync.eval.datasets import load_folder_scenes, load_synthetic
    from videosync.predict import PREDICTORS
    from videosync.registry import _available

    datasets = {}
    try:
        from videosync.synth import available

        if available()[0]:
            scenes = []
            for kind in ("human", "humans", "objects", "pendulums", "pouring", "flock"):
                scenes += load_synthetic(kind, cache, seeds=(0,), progress=progress)
            datasets["synthetic (6 kinds, seed 0)"] = (scenes, 30, 6.0)
    except ImportError:  # pragma: no cover - the package ships synth
        pass
    folder = os.path.join(data_root, "caliscope")
    if os.path.isdir(folder):
        datasets["caliscope"] = (load_folder_scenes(folder), 12, 5.0)
    if not datasets:
        return "neither MuJoCo rendering nor caliscope data available"
    preds = [p for p in ("lag", "profile") if _available(PREDICTORS.get(p))]
    return run_confidence(datasets, ["motion"], preds, n_positive=200, negative_fraction=0.3, seed=0,
                          progress=progress)


STANDARD: list[SuiteEntry] = [
    SuiteEntry(
        "Real footage: visualsync-dev (whole clips, every camera pair)",
        "7 scenes × 3 cameras at 10 fps (CMU Panoptic, 3D-POP, EgoHumans; UDBD is synthetic). Labels are good "
        "to about ±1 frame. Offsets up to 14 s; some pairs overlap by only 3 frames.",
        _visualsync,
        per_pair=True,
    ),
    SuiteEntry(geometric_suite.REAL_TITLE, geometric_suite.REAL_DESCRIPTION, geometric_suite.run_real, per_pair=True),
    SuiteEntry(geometric_suite.SYNTH_TITLE, geometric_suite.SYNTH_DESCRIPTION, geometric_suite.run_synthetic,
               fractional=True, per_pair=True),
    SuiteEntry(handheld_suite.TITLE, handheld_suite.DESCRIPTION, handheld_suite.entry, fractional=True),
    SuiteEntry(
        "Real footage: caliscope (equal-length crops with injected offsets, integrity rows)",
        "3 scenes × 4 webcams at 6 fps with per-frame capture times; 200 pairs of 5 s crops, offsets uniform in "
        "±12 frames, seed 0. Integrity rows: noise substitution (b replaced by noise of matching mean and "
        "variance: must fall to the naive level) and the leaky start-only crops of SeSyn-Net.",
        _caliscope,
    ),
    SuiteEntry(
        "Learned heads: VideoSync's logreg, svr, mlp and cnn, trained in this run, and our profile head "
        "(caliscope, scene held out)",
        "Trained on 300 equal-length crop pairs (5 s, ±12 frames) from two caliscope scenes (embedder motion, "
        "the reference input: row softmax at temperature 1, zero-padded to 256×256, 25 classes; mlp: the "
        "reference's 2048/1024/512 layers, sklearn adam with early stopping; cnn: 15 epochs at most, best "
        "held-out-pair weights kept), tested on 150 pairs of the third scene beside lag, naive and our profile "
        "head (its shipped weights, trained on rendered worlds only; it answers at lag's peak and gives its own "
        "confidence), with the noise-substitution rows.",
        _heads,
    ),
    SuiteEntry(
        "Synthetic: one person (MuJoCo humanoid, equal-length crops, integrity rows)",
        "3 rendered worlds (seeds 0–2) × 4 cameras around one humanoid with smooth non-periodic motion, "
        "10 s each at 30/25/30/60 fps, different viewpoints; 300 pairs of 6 s crops, offsets uniform in "
        "±30 frames, seed 0; noise-substitution and leaky-crop rows.",
        _synthetic(["human"], [0, 1, 2], n_pairs=300, leaky=True),
    ),
    SuiteEntry(
        "Synthetic: several people (equal-length crops)",
        "2 rendered worlds × 4 cameras, several humanoids; 200 pairs of 6 s crops, ±30 frames.",
        _synthetic(["humans"], [0, 1], n_pairs=200),
    ),
    SuiteEntry(SESYN_TITLE, SESYN_DESCRIPTION, sesyn_entry),
    SuiteEntry(
        "Synthetic: no people (objects, pendulums, pouring, flock; equal-length crops)",
        "4 rendered worlds (one per kind, seed 0) × 4 cameras; 300 pairs of 6 s crops, ±30 frames.",
        _synthetic(["objects", "pendulums", "pouring", "flock"], [0], n_pairs=300,
                   embedders=("motion", "appearance", "learned")),
    ),
    SuiteEntry(
        "Synthetic: fractional offsets (whole rendered clips)",
        "Every camera pair of the worlds above as rendered: real-valued offsets (±2 s) between cameras at "
        "different frame rates (30/25/30/60 fps), so the truth is sub-frame by construction. Errors are in "
        "the frames of the pair's reference camera.",
        _synthetic(["human", "objects", "pendulums", "pouring", "flock"], [0], pairwise=True,
                   embedders=("motion", "appearance")),
        fractional=True,
    ),
    SuiteEntry(fractional_pose.TITLE, fractional_pose.DESCRIPTION, fractional_pose.run, fractional=True),
    SuiteEntry(
        "Confidence: mixed positive and negative pairs (AUROC, errors among accepted, reliability)",
        "Positives: 200 equal-length crop pairs per dataset (synthetic: one world of each kind, seed 0, 6 s crops, "
        "±30 frames; caliscope: 5 s, ±12 frames), searched over ±(R+1) frames. Negatives: 30 % more pairs whose "
        "crops come from two different scenes (nothing to find). A right answer is within 1 frame; every "
        "negative counts as wrong. Accepted: confidence ≥ 0.5 (the pipeline's default).",
        _confidence,
    ),
    SuiteEntry(session_suite.TITLE, session_suite.DESCRIPTION, session_suite.session_entry),
    SuiteEntry(audio_suite.TITLE, audio_suite.DESCRIPTION, audio_suite.entry),
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
        if hasattr(result, "to_json"):  # a table of its own (e.g. the confidence entry)
            if json_out is not None:
                json_out.append(result.to_json(title=e.title, command=command))
            head, _, rest = result.markdown(title=e.title, command=command).partition("\n\n")
            parts.append(f"{head}\n\n{e.description} ({time.perf_counter() - t0:.0f} s)\n\n{rest}")
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
        "Written by `videosync bench --suite standard` only: the whole suite, or some entries with",
        "`--entry TEXT --update` (which replaces just those sections); every section names the command",
        "that produced it, and every number comes from that run of the committed code. The naive",
        "always-0 predictor is printed beside every result as the integrity baseline. Offsets follow",
        "the project convention (README).",
        "",
        f"Last run: `{command}` — videosync {__version__}, Python {platform.python_version()}, "
        f"{os.cpu_count()} CPUs, {total / 60:.1f} min.",
        "",
    ]
    return "\n".join(header) + "\n" + "\n".join(parts)


def _sections(md: str) -> tuple[str, dict[str, str]]:
    """(text before the first '## ' heading, {heading title: section text})."""
    head, sections, title, buf = [], {}, None, []
    for line in md.splitlines(keepends=True):
        if line.startswith("## "):
            if title is not None:
                sections[title] = "".join(buf)
            title, buf = line[3:].strip(), [line]
        elif title is None:
            head.append(line)
        else:
            buf.append(line)
    if title is not None:
        sections[title] = "".join(buf)
    return "".join(head), sections


STANDALONE_PREFIX = "Standalone: "


def merge_reports(old_md: str, new_md: str, order: list[str]) -> str:
    """``old_md`` with the sections of ``new_md`` put in (same title: replaced), in the suite's
    ``order``; the header is the new one. Sections of titles no longer in the suite are dropped,
    except those titled ``Standalone: ...`` (benchmarks run by their own command, such as
    :mod:`videosync.eval.throughput`), which are kept after the suite's, in their old order."""
    _, old = _sections(old_md)
    header, new = _sections(new_md)
    parts = [new.get(t) or old.get(t) for t in order]
    parts += [old[t] for t in old if t.startswith(STANDALONE_PREFIX) and t not in order]
    return header + "\n".join(p.rstrip("\n") + "\n" for p in parts if p)


def report_to_write(old_md: str | None, new_md: str, order: list[str], *, update: bool, whole_suite: bool) -> str:
    """What ``videosync bench --suite standard -o FILE`` writes over FILE's ``old_md`` (None:
    no file yet): with ``update``, the old file with the sections run replaced
    (:func:`merge_reports`); after the whole suite, the new report plus the old file's
    ``Standalone: ...`` sections (their own commands made them; a suite run must not drop
    them); else the new report alone."""
    if old_md is not None and (update or whole_suite):
        return merge_reports(old_md, new_md, order)
    return new_md
