"""Lag-profile predictor: score every candidate offset by the mean similarity along its
diagonal, take the best, refine below one frame, and say how distinct the peak is.

* ``P(k)`` = mean of S[i, i + k] over the frames that overlap at lag k (FFT
  cross-correlation of the feature columns, so long inputs cost O(D·(N+M)·log(N+M))).
* Only lags whose overlap is at least the :class:`~videosync.predict.base.SearchRange`
  minimum are candidates (short overlaps give noisy, inflated means), and at most
  ``max_offset_seconds`` away when given.
* Sub-frame refinement: a parabola through P(k*−1), P(k*), P(k*+1).
* Confidence: from the margin between the peak and the best *other* local maximum, in
  units of the profile's robust spread — a lone sharp peak scores near 1; a flat
  profile (static camera) or two similar peaks (ambiguity) score near 0.
"""

from __future__ import annotations

import math

import numpy as np

from videosync._validation import check_choice, check_number
from videosync.predict.base import OffsetEstimate, Predictor, SearchRange
from videosync.similarity import SimilarityMatrix

# Confidence = 1 - exp(-max(0, margin_z - MARGIN_FLOOR) / MARGIN_SCALE), margin_z being
# (best peak - runner-up peak) / robust spread of the profile.
MARGIN_FLOOR = 0.5
MARGIN_SCALE = 1.5


def parabolic_offset(y_minus: float, y0: float, y_plus: float) -> float:
    """Vertex of the parabola through (-1, y₋), (0, y₀), (1, y₊), clipped to [-0.5, 0.5]."""
    den = y_minus - 2.0 * y0 + y_plus
    if not np.isfinite(den) or den >= 0:
        return 0.0
    return float(np.clip(0.5 * (y_minus - y_plus) / den, -0.5, 0.5))


def _local_maxima(y: np.ndarray) -> np.ndarray:
    """Indices of local maxima of y (NaN treated as -inf); plateaus give their first index."""
    z = np.where(np.isfinite(y), y, -np.inf)
    left = np.concatenate([[-np.inf], z[:-1]])
    right = np.concatenate([z[1:], [-np.inf]])
    return np.flatnonzero((z > left) & (z >= right) & np.isfinite(z))


class LagPredictor(Predictor):
    name = "lag"
    summary = "mean similarity per candidate lag (FFT), sub-frame peak, peak-margin confidence"

    def __init__(self, *, subframe: str = "parabola") -> None:
        self.subframe = check_choice("LagPredictor", "subframe", subframe, ("parabola", "none"))

    @classmethod
    def test_params(cls):
        return [{}, {"subframe": "none"}]

    def _predict(self, sim: SimilarityMatrix, search: SearchRange) -> OffsetEstimate:
        prof = sim.lag_profile()
        allowed = search.allowed_lags(prof.lags_steps, prof.overlap_steps, sim) & np.isfinite(prof.score)
        lags_s = prof.offsets_seconds
        if allowed.sum() < 3:
            return OffsetEstimate(
                0.0, 0.0, lags_seconds=lags_s, scores=prof.score,
                details={"reason": "fewer than 3 candidate lags satisfy the overlap rule"},
            )
        y = np.where(allowed, prof.score, np.nan)
        best = int(np.nanargmax(y))
        frac = 0.0
        if self.subframe == "parabola" and 0 < best < len(y) - 1:
            if np.isfinite(y[best - 1]) and np.isfinite(y[best + 1]):
                frac = parabolic_offset(y[best - 1], y[best], y[best + 1])
        offset = (prof.lags_steps[best] + frac) * prof.step_seconds

        vals = y[allowed]
        med = float(np.median(vals))
        spread = float(1.4826 * np.median(np.abs(vals - med)))
        if not spread > 1e-12:
            spread = float(np.std(vals)) or 1e-12
        peaks = _local_maxima(y)
        others = peaks[peaks != best]
        runner = float(np.max(y[others])) if others.size else med
        margin_z = (y[best] - runner) / spread
        peak_z = (y[best] - med) / spread
        if not np.isfinite(margin_z) or spread <= 1e-12:
            conf = 0.0
        else:
            conf = 1.0 - math.exp(-max(0.0, margin_z - MARGIN_FLOOR) / MARGIN_SCALE)
        return OffsetEstimate(
            offset,
            conf,
            lags_seconds=lags_s,
            scores=prof.score,
            overlap_seconds=float(prof.overlap_steps[best] * prof.step_seconds),
            details={
                "peak_score": float(y[best]),
                "runner_up_score": runner,
                "margin_z": float(margin_z) if np.isfinite(margin_z) else None,
                "peak_z": float(peak_z) if np.isfinite(peak_z) else None,
                "subframe_steps": frac,
                "candidates": int(allowed.sum()),
            },
        )
