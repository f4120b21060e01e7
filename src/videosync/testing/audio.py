"""Sound for test rigs: event tracks on each camera's clock, muxed beside a rig's video.

A sound event at world time *w* is heard by camera *k* at its own time ``w + offset_k``
(plus an optional per-camera sound delay), the project's convention
(:mod:`videosync.timebase`). Each event's waveform is fixed by its index (a decaying noise
burst), so every camera hears the same sound; the background noise is per camera.
"""

from __future__ import annotations

import os
from fractions import Fraction
from typing import Sequence

import numpy as np


def event_track(events_world_seconds: Sequence[float], offset_seconds: float, seconds: float, *,
                sample_rate_hz: int = 48000, seed: int = 0, audio_start_seconds: float = 0.0,
                noise: float = 0.003, gain: float = 0.5, delay_seconds: float = 0.0,
                burst_seed: int = 10_000) -> np.ndarray:
    """Mono float32 samples; ``samples[i]`` is the camera's own time ``audio_start_seconds + i / rate``.

    An event at world time *w* starts at own time ``w + offset_seconds + delay_seconds``
    (placed to the nearest sample). Values are not clipped (``gain`` > 2 makes clipped audio
    once written as integers or AAC). Event *e*'s waveform is fixed by ``burst_seed + e``
    (another ``burst_seed``: other sounds, e.g. an unrelated recording).
    """
    sr = int(sample_rate_hz)
    rng = np.random.default_rng(seed)
    n = int(round(seconds * sr))
    x = rng.normal(0.0, noise, n)
    burst_len = int(0.06 * sr)
    for e, w in enumerate(events_world_seconds):
        s0 = int(round((w + offset_seconds + delay_seconds - audio_start_seconds) * sr))
        if s0 >= n or s0 + burst_len <= 0:
            continue
        t = np.arange(burst_len) / sr
        burst = np.random.default_rng(burst_seed + e).normal(0.0, 1.0, burst_len) * np.exp(-t / 0.008)
        i0, i1 = max(0, s0), min(n, s0 + burst_len)
        x[i0:i1] += gain * burst[i0 - s0:i1 - s0]
    return x.astype(np.float32)


def mux_audio(video_path: str | os.PathLike, out_path: str | os.PathLike, samples: np.ndarray | None, *,
              sample_rate_hz: int = 48000, start_pts: int = 0, codec: str = "aac",
              hole_seconds: tuple[float, float] | None = None) -> str:
    """Copy ``video_path``'s video stream (pts unchanged) into ``out_path`` with a mono audio
    track whose first sample has pts ``start_pts`` (in 1/sample_rate_hz). ``samples`` None:
    no audio stream at all. ``codec``: "aac" (MP4) or "pcm_s16le" (use a .mov path).
    ``hole_seconds=(t0, t1)``: the chunks starting in that span of the track are not written
    (a hole in the stream; later samples keep their pts)."""
    import av

    sr = int(sample_rate_hz)
    with av.open(os.fspath(video_path)) as src, av.open(os.fspath(out_path), "w") as out:
        vin = src.streams.video[0]
        vout = out.add_stream_from_template(vin)
        aout = out.add_stream(codec, rate=sr, layout="mono") if samples is not None else None
        for pkt in src.demux(vin):
            if pkt.dts is None:
                continue
            pkt.stream = vout
            out.mux(pkt)
        if aout is not None:
            _encode_mono(out, aout, samples, "fltp" if codec == "aac" else "s16", sr, start_pts=start_pts,
                         hole_seconds=hole_seconds)
    return os.fspath(out_path)


def _encode_mono(out, stream, samples: np.ndarray, fmt: str, sr: int, *, start_pts: int = 0, chunk: int = 1024,
                 hole_seconds: tuple[float, float] | None = None) -> None:
    """Encode mono float samples (pts in 1/sr from ``start_pts``) into ``stream`` and mux them."""
    import av

    for i in range(0, len(samples), chunk):
        if hole_seconds is not None and hole_seconds[0] <= i / sr < hole_seconds[1]:
            continue
        x = np.asarray(samples[None, i:i + chunk], np.float32)
        if fmt == "s16":
            x = (np.clip(x, -1.0, 1.0) * 32767).astype(np.int16)
        frame = av.AudioFrame.from_ndarray(np.ascontiguousarray(x), format=fmt, layout="mono")
        frame.sample_rate = sr
        frame.pts = start_pts + i
        frame.time_base = Fraction(1, sr)
        for p in stream.encode(frame):
            out.mux(p)
    for p in stream.encode():
        out.mux(p)


def write_sound(path: str | os.PathLike, samples: np.ndarray, *, sample_rate_hz: int = 48000) -> str:
    """A sound-only file (a recorder's take): mono, first sample at time 0. The codec follows
    the suffix: ``.wav`` 16-bit PCM, ``.flac`` FLAC, ``.m4a`` AAC, ``.mp3`` MP3."""
    import av

    path = os.fspath(path)
    sr = int(sample_rate_hz)
    codec, fmt = {".wav": ("pcm_s16le", "s16"), ".flac": ("flac", "s16"), ".m4a": ("aac", "fltp"),
                  ".mp3": ("libmp3lame", "fltp")}[os.path.splitext(path)[1].lower()]
    with av.open(path, "w") as out:
        _encode_mono(out, out.add_stream(codec, rate=sr, layout="mono"), samples, fmt, sr, chunk=1152)
    return path
