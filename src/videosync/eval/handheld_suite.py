"""Bench entry: hand-held cameras in the 2-D test world, `motion` with and without compensation.

``videosync bench --suite standard --entry "hand-held"``. Rigs from
:func:`videosync.testing.make_rig`: camera 0 on a tripod, cameras 1 and 2 hand-held (their view
pans and shakes), and the same rigs with every camera on a tripod as the control (there
``compensate="auto"`` must give what ``"off"`` gives). Whole clips, every pair, plus the
N-camera rows, as the geometric entries (:func:`videosync.eval.geometric_suite._run`).
"""

from __future__ import annotations

import dataclasses
import os

import numpy as np

from videosync.eval.benchmark import BenchReport
from videosync.eval.geometric_suite import Progress, _run

TITLE = "Synthetic: hand-held cameras (2-D test world; motion with camera-motion compensation auto / off / on)"
DESCRIPTION = (
    "6 rigs of the 2-D test world (`make_rig`, seeds 0–5): 3 cameras at 30/25/30 fps, 8 s, 160×120, "
    "different viewpoints, offsets uniform in ±2 s (seeded); camera 0 on a tripod, cameras 1 and 2 hand-held "
    "(`handheld=True`: the view pans up to ±0.15 and shakes ±0.01 world units), and the same rigs with every "
    "camera on a tripod as the control. Every pair, whole clips, plus the N-camera rows. `motion` with "
    "`compensate` = auto (the default: decided online per video), off (plain frame differences) and on. "
    "Errors in frames at 30 fps."
)
SEEDS = (0, 1, 2, 3, 4, 5)
_METHODS = [
    ("motion (auto)", "motion", {}, "lag", "lag", {}),
    ("motion (off)", "motion", {"compensate": "off"}, "lag", "lag", {}),
    ("motion (on)", "motion", {"compensate": "on"}, "lag", "lag", {}),
    ("motion (auto)", "motion", {}, "naive", "naive", {}),
]


def rigs(cache_dir: str, progress: Progress = None):
    """The hand-held rigs and their tripod controls as scenes (rendered once, cached)."""
    from videosync.eval.datasets import load_scene_folder
    from videosync.testing import make_rig

    scenes = []
    for kind, handheld in (("hand-held", (False, True, True)), ("tripods", False)):
        for seed in SEEDS:
            folder = os.path.join(cache_dir, "handheld", f"{kind}-s{seed}")
            if not os.path.isfile(os.path.join(folder, "truth.json")):
                if progress:
                    progress(f"render {kind} rig seed {seed}")
                rng = np.random.default_rng(1000 + seed)
                offsets = (0.0, *np.round(rng.uniform(-2.0, 2.0, size=2), 3))
                make_rig(folder, n_cameras=3, offsets_seconds=offsets, fps=(30.0, 25.0, 30.0),
                         duration_seconds=8.0, size=(160, 120), seed=seed, handheld=handheld)
            scenes.append(dataclasses.replace(load_scene_folder(folder), dataset=kind, name=f"{kind}-s{seed}"))
    return scenes


def entry(data_root: str, cache_dir: str, progress: Progress = None) -> BenchReport:
    return _run(rigs(cache_dir, progress), _METHODS, progress)
