"""The session result: cameras → clips on one session timeline, and its JSON (schema_version 1).

A clip's local time τ (from its first frame, in seconds, from pts) shows the session instant
``start_seconds + rate · τ`` with ``rate = 1 + drift_ppm·1e-6``. ``start_seconds`` is None for
an ``unsynced`` clip. The session timeline's zero is the earliest synced clip's start.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass, field
from typing import Any, Literal

from videosync.errors import InvalidParameterError

SESSION_SCHEMA_VERSION = 1
ClipStatus = Literal["synced", "low_confidence", "unsynced"]
STATUSES = ("synced", "low_confidence", "unsynced")


@dataclass(frozen=True)
class SessionClip:
    """One clip's place on the session timeline."""

    path: str
    start_seconds: float | None
    """Session instant shown at the clip's local time 0 (None when unsynced)."""
    rate: float
    """Session seconds per clip second: local τ shows ``start_seconds + rate·τ``."""
    drift_ppm: float
    """``(rate − 1)·1e6``."""
    confidence: float
    """In [0, 1]."""
    status: ClipStatus
    duration_seconds: float = field(default=0.0, compare=False)
    """The clip's own length (not in the JSON interface; kept for overlap checks)."""
    details: dict[str, Any] = field(default_factory=dict, compare=False)
    """Why this status (not part of the JSON interface; written under ``"details"``)."""

    def __post_init__(self) -> None:
        if self.status not in STATUSES:
            raise InvalidParameterError(f"clip status must be one of {', '.join(STATUSES)}; got {self.status!r}")
        if (self.start_seconds is None) != (self.status == "unsynced"):
            raise InvalidParameterError(
                f"{self.path}: start_seconds is None exactly when the status is 'unsynced'"
            )
        c = float(self.confidence)
        if not 0.0 <= c <= 1.0:
            raise InvalidParameterError(f"{self.path}: confidence must be in [0, 1], got {c}")

    @property
    def end_seconds(self) -> float | None:
        """Session instant of the clip's end (None when unsynced)."""
        return None if self.start_seconds is None else self.start_seconds + self.rate * self.duration_seconds

    def session_time(self, tau_seconds: float) -> float | None:
        """The session instant shown at local time τ (None when unsynced)."""
        return None if self.start_seconds is None else self.start_seconds + self.rate * float(tau_seconds)

    def to_dict(self) -> dict[str, Any]:
        d = {
            "path": self.path,
            "start_seconds": _f(self.start_seconds),
            "rate": _f(self.rate, 9),
            "drift_ppm": _f(self.drift_ppm, 3),
            "confidence": _f(self.confidence, 4),
            "status": self.status,
        }
        if self.duration_seconds:
            d["duration_seconds"] = _f(self.duration_seconds)
        if self.details:
            d["details"] = self.details
        return d

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> "SessionClip":
        start = d.get("start_seconds")
        return cls(
            path=str(d["path"]),
            start_seconds=None if start is None else float(start),
            rate=float(d.get("rate", 1.0)),
            drift_ppm=float(d.get("drift_ppm", 0.0) or 0.0),
            confidence=float(d["confidence"]),
            status=d["status"],
            duration_seconds=float(d.get("duration_seconds") or 0.0),
            details=dict(d.get("details") or {}),
        )


@dataclass(frozen=True)
class SessionCamera:
    """One camera (one folder of the shoot) and its clips in recording order."""

    name: str
    clips: tuple[SessionClip, ...]

    def to_dict(self) -> dict[str, Any]:
        return {"name": self.name, "clips": [c.to_dict() for c in self.clips]}

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> "SessionCamera":
        return cls(str(d["name"]), tuple(SessionClip.from_dict(c) for c in d["clips"]))


@dataclass(frozen=True)
class SessionResult:
    """Every clip of a shoot on one session timeline."""

    cameras: tuple[SessionCamera, ...]
    provenance: dict[str, Any] = field(default_factory=dict, compare=False)

    @property
    def clips(self) -> tuple[SessionClip, ...]:
        return tuple(c for cam in self.cameras for c in cam.clips)

    def clip(self, path: str) -> SessionClip:
        for c in self.clips:
            if c.path == path:
                return c
        raise KeyError(path)

    def counts(self) -> dict[str, int]:
        return {s: sum(c.status == s for c in self.clips) for s in STATUSES}

    def to_dict(self) -> dict[str, Any]:
        return {
            "schema_version": SESSION_SCHEMA_VERSION,
            "cameras": [c.to_dict() for c in self.cameras],
            "provenance": self.provenance,
        }

    def to_json(self, indent: int = 2) -> str:
        return json.dumps(self.to_dict(), indent=indent, allow_nan=False)

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> "SessionResult":
        if not isinstance(d, dict) or d.get("schema_version") != SESSION_SCHEMA_VERSION:
            got = d.get("schema_version") if isinstance(d, dict) else None
            raise InvalidParameterError(
                f"unsupported session schema_version {got!r}; expected {SESSION_SCHEMA_VERSION}"
            )
        try:
            cams = tuple(SessionCamera.from_dict(c) for c in d["cameras"])
        except (KeyError, TypeError, ValueError) as exc:
            raise InvalidParameterError(f"not a videosync session ({exc})") from None
        return cls(cams, dict(d.get("provenance") or {}))


def _f(x: float | None, nd: int = 6) -> float | None:
    if x is None:
        return None
    x = float(x)
    if not math.isfinite(x):
        return None
    return round(x, nd) if x != 0 else 0.0
