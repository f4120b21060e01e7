"""Motion embedder: spatial-grid motion energy, no weights.

For each pair of consecutive frames: the absolute difference of the grey frames,
averaged over the cells of a ``grid`` × ``grid`` grid — and, with ``multiscale`` (default),
also over the whole frame and a 2 × 2 grid, so a subject that crosses cell borders is still
seen whole — log-compressed
(``log(x + 0.05·median + 1e-6)``). The row is placed at the midpoint of the two frames'
times, so cameras with different frame rates stay aligned.

Rows that end on a **key frame** are marked invalid: between key frames an encoder keeps a
still background frozen, and at each key frame it jumps, a pulse every camera file has at
its own rhythm that correlates like motion (unless nearly every frame is a key frame, as
in intra-only codecs, where there is no such pulse).

A cell in one camera sees a different part of the scene than the same cell in another,
so the embedding says its channels do not correspond (``channels_correspond=False``):
the ``lag`` predictor then matches each cell to its best-correlated cell in the other
video (:func:`videosync.similarity.matched_lag_profile`), and frame-level predictors
compare rows in a layout-invariant (sorted) form.
"""

from __future__ import annotations

import numpy as np

from videosync._validation import check_number
from videosync.embed.base import Embedder, Embedding, Frames
from videosync.io import VideoInfo


class MotionEmbedder(Embedder):
    name = "motion"
    summary = "grid motion energy (frame differences), cells matched across views; no weights"
    pixel_format = "gray"
    default_metric = "cosine"

    def __init__(self, *, grid: int = 4, multiscale: bool = True, max_side: int = 160) -> None:
        super().__init__(max_side=max_side)
        self.grid = check_number("MotionEmbedder", "grid", grid, low=1, high=32, integer=True)
        self.multiscale = bool(multiscale)

    @classmethod
    def test_params(cls):
        return [{}, {"grid": 2, "multiscale": False, "max_side": 64}]

    @property
    def levels(self) -> list[int]:
        """Grid sizes whose cells become channels: 1×1, 2×2 and grid×grid when multiscale."""
        return sorted({1, 2, self.grid} if self.multiscale else {self.grid})

    def _embed(self, frames: Frames, info: VideoInfo) -> Embedding:
        levels = self.levels
        prev = None
        prev_t = None
        times, rows = [], []
        plan = None
        for t, img in frames:
            cur = img.astype(np.float32) * (1.0 / 255.0)
            if prev is not None:
                d = np.abs(cur - prev)
                if plan is None or plan[0] != d.shape:
                    plan = (d.shape, _cell_plan(d.shape, levels))
                rows.append(_cell_means(d, plan[1]))
                times.append(0.5 * (t + prev_t))
            prev, prev_t = cur, t
        x = np.array(rows, dtype=np.float64)
        eps = 0.05 * float(np.median(x)) + 1e-6 if x.size else 1e-6
        valid = None
        keys = getattr(frames, "key_frames", None)
        if keys is not None and len(keys) == len(rows) + 1 and np.mean(keys) < 0.5:
            valid = ~np.asarray(keys[1:], dtype=bool)  # row r spans frames r and r + 1
        return Embedding(np.array(times), np.log(x + eps), valid=valid, channels_correspond=(levels == [1]))


def _cell_plan(shape: tuple[int, int], levels: list[int]):
    """Cell borders per grid level, computed once per frame size (the per-frame work is then
    one pair of ``reduceat`` on the finest grid; coarser grids whose borders are a subset of
    the finest grid's, as 1×1 and 2×2 are of 4×4, are sums of its cells)."""
    h, w = shape
    finest = max(levels)
    fy = np.linspace(0, h, finest + 1).astype(int)
    fx = np.linspace(0, w, finest + 1).astype(int)
    out = []
    for g in levels:
        ys = np.linspace(0, h, g + 1).astype(int)
        xs = np.linspace(0, w, g + 1).astype(int)
        area = np.maximum(np.outer(np.diff(ys), np.diff(xs)), 1)
        iy, ix = np.searchsorted(fy, ys), np.searchsorted(fx, xs)
        nested = np.array_equal(fy[iy], ys) and np.array_equal(fx[ix], xs)
        out.append((g, ys, xs, area, (iy[:-1], ix[:-1]) if nested else None))
    return fy, fx, out


def _cell_means(d: np.ndarray, plan) -> np.ndarray:
    """Mean of ``d`` over every cell of every grid level, levels concatenated (finest sums reused)."""
    fy, fx, levels = plan
    fine = np.add.reduceat(np.add.reduceat(d, fy[:-1], axis=0), fx[:-1], axis=1).astype(np.float64)
    cells = []
    for g, ys, xs, area, nested in levels:
        if nested is not None:
            rs = np.add.reduceat(np.add.reduceat(fine, nested[0], axis=0), nested[1], axis=1)
        else:
            rs = np.add.reduceat(np.add.reduceat(d, ys[:-1], axis=0), xs[:-1], axis=1)
        cells.append((rs / area).ravel())
    return np.concatenate(cells)
