"""Training learned plug-ins (``videosync train <model>``).

Every trainable model has a *trainer*: a function ``(TrainRequest) -> run card`` registered
by import path in :data:`TRAINERS` (adding one is one line). The trainer writes the weights
to ``request.out`` and the run card (data, parameters, metrics, time, the command) beside
them as ``.json``.

The offset heads are trained by :func:`train_model`: pairs are drawn with :func:`videosync.eval.make_pairs` (equal-length crops, offsets
uniform in ±R frames, fixed seed) from scenes split **by scene** into training and
validation sets; the validation numbers go into the run card saved beside the weights.
"""

from __future__ import annotations

import importlib
import platform
import time
from dataclasses import dataclass, field
from typing import Any, Callable, Mapping, Sequence

import numpy as np

from videosync.errors import InvalidParameterError
from videosync.eval.benchmark import embed_scenes
from videosync.eval.datasets import Scene
from videosync.eval.metrics import compute_metrics
from videosync.eval.pairs import make_pairs, split_by_scene
from videosync.predict import PREDICTORS, SearchRange
from videosync.similarity import SimilarityMatrix

TRAINABLE = ("logreg", "mlp", "svr", "cnn")


@dataclass(frozen=True)
class TrainRequest:
    """What a trainer gets: where to write, the seed, and its own parameters.

    ``load_scenes`` loads the dataset the user named (``--dataset/--data``) on demand; a
    trainer that makes its own data ignores it. ``params`` holds the ``--arg KEY=VALUE``
    pairs and the options the user set; a trainer rejects keys it does not know.
    """

    out: str
    seed: int = 0
    command: str = ""
    progress: Callable[[str], None] | None = None
    load_scenes: Callable[[], Sequence[Scene]] | None = None
    params: Mapping[str, Any] = field(default_factory=dict)


# name -> "module:function" taking a TrainRequest and returning the run card.
TRAINERS: dict[str, str] = {name: "videosync.train:train_head" for name in TRAINABLE}
TRAINERS["sesyn"] = "videosync.embed.sesyn_train:train_sesyn"
TRAINERS["profile"] = "videosync.learn.profile:train"
TRAINERS["insyn"] = "videosync.predict.insyn_train:train_insyn"
TRAINERS["learned"] = "videosync.learn.visual:train"


def run_trainer(model: str, request: TrainRequest) -> dict:
    """Train ``model`` as ``request`` says; returns the run card (also saved beside the weights)."""
    if model not in TRAINERS:
        raise InvalidParameterError(f"cannot train {model!r}; trainable: {', '.join(sorted(TRAINERS))}")
    module, _, attr = TRAINERS[model].partition(":")
    fn = getattr(importlib.import_module(module), attr)
    if fn is train_head:
        return train_head(request, model)
    return fn(request)


def check_params(params: Mapping[str, Any], known: Sequence[str], model: str) -> dict:
    """``params`` as a dict, or an error naming the unknown keys."""
    unknown = sorted(set(params) - set(known))
    if unknown:
        raise InvalidParameterError(f"{model} does not take {', '.join(unknown)}; it takes {', '.join(known)}")
    return dict(params)


def train_head(request: TrainRequest, model: str) -> dict:
    """Trainer of the VideoSync heads: pairs with injected offsets from ``--dataset`` scenes."""
    params = check_params(request.params, ("embedder", "n_pairs", "max_offset_frames", "clip_seconds"), model)
    if request.load_scenes is None:
        raise InvalidParameterError(f"{model} trains on a dataset; name one with --dataset/--data")
    return train_model(model, request.load_scenes(), out=request.out, seed=request.seed,
                       command=request.command, progress=request.progress, **params)


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
