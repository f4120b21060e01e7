"""Bench entries for geometric sync (issue 5): landmarks + epipolar beside motion + lag and naive.

Two entries of the standard suite (``landmarks`` + ``epipolar`` for people; ``tracks`` +
``epilines`` for any moving things, background geometry from SIFT matches):

* real footage (``visualsync-dev``): every camera pair of every scene, whole clips, per
  dataset; plus the N-camera rows, where each scene's pairs are solved jointly
  (:func:`videosync.multiview.profiles.solve_with_profiles`, using every pair's whole
  profile) and each pair is scored by the solved offsets' difference;
* synthetic moving cameras: rendered ``human`` worlds with ``moving_camera=True`` (seeds
  50–52, 3 cameras at 15 fps, 8 s; cached under the bench cache), the same rows; and
  ``objects`` worlds (no people) with the same settings, without the landmark rows.

The cost of each method per scene (embedding, decode included, and matching) is printed
as notes under the entry.
"""

from __future__ import annotations

import os
import time
from typing import Callable

import numpy as np

from videosync.eval.benchmark import BenchReport, Outcome
from videosync.eval.datasets import Scene

Progress = Callable[[str], None] | None

# (row label for the embedder, registry name, params) x (predictor label, name, params)
_METHODS_REAL = [
    ("landmarks", "landmarks", {}, "epipolar", "epipolar", {}),
    ("landmarks", "landmarks", {}, "epipolar (pairing by geometry only)", "epipolar", {"appearance": False}),
    ("tracks", "tracks", {}, "epilines", "epilines", {}),
    ("motion", "motion", {}, "lag", "lag", {}),
    ("motion (compensate=on)", "motion", {"compensate": "on"}, "lag", "lag", {}),
    ("motion", "motion", {}, "naive", "naive", {}),
]
_METHODS_SYNTH = [
    ("landmarks", "landmarks", {"people": 1}, "epipolar", "epipolar", {}),
    ("landmarks", "landmarks", {"people": 1}, "epipolar (1 s windows)", "epipolar", {"window_seconds": 1.0}),
    ("tracks", "tracks", {}, "epilines", "epilines", {}),
    ("tracks (0.25 s key frames)", "tracks", {"key_seconds": 0.25}, "epilines (per key-frame pair)", "epilines",
     {"geometry": "moving"}),
    ("motion", "motion", {}, "lag", "lag", {}),
    ("motion (compensate=on)", "motion", {"compensate": "on"}, "lag", "lag", {}),
    ("motion", "motion", {}, "naive", "naive", {}),
]
# worlds without people: no landmark rows
_METHODS_SYNTH_OBJECTS = [m for m in _METHODS_SYNTH if m[1] != "landmarks"]

REAL_TITLE = "Real footage: visualsync-dev, geometric sync (landmarks + epipolar) beside motion + lag"
REAL_DESCRIPTION = (
    "The visualsync-dev scenes (10 fps; labels good to about ±1 frame), every camera pair, whole clips. "
    "`landmarks`: MediaPipe pose, up to 3 people per frame (trackers on masked frames), each with the mean "
    "colour of torso and thighs, cached per file. "
    "`epipolar`: per candidate offset, a fundamental matrix fitted (MSAC) on the time-aligned correspondences "
    "of half the frames, scored by the median Sampson distance of the other half's fastest-moving points; "
    "people paired between views per frame by clothes colour (in units of each camera's own spread), then "
    "geometry ('pairing by geometry only': without the colours). N-camera rows: each scene's three pairs solved jointly, each "
    "pair then scored by the solved offsets: 'peaks' = the robust IRLS solve of the pairs' answers (as `sync` runs it: several starts), "
    "'profiles' = the profile-aware solve (other peaks of a pair's profile may win by agreeing). "
    "`tracks` + `epilines` (no people needed): background SIFT matches between the views (ratio test, MAGSAC) "
    "give F, and each offset is scored by how close the epipolar lines of one view's moving KLT points pass to "
    "the other view's moving points (chance-normalised, trimmed mean)."
)
SYNTH_TITLE = "Synthetic: moving cameras (landmarks + epipolar, whole clips)"
SYNTH_DESCRIPTION = (
    "3 rendered worlds (`human`, seeds 50–52, `moving_camera=True`: cameras orbit, zoom and pan with a little "
    "shake) × 3 cameras at 15 fps, 8 s, 320×240, random real-valued offsets within ±1.6 s; every pair, whole "
    "clips, plus the N-camera rows (peaks / profiles). Errors are in frames at 15 fps. Also 3 `objects` worlds "
    "(no people; same settings) with the `tracks` + `epilines` rows (background F, moving KLT points), "
    "once with the defaults (1 s key frames, geometry decided from the data) and once with key frames every "
    "0.25 s and one F per key-frame pair."
)


def _run(scenes: list[Scene], methods, progress: Progress) -> BenchReport:
    from videosync.embed import EMBEDDERS
    from videosync.io import probe
    from videosync.multiview import PairMeasurement
    from videosync.multiview.solve import solve_robust
    from videosync.multiview.profiles import solve_with_profiles
    from videosync.predict import PREDICTORS, SearchRange
    from videosync.similarity import SimilarityMatrix

    report = BenchReport()
    report.video_seconds = float(sum(probe(p).duration_seconds for s in scenes for p in s.paths))
    search = SearchRange(min_overlap_seconds=2.0)
    cache: dict[tuple, dict[str, object]] = {}
    cost: dict[str, float] = {}
    for emb_label, emb_name, emb_params, pred_label, pred_name, pred_params in methods:
        cls = EMBEDDERS.get(emb_name)
        if hasattr(cls, "is_available") and not cls.is_available():
            report.skipped.append(f"embedder {emb_name}: optional dependency missing")
            continue
        key = (emb_name, tuple(sorted(emb_params.items())))
        if key not in cache:
            emb = EMBEDDERS.create(emb_name, **emb_params)
            t0 = time.perf_counter()
            cache[key] = {}
            for s in scenes:
                for p in s.paths:
                    if progress:
                        progress(f"embed {emb_name} {p}")
                    cache[key][p] = emb.embed_video(p)
            report.embed_seconds[emb_label] = time.perf_counter() - t0
        pred = PREDICTORS.create(pred_name, **pred_params)
        label = f"{emb_label}+{pred_label}"
        t0 = time.perf_counter()
        for s in scenes:
            if progress:
                progress(f"{label} {s.name}")
            n = len(s.paths)
            measured, profiles, truths = [], [], []
            for i in range(n):
                for j in range(i + 1, n):
                    e = cache[key]
                    est = pred.predict(SimilarityMatrix(e[s.paths[i]], e[s.paths[j]]), search)
                    fps = s.fps or 1.0 / float(np.median(np.diff(e[s.paths[i]].times_seconds)))
                    report.outcomes.append(Outcome(
                        s.dataset, "whole clips", emb_label, pred_label, s.name, s.cameras[i], s.cameras[j],
                        s.relative_offset(i, j), est.offset_seconds, est.confidence, fps))
                    measured.append(PairMeasurement(i, j, est.offset_seconds, est.confidence))
                    profiles.append(None if est.scores is None else (est.lags_seconds, est.scores))
                    truths.append((i, j, fps))
            if pred_name != "naive" and n >= 3:
                tol = max(0.15, 1.5 / (s.fps or 10.0))
                solved = {
                    "N-camera (peaks)": solve_robust(n, measured, tolerance_seconds=tol).offsets_seconds,
                    "N-camera (profiles)": solve_with_profiles(n, measured, profiles, tolerance_seconds=tol)
                    .solution.offsets_seconds,
                }
                for cond, x in solved.items():
                    for (i, j, fps), m in zip(truths, measured):
                        report.outcomes.append(Outcome(
                            s.dataset, cond, emb_label, pred_label, s.name, s.cameras[i],
                            s.cameras[j], s.relative_offset(i, j), float(x[j] - x[i]), m.confidence, fps))
        cost[label] = time.perf_counter() - t0
        report.predict_seconds[pred_label] = report.predict_seconds.get(pred_label, 0.0) + cost[label]
    n_sc = max(1, len(scenes))
    for label, secs in cost.items():
        emb_label = label.split("+", 1)[0]
        emb_s = report.embed_seconds.get(emb_label, 0.0)
        report.notes.append(f"{label}: {(emb_s + secs) / n_sc:.1f} s per scene ({emb_s / n_sc:.1f} s embedding "
                            f"incl. decode, or from the landmark cache when warm; {secs / n_sc:.1f} s matching)")
    return report


def run_real(data_root: str, cache_dir: str, progress: Progress = None) -> BenchReport | str:
    from videosync.eval.datasets import load_folder_scenes

    folder = os.path.join(data_root, "visualsync-dev")
    if not os.path.isdir(folder):
        return f"no data at {folder}"
    return _run(load_folder_scenes(folder), _METHODS_REAL, progress)


def run_synthetic(data_root: str, cache_dir: str, progress: Progress = None) -> BenchReport | str:
    from videosync.eval.datasets import synth_unavailable

    why = synth_unavailable()
    if why:
        return why
    from videosync.synth import render_scene
    from videosync.eval.datasets import load_scene_folder

    worlds = {}
    for world in ("human", "objects"):
        worlds[world] = []
        for seed in (50, 51, 52):
            folder = os.path.join(cache_dir, "synth", f"{world}-moving-s{seed}-8s-15fps")
            if progress:
                progress(f"render moving-camera {world} seed {seed}")
            render_scene(folder, scene=world, cameras=3, seconds=8.0, fps=15.0, seed=seed, moving_camera=True)
            worlds[world].append(load_scene_folder(folder))
    report = _run(worlds["human"], _METHODS_SYNTH, progress)
    objects = _run(worlds["objects"], _METHODS_SYNTH_OBJECTS, progress)
    report.extend(objects)
    report.notes += [f"objects worlds, {note}" for note in objects.notes]
    return report
