"""Dynamic time warping over the similarity matrix (librosa's DTW, subsequence mode).

The cost is ``-S`` (cosine) or ``-S`` shifted to be non-negative. The shorter video is
aligned to a subsequence of the longer one, so neither has to start or end with the
other (the reference code's fixed endpoints pull a pure shift towards 0); the offset is
the rounded median of (j − i) along the path. Needs the full matrix: for long pairs use
``lag``. Confidence: the share of path steps within ±1 grid step of that median.
"""

from __future__ import annotations

import numpy as np

from videosync.errors import MissingDependencyError
from videosync.predict.base import OffsetEstimate, Predictor, SearchRange, frame_pairs_lag, overlap_steps
from videosync.similarity import SimilarityMatrix


class DTWPredictor(Predictor):
    name = "dtw"
    summary = "dynamic time warping path, median lag (librosa, subsequence)"

    @classmethod
    def is_available(cls) -> bool:
        try:
            import librosa.sequence  # noqa: F401
        except ImportError:
            return False
        return True

    def _predict(self, sim: SimilarityMatrix, search: SearchRange) -> OffsetEstimate:
        try:
            from librosa.sequence import dtw
        except ImportError:
            raise MissingDependencyError("the 'dtw' predictor", extra="dtw", package="librosa") from None
        s = sim.dense().astype(np.float64)
        s = np.where(np.isnan(s), np.nanmin(s) if np.isfinite(s).any() else 0.0, s)
        cost = s.max() - s
        transpose = s.shape[0] > s.shape[1]  # librosa: X (rows) is matched inside Y (columns)
        c = cost.T if transpose else cost
        if c.shape[0] < 2 or c.shape[1] < 2:
            return OffsetEstimate(0.0, 0.0, details={"reason": "too few frames"})
        _, wp = dtw(C=np.ascontiguousarray(c), subseq=True, backtrack=True)
        wp = wp[::-1]
        rows, cols = (wp[:, 1], wp[:, 0]) if transpose else (wp[:, 0], wp[:, 1])
        lags = frame_pairs_lag(sim, rows, cols)
        med = float(np.rint(np.median(lags)))
        if search.max_offset_seconds is not None:
            lim = search.max_offset_seconds / sim.step_seconds
            med = float(np.clip(med, -np.floor(lim), np.floor(lim)))
        agree = float(np.mean(np.abs(lags - med) <= 1))
        return OffsetEstimate(
            med * sim.step_seconds,
            agree,
            overlap_seconds=float(overlap_steps(sim, med) * sim.step_seconds),
            details={"path_length": int(len(wp)), "agreeing_steps": agree},
        )
