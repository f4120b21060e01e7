"""Final Cut Pro X (``.fcpxml``, version 1.10): a multicam clip with one angle per camera.

Layout (element names from Apple's FCPXML 1.10 DTD):

* ``resources``: one ``format`` per distinct (frame rate, size); one ``asset`` per camera with a
  ``media-rep src="file://..."``; a ``media`` holding the ``multicam``, whose ``mc-angle`` (one per
  camera) is a ``gap`` of the camera's start on the common timeline then an ``asset-clip`` of the
  whole file.
* ``library/event``: the multicam as a browser clip (``mc-clip``) and a ``project`` whose spine holds
  one ``mc-clip`` with the reference camera as the active angle.

Every time is a rational number of seconds computed with :class:`fractions.Fraction` (``"1001/30000s"``).
Angle positions lie on the multicam's frame grid (the reference's frame rate): each camera's offset
relative to the reference is rounded to the nearest frame, and each ``asset-clip`` carries a
``note`` with the exact offset and the rounding applied. Asset durations are exact in the asset's
own frames.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from fractions import Fraction

from videosync.export._timeline import Placement, Timeline, fraction_text, build_timeline, file_url, placement_note
from videosync.export._xml import document, sub
from videosync.export.base import Exporter
from videosync.result import SyncResult

FCPXML_VERSION = "1.10"


def fcpx_time(seconds: Fraction) -> str:
    """FCPXML time value: ``"0s"``, ``"5s"`` or ``"1001/30000s"`` (exact)."""
    return fraction_text(Fraction(seconds)) + "s"


def _grid(frames: int, rate: Fraction) -> str:
    return fcpx_time(Fraction(frames) / rate)


class FCPXMLExporter(Exporter):
    name = "fcpxml"
    summary = "Final Cut Pro X XML 1.10: multicam clip, one angle per camera (rational times)"
    suffixes = (".fcpxml",)

    def _render(self, result: SyncResult) -> bytes:
        tl = build_timeline(result)
        root = ET.Element("fcpxml", version=FCPXML_VERSION)
        resources = sub(root, "resources")
        ids = iter(f"r{i}" for i in range(1, 10_000))
        formats: dict[tuple, str] = {}

        def format_id(p: Placement) -> str:
            key = (p.rate, p.info.width, p.info.height)
            if key not in formats:
                formats[key] = next(ids)
                sub(resources, "format", id=formats[key], frameDuration=fcpx_time(1 / p.rate),
                    width=p.info.width, height=p.info.height)
            return formats[key]

        timeline_format = format_id(tl.reference)
        assets = {p.index: self._asset(resources, p, next(ids), format_id(p)) for p in tl.placements}
        media_id = next(ids)
        title = "videosync multicam"
        media = sub(resources, "media", id=media_id, name=title)
        multicam = sub(media, "multicam", format=timeline_format, tcStart="0s", tcFormat="NDF")
        angle_ids = {p.index: f"angle-{p.index + 1}" for p in tl.placements}
        for p in tl.placements:
            self._angle(multicam, p, tl, angle_ids[p.index], assets[p.index], formats)

        total = _grid(tl.duration_frames, tl.rate)
        event = sub(sub(root, "library"), "event", name="videosync")
        browser_clip = sub(event, "mc-clip", ref=media_id, name=title, offset="0s", start="0s", duration=total)
        self._sources(browser_clip, angle_ids[tl.reference_index])
        sequence = sub(sub(event, "project", name="videosync"), "sequence", format=timeline_format,
                       duration=total, tcStart="0s", tcFormat="NDF")
        spine_clip = sub(sub(sequence, "spine"), "mc-clip", ref=media_id, name=title, offset="0s", start="0s",
                         duration=total)
        self._sources(spine_clip, angle_ids[tl.reference_index])
        comment = (f"videosync multicam; reference {tl.reference.name}; angles placed on the "
                   f"{fraction_text(1 / tl.rate)} s frame grid, exact offsets in each asset-clip's note")
        return document(root, "fcpxml", comment)

    @staticmethod
    def _asset(resources: ET.Element, p: Placement, asset_id: str, fmt: str) -> str:
        info = p.info
        audio = {}
        if info.has_audio:
            audio = dict(hasAudio="1", audioSources="1", audioChannels=info.audio_channels,
                         audioRate=info.audio_sample_rate_hz)
        asset = sub(resources, "asset", id=asset_id, name=p.name, start="0s", duration=fcpx_time(p.duration_seconds),
                    hasVideo="1", format=fmt, videoSources="1", **audio)
        sub(asset, "media-rep", kind="original-media", src=file_url(p.path))
        md = sub(asset, "metadata")
        sub(md, "md", key="com.apple.proapps.studio.cameraName", value=p.name)
        sub(md, "md", key="com.apple.proapps.studio.angle", value=p.name)
        return asset_id

    @staticmethod
    def _angle(multicam: ET.Element, p: Placement, tl: Timeline, angle_id: str, asset_id: str,
               formats: dict[tuple, str]) -> None:
        angle = sub(multicam, "mc-angle", name=p.name, angleID=angle_id)
        if p.start_frames > 0:
            sub(angle, "gap", name="Gap", offset="0s", start="0s", duration=_grid(p.start_frames, tl.rate))
        clip = sub(angle, "asset-clip", ref=asset_id, name=p.name, offset=_grid(p.start_frames, tl.rate),
                   start="0s", duration=_grid(p.duration_frames, tl.rate),
                   format=formats[(p.rate, p.info.width, p.info.height)], tcFormat="NDF")
        sub(clip, "note", placement_note(p, tl.rate))

    @staticmethod
    def _sources(mc_clip: ET.Element, active_angle: str) -> None:
        sub(mc_clip, "mc-source", angleID=active_angle, srcEnable="all")
