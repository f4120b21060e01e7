"""OpenTimelineIO (``.otio``): one video track per camera, each a leading gap then the whole clip.

OTIO has no multicam object (OpenTimelineIO issue #427), so the cameras are parallel tracks of the
timeline's stack. Gaps are written at the exact offset (``RationalTime`` holds fractional frames),
so nothing is rounded here. Offsets, confidence, status and drift are in ``metadata["videosync"]``
of each clip, and the convention and reference in the timeline's.
"""

from __future__ import annotations

from typing import Any

from videosync.errors import MissingDependencyError
from videosync.export._timeline import Placement, build_timeline, file_url
from videosync.export.base import Exporter
from videosync.result import SyncResult
from videosync.timebase import OFFSET_CONVENTION


def _otio():
    try:
        import opentimelineio
    except ImportError:
        raise MissingDependencyError("the OTIO exporter", "otio", "opentimelineio") from None
    return opentimelineio


def camera_metadata(p: Placement, reference_index: int) -> dict[str, Any]:
    """What the exporters record about a camera beside its placement."""
    v = p.camera
    return {
        "path": v.path,
        "offset_seconds": float(v.offset_seconds),
        "offset_frames": float(v.offset_frames),
        "fps": float(v.fps),
        "confidence": float(v.confidence),
        "status": v.status,
        "residual_seconds": None if v.residual_seconds is None else float(v.residual_seconds),
        "drift_ppm": float(v.drift_ppm),
        "is_reference": p.index == reference_index,
        "start_on_timeline_seconds": float(p.start_seconds),
    }


class OTIOExporter(Exporter):
    name = "otio"
    summary = "OpenTimelineIO: one track per camera, offsets and confidence in metadata"
    suffixes = (".otio",)

    @classmethod
    def is_available(cls) -> bool:
        try:
            _otio()
        except MissingDependencyError:
            return False
        return True

    def build(self, result: SyncResult):
        """The :class:`opentimelineio.schema.Timeline` (without writing it)."""
        otio = _otio()
        tl = build_timeline(result)
        rate = float(tl.rate)
        timeline = otio.schema.Timeline(name="videosync", global_start_time=otio.opentime.RationalTime(0, rate))
        timeline.metadata["videosync"] = {
            "convention": OFFSET_CONVENTION,
            "reference": result.reference.path,
            "reference_index": result.reference_index,
            "timeline_rate": str(tl.rate),
        }
        for p in tl.placements:
            track = otio.schema.Track(name=p.name, kind=otio.schema.TrackKind.Video)
            if p.start_seconds > 0:
                gap = otio.opentime.RationalTime(float(p.start_seconds * tl.rate), rate)
                track.append(otio.schema.Gap(source_range=otio.opentime.TimeRange(
                    otio.opentime.RationalTime(0, rate), gap)))
            cam_rate = float(p.rate)
            media_range = otio.opentime.TimeRange(otio.opentime.RationalTime(0, cam_rate),
                                                  otio.opentime.RationalTime(p.n_frames, cam_rate))
            clip = otio.schema.Clip(
                name=p.name,
                media_reference=otio.schema.ExternalReference(target_url=file_url(p.path), available_range=media_range),
                source_range=media_range,
            )
            clip.metadata["videosync"] = camera_metadata(p, tl.reference_index)
            track.append(clip)
            timeline.tracks.append(track)
        return timeline

    def _render(self, result: SyncResult) -> bytes:
        return (_otio().adapters.write_to_string(self.build(result), "otio_json") + "\n").encode()
