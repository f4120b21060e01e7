"""Training learned plug-ins from scenes with known offsets (``videosync train``).

Pairs are drawn with :func:`videosync.eval.make_pairs` (equal-length crops, offsets
uniform in ±R frames, fixed seed) from scenes split **by scene** into training and
validation sets; the validation numbers go into the run card saved beside the weights.
"""

from __future__ import annotations

import platform
import time
from typing import Callable, Sequence

import numpy as np

from videosync.errors import InvalidParameterError
from videosync.eval.benchmark import embed_scenes
from videosync.eval.datasets import Scene
from videosync.eval.metrics import compute_metrics
from videosync.eval.pairs import make_pairs, split_by_scene
from videosync.predict import PREDICTORS, SearchRange
from videosync.similarity import SimilarityMatrix

TRAINABLE = ("logreg", "mlp", "svr", "cnn")


def _pair_sims(scenes, cache, *, n_pairs, max_offset_frames, clip_seconds, seed):
    from videosync.io import probe

    durations = {p: probe(p).duration_seconds for s in scenes for p in s.paths}
    pairs = make_pairs(scenes, durations, n_pairs=n_pairs, max_offset_frames=max_offset_frames,
                       clip_seconds=clip_seconds, seed=seed)
    by_name = {s.name: s for s in scenes}
    sims, truth_s, fps = [], [], []
    for p in pairs:
        s = by_name[p.scene]
        a, b = p.apply(cache[s.paths[p.a]], cache[s.paths[p.b]])
        sims.append(SimilarityMatrix(a, b))
        truth_s.append(p.truth_seconds)
        fps.append(p.fps)
    return sims, np.array(truth_s), np.array(fps)


def train_model(
    model: str,
    scenes: Sequence[Scene],
    *,
    out: str,
    embedder: str = "motion",
    n_pairs: int = 400,
    max_offset_frames: int = 30,
    clip_seconds: float = 6.0,
    seed: int = 0,
    val_fraction: float = 0.3,
    command: str = "",
    progress: Callable[[str], None] | None = None,
) -> dict:
    """Train ``model`` on pairs from ``scenes``; write weights to ``out`` and return the run card."""
    if model not in TRAINABLE:
        raise InvalidParameterError(f"cannot train {model!r}; trainable: {', '.join(TRAINABLE)}")
    if len(scenes) < 2:
        raise InvalidParameterError("training needs at least 2 scenes (validation is split by scene)")
    started = time.perf_counter()
    train_s, val_s, test_s = split_by_scene(scenes, (1 - val_fraction, val_fraction, 0.0), seed=seed)
    val_s = val_s + test_s
    if not val_s:
        train_s, val_s = train_s[:-1], train_s[-1:]
    cache = embed_scenes(scenes, embedder, progress)
    tr_sims, tr_truth, _ = _pair_sims(train_s, cache, n_pairs=n_pairs, max_offset_frames=max_offset_frames,
                                      clip_seconds=clip_seconds, seed=seed)
    va_n = max(20, n_pairs // 4)
    va_sims, va_truth, va_fps = _pair_sims(val_s, cache, n_pairs=va_n, max_offset_frames=max_offset_frames,
                                           clip_seconds=clip_seconds, seed=seed + 1)
    head = PREDICTORS.create(model, max_offset_frames=int(max_offset_frames))
    if progress:
        progress(f"fit {model} on {len(tr_sims)} pairs")
    # Heads that select weights on held-out data (cnn) hold out part of the *training* pairs;
    # the validation scenes below are only ever used for the reported numbers.
    head.fit(tr_sims, np.array([t / s.step_seconds for t, s in zip(tr_truth, tr_sims)]), seed=seed)
    search = SearchRange(min_overlap_seconds=0.0)
    found = np.array([head.predict(s, search).offset_seconds for s in va_sims])
    val = compute_metrics(found * va_fps, va_truth * va_fps, fps=va_fps)
    naive = compute_metrics(np.zeros_like(va_truth), va_truth * va_fps, fps=va_fps)
    from videosync import __version__

    card = {
        "model": model,
        "command": command,
        "videosync_version": __version__,
        "python": platform.python_version(),
        "embedder": embedder,
        "train_scenes": [s.name for s in train_s],
        "validation_scenes": [s.name for s in val_s],
        "pairs": {"train": len(tr_sims), "validation": len(va_sims), "max_offset_frames": max_offset_frames,
                  "clip_seconds": clip_seconds, "crop": "equal", "seed": seed},
        "validation": {"mean_abs_frames": val["mean_abs_frames"], "acc_at_1": val["acc_at_1"],
                       "naive_mean_abs_frames": naive["mean_abs_frames"], "naive_acc_at_1": naive["acc_at_1"]},
        "train_seconds": round(time.perf_counter() - started, 1),
    }
    head.save(out, card)
    return card
