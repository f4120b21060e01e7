"""A whole shoot: cameras → clips, matched across cameras, on one session timeline.

``sync_session("shoot/")`` reads ``shoot/<camera>/<clips...>`` and returns a
:class:`SessionResult` (JSON: ``schema_version`` 1, ``cameras`` → ``clips`` with ``path``,
``start_seconds``, ``rate``, ``drift_ppm``, ``confidence``, ``status``). See docs/session.md.
"""

from videosync.session.metadata import ClipMetadata, clip_metadata, parse_timecode, scan_shoot
from videosync.session.model import SESSION_SCHEMA_VERSION, SessionCamera, SessionClip, SessionResult
from videosync.session.run import sync_session

__all__ = [
    "SESSION_SCHEMA_VERSION",
    "ClipMetadata",
    "SessionCamera",
    "SessionClip",
    "SessionResult",
    "clip_metadata",
    "parse_timecode",
    "scan_shoot",
    "sync_session",
]
