"""Leak-proof pair construction: inject known offsets by cropping, as the papers do.

Given a scene whose cameras' offsets are known, a *pair* is two crops, one per camera,
whose relative offset is set by construction.

* ``crop="equal"`` (default, VideoSync Fig. 2): both crops have the same duration. To
  inject δ, a's window starts at s and b's window starts where b shows a's instant s,
  minus δ. Nothing about the offset can be read from the clips' lengths.
* ``crop="start"`` (SeSyn-Net's preprocessing, kept only to reproduce its bias): drop
  k frames from the start of one view only; both crops end at the same instant, so the
  length difference *is* the offset. Use it only for the leaky-crop integrity row.

Crops are taken on embeddings (rows re-timed to the crop start), so each video is
decoded and embedded once however many pairs are drawn from it.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal, Sequence

import numpy as np

from videosync.embed.base import Embedding
from videosync.eval.datasets import Scene

CropRule = Literal["equal", "start"]


@dataclass(frozen=True)
class CropPair:
    """Two crops with a known relative offset."""

    scene: str
    dataset: str
    a: int
    b: int
    a_start_seconds: float
    a_stop_seconds: float
    b_start_seconds: float
    b_stop_seconds: float
    truth_seconds: float
    """Offset of b's crop with a's crop as the reference (timebase convention)."""
    fps: float
    crop: str

    def apply(self, emb_a: Embedding, emb_b: Embedding) -> tuple[Embedding, Embedding]:
        return (emb_a.crop(self.a_start_seconds, self.a_stop_seconds),
                emb_b.crop(self.b_start_seconds, self.b_stop_seconds))


def make_pairs(
    scenes: Sequence[Scene],
    durations_seconds: dict[str, float],
    *,
    n_pairs: int,
    max_offset_frames: float,
    clip_seconds: float,
    seed: int = 0,
    crop: CropRule = "equal",
    fractional: bool = False,
) -> list[CropPair]:
    """Draw ``n_pairs`` crop pairs with offsets uniform in [−R, R] frames.

    Integer offsets unless ``fractional`` (then real-valued). ``durations_seconds`` maps
    each video path to its duration. Scenes and camera pairs are drawn uniformly; a draw
    that does not fit the videos is redrawn (at most 100 × n_pairs tries).
    """
    rng = np.random.default_rng(seed)
    pairs: list[CropPair] = []
    tries = 0
    candidates = [(s, i, j) for s in scenes for i in range(len(s.paths)) for j in range(len(s.paths)) if i != j]
    if not candidates:
        raise ValueError("no camera pairs")
    while len(pairs) < n_pairs and tries < 100 * n_pairs:
        tries += 1
        s, i, j = candidates[rng.integers(len(candidates))]
        fps = s.fps
        k = rng.uniform(-max_offset_frames, max_offset_frames) if fractional else int(
            rng.integers(-int(max_offset_frames), int(max_offset_frames) + 1))
        delta = k / fps
        o_ab = s.relative_offset(i, j)
        da, db = durations_seconds[s.paths[i]], durations_seconds[s.paths[j]]
        if crop == "equal":
            # a: [t, t + D); b: [t + o_ab - delta, ... + D)
            lo = max(0.0, -(o_ab - delta))
            hi = min(da, db - (o_ab - delta)) - clip_seconds
            if hi < lo:
                continue
            t = rng.uniform(lo, hi)
            pairs.append(CropPair(s.name, s.dataset, i, j, t, t + clip_seconds,
                                  t + o_ab - delta, t + o_ab - delta + clip_seconds, delta, fps, crop))
        else:
            # Common window [T0, T1) on a's clock; drop |k| frames at the start of one view.
            T0 = max(0.0, -o_ab)
            T1 = min(da, db - o_ab)
            if T1 - T0 < clip_seconds:
                continue
            T0 = rng.uniform(T0, T1 - clip_seconds)
            T1 = T0 + clip_seconds
            s1, s2 = (delta, 0.0) if delta > 0 else (0.0, -delta)
            pairs.append(CropPair(s.name, s.dataset, i, j, T0 + s1, T1, T0 + o_ab + s2, T1 + o_ab,
                                  s1 - s2, fps, crop))
    if len(pairs) < n_pairs:
        raise ValueError(f"only {len(pairs)} of {n_pairs} pairs fit the videos; use shorter clips or offsets")
    return pairs


def noise_like(emb: Embedding, rng: np.random.Generator) -> Embedding:
    """The noise-substitution test: Gaussian noise with each column's mean and variance,
    at the same times (VideoSync §4.2). A leak-free method must fall to the naive level."""
    f = emb.features.astype(np.float64)
    mu, sd = f.mean(axis=0), f.std(axis=0)
    return emb.with_features(rng.normal(size=f.shape) * sd + mu)


def split_by_scene(scenes: Sequence[Scene], fractions=(0.7, 0.15, 0.15), seed: int = 0) -> tuple[list[Scene], ...]:
    """Train / validation / test split **by scene**, never by pair (fixed seed)."""
    rng = np.random.default_rng(seed)
    order = list(rng.permutation(len(scenes)))
    n = len(scenes)
    n_train = int(round(fractions[0] * n))
    n_val = int(round(fractions[1] * n))
    idx = (order[:n_train], order[n_train:n_train + n_val], order[n_train + n_val:])
    return tuple([scenes[k] for k in part] for part in idx)
