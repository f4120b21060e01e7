"""The naive baseline: always answers 0 (the integrity row beside every number)."""

from __future__ import annotations

from videosync.predict.base import OffsetEstimate, Predictor, SearchRange
from videosync.similarity import SimilarityMatrix


class NaivePredictor(Predictor):
    name = "naive"
    summary = "always 0 (baseline for benchmarks)"
    returns_confidence = False

    def _predict(self, sim: SimilarityMatrix, search: SearchRange) -> OffsetEstimate:
        return OffsetEstimate(0.0, 0.0, details={"rule": "always zero"})
