"""Similarity between the frames of two videos, on one time grid, computed lazily.

Two embeddings are first resampled onto a common time grid (step ``step_seconds``) from
their real frame times, so videos with different or variable frame rates are compared
on time, never on frame indices. Grid row *i* of video a is the instant
``(a_start_step + i) · step_seconds`` of a's own timeline; likewise for b.

:class:`SimilarityMatrix` never builds the full (N, M) matrix unless asked
(:meth:`SimilarityMatrix.dense`): predictors read it in row blocks
(:meth:`~SimilarityMatrix.block`) or as the mean along each diagonal
(:meth:`~SimilarityMatrix.lag_profile`, FFT-based, O(D·(N+M)·log(N+M))).

Metrics (rows are L2-normalised first, as in VideoSync and SeSyn-Net):

* ``"cosine"``: S[i, j] = â_i · b̂_j, in [-1, 1];
* ``"neg_sqeuclidean"``: S[i, j] = −‖â_i − b̂_j‖² = 2 â_i·b̂_j − 2, in [-4, 0].

When the embedding's channels do not correspond between cameras
(``Embedding.channels_correspond`` is False, e.g. grid cells), frame rows are made
comparable by standardising each channel over time and sorting each row; predictors that
work on channels can use :func:`videosync.similarity.matched_lag_profile` on the raw
grids (:attr:`SimilarityMatrix.grid_a`, :attr:`SimilarityMatrix.grid_b`) instead.

A row-wise softmax with an explicit ``temperature`` is available for predictors that want
probabilities; it does not change any row's argmax.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import numpy as np

from videosync._validation import check_choice, check_number
from videosync.embed.base import Embedding
from videosync.errors import InvalidParameterError, ShapeError

Metric = Literal["cosine", "neg_sqeuclidean"]
METRICS = ("cosine", "neg_sqeuclidean")

_DENSE_LIMIT_CELLS = 200_000_000  # 800 MB of float32


@dataclass(frozen=True)
class Grid:
    """An embedding resampled onto a regular time grid."""

    features: np.ndarray
    """(N, D) float32."""
    valid: np.ndarray
    """(N,) bool."""
    start_step: int
    """Row i is the instant (start_step + i) · step_seconds of the video's own timeline."""
    step_seconds: float

    @property
    def times_seconds(self) -> np.ndarray:
        return (self.start_step + np.arange(len(self.valid))) * self.step_seconds


def resample(emb: Embedding, step_seconds: float, *, max_gap_factor: float = 2.5) -> Grid:
    """Linear interpolation of an embedding onto the grid ``k · step_seconds``.

    Grid points farther than ``max_gap_factor`` median frame intervals from a real frame
    on either side (dropped frames, gaps) are marked invalid.
    """
    t = emb.times_seconds
    f = emb.features
    v = np.ones(len(t), bool) if emb.valid is None else emb.valid
    k0 = int(np.ceil(t[0] / step_seconds - 1e-9))
    k1 = int(np.floor(t[-1] / step_seconds + 1e-9))
    if k1 < k0:
        k1 = k0
    g = np.arange(k0, k1 + 1) * step_seconds
    idx = np.clip(np.searchsorted(t, g, side="right") - 1, 0, len(t) - 2)
    t_lo, t_hi = t[idx], t[idx + 1]
    w = np.clip((g - t_lo) / (t_hi - t_lo), 0.0, 1.0)[:, None].astype(np.float32)
    out = f[idx] * (1 - w) + f[idx + 1] * w
    med = float(np.median(np.diff(t))) if len(t) > 1 else step_seconds
    on_frame = (w[:, 0] < 1e-6) | (w[:, 0] > 1 - 1e-6)
    gap_ok = ((t_hi - t_lo) <= max_gap_factor * med) | on_frame
    near = np.where(w[:, 0] < 0.5, v[idx], v[idx + 1])
    valid = near & gap_ok & (v[idx] & v[idx + 1] | on_frame)
    return Grid(out.astype(np.float32), valid, k0, float(step_seconds))


def _layout_invariant(x: np.ndarray, valid: np.ndarray) -> np.ndarray:
    """Rows comparable across viewpoints: standardise each column over time, then sort
    each row, so a row says how strongly *some* channels deviate, not which ones."""
    x = np.asarray(x, dtype=np.float64)
    v = valid if valid.any() else np.ones(len(x), bool)
    mu, sd = x[v].mean(axis=0), x[v].std(axis=0)
    z = (x - mu) / np.where(sd > 1e-9, sd, np.inf)
    return np.sort(z, axis=1)[:, ::-1].astype(np.float32)


def _normalise_rows(x: np.ndarray) -> np.ndarray:
    n = np.linalg.norm(x, axis=1, keepdims=True)
    return (x / np.where(n > 1e-8, n, np.inf)).astype(np.float32)


@dataclass(frozen=True)
class LagProfile:
    """Mean similarity along every diagonal of S, i.e. per candidate lag.

    ``score[l]`` is the mean of S[i, i + lag_steps[l]] over valid frame pairs, where lag
    is measured on the grid *after* aligning the two grids' start steps: a lag of k grid
    steps means the instant at time t in a appears at time t + k·step in b, so
    ``offset_seconds = lags_steps · step_seconds`` (see :mod:`videosync.timebase`).
    """

    lags_steps: np.ndarray
    """(L,) int candidate lags (b relative to a), in grid steps."""
    score: np.ndarray
    """(L,) mean similarity; NaN where the overlap is empty."""
    overlap_steps: np.ndarray
    """(L,) number of valid frame pairs on that diagonal."""
    step_seconds: float

    @property
    def offsets_seconds(self) -> np.ndarray:
        return self.lags_steps * self.step_seconds


class SimilarityMatrix:
    """Lazy frame-to-frame similarity S between videos a (rows) and b (columns).

    Parameters
    ----------
    a, b : Embedding
        The two videos' embeddings (same feature dimension D).
    metric : {"cosine", "neg_sqeuclidean"}
    step_seconds : float, optional
        The common grid step. Default: the shorter median frame interval of the two.
    temperature : float
        Softmax temperature used by :meth:`softmax_block`.
    """

    def __init__(
        self,
        a: Embedding,
        b: Embedding,
        *,
        metric: Metric = "cosine",
        step_seconds: float | None = None,
        temperature: float = 0.1,
    ) -> None:
        check_choice("SimilarityMatrix", "metric", metric, METRICS)
        check_number("SimilarityMatrix", "temperature", temperature, low=0, low_open=True)
        if a.dim != b.dim:
            raise ShapeError(
                f"embeddings differ in dimension: {a.dim} vs {b.dim}", expected=(a.dim,), actual=(b.dim,)
            )
        if step_seconds is None:
            step_seconds = min(_median_step(a), _median_step(b))
        check_number("SimilarityMatrix", "step_seconds", step_seconds, low=0, low_open=True)
        self.metric = metric
        self.temperature = float(temperature)
        self.step_seconds = float(step_seconds)
        ga, gb = resample(a, self.step_seconds), resample(b, self.step_seconds)
        self.grid_a, self.grid_b = ga, gb
        # What the embedders said about each video (e.g. the landmarks' row layout).
        self.details_a, self.details_b = a.details, b.details
        # Both grids at their videos' own step (one frame rate, not resampled): row-to-row
        # patterns of the files (an encoder's frame rhythm) then line up.
        self.own_steps = all(abs(_median_step(e) - self.step_seconds) <= 0.01 * self.step_seconds for e in (a, b))
        self.channels_correspond = bool(a.channels_correspond and b.channels_correspond)
        fa, fb = ga.features, gb.features
        if not self.channels_correspond:
            fa, fb = _layout_invariant(fa, ga.valid), _layout_invariant(fb, gb.valid)
        self.a = _normalise_rows(np.where(ga.valid[:, None], fa, 0.0))
        self.b = _normalise_rows(np.where(gb.valid[:, None], fb, 0.0))
        self.valid_a = ga.valid & (np.linalg.norm(self.a, axis=1) > 0)
        self.valid_b = gb.valid & (np.linalg.norm(self.b, axis=1) > 0)

    @property
    def shape(self) -> tuple[int, int]:
        return (self.a.shape[0], self.b.shape[0])

    @property
    def start_offset_steps(self) -> int:
        """Lag (in steps) meaning 'row i and column j = i are the same own-timeline time'.

        Column j of b at diagonal (i, i + d) corresponds to lag k = d + b.start − a.start.
        """
        return self.grid_b.start_step - self.grid_a.start_step

    def _transform(self, dots: np.ndarray) -> np.ndarray:
        if self.metric == "cosine":
            return dots
        return 2.0 * dots - 2.0

    def block(self, row_start: int, row_stop: int) -> np.ndarray:
        """Rows ``row_start:row_stop`` of S as a float32 array; invalid cells are NaN."""
        dots = self.a[row_start:row_stop] @ self.b.T
        s = self._transform(dots).astype(np.float32)
        bad = ~self.valid_a[row_start:row_stop, None] | ~self.valid_b[None, :]
        s[bad] = np.nan
        return s

    def softmax_block(self, row_start: int, row_stop: int) -> np.ndarray:
        """Row-wise softmax of :meth:`block` at ``temperature`` (NaN cells get probability 0)."""
        s = self.block(row_start, row_stop).astype(np.float64) / self.temperature
        s = np.where(np.isnan(s), -np.inf, s)
        m = np.max(s, axis=1, keepdims=True)
        m = np.where(np.isfinite(m), m, 0.0)
        e = np.exp(s - m)
        z = e.sum(axis=1, keepdims=True)
        return (e / np.where(z > 0, z, 1.0)).astype(np.float32)

    def dense(self) -> np.ndarray:
        """The whole (N, M) matrix. Raises for pairs too long to hold in memory."""
        n, m = self.shape
        if n * m > _DENSE_LIMIT_CELLS:
            raise InvalidParameterError(
                f"the similarity matrix would have {n}×{m} cells; use a predictor that reads it "
                "in blocks (e.g. 'lag' or 'argmax') or a coarser step"
            )
        return self.block(0, n)

    def iter_blocks(self, block_rows: int = 2048):
        """Yield ``(row_start, block)`` covering all rows."""
        for r0 in range(0, self.shape[0], block_rows):
            yield r0, self.block(r0, min(r0 + block_rows, self.shape[0]))

    def lag_profile(self) -> LagProfile:
        """Mean S along every diagonal, by FFT cross-correlation of the feature columns."""
        return next(self.lag_profiles_against([(self.b, self.valid_b)]))

    def lag_profiles_against(self, others):
        """Yield :meth:`lag_profile` of a against each ``(b features, b valid)`` of ``others``
        (each as long as b): a's transforms are computed once (null profiles use this)."""
        from scipy.fft import irfft, next_fast_len, rfft

        a = self.a * self.valid_a[:, None]
        n, m = a.shape[0], self.b.shape[0]
        size = next_fast_len(n + m - 1, real=True)
        fa = np.conj(rfft(a, n=size, axis=0))
        va = np.conj(rfft(self.valid_a.astype(np.float64), n=size))
        d = np.arange(-(n - 1), m)  # diagonal j - i
        idx = d % size
        lags = (d + self.start_offset_steps).astype(np.int64)
        for b_features, b_valid in others:
            b = b_features * b_valid[:, None]
            cross = irfft((fa * rfft(b, n=size, axis=0)).sum(axis=1), n=size)
            count = np.rint(irfft(va * rfft(b_valid.astype(np.float64), n=size), n=size))
            dots = cross[idx]
            cnt = count[idx].astype(np.int64)
            with np.errstate(invalid="ignore", divide="ignore"):
                mean_dot = np.where(cnt > 0, dots / np.maximum(cnt, 1), np.nan)
            score = self._transform(mean_dot)
            yield LagProfile(lags, score.astype(np.float64), cnt, self.step_seconds)


def _median_step(e: Embedding) -> float:
    return float(np.median(np.diff(e.times_seconds)))


def similarity_matrix(a: Embedding, b: Embedding, **kwargs) -> SimilarityMatrix:
    """Shorthand for :class:`SimilarityMatrix` ``(a, b, **kwargs)``."""
    return SimilarityMatrix(a, b, **kwargs)
