"""Tracks embedder: static-background features and moving-point tracks, for geometric sync
of scenes without people (the ``epilines`` predictor reads it).

Two kinds of points per video, both in units of the image's longer side (origin top-left):

* **background**: every ``key_seconds`` a key frame; on it the ``keypoints`` strongest SIFT
  (or ORB) features outside the moving regions, with their descriptors. Matching these
  between two cameras gives the pair's epipolar geometry without knowing the offset (the
  background does not move, so any instant of a and any instant of b will do; with moving
  cameras, the key frames nearest the two instants).
* **movers**: KLT tracks (``cv2.calcOpticalFlowPyrLK``, forward-backward checked) seeded with
  ``cv2.goodFeaturesToTrack`` where the image moves (frame difference after compensating the
  camera's own motion by a RANSAC homography between consecutive frames). A track is
  *present* on a frame while it moves relative to that homography (or moved in the last
  ``hold`` frames); tracks that stop for longer are dropped.

Row layout (one row per decoded frame; :func:`pack_tracks`, :func:`unpack_tracks`)
---------------------------------------------------------------------------------------
``[tag, M, K, D, kind, segment, movers (M × (x, y, present)), background (K × (x, y, present, descriptor D))]``

``tag`` marks the layout; ``M`` mover slots, ``K`` background keypoints per key frame, ``D``
descriptor length and ``kind`` (0 SIFT, 1 ORB, whose 32 bytes are stored as 0..255 values)
are constants, so they survive the similarity layer's linear resampling. ``segment`` is the
index of the key frame whose background the row carries: every row holds the background of
its nearest key frame, so rows inside a segment are identical there and resampling leaves
them exact; a resampled row that straddles two segments has a non-integer ``segment`` and
is ignored by the reader. A mover slot holds one track at a time and is left empty for at
least one frame before it takes a new track, so interpolating a slot in time never blends
two tracks (the sub-frame interpolation the predictor needs).

Caching: like ``landmarks``, each file's result is cached under
``~/.cache/videosync/tracks`` (``VIDEOSYNC_CACHE`` overrides the root), keyed by the file's
path, size, modification time and the parameters; ``cache=False`` turns it off.
"""

from __future__ import annotations

import os
from dataclasses import dataclass

import numpy as np

from videosync._validation import check_choice, check_flag, check_number
from videosync.embed._cache import cache_file, load_arrays, save_arrays
from videosync.embed.base import Embedder, Embedding, Frames, ProgressCallback
from videosync.embed.motion import camera_homography
from videosync.errors import ShapeError
from videosync.io import VideoInfo

__all__ = ["TracksEmbedder", "TrackRows", "pack_tracks", "unpack_tracks"]

TAG = 5150.0
_HEADER = 6
_CACHE_VERSION = 1
_KINDS = {"sift": 0, "orb": 1}


@dataclass
class TrackRows:
    """A tracks embedding, unpacked.

    movers : (T, M, 2) float, NaN where a slot holds no moving point;
    segment : (T,) float, the key frame each row carries (non-integer: straddles two);
    keypoints : (S, K, 2) float, NaN where a key frame has fewer than K keypoints;
    descriptors : (S, K, D) float32; kind : "sift" or "orb".
    ``keypoints[s]`` belongs to segment id ``segment_ids[s]``.
    """

    movers: np.ndarray
    segment: np.ndarray
    segment_ids: np.ndarray
    keypoints: np.ndarray
    descriptors: np.ndarray
    kind: str


def pack_tracks(movers: np.ndarray, segment: np.ndarray, keypoints: np.ndarray, descriptors: np.ndarray,
                kind: str = "sift") -> np.ndarray:
    """Rows of the layout above.

    Parameters
    ----------
    movers : np.ndarray [shape=(T, M, 2)]
        Moving points per frame, NaN for empty slots.
    segment : np.ndarray [shape=(T,)] int
        Key frame (index into ``keypoints``) whose background each row carries.
    keypoints : np.ndarray [shape=(S, K, 2)]
        Background keypoints per key frame, NaN where missing.
    descriptors : np.ndarray [shape=(S, K, D)]
    kind : {"sift", "orb"}

    Returns
    -------
    np.ndarray [shape=(T, 6 + 3M + K(3 + D))] float32
    """
    mv = np.asarray(movers, np.float64)
    kp = np.asarray(keypoints, np.float64)
    ds = np.asarray(descriptors, np.float64)
    seg = np.asarray(segment, int)
    if mv.ndim != 3 or mv.shape[2] != 2:
        raise ShapeError(f"movers must have shape (T, M, 2), got {mv.shape}", expected=("T", "M", 2), actual=mv.shape)
    if kp.ndim != 3 or kp.shape[2] != 2 or ds.ndim != 3 or ds.shape[:2] != kp.shape[:2]:
        raise ShapeError(f"keypoints (S, K, 2) and descriptors (S, K, D) do not fit: {kp.shape}, {ds.shape}")
    if seg.shape != (mv.shape[0],) or (seg.size and (seg.min() < 0 or seg.max() >= kp.shape[0])):
        raise ShapeError("segment must be (T,) indices into the key frames")
    t, m = mv.shape[:2]
    k, d = ds.shape[1], ds.shape[2]
    head = np.tile([TAG, m, k, d, _KINDS[kind], 0.0], (t, 1))
    head[:, 5] = seg
    mok = np.isfinite(mv).all(axis=2)
    mrows = np.concatenate([np.where(mok[..., None], mv, 0.0), mok[..., None]], axis=2).reshape(t, -1)
    kok = np.isfinite(kp).all(axis=2)
    bg = np.concatenate([np.where(kok[..., None], kp, 0.0), kok[..., None], np.where(kok[..., None], ds, 0.0)],
                        axis=2).reshape(kp.shape[0], -1)
    return np.concatenate([head, mrows, bg[seg] if t else np.zeros((0, bg.shape[1]))], axis=1).astype(np.float32)


def unpack_tracks(rows: np.ndarray, valid: np.ndarray | None = None) -> TrackRows | None:
    """Rows (possibly resampled in time) → :class:`TrackRows`, or None if not this layout.

    A mover counts only where ``present`` is 1 (after resampling: both neighbouring frames
    had it); rows with ``valid`` False have no movers."""
    r = np.asarray(rows, np.float64)
    if r.ndim != 2 or r.shape[1] < _HEADER or r.shape[0] == 0 or not np.allclose(r[:, 0], TAG, atol=1e-2):
        return None
    m, k, d, kind = (int(round(x)) for x in r[0, 1:5])
    if r.shape[1] != _HEADER + 3 * m + k * (3 + d) or kind not in (0, 1):
        return None
    mv = r[:, _HEADER:_HEADER + 3 * m].reshape(len(r), m, 3)
    ok = mv[..., 2] >= 1 - 1e-6
    if valid is not None:
        ok &= np.asarray(valid, bool)[:, None]
    movers = np.where(ok[..., None], mv[..., :2], np.nan)
    seg = r[:, 5]
    exact = np.abs(seg - np.round(seg)) < 1e-3
    ids, first = np.unique(np.round(seg[exact]).astype(int), return_index=True)
    bg = r[np.flatnonzero(exact)[first], _HEADER + 3 * m:].reshape(len(ids), k, 3 + d)
    kok = bg[..., 2] >= 1 - 1e-6
    kp = np.where(kok[..., None], bg[..., :2], np.nan)
    return TrackRows(movers, seg, ids, kp, bg[..., 3:].astype(np.float32), "sift" if kind == 0 else "orb")


def _detector(kind: str, n: int):
    import cv2

    if kind == "sift":
        return cv2.SIFT_create(nfeatures=n)
    return cv2.ORB_create(nfeatures=n)


class TracksEmbedder(Embedder):
    """Background keypoints (key frames) and moving-point KLT tracks (every frame).

    Parameters
    ----------
    movers : int
        Mover slots per frame (M): at most this many moving points are kept.
    keypoints : int
        Background features per key frame (K).
    key_seconds : float
        Time between key frames (moving cameras need them often).
    detector : {"sift", "orb"}
    min_motion : float
        Speed (fraction of the longer image side per frame, relative to the camera's own
        motion) above which a tracked point counts as moving.
    hold : int
        Frames a track stays present after it last moved; longer still tracks are dropped.
    cache : bool
        Keep each file's result under ``~/.cache/videosync/tracks``.
    max_side : int
        Working size.
    """

    name = "tracks"
    summary = "static-background SIFT features (key frames) + KLT tracks of moving points: for the epilines predictor"
    pixel_format = "gray"
    default_metric = "cosine"

    def __init__(self, *, movers: int = 48, keypoints: int = 300, key_seconds: float = 1.0, detector: str = "sift",
                 min_motion: float = 0.0015, hold: int = 3, cache: bool = True, max_side: int = 640) -> None:
        super().__init__(max_side=max_side)
        self.movers = check_number("TracksEmbedder", "movers", movers, low=1, high=512, integer=True)
        self.keypoints = check_number("TracksEmbedder", "keypoints", keypoints, low=8, high=4000, integer=True)
        self.key_seconds = check_number("TracksEmbedder", "key_seconds", key_seconds, low=0, low_open=True)
        self.detector = check_choice("TracksEmbedder", "detector", detector, ("sift", "orb"))
        self.min_motion = check_number("TracksEmbedder", "min_motion", min_motion, low=0, low_open=True)
        self.hold = check_number("TracksEmbedder", "hold", hold, low=0, high=100, integer=True)
        self.cache = check_flag("TracksEmbedder", "cache", cache)

    @classmethod
    def is_available(cls) -> bool:
        try:
            import cv2  # noqa: F401
        except ImportError:
            return False
        return True

    @classmethod
    def test_params(cls):
        return [{"cache": False, "max_side": 160}, {"cache": False, "detector": "orb", "movers": 8, "keypoints": 32,
                                                    "max_side": 128}]

    # -- per-frame work ------------------------------------------------------------------
    def _compute(self, frames: Frames):
        import cv2

        lk = dict(winSize=(15, 15), maxLevel=3, criteria=(cv2.TERM_CRITERIA_EPS | cv2.TERM_CRITERIA_COUNT, 20, 0.03))
        det = _detector(self.detector, self.keypoints)
        dlen = 128 if self.detector == "sift" else 32
        m = self.movers
        times, rows = [], []
        keys_t, keys_kp, keys_ds = [], [], []
        prev = None
        pts = np.zeros((0, 2), np.float32)  # live tracks, their slots and the last frame each moved
        slot = np.zeros(0, int)
        last_moved = np.zeros(0, int)
        slot_last = np.full(m, -10)  # last frame each slot held a point
        next_key = -np.inf
        side = 1.0
        for fi, (t, img) in enumerate(frames):
            g = img if img.ndim == 2 else cv2.cvtColor(img, cv2.COLOR_RGB2GRAY)
            g = np.ascontiguousarray(g, np.uint8)
            h, w = g.shape
            side = float(max(h, w))
            thr = self.min_motion * side
            moving_mask = np.zeros_like(g)
            if prev is not None:
                H = camera_homography(prev, g, corners=300, min_distance=max(4.0, side / 60),
                                      ransac_px=max(1.0, side / 400), lk=lk, max_jump=None)
                if H is None:
                    H = np.eye(3)
                warped = cv2.warpPerspective(prev, H, (w, h), borderMode=cv2.BORDER_REPLICATE)
                diff = cv2.GaussianBlur(cv2.absdiff(g, warped), (5, 5), 0)
                moving_mask = ((diff > 15) * 255).astype(np.uint8)
                moving_mask = cv2.dilate(moving_mask, np.ones((5, 5), np.uint8))
                if len(pts):
                    p0 = pts.reshape(-1, 1, 2)
                    p1, st, _ = cv2.calcOpticalFlowPyrLK(prev, g, p0, None, **lk)
                    pb, stb, _ = cv2.calcOpticalFlowPyrLK(g, prev, p1, None, **lk)
                    fb = np.linalg.norm((pb - p0).reshape(-1, 2), axis=1)
                    p1 = p1.reshape(-1, 2)
                    inside = (p1[:, 0] >= 0) & (p1[:, 0] < w) & (p1[:, 1] >= 0) & (p1[:, 1] < h)
                    keep = (st[:, 0] == 1) & (stb[:, 0] == 1) & (fb < 0.7) & inside
                    expect = cv2.perspectiveTransform(pts.reshape(-1, 1, 2).astype(np.float64), H).reshape(-1, 2)
                    moved = np.linalg.norm(p1 - expect, axis=1) > thr
                    last_moved = np.where(moved, fi, last_moved)
                    keep &= fi - last_moved <= self.hold
                    pts, slot, last_moved = p1[keep].astype(np.float32), slot[keep], last_moved[keep]
                free = np.array([s for s in range(m) if s not in set(slot.tolist()) and slot_last[s] < fi - 1], int)
                if free.size:
                    mask = moving_mask.copy()
                    for x, y in pts:
                        cv2.circle(mask, (int(x), int(y)), max(3, int(side / 80)), 0, -1)
                    seeds = cv2.goodFeaturesToTrack(g, int(free.size), 0.01, max(3.0, side / 80), mask=mask)
                    if seeds is not None:
                        seeds = seeds.reshape(-1, 2)[: free.size]
                        pts = np.concatenate([pts, seeds.astype(np.float32)])
                        slot = np.concatenate([slot, free[: len(seeds)]])
                        last_moved = np.concatenate([last_moved, np.full(len(seeds), fi)])
            row = np.full((m, 2), np.nan)
            row[slot] = pts / side
            slot_last[slot] = fi
            times.append(float(t))
            rows.append(row)
            if t >= next_key - 1e-9:
                still = cv2.bitwise_not(cv2.dilate(moving_mask, np.ones((9, 9), np.uint8)))
                kps, ds = det.detectAndCompute(g, still)
                kp = np.full((self.keypoints, 2), np.nan)
                dd = np.zeros((self.keypoints, dlen), np.float32)
                if kps:
                    order = np.argsort([-k.response for k in kps])[: self.keypoints]
                    kp[: len(order)] = np.array([kps[i].pt for i in order]) / side
                    dd[: len(order)] = np.asarray(ds, np.float32)[order]
                keys_t.append(float(t))
                keys_kp.append(kp)
                keys_ds.append(dd)
                next_key = t + self.key_seconds
            prev = g
        if not times:
            return (np.zeros(0), np.zeros((0, m, 2)), np.zeros((0, self.keypoints, 2)),
                    np.zeros((0, self.keypoints, dlen), np.float32), np.zeros(0))
        return (np.asarray(times), np.stack(rows), np.stack(keys_kp), np.stack(keys_ds), np.asarray(keys_t))

    def _build(self, times, movers, kps, descs, key_times) -> Embedding:
        if len(key_times):
            seg = np.abs(times[:, None] - key_times[None, :]).argmin(axis=1)
        else:
            seg = np.zeros(len(times), int)
            kps = np.full((1, self.keypoints, 2), np.nan)
            descs = np.zeros((1,) + descs.shape[1:], np.float32)
        feats = pack_tracks(movers, seg, kps, descs, self.detector)
        return Embedding(times, feats, valid=np.ones(len(times), bool), channels_correspond=False)

    def _embed(self, frames: Frames, info: VideoInfo) -> Embedding:
        return self._build(*self._compute(frames))

    def embed_video(self, path: str | os.PathLike, *, progress: ProgressCallback | None = None) -> Embedding:
        if not self.cache:
            return super().embed_video(path, progress=progress)
        file = self._cache_file(path)
        z = load_arrays(file, ("times", "movers", "kps", "descs", "key_times"))
        if z is not None:
            return self._build(z["times"], z["movers"], z["kps"], z["descs"], z["key_times"])
        from videosync.io import open_video

        with open_video(path) as reader:
            parts = self._compute(reader.frames(max_side=self.max_side, pixel_format=self.pixel_format,
                                                progress=progress))
        emb = self._build(*parts)
        if emb.num_frames < 2:
            raise ShapeError(f"{self.name} produced {emb.num_frames} rows; at least 2 are needed")
        save_arrays(file, times=parts[0], movers=parts[1].astype(np.float32), kps=parts[2], descs=parts[3],
                    key_times=parts[4])
        return emb

    def _cache_file(self, path) -> str | None:
        return cache_file("tracks", path, _CACHE_VERSION, [self.get_params()])
