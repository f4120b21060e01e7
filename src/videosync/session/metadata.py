"""A shoot folder's layout and each clip's file metadata (coarse placement).

``shoot/<camera>/<clips...>``: one sub-folder per camera; every video file in it (by
extension, recursively) is one clip. Clips are ordered by their record start when every clip
of the camera has one (time code, else ``creation_time``), otherwise by natural file-name order
(``GOPR0002`` before ``GOPR0010``).

Record start, from PyAV container/stream tags:

* ``timecode`` (a ``tmcd`` track, the video stream or the container): ``HH:MM:SS:FF``
  (``;`` = drop-frame), converted with the clip's frame rate; exact to a frame;
* ``creation_time`` (ISO 8601): usually 1 s resolution, and some devices write the *end* of
  recording or the file's copy time, so it is a loose prior only.
"""

from __future__ import annotations

import datetime
import os
import re
from dataclasses import dataclass

from videosync.errors import InvalidParameterError

VIDEO_EXTENSIONS = (".mp4", ".mov", ".m4v", ".mkv", ".avi", ".mts", ".m2ts", ".mxf", ".webm", ".mpg", ".mpeg",
                    ".ts", ".3gp", ".lrv")
SOUND_EXTENSIONS = (".wav", ".flac", ".mp3", ".m4a", ".aif", ".aiff", ".ogg", ".opus")
"""Sound-only files (a recorder's takes): clips only when the sound is a cue."""


@dataclass(frozen=True)
class ClipMetadata:
    path: str
    creation_time_seconds: float | None
    """``creation_time`` as seconds since the Unix epoch (None if absent or unreadable)."""
    timecode: str | None
    """The start time code as written (None if absent)."""
    timecode_seconds: float | None
    """The start time code in seconds since midnight (None if absent or unreadable)."""

    @property
    def record_start_seconds(self) -> float | None:
        """Best record start on the camera's clock: time code, else creation time."""
        return self.timecode_seconds if self.timecode_seconds is not None else self.creation_time_seconds

    @property
    def source(self) -> str | None:
        if self.timecode_seconds is not None:
            return "timecode"
        return "creation_time" if self.creation_time_seconds is not None else None


def _natural_key(s: str):
    return [int(t) if t.isdigit() else t.lower() for t in re.split(r"(\d+)", s)]


def scan_shoot(folder: str | os.PathLike, *, audio: bool = False) -> list[tuple[str, list[str]]]:
    """``[(camera name, [clip paths in file-name order])]`` for ``folder/<camera>/...``.

    ``audio``: sound files (:data:`SOUND_EXTENSIONS`, e.g. a recorder's folder) are clips too.

    Raises:
        InvalidParameterError: not a folder, or no camera folder holds a video file.
    """
    root = os.fspath(folder)
    if not os.path.isdir(root):
        raise InvalidParameterError(f"{root}: not a folder (expected shoot/<camera>/<clips...>)")
    suffixes = VIDEO_EXTENSIONS + (SOUND_EXTENSIONS if audio else ())
    cams = []
    for name in sorted(os.listdir(root), key=_natural_key):
        sub = os.path.join(root, name)
        if not os.path.isdir(sub) or name.startswith("."):
            continue
        clips = []
        for dirpath, dirnames, files in os.walk(sub):
            dirnames[:] = sorted(d for d in dirnames if not d.startswith("."))
            for f in files:
                if f.lower().endswith(suffixes) and not f.startswith("."):
                    clips.append(os.path.join(dirpath, f))
        if clips:
            cams.append((name, sorted(clips, key=lambda p: _natural_key(os.path.relpath(p, sub)))))
    if not cams:
        raise InvalidParameterError(
            f"{root}: no camera folder with video files (expected {root}/<camera>/<clips...>)"
        )
    return cams


def parse_timecode(text: str, fps: float) -> float | None:
    """``HH:MM:SS:FF`` (or ``;``/``.`` before FF for drop-frame) → seconds since midnight."""
    m = re.fullmatch(r"\s*(\d{1,2}):(\d{2}):(\d{2})([:;.,])(\d{1,3})\s*", text or "")
    if not m or not fps or fps <= 0:
        return None
    h, mi, s, sep, ff = int(m[1]), int(m[2]), int(m[3]), m[4], int(m[5])
    nominal = int(round(fps))
    frames = ((h * 60 + mi) * 60 + s) * nominal + ff
    drop = sep in ";.," and abs(fps * 1.001 - nominal) < 0.01 * nominal
    if drop:  # SMPTE drop-frame: 2 (29.97) or 4 (59.94) frame numbers skipped each minute but every tenth
        per = 2 * max(1, nominal // 30)
        minutes = h * 60 + mi
        frames -= per * (minutes - minutes // 10)
    return frames / fps


def _iso_seconds(text: str) -> float | None:
    try:
        t = datetime.datetime.fromisoformat(text.strip().replace("Z", "+00:00"))
    except (ValueError, AttributeError):
        return None
    if t.tzinfo is None:
        t = t.replace(tzinfo=datetime.timezone.utc)
    secs = t.timestamp()
    return secs if secs > 86400 else None  # 1970-01-01 means "not set"


def clip_metadata(path: str, fps: float | None = None) -> ClipMetadata:
    """Read ``creation_time`` and a start time code from a clip's tags (never raises on bad tags)."""
    import av

    created = tc = None
    try:
        with av.open(path) as c:
            vs = c.streams.video[0] if c.streams.video else None
            sources = [getattr(s, "metadata", {}) or {} for s in c.streams.data] + [
                (vs.metadata or {}) if vs is not None else {}, c.metadata or {}]
            for md in sources:
                tc = tc or md.get("timecode")
                created = created or md.get("creation_time")
            if fps is None and vs is not None:
                rate = vs.average_rate or vs.base_rate or vs.guessed_rate
                fps = float(rate) if rate else None
    except av.error.FFmpegError:
        pass
    return ClipMetadata(
        path,
        _iso_seconds(created) if created else None,
        tc,
        parse_timecode(tc, fps or 0.0) if tc else None,
    )
