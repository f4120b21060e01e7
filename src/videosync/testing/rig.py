"""Synthetic multi-camera rigs with exact timing, written with PyAV.

The world is a function of continuous time: textured background plus soft blobs moving
along smooth random paths, some blinking. Each camera sees it through its own affine
view (zoom, rotation, shift, mirror), gain and sensor noise, at its own frame rate, and
frame *n* of camera *k* is rendered at exactly the world time it shows. Frames are
written with pts on a 1/90000 s time base, so the truth is exact to ~11 µs.

Truth follows the project's convention: camera k's frame at its own time τ shows the
world instant ``τ − offset_seconds[k]``; the reference (camera 0) has offset 0 and shows
world time τ at τ.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass, field
from fractions import Fraction
from typing import Sequence

import numpy as np

from videosync.timebase import OFFSET_CONVENTION

TIME_BASE = Fraction(1, 90000)


@dataclass(frozen=True)
class Rig:
    """Files and truth of a generated rig."""

    paths: tuple[str, ...]
    offsets_seconds: tuple[float, ...]
    fps: tuple[float, ...]
    truth_path: str
    frame_times_seconds: tuple[np.ndarray, ...] = field(repr=False, default=())


class World:
    """A 2-D scene as a function of continuous time (seed-determined)."""

    def __init__(self, seed: int = 0, n_blobs: int = 5) -> None:
        rng = np.random.default_rng(seed)
        self.n = n_blobs
        self.freqs = rng.uniform(0.15, 0.9, size=(n_blobs, 2, 3))
        self.phases = rng.uniform(0, 2 * np.pi, size=(n_blobs, 2, 3))
        self.amps = rng.uniform(0.05, 0.2, size=(n_blobs, 2, 3))
        self.centres = rng.uniform(0.25, 0.75, size=(n_blobs, 2))
        self.radius = rng.uniform(0.05, 0.1, size=n_blobs)
        self.colour = rng.uniform(0.3, 1.0, size=(n_blobs, 3)) * rng.choice([-1, 1], size=(n_blobs, 1))
        self.blink_f = rng.uniform(0.2, 0.7, size=n_blobs)
        self.blink_p = rng.uniform(0, 2 * np.pi, size=n_blobs)
        self.tex_k = rng.uniform(4, 14, size=(4, 2))
        self.tex_p = rng.uniform(0, 2 * np.pi, size=4)

    def positions(self, w: float) -> np.ndarray:
        s = np.sin(2 * np.pi * self.freqs * w + self.phases) * self.amps
        return self.centres + s.sum(axis=2)

    def background(self, x: np.ndarray, y: np.ndarray) -> np.ndarray:
        """The still textured background (grey, in [0, 1]) at world coordinates (x, y)."""
        return 0.45 + 0.05 * sum(
            np.sin(self.tex_k[i, 0] * 2 * np.pi * x + self.tex_k[i, 1] * 2 * np.pi * y + self.tex_p[i])
            for i in range(4)
        )

    def render(self, w: float, x: np.ndarray, y: np.ndarray, background: np.ndarray | None = None) -> np.ndarray:
        """RGB in [0, 1] at world coordinates (x, y) (arrays of one shape) and time w.

        ``background``: :meth:`background` of (x, y), precomputed (it does not change with w)."""
        bg = self.background(x, y) if background is None else background
        img = np.repeat(bg[..., None], 3, axis=-1)
        pos = self.positions(w)
        for i in range(self.n):
            d2 = (x - pos[i, 0]) ** 2 + (y - pos[i, 1]) ** 2
            blink = 0.6 + 0.4 * np.sin(2 * np.pi * self.blink_f[i] * w + self.blink_p[i])
            img += (0.5 * blink * np.exp(-d2 / (2 * self.radius[i] ** 2)))[..., None] * self.colour[i]
        return np.clip(img, 0, 1)


def _camera_grid(rng: np.random.Generator, size: tuple[int, int], index: int):
    w, h = size
    u, v = np.meshgrid((np.arange(w) + 0.5) / w, (np.arange(h) + 0.5) / h)
    if index == 0:
        zoom, angle, shift, mirror = 1.0, 0.0, np.zeros(2), False
    else:
        zoom = rng.uniform(0.75, 1.1)
        angle = rng.uniform(-0.5, 0.5)
        shift = rng.uniform(-0.1, 0.1, size=2)
        mirror = bool(rng.integers(0, 2))
    cu, cv = (u - 0.5) * (w / max(w, h)), (v - 0.5) * (h / max(w, h))
    if mirror:
        cu = -cu
    ca, sa = np.cos(angle), np.sin(angle)
    x = 0.5 + shift[0] + zoom * (ca * cu - sa * cv)
    y = 0.5 + shift[1] + zoom * (sa * cu + ca * cv)
    return x, y


def frame_times(duration_seconds: float, fps: float, *, vfr: bool, rng: np.random.Generator) -> np.ndarray:
    """Frame times from 0: regular at ``fps``, or irregular intervals around it when ``vfr``."""
    if not vfr:
        n = int(np.floor(duration_seconds * fps + 1e-9))
        return np.arange(n) / fps
    times = [0.0]
    while True:
        nxt = times[-1] + rng.uniform(0.6, 1.6) / fps
        if nxt >= duration_seconds:
            break
        times.append(nxt)
    return np.array(times)


def write_video(
    path: str, frames_rgb, times_seconds: np.ndarray, fps: float, *, crf: int = 18, gop_size: int | None = None,
    metadata: dict[str, str] | None = None,
) -> None:
    """Encode RGB uint8 frames at exact times (pts = time / (1/90000 s), as given).

    ``gop_size``: key-frame interval in frames (None: the encoder's default).
    ``metadata``: container tags (e.g. ``creation_time``, ``timecode``).
    """
    import av

    with av.open(path, mode="w") as out:
        if metadata:
            out.metadata.update(metadata)
        stream = None
        for img, t in zip(frames_rgb, times_seconds):
            if stream is None:
                h, w = img.shape[:2]
                stream = out.add_stream("libx264", rate=Fraction(fps).limit_denominator(1001))
                stream.width, stream.height, stream.pix_fmt = w, h, "yuv420p"
                stream.codec_context.time_base = TIME_BASE
                stream.time_base = TIME_BASE
                stream.options = {"crf": str(crf), "preset": "veryfast"}
                if gop_size:
                    stream.codec_context.gop_size = int(gop_size)
            frame = av.VideoFrame.from_ndarray(np.ascontiguousarray(img), format="rgb24")
            frame.pts = int(round(t / TIME_BASE))
            frame.time_base = TIME_BASE
            for packet in stream.encode(frame):
                out.mux(packet)
        if stream is not None:
            for packet in stream.encode():
                out.mux(packet)


def make_rig(
    out_dir: str | os.PathLike,
    *,
    n_cameras: int = 3,
    offsets_seconds: Sequence[float] = (0.0, 1.5, -0.75),
    fps: Sequence[float] | float = (30.0, 25.0, 30.0),
    duration_seconds: float | Sequence[float] = 6.0,
    size: tuple[int, int] = (96, 64),
    seed: int = 0,
    vfr: Sequence[bool] | bool = False,
    noise: float = 0.01,
    static: Sequence[bool] | bool = False,
    views: str = "different",
    handheld: Sequence[bool] | bool = False,
) -> Rig:
    """Render and write a rig; returns the paths and the exact truth.

    ``offsets_seconds[0]`` must be 0 (camera 0 is the reference). ``static`` cameras see a
    frozen world (a hard-but-valid input: there is nothing to sync on). ``views="same"``
    puts every camera at the reference's viewpoint (co-located cameras: only gain, noise,
    frame rate and timing differ); ``"different"`` gives each its own zoom, rotation,
    shift and mirroring. ``handheld`` cameras move while filming: their view pans and
    shakes smoothly (a drift of up to ±0.15 and a tremor of ±0.01 world units, i.e. several
    per cent of the picture per second), so the whole picture moves with the camera.
    """
    if views not in ("same", "different"):
        raise ValueError("views must be 'same' or 'different'")
    n = n_cameras
    offsets = [float(o) for o in offsets_seconds]
    if len(offsets) != n or offsets[0] != 0.0:
        raise ValueError("offsets_seconds needs one value per camera, the first 0")
    fps_l = [float(fps)] * n if np.isscalar(fps) else [float(f) for f in fps]
    dur_l = [float(duration_seconds)] * n if np.isscalar(duration_seconds) else list(duration_seconds)
    vfr_l = [bool(vfr)] * n if isinstance(vfr, bool) else list(vfr)
    static_l = [bool(static)] * n if isinstance(static, bool) else list(static)
    hand_l = [bool(handheld)] * n if isinstance(handheld, bool) else list(handheld)
    os.makedirs(out_dir, exist_ok=True)
    world = World(seed)
    rng = np.random.default_rng(seed + 1)
    paths, all_times = [], []
    for k in range(n):
        x, y = _camera_grid(rng, size, k if views == "different" else 0)
        gain = 1.0 if k == 0 else rng.uniform(0.8, 1.2)
        times = frame_times(dur_l[k], fps_l[k], vfr=vfr_l[k], rng=rng)
        cam_rng = np.random.default_rng(seed * 1000 + k)

        hand = np.random.default_rng(seed * 1000 + 500 + k).uniform(0, 2 * np.pi, size=(2, 2)) if hand_l[k] else None

        def frames(times=times, x=x, y=y, gain=gain, k=k, cam_rng=cam_rng, hand=hand):
            bg = None if hand is not None else world.background(x, y)
            for tau in times:
                wt = 0.0 if static_l[k] else tau - offsets[k]
                xs, ys = x, y
                if hand is not None:  # pan (0.15 at 0.12 Hz) plus tremor (0.01 at 2.3 Hz), per axis
                    xs = x + 0.15 * np.sin(2 * np.pi * 0.12 * tau + hand[0, 0]) + 0.01 * np.sin(2 * np.pi * 2.3 * tau + hand[0, 1])
                    ys = y + 0.15 * np.sin(2 * np.pi * 0.09 * tau + hand[1, 0]) + 0.01 * np.sin(2 * np.pi * 2.3 * tau + hand[1, 1])
                img = world.render(wt, xs, ys, bg) * gain
                img = img + cam_rng.normal(0, noise, size=x.shape + (3,))
                yield (np.clip(img, 0, 1) * 255).astype(np.uint8)

        path = os.path.join(os.fspath(out_dir), f"cam{k}.mp4")
        write_video(path, frames(), times, fps_l[k])
        paths.append(path)
        all_times.append(times)
    truth = {
        "convention": OFFSET_CONVENTION,
        "reference": "cam0",
        "offsets_seconds": {f"cam{k}": offsets[k] for k in range(n)},
        "fps": {f"cam{k}": fps_l[k] for k in range(n)},
        "variable_frame_rate": {f"cam{k}": vfr_l[k] for k in range(n)},
        "synthetic": True,
        "generator": {"name": "videosync.testing.make_rig", "seed": seed, "size": list(size), "views": views,
                      "handheld": hand_l},
    }
    truth_path = os.path.join(os.fspath(out_dir), "truth.json")
    with open(truth_path, "w") as f:
        json.dump(truth, f, indent=2)
    return Rig(tuple(paths), tuple(offsets), tuple(fps_l), truth_path, tuple(all_times))
