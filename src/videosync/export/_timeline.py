"""Where each camera sits on a common timeline, in exact rational time (shared by the NLE exporters).

Following ``timebase.py``, camera *c*'s first frame lies at reference time ``-offset_seconds[c]``.
The common timeline starts at the earliest first frame, ``T0 = min_c(-offset_seconds[c])``, so camera
*c* starts at ``-offset_seconds[c] - T0`` (≥ 0) on it.

Exactness: offsets are read as the decimal they are stored as (``Fraction(repr(x))``), frame rates
are mapped to their rational values (29.97 → 30000/1001), and every time is a
:class:`fractions.Fraction`. Formats whose clip positions live on a frame grid (FCPXML, FCP7 XML,
EDL) place each camera at its offset *relative to the reference* rounded to the nearest frame of the
timeline (ties to even); the exact value and the rounding are kept in :class:`Placement` so writers
can state them. Drift (``CameraResult.drift_ppm``) is not applied to placement: a clip is placed by
its offset at reference time 0 and its drift is only reported.
"""

from __future__ import annotations

import math
import os
import urllib.parse
from dataclasses import dataclass
from fractions import Fraction

from videosync.errors import InvalidParameterError
from videosync.io import VideoInfo
from videosync.result import CameraResult, SyncResult

# Rational frame rates of the common broadcast / camera rates (NTSC family as n·1000/1001).
COMMON_RATES: tuple[Fraction, ...] = (
    Fraction(24000, 1001), Fraction(24), Fraction(25), Fraction(30000, 1001), Fraction(30),
    Fraction(48000, 1001), Fraction(48), Fraction(50), Fraction(60000, 1001), Fraction(60),
    Fraction(120000, 1001), Fraction(120),
)
_RATE_TOLERANCE_FPS = 0.01  # 29.97 vs 30 differ by 0.03, 23.976 vs 24 by 0.024


def rational_rate(fps: float) -> Fraction:
    """The exact frame rate behind ``fps``: a common rate when within 0.01 fps of one, else the
    closest fraction with a denominator ≤ 1001 (12.5 → 25/2, 14.985 → 15000/1001)."""
    if not (isinstance(fps, (int, float, Fraction)) and math.isfinite(float(fps)) and float(fps) > 0):
        raise InvalidParameterError(f"a frame rate must be a positive number; got {fps!r}")
    for rate in COMMON_RATES:
        if abs(float(fps) - float(rate)) < _RATE_TOLERANCE_FPS:
            return rate
    return Fraction(float(fps)).limit_denominator(1001)


def exact_seconds(x: float) -> Fraction:
    """A stored float as the decimal it prints as (0.1 → 1/10, not the binary double)."""
    return Fraction(repr(float(x)))


def display_names(result: SyncResult) -> tuple[str, ...]:
    """One short, unique name per camera: the file name without extension (index added on clashes)."""
    stems = [os.path.splitext(os.path.basename(v.path))[0] or f"camera{i}" for i, v in enumerate(result.videos)]
    return tuple(s if stems.count(s) == 1 else f"{s}-{i}" for i, s in enumerate(stems))


def file_url(path: str) -> str:
    """``file://`` URL of a path (absolute, percent-encoded)."""
    return "file://" + urllib.parse.quote(os.path.abspath(path))


@dataclass(frozen=True)
class Placement:
    """One camera's clip on the common timeline."""

    index: int
    name: str
    path: str
    """Absolute path of the video."""
    camera: CameraResult
    info: VideoInfo
    rate: Fraction
    """The camera's own frame rate (exact)."""
    n_frames: int
    offset_seconds: Fraction
    """The camera's offset, exact as stored."""
    start_seconds: Fraction
    """Exact start of the camera's first frame on the common timeline (≥ 0)."""
    start_frames: int
    """Start on the timeline's frame grid (offset relative to the reference rounded to the nearest frame)."""
    rounding_seconds: Fraction
    """Grid placement minus exact placement, relative to the reference (|·| ≤ half a timeline frame)."""
    duration_frames: int
    """Length on the timeline grid: whole timeline frames covered by the media (rounded down)."""

    @property
    def duration_seconds(self) -> Fraction:
        """Exact media length: n_frames / rate."""
        return self.n_frames / self.rate


@dataclass(frozen=True)
class Timeline:
    """Every camera placed on one timeline whose frame rate is the reference camera's."""

    rate: Fraction
    reference_index: int
    placements: tuple[Placement, ...]

    @property
    def duration_frames(self) -> int:
        return max(p.start_frames + p.duration_frames for p in self.placements)

    @property
    def reference(self) -> Placement:
        return self.placements[self.reference_index]


def camera_info(camera: CameraResult) -> VideoInfo:
    """The camera's :class:`VideoInfo`: the one stored in the result, else probed from its file."""
    if camera.info is not None:
        return camera.info
    from videosync.io import probe

    return probe(camera.path)


def build_timeline(result: SyncResult, rate: Fraction | None = None) -> Timeline:
    """Place every camera of ``result`` (probing files whose info the result does not hold).

    ``rate``: the timeline's frame rate (default: the reference camera's, made exact).
    """
    if not result.videos:
        raise InvalidParameterError("the sync result has no videos")
    names = display_names(result)
    ref = result.reference_index
    rate = rational_rate(result.videos[ref].fps) if rate is None else Fraction(rate)
    rel = [-exact_seconds(v.offset_seconds) for v in result.videos]  # first frame, reference time
    rel_frames = [round(r * rate) for r in rel]  # Fraction.__round__: nearest, ties to even
    t0, f0 = min(rel), min(rel_frames)
    placements = []
    for i, cam in enumerate(result.videos):
        info = camera_info(cam)
        cam_rate = rational_rate(cam.fps)
        n = int(info.num_frames_from_content)
        placements.append(Placement(
            index=i, name=names[i], path=os.path.abspath(cam.path), camera=cam, info=info, rate=cam_rate,
            n_frames=n, offset_seconds=-rel[i], start_seconds=rel[i] - t0, start_frames=rel_frames[i] - f0,
            rounding_seconds=rel_frames[i] / rate - rel[i], duration_frames=math.floor(n / cam_rate * rate),
        ))
    return Timeline(rate, ref, tuple(placements))


def placement_note(p: Placement, timeline_rate: Fraction) -> str:
    """One line stating a camera's exact offset, the grid rounding, confidence and status."""
    frame = 1 / timeline_rate
    return (
        f"videosync: offset_seconds={float(p.offset_seconds):+.6f} (exact {p.offset_seconds}); placed on the "
        f"{fraction_text(frame)} s frame grid {float(p.rounding_seconds) * 1e3:+.3f} ms from exact "
        f"({float(p.rounding_seconds * timeline_rate):+.4f} frames); confidence={p.camera.confidence:.3f}; "
        f"status={p.camera.status}; drift_ppm={p.camera.drift_ppm:g} (not applied)"
    )


def fraction_text(x: Fraction) -> str:
    return str(x.numerator) if x.denominator == 1 else f"{x.numerator}/{x.denominator}"
