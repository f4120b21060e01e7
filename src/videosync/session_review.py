"""What in a session needs a human: one review page per ``low_confidence`` clip.

Beside :mod:`videosync.review` (it writes pages, so it sits above the session layer).

A ``low_confidence`` clip was placed, but only by weak pairs or by file metadata. For each
one, :func:`write_session_review` writes the review page of :mod:`videosync.review` (both
clips playing in sync, ± frame nudges that can be saved as corrections) for the clip against
the clip it was matched to: the placed clip of another camera it shares its most confident
measured pair with, else the placed clip of another camera it overlaps most on the session
timeline. The page's offset is the session's (rates ignored: over one clip a drift of a few
hundred ppm moves it by milliseconds). A clip that overlaps no placed clip with a picture,
or that is sound-only, gets no page and says why.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass

from videosync.session.model import SessionClip, SessionResult


@dataclass(frozen=True)
class ReviewItem:
    """One clip that needs a human."""

    camera: str
    clip: str
    status: str
    against: str | None
    """The clip it is shown against (the page's reference), None without a page."""
    offset_seconds: float | None
    """The clip's offset against ``against`` (videosync.timebase convention)."""
    page: str | None
    """The review page written (None when none could be)."""
    note: str


def _placed_with_picture(c: SessionClip) -> bool:
    return c.start_seconds is not None and not c.details.get("sound_only") and "error" not in c.details


def review_partner(result: SessionResult, clip: SessionClip) -> tuple[SessionClip | None, str]:
    """The placed clip of another camera that ``clip`` is best checked against, and how it was
    chosen: a synced clip it was matched to, else a synced clip it overlaps on the session
    timeline, else any placed clip it was matched to or overlaps."""
    camera_of = {c.path: cam.name for cam in result.cameras for c in cam.clips}
    by_path = {c.path: c for c in result.clips}
    matched, matched_key = None, None
    for p in result.provenance.get("pairs", []):
        if clip.path not in (p["a"], p["b"]):
            continue
        other = by_path.get(p["b"] if p["a"] == clip.path else p["a"])
        if other is None or not _placed_with_picture(other):
            continue
        key = (other.status == "synced", bool(p.get("used")), float(p.get("confidence", 0.0)))
        if matched_key is None or key > matched_key:
            matched, matched_key = other, key
    near, near_key = None, None
    for other in result.clips:
        if camera_of[other.path] == camera_of[clip.path] or not _placed_with_picture(other):
            continue
        overlap = min(clip.end_seconds, other.end_seconds) - max(clip.start_seconds, other.start_seconds)
        key = (other.status == "synced", overlap)
        if overlap > 0 and (near_key is None or key > near_key):
            near, near_key = other, key
    how_matched = f"matched pair (confidence {matched_key[2]:.2f})" if matched is not None else ""
    how_near = "overlaps it on the session timeline"
    if matched is not None and matched_key[0]:
        return matched, how_matched
    if near is not None and near_key[0]:
        return near, how_near
    if matched is not None:
        return matched, how_matched
    return near, how_near if near is not None else ""


def clip_pair_result(result: SessionResult, clip: SessionClip, against: SessionClip):
    """A two-video :class:`~videosync.result.SyncResult`: ``against`` as the reference, ``clip``
    at its session offset (what :func:`videosync.review.write_review` shows)."""
    from videosync.io import probe
    from videosync.result import CameraResult, SyncResult

    offset = (against.start_seconds - clip.start_seconds) / clip.rate
    videos = []
    for c, off, status in ((against, 0.0, "reference"), (clip, offset, clip.status)):
        info = probe(c.path)
        videos.append(CameraResult(c.path, off, off * info.fps, info.fps, c.confidence if c is clip else 1.0,
                                   status, info=info))
    return SyncResult(tuple(videos), (), 0, {"from_session": True})


def _page_name(camera: str, clip: str) -> str:
    stem = os.path.splitext(os.path.basename(clip))[0]
    return re.sub(r"[^A-Za-z0-9._-]+", "_", f"{camera}_{stem}") + ".html"


def write_session_review(result: SessionResult, folder: str | os.PathLike, *, proxies: str = "auto",
                         progress=None) -> list[ReviewItem]:
    """One review page per ``low_confidence`` clip into ``folder`` (created); returns every
    such clip, with its page or the reason it has none."""
    from videosync.errors import VideoSyncError
    from videosync.review import write_review

    folder = os.fspath(folder)
    items = []
    for cam in result.cameras:
        for clip in cam.clips:
            if clip.status != "low_confidence":
                continue
            why = clip.details.get("reason", "low confidence")
            if clip.details.get("sound_only"):
                items.append(ReviewItem(cam.name, clip.path, clip.status, None, None, None,
                                        f"{why}; sound only: check it by ear in an editor"))
                continue
            against, how = review_partner(result, clip)
            if against is None:
                items.append(ReviewItem(cam.name, clip.path, clip.status, None, None, None,
                                        f"{why}; overlaps no placed clip with a picture"))
                continue
            pair = clip_pair_result(result, clip, against)
            page = os.path.join(folder, _page_name(cam.name, clip.path))
            try:
                os.makedirs(folder, exist_ok=True)
                write_review(pair, page, proxies=proxies, progress=progress)
            except VideoSyncError as exc:
                items.append(ReviewItem(cam.name, clip.path, clip.status, against.path,
                                        pair.videos[1].offset_seconds, None, f"{why}; no page: {exc}"))
                continue
            items.append(ReviewItem(cam.name, clip.path, clip.status, against.path, pair.videos[1].offset_seconds,
                                    page, f"{why}; against {os.path.basename(against.path)} ({how})"))
    return items
