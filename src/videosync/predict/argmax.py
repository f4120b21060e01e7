"""VideoSync's seed rule: each row's best-matching column, then the median lag.

Frame i of a is matched to j_i = argmax_j S[i, j] (the softmax does not change the
argmax); the offset is median(j_i − i), **rounded** to the nearest grid step (the
reference code floors it, which biases half-integer medians negative). Read in row
blocks, so the full matrix is never held. Confidence: the share of rows whose own lag
agrees with the median within ±1 step.
"""

from __future__ import annotations

import numpy as np

from videosync.predict.base import (
    OffsetEstimate,
    Predictor,
    SearchRange,
    frame_pairs_lag,
    overlap_steps,
)
from videosync.similarity import SimilarityMatrix


class ArgmaxPredictor(Predictor):
    name = "argmax"
    summary = "row argmax then median lag (VideoSync seed rule, rounded)"

    def __init__(self, *, block_rows: int = 2048) -> None:
        self.block_rows = int(block_rows)

    def _predict(self, sim: SimilarityMatrix, search: SearchRange) -> OffsetEstimate:
        n, m = sim.shape
        lags_all = []
        cols = np.arange(m)
        for r0, s in sim.iter_blocks(self.block_rows):
            rows = np.arange(r0, r0 + s.shape[0])
            if search.max_offset_seconds is not None:
                lag = frame_pairs_lag(sim, rows[:, None], cols[None, :])
                s = np.where(np.abs(lag * sim.step_seconds) <= search.max_offset_seconds + 1e-9, s, np.nan)
            ok = ~np.all(np.isnan(s), axis=1)
            if not ok.any():
                continue
            j = np.nanargmax(np.where(ok[:, None], s, 0.0), axis=1)[ok]
            lags_all.append(frame_pairs_lag(sim, rows[ok], j))
        if not lags_all:
            return OffsetEstimate(0.0, 0.0, details={"reason": "no valid rows"})
        lags = np.concatenate(lags_all)
        med = float(np.rint(np.median(lags)))
        agree = float(np.mean(np.abs(lags - med) <= 1))
        overlap = overlap_steps(sim, med)
        return OffsetEstimate(
            med * sim.step_seconds,
            agree,
            overlap_seconds=float(overlap * sim.step_seconds),
            details={"rows_used": int(lags.size), "agreeing_rows": agree},
        )
