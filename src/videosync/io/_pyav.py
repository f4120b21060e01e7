"""Video reading with PyAV: probing, and streaming decode at a reduced working size.

Frame times always come from presentation timestamps (pts × time_base), never from
index / fps, so variable-frame-rate files are safe. A video's own timeline starts at its
first frame: time 0 is the first frame's pts.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from fractions import Fraction
from typing import Literal

import numpy as np

from videosync.errors import DecodeError, VideoOpenError

PixelFormat = Literal["gray", "rgb24"]

_MIN_FRAMES = 2


@dataclass(frozen=True)
class VideoInfo:
    """What a video file holds. Every time field names its unit."""

    path: str
    """The path as given."""
    width: int
    """Displayed width in pixels (after rotation metadata)."""
    height: int
    """Displayed height in pixels (after rotation metadata)."""
    codec: str
    num_frames_from_header: int | None
    """Frame count the container claims (may be absent or wrong)."""
    num_frames_from_content: int
    """Frames counted by demuxing the stream."""
    fps_from_header: float | None
    """Nominal frame rate from the stream header."""
    fps_from_content: float
    """Measured frame rate: (frames − 1) / (last pts − first pts)."""
    duration_seconds: float
    """First frame to the end of the last frame (last pts + one frame interval)."""
    start_pts_seconds: float
    """The container's pts of the first frame; the video's own timeline starts here at 0."""
    rotation_degrees: int
    """Display rotation from the stream metadata (0, 90, 180 or 270)."""
    is_variable_frame_rate: bool
    """True when frame intervals vary by more than 10 % around their median."""
    has_audio: bool
    audio_sample_rate_hz: int | None = None
    audio_channels: int | None = None
    has_video: bool = True
    """False for a sound-only file (a recorder's .wav), probed with ``allow_audio_only``: no
    picture; its timeline starts at the first audio sample, ``width``/``height`` are 0 and
    its "frames" are audio samples (``fps`` = the sample rate)."""

    @property
    def fps(self) -> float:
        """The rate used to express offsets in frames: header rate if sane, else measured."""
        if self.fps_from_header and abs(self.fps_from_header - self.fps_from_content) <= (
            0.02 * self.fps_from_content
        ):
            return float(self.fps_from_header)
        return float(self.fps_from_content)

    def to_dict(self) -> dict:
        from dataclasses import asdict

        d = asdict(self)
        d["fps"] = self.fps
        return d


def _check_path(path: str | os.PathLike) -> str:
    p = os.fspath(path)
    if not os.path.exists(p):
        raise VideoOpenError(p, "no such file")
    if os.path.isdir(p):
        raise VideoOpenError(p, "is a directory, not a video file")
    if not os.access(p, os.R_OK):
        raise VideoOpenError(p, "cannot be read (permission denied)")
    if os.path.getsize(p) == 0:
        raise VideoOpenError(p, "is empty (0 bytes)")
    return p


def _open_container(p: str, allow_audio_only: bool = False):
    import av

    try:
        container = av.open(p, mode="r")
    except av.error.InvalidDataError:
        raise VideoOpenError(
            p, "cannot be read: invalid data (a damaged or truncated file, or not a video)"
        ) from None
    except av.error.FFmpegError as exc:
        raise VideoOpenError(p, f"cannot be opened: {_ffmpeg_message(exc)}") from None
    if not container.streams.video:
        has_audio = bool(container.streams.audio)
        if has_audio and allow_audio_only:
            return container
        container.close()
        what = "has audio but no video stream" if has_audio else "has no video stream"
        raise VideoOpenError(p, what)
    return container


def _ffmpeg_message(exc: Exception) -> str:
    msg = getattr(exc, "strerror", None) or str(exc)
    return str(msg).splitlines()[0] if msg else type(exc).__name__


def probe(path: str | os.PathLike, *, allow_audio_only: bool = False) -> VideoInfo:
    """Read a video's streams and timestamps without decoding pixels (one frame at most).

    ``allow_audio_only``: a file with sound but no video stream (a recorder's .wav, .flac,
    .mp3, .m4a) is described too (``has_video`` False, see :class:`VideoInfo`) instead of
    refused.

    Raises
    ------
    VideoOpenError
        Missing path, directory, empty or unreadable file, no video stream, fewer than
        two frames, or timestamps that give no frame rate.
    """
    import av

    p = _check_path(path)
    container = _open_container(p, allow_audio_only)
    if not container.streams.video:
        try:
            return _probe_audio_only(p, os.fspath(path), container)
        finally:
            container.close()
    try:
        vs = container.streams.video[0]
        tb = vs.time_base
        pts: list[int] = []
        try:
            for packet in container.demux(vs):
                if packet.pts is not None and packet.size > 0:
                    pts.append(packet.pts)
        except av.error.FFmpegError as exc:
            if len(pts) < _MIN_FRAMES:
                raise VideoOpenError(p, f"is damaged: {_ffmpeg_message(exc)}") from None
        if len(pts) < _MIN_FRAMES:
            n = len(pts)
            raise VideoOpenError(
                p, f"has {n} video frame{'s' if n != 1 else ''}; at least {_MIN_FRAMES} are needed"
            )
        declared = int(vs.frames) if vs.frames else 0
        if declared and len(pts) < 0.9 * declared and declared - len(pts) >= 2:
            raise VideoOpenError(
                p, f"is truncated: the header lists {declared} frames but only {len(pts)} can be read"
            )
        t = np.array(sorted(pts), dtype=np.float64) * float(tb)
        intervals = np.diff(t)
        intervals = intervals[intervals > 0]
        if intervals.size == 0:
            raise VideoOpenError(p, "has no usable timestamps (all frames share one pts)")
        span = t[-1] - t[0]
        fps_content = (len(t) - 1) / span
        med = float(np.median(intervals))
        vfr = bool(np.any(np.abs(intervals - med) > 0.1 * med))
        header_rate = vs.average_rate or vs.base_rate or vs.guessed_rate
        fps_header = float(header_rate) if header_rate else None
        if fps_header is not None and not (0 < fps_header < 10000):
            fps_header = None
        width, height = vs.codec_context.width, vs.codec_context.height
        # Rotation lives in frame side data: decode the first frame only.
        rotation = _first_frame_rotation(p)
        if rotation in (90, 270):
            width, height = height, width
        audio = container.streams.audio[0] if container.streams.audio else None
        return VideoInfo(
            path=os.fspath(path),
            width=int(width),
            height=int(height),
            codec=vs.codec_context.name,
            num_frames_from_header=int(vs.frames) if vs.frames else None,
            num_frames_from_content=len(t),
            fps_from_header=fps_header,
            fps_from_content=float(fps_content),
            duration_seconds=float(span + med),
            start_pts_seconds=float(t[0]),
            rotation_degrees=rotation,
            is_variable_frame_rate=vfr,
            has_audio=audio is not None,
            audio_sample_rate_hz=int(audio.codec_context.sample_rate) if audio else None,
            audio_channels=int(audio.codec_context.channels) if audio else None,
        )
    finally:
        container.close()


def _probe_audio_only(p: str, given: str, container) -> VideoInfo:
    """A sound-only file as a :class:`VideoInfo`: its timeline starts at the first audio packet."""
    import av

    st = container.streams.audio[0]
    tb = st.time_base
    first = last = None
    try:
        for packet in container.demux(st):
            if packet.pts is None or packet.size == 0:
                continue
            t0 = float(packet.pts * tb)
            t1 = t0 + float((packet.duration or 0) * tb)
            first = t0 if first is None else min(first, t0)
            last = t1 if last is None else max(last, t1)
    except av.error.FFmpegError as exc:
        if first is None:
            raise VideoOpenError(p, f"is damaged: {_ffmpeg_message(exc)}") from None
    sr = int(st.codec_context.sample_rate or 0)
    if first is not None and st.start_time is not None:
        # The stream's start, after encoder priming (AAC, MP3) that the decoder drops.
        first = max(first, float(st.start_time * tb))
    elif first is not None and first < 0:
        first = 0.0
    if first is None or last is None or last - first <= 0 or sr <= 0:
        raise VideoOpenError(p, "has an audio stream with no readable samples")
    return VideoInfo(
        path=given, width=0, height=0, codec=st.codec_context.name, num_frames_from_header=None,
        num_frames_from_content=int(round((last - first) * sr)), fps_from_header=float(sr),
        fps_from_content=float(sr), duration_seconds=float(last - first), start_pts_seconds=float(first),
        rotation_degrees=0, is_variable_frame_rate=False, has_audio=True, audio_sample_rate_hz=sr,
        audio_channels=int(st.codec_context.channels), has_video=False,
    )


def _first_frame_rotation(p: str) -> int:
    import av

    try:
        with av.open(p) as c:
            for frame in c.decode(video=0):
                return int(round(getattr(frame, "rotation", 0) or 0)) % 360
    except av.error.FFmpegError:
        return 0
    return 0


def working_size(width: int, height: int, max_side: int | None) -> tuple[int, int]:
    """Scale (width, height) so that the longer side is ``max_side`` (even, never upscaled)."""
    if not max_side or max(width, height) <= max_side:
        w, h = width, height
    else:
        s = max_side / max(width, height)
        w, h = width * s, height * s
    return max(2, int(round(w / 2)) * 2), max(2, int(round(h / 2)) * 2)


class FrameStream:
    """The frames of one decode pass: iterate for ``(time_seconds, image)``.

    While iterating it records, per yielded frame, whether the decoder marked it as a key
    frame (:attr:`key_frames`): a compressed still background jumps at key frames, which
    embedders built on frame differences must not mistake for motion.
    """

    def __init__(self, generator, progress=None, total_seconds: float = 0.0) -> None:
        self._gen = generator
        self.key_frames: list[bool] = []
        self._progress = progress
        self._total = total_seconds

    def __iter__(self):
        last = -1.0
        for t, img, key in self._gen:
            self.key_frames.append(key)
            if self._progress is not None:
                frac = min(1.0, t / self._total) if self._total > 0 else 0.0
                if frac - last >= 0.01:
                    self._progress(frac)
                    last = frac
            yield t, img
        if self._progress is not None:
            self._progress(1.0)


@dataclass
class VideoReader:
    """Streaming decoder for one video file.

    Use as a context manager; :meth:`frames` yields ``(time_seconds, image)`` with the
    time measured from the first frame, and memory does not grow with duration.

    Examples
    --------
    >>> with VideoReader("cam1.mp4") as r:                     # doctest: +SKIP
    ...     for t, img in r.frames(max_side=160, pixel_format="gray"):
    ...         ...
    """

    path: str
    threads: int = 0
    info: VideoInfo = field(init=False)

    def __post_init__(self) -> None:
        self.info = probe(self.path)
        self._container = None

    def __enter__(self) -> "VideoReader":
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def close(self) -> None:
        if self._container is not None:
            self._container.close()
            self._container = None

    def frames(
        self,
        *,
        max_side: int | None = 160,
        pixel_format: PixelFormat = "gray",
        apply_rotation: bool = True,
        progress=None,
    ) -> FrameStream:
        """Decode every frame, resized so the longer side is ``max_side`` pixels.

        Yields
        ------
        time_seconds : float
            Presentation time relative to the first frame.
        image : np.ndarray [shape=(H, W) for gray, (H, W, 3) for rgb24], uint8

        ``progress(fraction)`` is called as decoding advances. The returned stream also
        records which frames were key frames (:attr:`FrameStream.key_frames`).
        """
        return FrameStream(
            self._decode(max_side, pixel_format, apply_rotation), progress, self.info.duration_seconds
        )

    def _decode(self, max_side, pixel_format, apply_rotation):
        import av
        from av.video.reformatter import Interpolation, VideoReformatter

        self.close()
        container = _open_container(self.path)
        self._container = container
        vs = container.streams.video[0]
        vs.thread_type = "AUTO"
        if self.threads:
            vs.codec_context.thread_count = self.threads
        tb = vs.time_base
        coded_w, coded_h = vs.codec_context.width, vs.codec_context.height
        out_w, out_h = working_size(coded_w, coded_h, max_side)
        reformatter = VideoReformatter()
        t0: Fraction | None = None
        index = 0
        last_pts = None
        try:
            for frame in container.decode(vs):
                pts = frame.pts if frame.pts is not None else frame.dts
                if pts is None:
                    continue
                if last_pts is not None and pts <= last_pts:
                    continue  # duplicate or out-of-order pts: keep time strictly increasing
                last_pts = pts
                if t0 is None:
                    t0 = pts * tb
                img = reformatter.reformat(
                    frame, width=out_w, height=out_h, format=pixel_format,
                    interpolation=Interpolation.AREA,
                ).to_ndarray()
                if pixel_format == "gray" and img.ndim == 3:
                    img = img[..., 0]
                rot = int(round(getattr(frame, "rotation", 0) or 0)) % 360
                if apply_rotation and rot:
                    img = np.ascontiguousarray(np.rot90(img, k=rot // 90))
                yield float(pts * tb - t0), img, bool(frame.key_frame)
                index += 1
        except av.error.FFmpegError as exc:
            raise DecodeError(self.path, f"decoding failed: {_ffmpeg_message(exc)}", index) from None
        finally:
            self.close()
        if index < _MIN_FRAMES:
            raise DecodeError(self.path, f"only {index} frame(s) could be decoded")


def open_video(path: str | os.PathLike) -> VideoReader:
    """Open a video for streaming decode (probes it first; raises VideoOpenError)."""
    return VideoReader(os.fspath(path))
