"""A review page a person can trust at a glance, made from a sync result alone.

:func:`write_review` writes one self-contained HTML file (inline CSS and JavaScript, no
network) that plays every camera side by side on the reference timeline, with a shared
scrubber, ±1 frame stepping, per-camera offset/confidence/status, each pair's lag-score
curve (answer and runners-up marked) and similarity thumbnail when the result holds them,
and ± frame nudges per camera that can be saved as a corrections JSON
(:mod:`videosync.corrections`).

Media: the page refers to the original files by relative path when a browser can play
them (H.264/VP8/VP9/AV1 in .mp4/.m4v/.webm, first frame at time 0); otherwise — or always
with ``proxies="always"`` — it writes a small H.264 proxy (≤ 640 px, same timestamps
rebased to start at 0) into ``<page>_media/`` beside the page and uses that.
:attr:`ReviewPage.media` says which was done per camera.

The page's clock is reference time t; camera c is shown at its own time
``t + offset_seconds[c] + nudge_c / fps_c`` (see :mod:`videosync.timebase`).
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from fractions import Fraction
from typing import Callable, Literal

import numpy as np

from videosync._validation import check_choice
from videosync.apply import _atomic, _open_output, resolve_video_path
from videosync.corrections import Corrections, apply_corrections
from videosync.errors import DecodeError
from videosync.export import atomic_write
from videosync.result import SyncResult
from videosync.timebase import OFFSET_CONVENTION

Proxies = Literal["auto", "always", "never"]
PROXY_MAX_SIDE = 640
_PLAYABLE_CODECS = ("h264", "vp8", "vp9", "av1")
_PLAYABLE_SUFFIXES = (".mp4", ".m4v", ".webm")


@dataclass(frozen=True)
class ReviewMedia:
    """Which file the page plays for one camera."""

    source: str
    src: str
    """URL used by the page, relative to the page."""
    proxy: bool
    reason: str


@dataclass(frozen=True)
class ReviewPage:
    path: str
    media: tuple[ReviewMedia, ...]


def write_review(
    result: SyncResult,
    path: str | os.PathLike,
    *,
    corrections: Corrections | None = None,
    proxies: Proxies = "auto",
    base_dir: str | os.PathLike | None = None,
    progress: Callable[[str, float], None] | None = None,
) -> ReviewPage:
    """Write the review page for ``result`` (offsets as solved; ``corrections`` are the
    page's starting nudges, so saving from the page gives the total correction).

    Args:
        base_dir: where relative video paths are looked up when they do not exist as given.
        progress: ``progress(source_path, fraction)`` while proxies are written.
    """
    check_choice("write_review", "proxies", proxies, ("auto", "always", "never"))
    path = os.fspath(path)
    page_dir = os.path.dirname(os.path.abspath(path))
    media_dir = os.path.splitext(os.path.abspath(path))[0] + "_media"
    os.makedirs(page_dir, exist_ok=True)
    nudges = _nudges(result, corrections)
    media, cams = [], []
    for i, v in enumerate(result.videos):
        src_path = resolve_video_path(v.path, base_dir)
        playable, why, duration = _browser_playable(src_path)
        if proxies == "always" or (proxies == "auto" and not playable):
            os.makedirs(media_dir, exist_ok=True)
            out = os.path.join(media_dir, f"{i:02d}_{os.path.splitext(os.path.basename(src_path))[0]}.mp4")
            cb = (lambda f, _s=src_path: progress(_s, f)) if progress else None
            write_proxy(src_path, out, progress=cb)
            m = ReviewMedia(src_path, _url(out, page_dir), True, f"H.264 proxy ({why})" if not playable else "H.264 proxy (asked for)")
        else:
            m = ReviewMedia(src_path, _url(os.path.abspath(src_path), page_dir), False, why)
        media.append(m)
        cams.append({
            "path": v.path, "name": os.path.basename(v.path), "src": m.src, "proxy": m.proxy,
            "offset_seconds": v.offset_seconds, "fps": v.fps, "confidence": v.confidence, "status": v.status,
            "duration_seconds": duration, "nudge_frames": nudges[i],
        })
    d = result.to_dict()
    data = {
        "convention": OFFSET_CONVENTION, "reference_index": result.reference_index, "cameras": cams,
        "pairs": [
            {**{k: p[k] for k in ("offset_seconds", "confidence", "used") if k in p},
             "a": pr.a, "b": pr.b, "lag_curve": p.get("lag_curve"), "similarity_thumbnail": p.get("similarity_thumbnail")}
            for p, pr in zip(d["pairs"], result.pairs)
        ],
    }
    from videosync._review_page import PAGE

    blob = json.dumps(data, allow_nan=False).replace("</", "<\\/")
    atomic_write(path, PAGE.replace("__VIDEOSYNC_DATA__", blob).encode("utf-8"))
    return ReviewPage(path, tuple(media))


def _nudges(result: SyncResult, corrections: Corrections | None) -> list[float]:
    """Per-camera starting nudge (frames): validated by applying the corrections once."""
    if corrections is None:
        return [0.0] * len(result.videos)
    corrected = apply_corrections(result, corrections)
    return [
        round((c.offset_seconds - v.offset_seconds) * v.fps, 6)
        for v, c in zip(result.videos, corrected.videos)
    ]


def _url(target: str, page_dir: str) -> str:
    from urllib.parse import quote

    return quote(os.path.relpath(target, page_dir).replace(os.sep, "/"))


def _browser_playable(path: str) -> tuple[bool, str, float]:
    """(playable as is, why, duration in seconds) for a browser's <video>."""
    import av

    from videosync.io import probe

    info = probe(path)
    with av.open(path) as c:
        cc = c.streams.video[0].codec_context
        codec, pix_fmt = cc.name, cc.pix_fmt
    suffix = os.path.splitext(path)[1].lower()
    if codec not in _PLAYABLE_CODECS:
        return False, f"{codec} is not played by browsers", info.duration_seconds
    if pix_fmt not in ("yuv420p", "yuvj420p"):
        return False, f"pixel format {pix_fmt}", info.duration_seconds
    if suffix not in _PLAYABLE_SUFFIXES:
        return False, f"{suffix or 'no suffix'} container", info.duration_seconds
    if abs(info.start_pts_seconds) > 1e-3:
        return False, f"first frame at {info.start_pts_seconds:.3f} s, not 0", info.duration_seconds
    if info.rotation_degrees:
        return False, "rotation metadata", info.duration_seconds
    return True, f"original ({codec})", info.duration_seconds


def write_proxy(src: str, dst: str, *, max_side: int = PROXY_MAX_SIDE, crf: int = 23, progress=None) -> None:
    """A small H.264 (yuv420p) copy of ``src`` with the same frame times, rebased so that
    the first frame is at 0; written atomically."""
    _atomic(dst, lambda tmp: _encode_proxy(src, tmp, max_side, crf, progress))


def _encode_proxy(src: str, dst: str, max_side: int, crf: int, progress) -> None:
    import av

    from videosync.io import probe
    from videosync.io._pyav import working_size

    info = probe(src)
    with av.open(src) as inp, _open_output(dst, movflags="+faststart") as out:
        ist = inp.streams.video[0]
        ist.thread_type = "AUTO"
        tb = ist.time_base
        w, h = working_size(info.width, info.height, max_side)
        ost = out.add_stream("libx264", rate=Fraction(info.fps).limit_denominator(1001))
        ost.width, ost.height, ost.pix_fmt = w, h, "yuv420p"
        ost.time_base = tb
        ost.codec_context.time_base = tb
        ost.options = {"crf": str(crf), "preset": "veryfast"}
        first = None
        n = 0
        try:
            for frame in inp.decode(ist):
                if frame.pts is None:
                    continue
                first = frame.pts if first is None else first
                rot = int(round(getattr(frame, "rotation", 0) or 0)) % 360
                if rot:
                    img = np.rot90(frame.to_ndarray(format="rgb24"), k=rot // 90)
                    f = av.VideoFrame.from_ndarray(np.ascontiguousarray(img), format="rgb24")
                    f = f.reformat(width=w, height=h, format="yuv420p")
                else:
                    f = frame.reformat(width=w, height=h, format="yuv420p")
                f.pts, f.time_base = frame.pts - first, tb
                for packet in ost.encode(f):
                    out.mux(packet)
                n += 1
                if progress and n % 10 == 0:
                    progress(min(1.0, n / max(1, info.num_frames_from_content)))
        except av.error.FFmpegError as exc:
            raise DecodeError(src, f"decoding failed: {exc}", n) from None
        for packet in ost.encode(None):
            out.mux(packet)
    if progress:
        progress(1.0)
