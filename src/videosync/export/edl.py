"""CMX3600 EDL (``.edl``): one camera placed against the reference, on one video track.

An EDL is a single track of events, so it can express two cameras: the record side is the
reference's timeline (record timecode 01:00:00:00 = the reference's first frame) and the one event
places the other camera's whole file on it. A one-camera result gives the reference's own event.
Three or more cameras are refused (use .fcpxml, .xml or .otio).

Timecodes are non-drop-frame at the sequence (reference) frame rate: 29.97 counts 30 frames per
timecode second, 23.976 counts 24. Source timecode starts at 00:00:00:00 (files without timecode)
and is counted at the sequence rate too. The camera's offset relative to the reference is rounded
to the nearest sequence frame; ``*`` comment lines give the exact offset and the rounding.
"""

from __future__ import annotations

import os
import re

from videosync.errors import InvalidParameterError
from videosync.export._timeline import Placement, Timeline, build_timeline, placement_note
from videosync.export.base import Exporter
from videosync.result import SyncResult

RECORD_START_HOURS = 1


def timecode(frames: int, timebase: int) -> str:
    """Non-drop-frame ``HH:MM:SS:FF`` of a frame count at ``timebase`` frames per timecode second."""
    if frames < 0 or frames >= 24 * 3600 * timebase:
        raise InvalidParameterError(f"{frames} frames at {timebase} fps is outside 00:00:00:00-23:59:59:{timebase - 1}")
    seconds, ff = divmod(frames, timebase)
    return f"{seconds // 3600:02d}:{seconds // 60 % 60:02d}:{seconds % 60:02d}:{ff:02d}"


def reel_name(name: str) -> str:
    """An 8-character CMX reel name (letters, digits, underscore) from a clip name."""
    reel = re.sub(r"[^A-Za-z0-9_]", "", name).upper()[:8]
    return reel or "AX"


def event_line(number: int, reel: str, channel: str, src_in: str, src_out: str, rec_in: str, rec_out: str) -> str:
    """One CMX3600 cut event: fixed columns (source in at column 30, 1-based)."""
    return f"{number:03d}  {reel:<8} {channel:<5} C        {src_in} {src_out} {rec_in} {rec_out}"


class EDLExporter(Exporter):
    name = "edl"
    summary = "CMX3600 EDL: one camera against the reference (single track, NDF timecode)"
    suffixes = (".edl",)

    def _render(self, result: SyncResult) -> bytes:
        n = len(result.videos)
        if n > 2:
            raise InvalidParameterError(
                f"an EDL holds one track: it can place one camera against the reference, but this result "
                f"has {n} cameras; export .fcpxml, .xml (FCP7) or .otio instead"
            )
        tl = build_timeline(result)
        timebase = round(tl.rate)
        others = [p for p in tl.placements if p.index != tl.reference_index]
        p = others[0] if others else tl.reference
        ref = tl.reference
        lines = [
            "TITLE: videosync " + (f"{p.name} against {ref.name}" if others else ref.name)[:60],
            "FCM: NON-DROP FRAME",
            "",
        ]
        lines += self._event(1, p, tl, timebase)
        lines.append(f"* VIDEOSYNC REFERENCE: {ref.name} (record {timecode(self._origin(timebase), timebase)} "
                     f"= its first frame; sequence rate {tl.rate} fps)")
        return ("\n".join(lines) + "\n").encode()

    @staticmethod
    def _origin(timebase: int) -> int:
        return RECORD_START_HOURS * 3600 * timebase

    def _event(self, number: int, p: Placement, tl: Timeline, timebase: int) -> list[str]:
        rec_in = self._origin(timebase) + (p.start_frames - tl.reference.start_frames)
        src_in = 0
        if rec_in < 0:  # the camera starts more than an hour before the reference: trim its head
            src_in, rec_in = -rec_in, 0
        length = p.duration_frames - src_in
        if length <= 0:
            raise InvalidParameterError(f"{p.name} ends before record timecode 00:00:00:00; cannot place it in an EDL")
        tc = [timecode(src_in, timebase), timecode(src_in + length, timebase),
              timecode(rec_in, timebase), timecode(rec_in + length, timebase)]
        return [
            event_line(number, reel_name(p.name), "AA/V" if p.info.has_audio else "V", *tc),
            f"* FROM CLIP NAME: {os.path.basename(p.path)}",
            f"* SOURCE FILE: {p.path}",
            f"* {placement_note(p, tl.rate)}",
        ]
