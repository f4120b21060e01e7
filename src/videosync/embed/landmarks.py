"""Landmarks embedder: per-frame 2-D points that correspond across cameras (MediaPipe pose).

Body landmarks are correspondences that come for free: landmark *k* in camera A is
landmark *k* in camera B, so a geometric predictor (``epipolar``) can test whether two
cameras see the same instant without matching any pixels between views.

Row layout
----------
One row per decoded frame, at the frame's time. For each landmark *k* (MediaPipe's 33, or
the 12 body joints of :data:`videosync.embed.pose.JOINTS` plus the nose with
``joints="body"``) three columns ``(x, y, present)``:

* ``x, y``: image position divided by the image's longer side (so both axes share one
  unit, in [0, 1] along the longer side; the origin is the top-left corner);
* ``present``: 1.0 where MediaPipe found the person and the landmark's visibility is at
  least ``min_visibility``, else 0.0 (and x = y = 0).

Features stay finite (missing points are zeros with ``present = 0``). When the similarity
layer resamples rows onto a time grid by linear interpolation, ``present`` equals 1 only
where both neighbouring frames had the point, and (x, y) is then the point's position
interpolated in time: exactly the sub-frame track interpolation the geometric predictor
needs. :func:`unpack_landmarks` turns rows back into ``(T, K, 2)`` points with NaN for
missing ones.

Who is followed
---------------
MediaPipe's legacy pose solution follows one person. For ``people`` = P > 1, P trackers
(video mode) run on each frame: tracker 1 on the frame itself, tracker p on the frame with
the people already found by trackers 1..p−1 in this frame blacked out (their landmarks'
bounding boxes, enlarged by 15 %). Each tracker keeps its person from frame to frame as
long as it can, so slot p is a person track that may switch identity when the tracker
loses its person. Rows hold P slots of K landmarks, slot-major (``3·K·P`` columns).
Slots are **not** matched between cameras here: which slot of camera A is which slot of
camera B is decided by the geometric predictor, per frame. With ``appearance`` (default)
each slot also carries its person's clothes colour — the mean CIELAB colour of the torso
(shoulders to hips) and of the thighs (hips to knees), each quadrilateral shrunk to 60 %
around its centre — as P·6 ``(value, present)`` pairs after the points
(``Embedding.details["layout"]``, :func:`landmarks_layout`), and the predictor pairs people
across views by colour first; without it, as the pairing that best obeys the epipolar
geometry. Left/right swaps (MediaPipe in back views) are handled there too.

Caching
-------
Pose estimation costs about 12 s per video minute on two cores, so by default the
landmarks of each file are cached under ``~/.cache/videosync/landmarks`` (keyed by the
file's absolute path, size, modification time and this embedder's parameters);
``cache=False`` turns it off.
"""

from __future__ import annotations

import os

import numpy as np

from videosync._validation import check_choice, check_flag, check_number
from videosync.embed._cache import cache_file, load_arrays, save_arrays
from videosync.embed.base import Embedder, Embedding, Frames, ProgressCallback
from videosync.embed.pose import MEDIAPIPE_INDEX, mediapipe_results
from videosync.errors import ShapeError
from videosync.io import VideoInfo

__all__ = ["APPEARANCE_VALUES", "LandmarksEmbedder", "landmark_indices", "landmarks_layout", "mirror_permutation",
           "pack_landmarks", "unpack_landmarks"]

_CACHE_VERSION = 1
_NOSE = 0

# MediaPipe's 33 pose landmarks: left/right partners (index -> index).
_MP_MIRROR = {
    1: 4, 2: 5, 3: 6, 7: 8, 9: 10, 11: 12, 13: 14, 15: 16, 17: 18, 19: 20, 21: 22,
    23: 24, 25: 26, 27: 28, 29: 30, 31: 32,
}


def _box_mask(img: np.ndarray, res, grow: float = 0.15) -> None:
    """Black out (in place) the bounding box of a MediaPipe result's landmarks, enlarged."""
    h, w = img.shape[:2]
    lm = res.pose_landmarks.landmark
    xs = np.array([p.x for p in lm]) * w
    ys = np.array([p.y for p in lm]) * h
    x0, x1, y0, y1 = xs.min(), xs.max(), ys.min(), ys.max()
    gx, gy = grow * (x1 - x0) + 4, grow * (y1 - y0) + 4
    c0, c1 = int(max(0, x0 - gx)), int(min(w, x1 + gx + 1))
    r0, r1 = int(max(0, y0 - gy)), int(min(h, y1 + gy + 1))
    if c1 > c0 and r1 > r0:
        img[r0:r1, c0:c1] = 0


# Body parts whose colour describes a person: the torso (shoulders and hips) and the thighs
# (hips and knees), as MediaPipe quadrilaterals, shrunk towards their centre to stay on the
# clothes.
_PARTS = ((11, 12, 24, 23), (23, 24, 26, 25))
_PART_SHRINK = 0.6
_PART_MIN_PIXELS = 12
APPEARANCE_VALUES = 3 * len(_PARTS)


def _part_colours(lab: np.ndarray, res, min_visibility: float) -> np.ndarray:
    """Mean CIELAB colour of each of :data:`_PARTS` of one person (OpenCV's 8-bit L, a, b
    divided by 255, so every value is in [0, 1] like the points), NaN where a corner is not
    visible enough or the part covers too few pixels: (3·parts,)."""
    import cv2

    h, w = lab.shape[:2]
    lm = res.pose_landmarks.landmark
    out = np.full(APPEARANCE_VALUES, np.nan)
    for j, part in enumerate(_PARTS):
        if min(lm[i].visibility for i in part) < min_visibility:
            continue
        quad = np.array([(lm[i].x * w, lm[i].y * h) for i in part])
        quad = quad.mean(axis=0) + _PART_SHRINK * (quad - quad.mean(axis=0))
        x0, y0 = np.maximum(np.floor(quad.min(axis=0)).astype(int), 0)
        x1, y1 = np.minimum(np.ceil(quad.max(axis=0)).astype(int) + 1, (w, h))
        if x1 <= x0 or y1 <= y0:
            continue
        mask = np.zeros((y1 - y0, x1 - x0), np.uint8)
        cv2.fillConvexPoly(mask, np.round(quad - (x0, y0)).astype(np.int32), 1)
        if mask.sum() < _PART_MIN_PIXELS:
            continue
        out[3 * j:3 * j + 3] = lab[y0:y1, x0:x1][mask > 0].mean(axis=0) / 255.0
    return out


def _people_results(frames: Frames, people: int):
    """``(time, image, [result or None per slot])`` per frame: ``people`` MediaPipe
    trackers, each on the frame with the earlier slots' people blacked out."""
    if people == 1:
        seen = {}

        def remember():
            for t, img in frames:
                seen["img"] = img
                yield t, img

        for t, _, res in mediapipe_results(remember()):
            yield t, seen["img"], [res]
        return
    from videosync.embed.pose import _pose_module, _quiet_native_stderr

    mp_pose = _pose_module()
    with _quiet_native_stderr():
        trackers = [mp_pose.Pose(static_image_mode=False, model_complexity=1) for _ in range(people)]
    try:
        for k, (t, img) in enumerate(frames):
            if img.ndim == 2:
                img = np.repeat(img[..., None], 3, axis=2)
            work = np.ascontiguousarray(img).copy()
            out = []
            for tr in trackers:
                if k == 0:
                    with _quiet_native_stderr():
                        res = tr.process(work)
                else:
                    res = tr.process(work)
                if res.pose_landmarks is None:
                    out.append(None)
                    continue
                out.append(res)
                _box_mask(work, res)
            yield t, img, out
    finally:
        for tr in trackers:
            tr.close()


def landmark_indices(joints: str) -> tuple[int, ...]:
    """MediaPipe landmark indices kept for ``joints`` ("all": 33, "body": nose + 12 joints)."""
    if joints == "all":
        return tuple(range(33))
    return (_NOSE,) + tuple(MEDIAPIPE_INDEX)


def mirror_permutation(indices: tuple[int, ...]) -> np.ndarray:
    """For landmarks ``indices`` (MediaPipe numbering), the column order that swaps the body's
    left and right sides (a point without a partner maps to itself)."""
    pos = {m: k for k, m in enumerate(indices)}
    mirror = {**_MP_MIRROR, **{v: k for k, v in _MP_MIRROR.items()}}
    return np.array([pos.get(mirror.get(m, m), k) for k, m in enumerate(indices)], dtype=int)


def pack_landmarks(points: np.ndarray, appearance: np.ndarray | None = None) -> np.ndarray:
    """``(T, K, 2)`` points with NaN for missing ones → ``(T, 3K)`` rows ``(x, y, present)``.

    ``appearance`` (T, S, A), optional: A values describing each of S person slots (NaN
    where missing), appended after all the points as S·A ``(value, present)`` pairs; the K
    points are then S slots of K/S landmarks (see :func:`landmarks_layout`)."""
    p = np.asarray(points, dtype=np.float64)
    if p.ndim != 3 or p.shape[2] != 2:
        raise ShapeError(f"points must have shape (T, K, 2), got {p.shape}", expected=("T", "K", 2), actual=p.shape)
    ok = np.isfinite(p).all(axis=2)
    out = np.zeros(p.shape[:2] + (3,), np.float64)
    out[..., :2] = np.where(ok[..., None], p, 0.0)
    out[..., 2] = ok
    rows = out.reshape(p.shape[0], -1)
    if appearance is None:
        return rows
    a = np.asarray(appearance, dtype=np.float64)
    if a.ndim != 3 or a.shape[0] != p.shape[0] or a.shape[1] == 0 or p.shape[1] % a.shape[1]:
        raise ShapeError(f"appearance must have shape (T, S, A) with S dividing K={p.shape[1]}, got {a.shape}",
                         expected=(p.shape[0], "S", "A"), actual=a.shape)
    fin = np.isfinite(a)
    pairs = np.stack([np.where(fin, a, 0.0), fin.astype(np.float64)], axis=-1)
    return np.concatenate([rows, pairs.reshape(p.shape[0], -1)], axis=1)


def landmarks_layout(people: int, landmarks: int, appearance: int = 0) -> dict:
    """The row layout of :func:`pack_landmarks`, as ``Embedding.details["layout"]``: ``people``
    slots of ``landmarks`` ``(x, y, present)`` triples, then ``appearance`` ``(value,
    present)`` pairs per slot. The ``epipolar`` predictor reads it."""
    return {"kind": "landmarks", "people": int(people), "landmarks": int(landmarks), "appearance": int(appearance)}


def unpack_landmarks(rows: np.ndarray, *, min_present: float = 1.0 - 1e-6, layout: dict | None = None) -> np.ndarray:
    """``(T, 3K)`` rows ``(x, y, present)`` → ``(T, K, 2)`` points, NaN where ``present`` is
    below ``min_present`` (after time interpolation: not seen in both neighbouring frames).
    ``layout`` (:func:`landmarks_layout`): rows with appearance columns after the points."""
    r = np.asarray(rows, dtype=np.float64)
    if layout and r.ndim == 2:
        r = r[:, : 3 * int(layout["people"]) * int(layout["landmarks"])]
    if r.ndim != 2 or r.shape[1] % 3 or r.shape[1] == 0:
        raise ShapeError(f"landmark rows must have shape (T, 3K), got {r.shape}", expected=("T", "3K"), actual=r.shape)
    r = r.reshape(r.shape[0], -1, 3)
    ok = r[..., 2] >= min_present
    return np.where(ok[..., None], r[..., :2], np.nan)


class LandmarksEmbedder(Embedder):
    """Body landmarks per frame as ``(x, y, present)`` triples: cross-view correspondences.

    Parameters
    ----------
    joints : {"all", "body"}
        MediaPipe's 33 landmarks, or the nose and the 12 body joints (shoulders, elbows,
        wrists, hips, knees, ankles).
    people : int
        Person slots per frame (see "Who is followed"); the cost grows with it.
    min_visibility : float
        Landmarks with a lower MediaPipe visibility are marked missing.
    cache : bool
        Keep each file's landmarks under ``~/.cache/videosync/landmarks``.
    max_side : int
        Working size (MediaPipe finds people more often at 512 than at 256).
    appearance : bool
        Also describe each person by the mean colour of their torso and thighs (CIELAB,
        :data:`APPEARANCE_VALUES` values per slot), so the ``epipolar`` predictor can tell
        which person in one view is which in another.
    """

    name = "landmarks"
    summary = "MediaPipe body landmarks (x, y, present) and clothes colour per person: cross-view correspondences"
    pixel_format = "rgb24"
    default_metric = "cosine"

    def __init__(self, *, joints: str = "all", people: int = 3, min_visibility: float = 0.5, cache: bool = True,
                 max_side: int = 512, appearance: bool = True) -> None:
        super().__init__(max_side=max_side)
        self.appearance = check_flag("LandmarksEmbedder", "appearance", appearance)
        self.people = check_number("LandmarksEmbedder", "people", people, low=1, high=8, integer=True)
        self.joints = check_choice("LandmarksEmbedder", "joints", joints, ("all", "body"))
        self.min_visibility = check_number("LandmarksEmbedder", "min_visibility", min_visibility, low=0.0, high=1.0)
        self.cache = check_flag("LandmarksEmbedder", "cache", cache)

    @classmethod
    def is_available(cls) -> bool:
        from videosync.embed.pose import PoseEmbedder

        return PoseEmbedder.is_available()

    @classmethod
    def test_params(cls):
        return [{"max_side": 128, "cache": False}, {"joints": "body", "people": 1, "max_side": 96, "cache": False}]

    def _embed(self, frames: Frames, info: VideoInfo) -> Embedding:
        import cv2

        idx = list(landmark_indices(self.joints))
        times, rows, colours = [], [], []
        for t, img, results in _people_results(frames, self.people):
            h, w = img.shape[:2]
            times.append(t)
            side = float(max(h, w))
            p = np.full((self.people, len(idx), 2), np.nan)
            c = np.full((self.people, APPEARANCE_VALUES), np.nan)
            lab = None
            for s, res in enumerate(results):
                if res is None or res.pose_landmarks is None:
                    continue
                lm = res.pose_landmarks.landmark
                for k, i in enumerate(idx):
                    if lm[i].visibility >= self.min_visibility:
                        p[s, k] = (lm[i].x * w / side, lm[i].y * h / side)
                if self.appearance and img.ndim == 3:
                    if lab is None:
                        lab = cv2.cvtColor(np.ascontiguousarray(img), cv2.COLOR_RGB2LAB)
                    c[s] = _part_colours(lab, res, self.min_visibility)
            rows.append(p.reshape(-1, 2))
            colours.append(c)
        pts = np.stack(rows) if rows else np.zeros((0, self.people * len(idx), 2))
        app = None
        if self.appearance:
            app = np.stack(colours) if colours else np.zeros((0, self.people, APPEARANCE_VALUES))
        feats = pack_landmarks(pts, app)
        valid = np.isfinite(pts).all(axis=2).any(axis=1)
        return Embedding(np.asarray(times, np.float64), feats.astype(np.float32), valid=valid,
                         channels_correspond=True, details=self._details())

    def _details(self) -> dict:
        return {"layout": landmarks_layout(self.people, len(landmark_indices(self.joints)),
                                           APPEARANCE_VALUES if self.appearance else 0)}

    def embed_video(self, path: str | os.PathLike, *, progress: ProgressCallback | None = None) -> Embedding:
        if not self.cache:
            return super().embed_video(path, progress=progress)
        file = self._cache_file(path)
        z = load_arrays(file, ("times", "features", "valid"))
        if z is not None:
            return Embedding(z["times"], z["features"], valid=z["valid"], channels_correspond=True,
                             details=self._details())
        emb = super().embed_video(path, progress=progress)
        save_arrays(file, times=emb.times_seconds, features=emb.features, valid=emb.valid)
        return emb

    def _cache_file(self, path) -> str | None:
        key = [self.joints, self.people, self.min_visibility, self.max_side]
        return cache_file("landmarks", path, _CACHE_VERSION, key + (["appearance/255"] if self.appearance else []))


