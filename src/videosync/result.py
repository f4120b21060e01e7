"""Result objects of a sync run and their JSON form (schema_version 1)."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any, Literal

import numpy as np

from videosync.diagnostics import LagCurve, SimilarityThumbnail, lag_curve
from videosync.io import VideoInfo
from videosync.predict.base import OffsetEstimate
from videosync.timebase import OFFSET_CONVENTION

SCHEMA_VERSION = 1
Status = Literal["reference", "synced", "low_confidence"]


@dataclass(frozen=True)
class CameraResult:
    """One camera's place on the reference timeline."""

    path: str
    offset_seconds: float
    """The reference instant t appears at t + offset_seconds in this camera (timebase.py)."""
    offset_frames: float
    """offset_seconds in this camera's frames (offset_seconds × fps)."""
    fps: float
    confidence: float
    status: Status
    residual_seconds: float | None = None
    """RMS disagreement of this camera's used pairs with the solved offsets."""
    info: VideoInfo | None = field(default=None, compare=False)
    drift_ppm: float = 0.0
    """Clock drift against the reference: cam time τ = offset_seconds + (1 + drift_ppm·1e-6)·t_ref."""


@dataclass(frozen=True)
class PairResult:
    """One measured pair: offset of ``b`` with ``a`` as the reference."""

    a: int
    b: int
    offset_seconds: float
    confidence: float
    used: bool
    """Kept by the robust N-camera solve (False: down-weighted as disagreeing or too weak)."""
    residual_seconds: float = 0.0
    estimate: OffsetEstimate | None = field(default=None, compare=False, repr=False)
    lag_curve: LagCurve | None = field(default=None, compare=False, repr=False)
    """Score per candidate offset, downsampled (derived from ``estimate`` when absent)."""
    similarity_thumbnail: SimilarityThumbnail | None = field(default=None, compare=False, repr=False)
    """The pair's similarity matrix shrunk to ≤ 128 × 128 (None when not stored)."""

    def curve(self) -> LagCurve | None:
        """The stored lag curve, or one derived from the estimate's profile (None if neither)."""
        if self.lag_curve is not None:
            return self.lag_curve
        e = self.estimate
        if e is None or e.lags_seconds is None or e.scores is None or len(e.lags_seconds) == 0:
            return None
        return lag_curve(e.lags_seconds, e.scores, self.offset_seconds)


@dataclass(frozen=True)
class SyncResult:
    """Offsets of every camera relative to the reference, with confidences."""

    videos: tuple[CameraResult, ...]
    pairs: tuple[PairResult, ...]
    reference_index: int
    provenance: dict[str, Any] = field(default_factory=dict, compare=False)

    @property
    def offsets_seconds(self) -> np.ndarray:
        """(N,) offsets; the reference is exactly 0."""
        return np.array([v.offset_seconds for v in self.videos])

    @property
    def reference(self) -> CameraResult:
        return self.videos[self.reference_index]

    def to_dict(self) -> dict[str, Any]:
        paths = [v.path for v in self.videos]
        return {
            "schema_version": SCHEMA_VERSION,
            "convention": OFFSET_CONVENTION,
            "reference": paths[self.reference_index],
            "videos": [
                {
                    "path": v.path,
                    "offset_seconds": _f(v.offset_seconds),
                    "offset_frames": _f(v.offset_frames),
                    "fps": _f(v.fps),
                    "confidence": _f(v.confidence),
                    "status": v.status,
                    "residual_seconds": _f(v.residual_seconds),
                    "drift_ppm": _f(v.drift_ppm),
                }
                for v in self.videos
            ],
            "pairs": [
                {
                    "a": paths[p.a],
                    "b": paths[p.b],
                    "offset_seconds": _f(p.offset_seconds),
                    "confidence": _f(p.confidence),
                    "used": bool(p.used),
                    "residual_seconds": _f(p.residual_seconds),
                    **_pair_diagnostics(p),
                }
                for p in self.pairs
            ],
            "provenance": self.provenance,
        }

    def to_json(self, indent: int = 2) -> str:
        return json.dumps(self.to_dict(), indent=indent, allow_nan=False)

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> "SyncResult":
        """Rebuild a result from :meth:`to_dict` output (without per-pair score curves)."""
        from videosync.errors import InvalidParameterError

        if d.get("schema_version") != SCHEMA_VERSION:
            raise InvalidParameterError(
                f"unsupported sync result schema_version {d.get('schema_version')!r}; expected {SCHEMA_VERSION}"
            )
        paths = [v["path"] for v in d["videos"]]
        index = {p: i for i, p in enumerate(paths)}
        videos = tuple(
            CameraResult(
                path=v["path"],
                offset_seconds=float(v["offset_seconds"]),
                offset_frames=float(v["offset_frames"]),
                fps=float(v["fps"]),
                confidence=float(v["confidence"]),
                status=v["status"],
                residual_seconds=v.get("residual_seconds"),
                drift_ppm=float(v.get("drift_ppm") or 0.0),
            )
            for v in d["videos"]
        )
        pairs = tuple(
            PairResult(
                a=index[p["a"]],
                b=index[p["b"]],
                offset_seconds=float(p["offset_seconds"]),
                confidence=float(p["confidence"]),
                used=bool(p["used"]),
                residual_seconds=float(p.get("residual_seconds") or 0.0),
                lag_curve=LagCurve.from_dict(p["lag_curve"]) if p.get("lag_curve") else None,
                similarity_thumbnail=SimilarityThumbnail.from_dict(p["similarity_thumbnail"])
                if p.get("similarity_thumbnail") else None,
            )
            for p in d["pairs"]
        )
        return cls(videos, pairs, index[d["reference"]], dict(d.get("provenance", {})))


def _pair_diagnostics(p: PairResult) -> dict[str, Any]:
    """Optional pair fields (absent → None on reading): lag curve and similarity thumbnail."""
    out: dict[str, Any] = {}
    curve = p.curve()
    if curve is not None:
        out["lag_curve"] = curve.to_dict()
    if p.similarity_thumbnail is not None:
        out["similarity_thumbnail"] = p.similarity_thumbnail.to_dict()
    return out


def _f(x: float | None) -> float | None:
    if x is None:
        return None
    x = float(x)
    if not np.isfinite(x):
        return None
    return round(x, 6) if x != 0 else 0.0
