"""Hand corrections to a sync result: the file the review page saves, and applying it.

A corrections file is what the review page saves after a person nudged cameras::

    {
      "schema_version": 1,
      "kind": "videosync-corrections",
      "reference": "cam0.mp4",
      "corrections_frames": {"cam1.mp4": 2, "cam2.mp4": -1}
    }

``reference`` and the keys of ``corrections_frames`` are video paths exactly as in the
sync.json (a key may also be a unique basename). A correction of *n* frames for a camera
adds *n* of **that camera's** frames to its offset::

    offset_seconds[cam] += n / fps[cam]

so +1 means "the reference instant appears one frame later in cam" (see
:mod:`videosync.timebase`). Fractional *n* is allowed. A correction of the reference
itself is the same as the opposite correction of every other camera (converted with the
reference's frame rate), so the reference keeps offset 0.
"""

from __future__ import annotations

import dataclasses
import os
from dataclasses import dataclass, field
from typing import Any

from videosync._files import read_json
from videosync.errors import InvalidParameterError
from videosync.result import SyncResult

CORRECTIONS_KIND = "videosync-corrections"
CORRECTIONS_SCHEMA_VERSION = 1


@dataclass(frozen=True)
class Corrections:
    """Per-camera nudges in frames of that camera."""

    reference: str
    corrections_frames: dict[str, float] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return {
            "schema_version": CORRECTIONS_SCHEMA_VERSION,
            "kind": CORRECTIONS_KIND,
            "reference": self.reference,
            "corrections_frames": dict(self.corrections_frames),
        }

    @classmethod
    def from_dict(cls, d: Any, source: str = "corrections") -> "Corrections":
        if not isinstance(d, dict) or d.get("kind") != CORRECTIONS_KIND:
            raise InvalidParameterError(f"{source}: not a videosync corrections file (kind must be {CORRECTIONS_KIND!r})")
        if d.get("schema_version") != CORRECTIONS_SCHEMA_VERSION:
            raise InvalidParameterError(
                f"{source}: unsupported schema_version {d.get('schema_version')!r}; expected {CORRECTIONS_SCHEMA_VERSION}"
            )
        frames = d.get("corrections_frames")
        if not isinstance(frames, dict):
            raise InvalidParameterError(f"{source}: 'corrections_frames' must be an object {{video: frames}}")
        out = {}
        for cam, n in frames.items():
            if isinstance(n, bool) or not isinstance(n, (int, float)) or n != n or abs(n) == float("inf"):
                raise InvalidParameterError(f"{source}: correction for {cam!r} must be a number of frames, got {n!r}")
            out[str(cam)] = float(n)
        return cls(str(d.get("reference", "")), out)


def load_corrections(path: str | os.PathLike) -> Corrections:
    """Read a corrections JSON file (one-line errors for anything malformed)."""
    return Corrections.from_dict(read_json(path), os.fspath(path))


def apply_corrections(result: SyncResult, corrections: Corrections) -> SyncResult:
    """A new result with each camera's offset moved by its correction (see module doc)."""
    paths = [v.path for v in result.videos]
    if corrections.reference and _match(corrections.reference, paths) != result.reference_index:
        raise InvalidParameterError(
            f"the corrections are for reference {corrections.reference!r}, "
            f"but this result's reference is {paths[result.reference_index]!r}"
        )
    delta = [0.0] * len(paths)
    for cam, n in corrections.corrections_frames.items():
        i = _match(cam, paths)
        if i is None:
            raise InvalidParameterError(
                f"the corrections name {cam!r}, which is not a video of this result; videos: {', '.join(paths)}"
            )
        delta[i] += n / result.videos[i].fps
    ref_shift = delta[result.reference_index]
    videos = []
    for i, v in enumerate(result.videos):
        off = 0.0 if i == result.reference_index else v.offset_seconds + delta[i] - ref_shift
        videos.append(dataclasses.replace(v, offset_seconds=off, offset_frames=off * v.fps))
    provenance = dict(result.provenance)
    provenance["corrections_frames"] = {
        **provenance.get("corrections_frames", {}),
        **{paths[_match(c, paths)]: n for c, n in corrections.corrections_frames.items()},
    }
    return dataclasses.replace(result, videos=tuple(videos), provenance=provenance)


def _match(name: str, paths: list[str]) -> int | None:
    if name in paths:
        return paths.index(name)
    hits = [i for i, p in enumerate(paths) if os.path.basename(p) == name]
    return hits[0] if len(hits) == 1 else None
