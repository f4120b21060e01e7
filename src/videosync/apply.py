"""Synced copies: every camera trimmed or padded onto one common timeline.

The timeline
------------
Output time 0 is **timeline zero**, an instant on the reference clock:

* ``span="union"`` (default): the earliest instant any camera shows, i.e.
  ``T0 = −max(offset_seconds)`` (camera c's first frame sits at reference time
  ``−offset_seconds[c]``, see :mod:`videosync.timebase`). Cameras that start later begin
  with a leading gap; nothing is cut at the end.
* ``span="overlap"``: only the instants every camera shows: ``T0 = −min(offset_seconds)``
  and every output ends where the first camera ends, so outputs at one frame rate have
  equal frame counts (what mocap pipelines want).

In camera c's own time, timeline zero is ``cut_c = T0 + offset_seconds[c]``.

Timing (``timing=``)
--------------------
* ``"frames"`` (default): every output starts with a frame at time 0 and frame *k* sits at
  *k* / fps, so frame *k* of outputs at the same rate shows the same instant. The frame
  kept at 0 is the input frame nearest ``cut_c``; a leading gap becomes black frames
  (``round(gap · fps)`` of them). Whatever does not fall on the frame grid is reported per
  camera as ``residual_seconds`` (the instant a frame shows minus its output time, at most
  half a frame), never silently dropped.
* ``"exact"``: the first kept frame is the first at or after ``cut_c`` and every frame keeps
  its exact timeline time as its timestamp; a leading gap is the container's start offset
  (an MP4 edit list), so late-starting cameras are copied losslessly. Players that ignore
  start offsets (and videosync itself, whose own timeline starts at the first frame)
  will see such a file start early.

Copy or re-encode
-----------------
A camera is stream-copied (lossless remux, PyAV) when its first kept frame is a key frame
whose group of pictures needs nothing earlier, its end cut (overlap) leaves no needed
packet behind, and (``frames``) no black lead-in is needed. Otherwise that camera alone is
re-encoded (``libx264`` at ``crf`` 18 for H.264 input, the same family where available
otherwise) with the same time base and exact timestamps. Each :class:`CameraOutput` says
which was done and why. Audio is not carried over (yet). Inputs are only read; each
output is written to a temporary file beside it and renamed into place.
"""

from __future__ import annotations

import math
import os
import tempfile
from dataclasses import dataclass
from fractions import Fraction
from typing import Callable, Literal

import numpy as np

from videosync._validation import check_choice, check_number
from videosync.errors import DecodeError, InvalidParameterError, VideoOpenError
from videosync.result import SyncResult

Span = Literal["union", "overlap"]
Timing = Literal["frames", "exact"]
Method = Literal["copy", "reencode"]
ApplyProgress = Callable[[str, float], None]
"""``progress(source_path, fraction)`` while a camera is written."""

_EPS_SECONDS = 1e-6
# Re-encode with the same codec family where FFmpeg has an encoder for it.
_ENCODERS = {"h264": "libx264", "hevc": "libx265", "mpeg4": "mpeg4", "vp9": "libvpx-vp9", "vp8": "libvpx",
             "mjpeg": "mjpeg", "av1": "libsvtav1"}


@dataclass(frozen=True)
class CameraOutput:
    """What was written for one camera."""

    source: str
    """The input video (never modified)."""
    output: str
    offset_seconds: float
    """The camera's offset used (after corrections), see :mod:`videosync.timebase`."""
    method: Method
    """``copy``: lossless stream copy; ``reencode``: decoded and encoded again."""
    reason: str
    """Why this method (a short sentence)."""
    first_frame_index: int
    """Input frame (presentation order) that became the first real output frame."""
    n_frames: int
    """Input frames written."""
    pad_frames: int
    """Black frames written before them (``timing="frames"``)."""
    start_seconds: float
    """Output time of the first input frame (pad_frames / fps, or the exact lead)."""
    residual_seconds: float
    """Instant shown minus output time, for every frame of this output (sub-frame)."""
    fps: float

    @property
    def residual_frames(self) -> float:
        return self.residual_seconds * self.fps


@dataclass(frozen=True)
class ApplyResult:
    """The synced copies and the timeline they share."""

    outputs: tuple[CameraOutput, ...]
    span: Span
    timing: Timing
    timeline_zero_seconds: float
    """Reference time shown at output time 0."""
    duration_seconds: float
    """Timeline length (overlap: common span; union: until the last camera ends)."""


@dataclass(frozen=True)
class _Packets:
    """One video stream's packets in decode order."""

    pts: np.ndarray
    key: np.ndarray
    time_base: Fraction
    fps: float
    codec: str
    width: int
    height: int
    pix_fmt: str | None

    def times_seconds(self) -> np.ndarray:
        """Own-timeline time (first frame = 0) of each packet, decode order."""
        return (self.pts - self.pts.min()) * float(self.time_base)


@dataclass(frozen=True)
class _Plan:
    cut_pts: int
    end_pts: int | None
    lead_pts: int
    pad_frames: int
    residual_seconds: float
    first_frame_index: int
    n_frames: int
    method: Method
    reason: str


def apply_sync(
    result: SyncResult,
    out_dir: str | os.PathLike,
    *,
    span: Span = "union",
    timing: Timing = "frames",
    crf: int = 18,
    preset: str = "medium",
    base_dir: str | os.PathLike | None = None,
    progress: ApplyProgress | None = None,
) -> ApplyResult:
    """Write every camera of ``result`` onto one timeline in ``out_dir`` (see module doc).

    Args:
        result: offsets to apply (``offset_seconds`` per camera; corrections already applied).
        out_dir: created if missing; outputs are named after the inputs.
        span: ``"union"`` or ``"overlap"``.
        timing: ``"frames"`` or ``"exact"``.
        crf, preset: x264/x265 settings for cameras that must be re-encoded.
        base_dir: where relative video paths of ``result`` are looked up when they do not
            exist as given (e.g. the folder of the sync.json).

    Returns:
        ApplyResult: per camera, what was done.

    Raises:
        InvalidParameterError: bad options, or an output would overwrite an input.
        VideoOpenError, DecodeError: unreadable input.
    """
    check_choice("apply_sync", "span", span, ("union", "overlap"))
    check_choice("apply_sync", "timing", timing, ("frames", "exact"))
    check_number("apply_sync", "crf", crf, low=0, high=51, integer=True)
    sources = [resolve_video_path(v.path, base_dir) for v in result.videos]
    outputs = _output_paths(sources, os.fspath(out_dir))
    scans = [_scan(p) for p in sources]
    offsets = [float(v.offset_seconds) for v in result.videos]
    starts = [-o for o in offsets]  # reference time of each camera's first frame
    ends = [s + _duration(sc) for s, sc in zip(starts, scans)]
    if span == "union":
        t0, t_end = min(starts), max(ends)
    else:
        t0, t_end = max(starts), min(ends)
        if t_end - t0 <= 0:
            raise InvalidParameterError(
                f"the cameras share no instant (overlap {t_end - t0:+.3f} s); use span='union'"
            )
    plans = [
        _plan(sc, t0 + off, (t_end - t0) if span == "overlap" else None, timing)
        for sc, off in zip(scans, offsets)
    ]
    os.makedirs(out_dir, exist_ok=True)
    done = []
    for src, dst, sc, plan, off in zip(sources, outputs, scans, plans, offsets):
        cb = (lambda f, _s=src: progress(_s, f)) if progress else None
        if plan.method == "copy":
            _atomic(dst, lambda tmp, s=src, p=plan: _copy(s, tmp, p))
        else:
            _atomic(dst, lambda tmp, s=src, p=plan, c=sc, cb=cb: _reencode(s, tmp, p, c, crf, preset, cb))
        if cb:
            cb(1.0)
        drift = float(getattr(result.videos[len(done)], "drift_ppm", 0.0) or 0.0)
        reason = plan.reason + (f"; drift {drift:+.1f} ppm not corrected (no retiming)" if drift else "")
        done.append(CameraOutput(
            source=src, output=dst, offset_seconds=off, method=plan.method, reason=reason,
            first_frame_index=plan.first_frame_index, n_frames=plan.n_frames, pad_frames=plan.pad_frames,
            start_seconds=float(plan.lead_pts * sc.time_base), residual_seconds=plan.residual_seconds, fps=sc.fps,
        ))
    return ApplyResult(tuple(done), span, timing, float(t0), float(t_end - t0))


def resolve_video_path(path: str, base_dir: str | os.PathLike | None) -> str:
    """``path`` as given if it exists, else relative to ``base_dir`` (when given)."""
    if os.path.exists(path) or base_dir is None or os.path.isabs(path):
        return path
    alt = os.path.join(os.fspath(base_dir), path)
    return alt if os.path.exists(alt) else path


def _output_paths(sources: list[str], out_dir: str) -> list[str]:
    names = [os.path.basename(s) for s in sources]
    if len(set(names)) != len(names):  # cam1/a.mp4 and cam2/a.mp4: prefix the index
        names = [f"{i:02d}_{n}" for i, n in enumerate(names)]
    outs = [os.path.join(out_dir, n) for n in names]
    for s, o in zip(sources, outs):
        if os.path.exists(o) and os.path.samefile(s, o):
            raise InvalidParameterError(f"{o} is an input; choose another output folder (inputs are never modified)")
    return outs


def _scan(path: str) -> _Packets:
    import av

    from videosync.io import probe

    info = probe(path)  # raises VideoOpenError with a clear message
    try:
        with av.open(path) as c:
            vs = c.streams.video[0]
            pts, key = [], []
            for pkt in c.demux(vs):
                if pkt.pts is None or pkt.size == 0:
                    continue
                pts.append(pkt.pts)
                key.append(bool(pkt.is_keyframe))
            cc = vs.codec_context
            return _Packets(np.array(pts, dtype=np.int64), np.array(key), vs.time_base, info.fps,
                            cc.name, cc.width, cc.height, cc.pix_fmt)
    except av.error.FFmpegError as exc:
        raise VideoOpenError(path, f"cannot be read: {exc}") from None


def _duration(sc: _Packets) -> float:
    t = np.sort(sc.times_seconds())
    return float(t[-1] + (np.median(np.diff(t)) if t.size > 1 else 1.0 / sc.fps))


def _plan(sc: _Packets, cut_seconds: float, span_seconds: float | None, timing: Timing) -> _Plan:
    """Which input frames to keep and where they go, for a camera whose own time
    ``cut_seconds`` is timeline zero."""
    tb = float(sc.time_base)
    t_dec = sc.times_seconds()
    order = np.argsort(sc.pts, kind="stable")
    t = t_dec[order]  # presentation order
    dt = 1.0 / sc.fps
    if cut_seconds <= _EPS_SECONDS:
        first = 0
    elif timing == "frames":
        first = int(np.argmin(np.abs(t - cut_seconds)))
    else:
        first = int(np.searchsorted(t, cut_seconds - _EPS_SECONDS))
    if first >= t.size:
        raise InvalidParameterError(
            f"a camera ends before the timeline starts (own time {cut_seconds:.3f} s); use span='union'"
        )
    lead_true = t[first] - cut_seconds  # timeline time of the first kept frame
    if timing == "frames":
        pad = max(0, int(math.floor(lead_true / dt + 0.5)))
        lead_out = pad * dt
    else:
        pad = 0
        lead_out = lead_true
    lead_pts = int(round(lead_out / tb))
    residual = lead_true - lead_pts * tb
    cut_pts = int(sc.pts[order[first]])
    end_pts = None
    last = t.size  # exclusive, presentation order
    if span_seconds is not None:
        # keep frames whose output time is before the end of the common span
        out_t = t - t[first] + lead_pts * tb
        last = int(np.searchsorted(out_t, span_seconds - _EPS_SECONDS))
        if last < t.size:
            end_pts = int(sc.pts[order[last]])
    n_frames = last - first
    method, reason = _copy_or_reencode(sc, cut_pts, end_pts, pad, first)
    return _Plan(cut_pts, end_pts, lead_pts, pad, float(residual), first, n_frames, method, reason)


def _copy_or_reencode(sc: _Packets, cut_pts: int, end_pts: int | None, pad: int, first: int) -> tuple[Method, str]:
    if pad:
        return "reencode", f"{pad} black frame(s) lead in"
    s = int(np.flatnonzero(sc.pts == cut_pts)[0])  # decode-order index of the first kept frame
    if not sc.key[s]:
        return "reencode", f"cut at frame {first}, not a key frame"
    if np.any(sc.pts[s:] < cut_pts):
        return "reencode", f"key frame {first} opens a group that needs earlier pictures"
    if end_pts is not None:
        keep = sc.pts[s:] < end_pts
        last = int(np.flatnonzero(keep)[-1])
        if not keep[: last + 1].all():
            return "reencode", "end cut inside a group of pictures with reordered frames"
    return "copy", "starts on a key frame" if first else "starts at its first frame"


def _atomic(dst: str, write: Callable[[str], None]) -> None:
    folder = os.path.dirname(os.path.abspath(dst))
    suffix = os.path.splitext(dst)[1] or ".mp4"
    fd, tmp = tempfile.mkstemp(prefix=".videosync-", suffix=suffix, dir=folder)
    os.close(fd)
    try:
        write(tmp)
        os.replace(tmp, dst)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise


def _copy(src: str, dst: str, plan: _Plan) -> None:
    import av

    shift = plan.cut_pts - plan.lead_pts
    with av.open(src) as inp, _open_output(dst) as out:
        ist = inp.streams.video[0]
        ost = out.add_stream_from_template(ist)
        started = False
        for pkt in inp.demux(ist):
            if pkt.pts is None or pkt.size == 0:
                continue
            if not started:
                if pkt.pts != plan.cut_pts:
                    continue
                started = True
            if plan.end_pts is not None and pkt.pts >= plan.end_pts:
                continue
            pkt.pts -= shift
            if pkt.dts is not None:
                pkt.dts -= shift
            pkt.stream = ost
            out.mux(pkt)


def _open_output(dst: str, **muxer_options: str):
    """An output container; MP4/MOV get a movie timescale fine enough that a start offset
    (edit list) keeps 1/90000 s precision instead of the default 1 ms."""
    import av

    options = {"movie_timescale": "90000", **muxer_options} if dst.lower().endswith((".mp4", ".mov", ".m4v")) else {}
    return av.open(dst, "w", options=options)


def _encoder_name(codec: str) -> str:
    import av

    name = _ENCODERS.get(codec, "libx264")
    return name if name in av.codecs_available else "libx264"


def _reencode(src: str, dst: str, plan: _Plan, sc: _Packets, crf: int, preset: str, progress) -> None:
    import av

    tb = sc.time_base
    shift = plan.cut_pts - plan.lead_pts
    encoder = _encoder_name(sc.codec)
    with av.open(src) as inp, _open_output(dst) as out:
        ist = inp.streams.video[0]
        ist.thread_type = "AUTO"
        ost = out.add_stream(encoder, rate=Fraction(sc.fps).limit_denominator(1001))
        ost.width, ost.height = sc.width, sc.height
        formats = [f.name for f in (av.codec.Codec(encoder, "w").video_formats or [])]
        ost.pix_fmt = sc.pix_fmt if sc.pix_fmt in formats else (formats[0] if formats else "yuv420p")
        ost.time_base = tb
        ost.codec_context.time_base = tb
        if encoder in ("libx264", "libx265"):
            ost.options = {"crf": str(crf), "preset": preset}

        def emit(frame):
            for packet in ost.encode(frame):
                out.mux(packet)

        dt = 1.0 / sc.fps
        black = av.VideoFrame.from_ndarray(np.zeros((sc.height, sc.width, 3), np.uint8), format="rgb24")
        black = black.reformat(format=ost.pix_fmt)
        for k in range(plan.pad_frames):
            black.pts = int(round(k * dt / float(tb)))
            black.time_base = tb
            emit(black)
        total = max(1, plan.n_frames)
        written = 0
        try:
            for frame in inp.decode(ist):
                pts = frame.pts
                if pts is None or pts < plan.cut_pts:
                    continue
                if plan.end_pts is not None and pts >= plan.end_pts:
                    continue
                frame = frame.reformat(format=ost.pix_fmt)
                frame.pts = pts - shift
                frame.time_base = tb
                frame.pict_type = av.video.frame.PictureType.NONE  # let the encoder choose frame types
                emit(frame)
                written += 1
                if progress and written % 10 == 0:
                    progress(min(1.0, written / total))
        except av.error.FFmpegError as exc:
            raise DecodeError(src, f"decoding failed: {exc}", written) from None
        emit(None)
