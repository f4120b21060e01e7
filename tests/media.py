"""Small media writers for tests (no binary assets in the repository)."""

from __future__ import annotations

from fractions import Fraction

import numpy as np

from videosync.testing.rig import write_video


def index_frames(n, h=32, w=48):
    """Frames whose colour encodes their index (three phase-shifted sinusoids, as in PyAV's tests)."""
    for k in range(n):
        rgb = [int(127 + 120 * np.sin(k * 0.3 + p)) for p in (0, 2.1, 4.2)]
        yield np.broadcast_to(np.array(rgb, np.uint8), (h, w, 3)).copy()


def write_plain(path, n=10, fps=10.0, start=0.0):
    times = start + np.arange(n) / fps
    write_video(str(path), index_frames(n), times, fps)
    return times


def write_with_audio(path, n=10, fps=10.0):
    import av

    with av.open(str(path), "w") as out:
        vs = out.add_stream("libx264", rate=int(fps))
        vs.width, vs.height, vs.pix_fmt = 48, 32, "yuv420p"
        aus = out.add_stream("aac", rate=16000)
        for k, img in enumerate(index_frames(n)):
            f = av.VideoFrame.from_ndarray(img, format="rgb24")
            f.pts = k
            for p in vs.encode(f):
                out.mux(p)
        for p in vs.encode():
            out.mux(p)
        _write_tone(out, aus, seconds=n / fps)


def write_audio_only(path, seconds=1.0):
    import av

    with av.open(str(path), "w") as out:
        aus = out.add_stream("aac", rate=16000)
        _write_tone(out, aus, seconds)


def _write_tone(out, aus, seconds):
    import av

    sr = 16000
    t = np.arange(int(sr * seconds)) / sr
    samples = (0.2 * np.sin(2 * np.pi * 440 * t)).astype(np.float32)
    chunk = 1024
    pts = 0
    for i in range(0, len(samples), chunk):
        fr = av.AudioFrame.from_ndarray(samples[None, i : i + chunk], format="fltp", layout="mono")
        fr.sample_rate = sr
        fr.pts = pts
        fr.time_base = Fraction(1, sr)
        pts += fr.samples
        for p in aus.encode(fr):
            out.mux(p)
    for p in aus.encode():
        out.mux(p)
