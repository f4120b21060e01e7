"""The predictor contract: a similarity matrix → an offset with a confidence."""

from __future__ import annotations

import abc
import math
from dataclasses import dataclass, field
from typing import Any, ClassVar

import numpy as np

from videosync._validation import check_number
from videosync.registry import Plugin
from videosync.similarity import SimilarityMatrix


@dataclass(frozen=True)
class SearchRange:
    """Which offsets a predictor may answer.

    ``max_offset_seconds`` bounds |offset|; None means as far as the overlap rule allows.
    A candidate lag must leave at least ``min_overlap_seconds`` of both videos overlapping
    and at least ``min_overlap_fraction`` of the shorter video.
    """

    max_offset_seconds: float | None = None
    min_overlap_seconds: float = 2.0
    min_overlap_fraction: float = 0.1

    def __post_init__(self) -> None:
        check_number("SearchRange", "max_offset_seconds", self.max_offset_seconds, low=0, allow_none=True)
        check_number("SearchRange", "min_overlap_seconds", self.min_overlap_seconds, low=0)
        check_number("SearchRange", "min_overlap_fraction", self.min_overlap_fraction, low=0, high=1)

    def min_overlap_steps(self, sim: SimilarityMatrix) -> int:
        shorter = min(sim.shape)
        need = max(
            math.ceil(self.min_overlap_seconds / sim.step_seconds - 1e-9),
            math.ceil(self.min_overlap_fraction * shorter - 1e-9),
            2,
        )
        # Short clips: never demand more than half of the shorter one.
        return int(min(need, max(3, shorter // 2)))

    def allowed_lags(self, lags_steps: np.ndarray, overlap_steps: np.ndarray, sim: SimilarityMatrix) -> np.ndarray:
        """Boolean mask of the candidate lags this range allows."""
        ok = overlap_steps >= self.min_overlap_steps(sim)
        if self.max_offset_seconds is not None:
            ok &= np.abs(lags_steps * sim.step_seconds) <= self.max_offset_seconds + 1e-9
        return ok


@dataclass(frozen=True, repr=False)
class OffsetEstimate:
    """One pair's answer: the offset of video b with video a as the reference."""

    offset_seconds: float
    """The instant at time t in a appears at t + offset_seconds in b (see videosync.timebase)."""
    confidence: float
    """In [0, 1]. Hard but valid input gives low confidence, never an exception."""
    lags_seconds: np.ndarray | None = None
    """(L,) candidate offsets that were scored (for diagnostics and plots)."""
    scores: np.ndarray | None = None
    """(L,) score per candidate offset (higher is better)."""
    overlap_seconds: float | None = None
    """How much of the two videos overlaps at the answer."""
    details: dict[str, Any] = field(default_factory=dict)
    """Predictor-specific diagnostics (JSON-serialisable scalars)."""

    def __post_init__(self) -> None:
        c = float(self.confidence)
        if not (0.0 <= c <= 1.0) or math.isnan(c):
            raise ValueError(f"confidence must be in [0, 1], got {c}")
        object.__setattr__(self, "confidence", c)
        object.__setattr__(self, "offset_seconds", float(self.offset_seconds))

    def __repr__(self) -> str:
        n = None if self.scores is None else self.scores.shape
        return (
            f"OffsetEstimate(offset_seconds={self.offset_seconds:.4f}, "
            f"confidence={self.confidence:.3f}, scores={n})"
        )


class Predictor(Plugin, abc.ABC):
    """Reads a :class:`~videosync.similarity.SimilarityMatrix` and answers one offset.

    Plug-ins implement :meth:`_predict`; :meth:`predict` is the public entry.
    """

    returns_confidence: ClassVar[bool] = True

    def __init__(self) -> None:
        pass

    @abc.abstractmethod
    def _predict(self, sim: SimilarityMatrix, search: SearchRange) -> OffsetEstimate:
        """Compute the estimate."""

    def predict(self, sim: SimilarityMatrix, search: SearchRange | None = None) -> OffsetEstimate:
        """The offset of the column video (b) with the row video (a) as the reference."""
        return self._predict(sim, search or SearchRange())


def overlap_steps(sim: SimilarityMatrix, lag_steps: float) -> int:
    """How many grid rows of a have a partner in b at this lag (validity ignored)."""
    n, m = sim.shape
    d = int(round(lag_steps - sim.start_offset_steps))
    return int(max(0, min(n, m - d) - max(0, -d)))


def frame_pairs_lag(sim: SimilarityMatrix, rows: np.ndarray, cols: np.ndarray) -> np.ndarray:
    """Lag in grid steps (b relative to a) of matched grid rows/columns."""
    return cols - rows + sim.start_offset_steps
