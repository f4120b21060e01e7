"""Time conventions: the one place where the offset sign is defined.

The convention
--------------
``offset_seconds[cam]``: the instant shown at time *t* in the reference video appears at
time *t* + ``offset_seconds[cam]`` in *cam*'s own timeline; the reference has 0.

A video's own timeline starts at its first decoded frame (time 0), whatever the
container's start pts.

Consequences (pinned by tests at the predictor, solver and CLI level):

* ``t_cam = t_ref + offset_seconds[cam]`` and ``t_ref = t_cam - offset_seconds[cam]``;
  cam's first frame sits at reference time ``-offset_seconds[cam]``.
* If camera B started recording 2 s *after* the reference, offset_seconds[B] = -2.0;
  if it started 2 s *before*, +2.0.
* If frame *i* of the reference matches frame *i + k* of cam on a common time grid of
  step *dt*, offset_seconds[cam] = *k* · *dt*.
* The offset of *b* relative to *a* is ``offset_seconds[b] - offset_seconds[a]``.
"""

from __future__ import annotations

from fractions import Fraction

import numpy as np

OFFSET_CONVENTION = (
    "offset_seconds[cam]: the instant shown at time t in the reference video appears at "
    "time t + offset_seconds[cam] in cam's own timeline; the reference has 0."
)


def pts_to_seconds(pts: int, time_base: Fraction) -> Fraction:
    """Exact presentation time of a pts in seconds."""
    return pts * time_base


def lag_to_offset_seconds(lag_steps: float, step_seconds: float) -> float:
    """Frame *i* of a ↔ frame *i + lag* of b on a grid of ``step_seconds`` → offset of b."""
    return float(lag_steps) * float(step_seconds)


def relative_offset(offset_a_seconds: float, offset_b_seconds: float) -> float:
    """Offset of b measured with a as the reference."""
    return float(offset_b_seconds) - float(offset_a_seconds)


def ref_to_cam_time(t_ref_seconds, offset_seconds: float):
    """Map reference time(s) to the camera's own time(s)."""
    return np.asarray(t_ref_seconds, dtype=float) + offset_seconds


def cam_to_ref_time(t_cam_seconds, offset_seconds: float):
    """Map camera time(s) to reference time(s)."""
    return np.asarray(t_cam_seconds, dtype=float) - offset_seconds


def seconds_to_frames(seconds: float, fps: float) -> float:
    """A duration in seconds expressed in frames of a ``fps`` video (not rounded)."""
    return float(seconds) * float(fps)
