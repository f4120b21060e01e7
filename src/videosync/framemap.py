"""Frame map: for each reference frame, the matching frame (and sub-frame fraction) of every camera.

With the convention of :mod:`videosync.timebase` and a camera's clock drift, the reference instant
``t_ref`` shows in camera *c* at

    τ = offset_seconds[c] + (1 + drift_ppm[c]·1e-6) · t_ref

(``CameraResult.drift_ppm``, 0 when not estimated). Frame *n* of a camera is at ``n / fps`` on its
own timeline (time 0 = its first decoded frame, whatever the container's start pts), unless its
frame times are given. For each reference frame *k* (at ``t_ref = k / fps_ref``), the map holds the
camera's *nearest* frame index ``n`` and the signed fraction ``(τ − t_n)·fps`` in [−0.5, 0.5): the
instant lies that many frames after frame *n*. A camera has no entry (index −1, fraction NaN) where
no frame of it lies within half a frame interval of the instant: before it started or after it
stopped. Nothing is extrapolated.
"""

from __future__ import annotations

import csv
import io
import os
from dataclasses import dataclass, field
from typing import Sequence

import numpy as np

from videosync.errors import InvalidParameterError, ShapeError
from videosync.result import SyncResult

__all__ = ["FrameMap", "frame_map", "write_frame_map_csv"]


@dataclass(frozen=True)
class FrameMap:
    """Reference frame → every camera's nearest frame and sub-frame fraction."""

    names: tuple[str, ...]
    """One short unique name per camera (file name without extension)."""
    paths: tuple[str, ...]
    reference_index: int
    reference_time_seconds: np.ndarray = field(repr=False)
    """(R,) time of each reference frame on the reference's own timeline."""
    frame_index: np.ndarray = field(repr=False)
    """(R, N) int64: nearest frame of camera j for reference frame k; −1 outside the camera's span."""
    fraction_frames: np.ndarray = field(repr=False)
    """(R, N) float: (τ − t_n)·fps in [−0.5, 0.5); NaN outside the camera's span."""

    @property
    def n_reference_frames(self) -> int:
        return int(self.frame_index.shape[0])

    @property
    def valid(self) -> np.ndarray:
        """(R, N) bool: the camera has a frame for that reference frame."""
        return self.frame_index >= 0

    def __repr__(self) -> str:
        return (f"FrameMap(cameras={list(self.names)}, reference={self.names[self.reference_index]!r}, "
                f"frame_index={self.frame_index.shape})")


def _camera_frame_count(result: SyncResult, j: int) -> int:
    cam = result.videos[j]
    if cam.info is not None:
        return int(cam.info.num_frames_from_content)
    from videosync.io import probe

    return int(probe(cam.path).num_frames_from_content)


def frame_map(
    result: SyncResult,
    *,
    n_frames: Sequence[int | None] | None = None,
    frame_times_seconds: Sequence[np.ndarray | None] | None = None,
) -> FrameMap:
    """Map every reference frame to every camera's nearest frame, with drift applied.

    Args:
        result: offsets (and drift) of every camera.
        n_frames: frames per camera (None entries: from ``info`` when the result holds it, else by
            probing the file).
        frame_times_seconds: optional (n_c,) frame times per camera on its own timeline, for
            variable-frame-rate videos (None entries: ``n / fps``). Must be increasing.

    Returns:
        A :class:`FrameMap` with one row per reference frame.

    Raises:
        InvalidParameterError: a list argument has the wrong length, or a frame count is negative.
        VideoOpenError: a camera's frame count is needed and its file cannot be probed.
    """
    from videosync.export._timeline import display_names

    n_cam = len(result.videos)
    for arg, label in ((n_frames, "n_frames"), (frame_times_seconds, "frame_times_seconds")):
        if arg is not None and len(arg) != n_cam:
            raise InvalidParameterError(f"{label} needs one entry per camera ({n_cam}); got {len(arg)}")
    times: list[np.ndarray] = []
    for j, cam in enumerate(result.videos):
        given = None if frame_times_seconds is None else frame_times_seconds[j]
        if given is not None:
            t = np.asarray(given, dtype=float)
            if t.ndim != 1 or (t.size > 1 and np.any(np.diff(t) <= 0)):
                raise ShapeError(f"frame_times_seconds[{j}] must be 1-D and increasing", expected=("n",),
                                 actual=t.shape)
        else:
            count = None if n_frames is None else n_frames[j]
            count = _camera_frame_count(result, j) if count is None else int(count)
            if count < 0:
                raise InvalidParameterError(f"n_frames[{j}] must be ≥ 0; got {count}")
            t = np.arange(count) / float(cam.fps)
        times.append(t)

    ref = result.reference_index
    t_ref = times[ref]
    index = np.full((t_ref.size, n_cam), -1, dtype=np.int64)
    fraction = np.full((t_ref.size, n_cam), np.nan)
    for j, cam in enumerate(result.videos):
        t = times[j]
        if t.size == 0:
            continue
        fps = float(cam.fps)
        tau = cam.offset_seconds + (1.0 + cam.drift_ppm * 1e-6) * t_ref
        n = _nearest(t, tau)
        frac = (tau - t[n]) * fps
        inside = (tau >= t[0] - 0.5 / fps) & (tau < t[-1] + 0.5 / fps)
        index[inside, j] = n[inside]
        fraction[inside, j] = frac[inside]
    return FrameMap(display_names(result), tuple(v.path for v in result.videos), ref, t_ref, index, fraction)


def _nearest(t: np.ndarray, tau: np.ndarray) -> np.ndarray:
    """Index of the element of increasing ``t`` nearest each ``tau`` (ties go to the later frame)."""
    right = np.clip(np.searchsorted(t, tau, side="right"), 1, max(t.size - 1, 1))
    left = right - 1
    if t.size == 1:
        return np.zeros(tau.shape, dtype=np.int64)
    return np.where(tau - t[left] < t[right] - tau, left, right).astype(np.int64)


def write_frame_map_csv(fm: FrameMap, path: str | os.PathLike) -> None:
    """Write ``fm`` as CSV, atomically: ``reference_frame, reference_time_seconds`` then
    ``<camera>_frame, <camera>_fraction`` per camera; empty cells where a camera has no frame."""
    from videosync.export.base import atomic_write

    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    header = ["reference_frame", "reference_time_seconds"]
    for name in fm.names:
        header += [f"{name}_frame", f"{name}_fraction"]
    writer.writerow(header)
    for k in range(fm.n_reference_frames):
        row = [str(k), f"{fm.reference_time_seconds[k]:.6f}"]
        for j in range(len(fm.names)):
            n = int(fm.frame_index[k, j])
            row += ["", ""] if n < 0 else [str(n), f"{round(fm.fraction_frames[k, j], 4) + 0.0:+.4f}"]
        writer.writerow(row)
    atomic_write(path, out.getvalue().encode())
