"""Rigs whose every frame says which world instant it shows: a visible binary time code.

Frame content is a grid of flat cells: a white and a black marker cell, then 24 bits of
the world time in tenths of a millisecond (offset by 100 s so it is never negative),
most significant bit first. Large flat cells survive lossy re-encoding (crf ≤ 28), so a
decoded frame — from a camera, a synced copy or a proxy — maps back to its world instant
with 0.1 ms resolution. A black frame (no white marker) decodes as ``None`` (padding).

Truth follows the project's convention (see :mod:`videosync.testing.rig`): camera k's frame
at its own time τ shows the world instant ``τ − offset_seconds[k]``.
"""

from __future__ import annotations

import json
import os
from typing import Sequence

import numpy as np

from videosync.testing.rig import Rig, frame_times, write_video
from videosync.timebase import OFFSET_CONVENTION

_COLS, _ROWS = 8, 4
_BITS = 24
_UNIT_SECONDS = 1e-4
_BIAS_SECONDS = 100.0


def encode_time(world_seconds: float, size: tuple[int, int] = (96, 64)) -> np.ndarray:
    """An (H, W, 3) uint8 frame showing ``world_seconds`` as a time code."""
    w, h = size
    code = int(round((world_seconds + _BIAS_SECONDS) / _UNIT_SECONDS))
    if not 0 <= code < 2**_BITS:
        raise ValueError(f"world time {world_seconds} s is outside the time code's range")
    cells = np.full(_COLS * _ROWS, 128, dtype=np.uint8)
    cells[0], cells[1] = 255, 0
    bits = [(code >> (_BITS - 1 - i)) & 1 for i in range(_BITS)]
    cells[2 : 2 + _BITS] = np.where(bits, 235, 20)
    grid = cells.reshape(_ROWS, _COLS)
    img = np.repeat(np.repeat(grid, int(np.ceil(h / _ROWS)), axis=0), int(np.ceil(w / _COLS)), axis=1)[:h, :w]
    return np.repeat(img[..., None], 3, axis=2)


def decode_time(img: np.ndarray) -> float | None:
    """The world instant a time-code frame shows, or None for a padding (dark) frame."""
    g = img.mean(axis=2) if img.ndim == 3 else img.astype(float)
    h, w = g.shape
    ch, cw = h / _ROWS, w / _COLS

    def cell(i: int) -> float:
        r, c = divmod(i, _COLS)
        y0, y1 = int(r * ch + ch / 4), int((r + 1) * ch - ch / 4)
        x0, x1 = int(c * cw + cw / 4), int((c + 1) * cw - cw / 4)
        return float(g[y0:y1, x0:x1].mean())

    white, black = cell(0), cell(1)
    if white - black < 100:
        return None
    mid = (white + black) / 2
    code = 0
    for i in range(_BITS):
        code = (code << 1) | int(cell(2 + i) > mid)
    return code * _UNIT_SECONDS - _BIAS_SECONDS


def make_timecode_rig(
    out_dir: str | os.PathLike,
    *,
    offsets_seconds: Sequence[float] = (0.0, 1.0, -0.5),
    fps: Sequence[float] | float = (30.0, 30.0, 25.0),
    duration_seconds: float | Sequence[float] = 4.0,
    size: tuple[int, int] = (96, 64),
    gop_size: Sequence[int | None] | int | None = None,
) -> Rig:
    """Write one time-code video per camera; ``offsets_seconds[0]`` must be 0.

    ``gop_size`` sets each camera's key-frame interval in frames (None: the encoder's
    default, i.e. one key frame at the start of a short clip).
    """
    n = len(offsets_seconds)
    offsets = [float(o) for o in offsets_seconds]
    if offsets[0] != 0.0:
        raise ValueError("offsets_seconds[0] must be 0 (camera 0 is the reference)")
    fps_l = [float(fps)] * n if np.isscalar(fps) else [float(f) for f in fps]
    dur_l = [float(duration_seconds)] * n if np.isscalar(duration_seconds) else [float(d) for d in duration_seconds]
    gop_l = [gop_size] * n if gop_size is None or np.isscalar(gop_size) else list(gop_size)
    os.makedirs(out_dir, exist_ok=True)
    paths, all_times = [], []
    for k in range(n):
        times = frame_times(dur_l[k], fps_l[k], vfr=False, rng=np.random.default_rng(k))
        path = os.path.join(os.fspath(out_dir), f"cam{k}.mp4")
        frames = (encode_time(t - offsets[k], size) for t in times)
        write_video(path, frames, times, fps_l[k], gop_size=gop_l[k])
        paths.append(path)
        all_times.append(times)
    truth_path = os.path.join(os.fspath(out_dir), "truth.json")
    with open(truth_path, "w") as f:
        json.dump({
            "convention": OFFSET_CONVENTION,
            "reference": "cam0",
            "offsets_seconds": {f"cam{k}": offsets[k] for k in range(n)},
            "fps": {f"cam{k}": fps_l[k] for k in range(n)},
            "synthetic": True,
            "generator": {"name": "videosync.testing.make_timecode_rig", "size": list(size)},
        }, f, indent=2)
    return Rig(tuple(paths), tuple(offsets), tuple(fps_l), truth_path, tuple(all_times))
