"""Motion embedder: spatial-grid motion energy, no weights.

For each pair of consecutive frames: the absolute difference of the grey frames,
averaged over the cells of a ``grid`` × ``grid`` grid — and, with ``multiscale`` (default),
also over the whole frame and a 2 × 2 grid, so a subject that crosses cell borders is still
seen whole — log-compressed
(``log(x + 0.05·median + 1e-6)``). The row is placed at the midpoint of the two frames'
times, so cameras with different frame rates stay aligned.

Rows that end on a **key frame** are marked invalid: between key frames an encoder keeps a
still background frozen, and at each key frame it jumps, a pulse every camera file has at
its own rhythm that correlates like motion (unless nearly every frame is a key frame, as
in intra-only codecs, where there is no such pulse).

**Moving cameras** (hand-held, head-worn, panning): the frame difference of a moving camera
is mostly its own motion, so every cell follows the camera, not the scene. With
``compensate`` the previous frame is first warped onto the current one by the camera's
motion — a homography fitted with RANSAC to KLT-tracked corners (OpenCV) — and the cells
average the residual difference over the pixels both frames cover. ``"auto"`` (default)
decides online, so a camera may be still for a while and hand-held later: compensated while
the warp removes a good part of the frame difference (the median ratio of compensated to
plain difference over the last 15 checks is at most ``moving_ratio``, 0.8: the camera's own
motion dominates the picture; once moving, until the warp stops removing anything, ratio
above 1), otherwise the plain difference. The first 10 frame pairs are checked one by one
and decide where the video starts; after that a still camera is checked every 0.25 s at
first, less often as the video goes on, every 2 s from 40 s (and on every frame while its
last check looked moving), a moving one on every frame. A camera that never moves gives
exactly the rows of ``"off"`` (warping a still view only adds interpolation noise, and where
people fill the picture the "camera motion" fitted is theirs). ``"on"`` / ``"off"`` force it.
The homography fit costs 1–4 ms per frame pair at 160 px (CPU of all OpenCV threads). A still
4-min 720p file gets 166 checks: 8.2 → 9.2 s CPU to embed (best of 3; once a second
throughout it was 8.4 → 9.3 s); a moving camera's compensation costs about as much again as
decoding 720p. ``Embedding.details["camera_motion"]`` says how many frame pairs were checked
and what share of them was compensated (``sync`` passes it on in its provenance).

A cell in one camera sees a different part of the scene than the same cell in another,
so the embedding says its channels do not correspond (``channels_correspond=False``):
the ``lag`` predictor then matches each cell to its best-correlated cell in the other
video (:func:`videosync.similarity.matched_lag_profile`), and frame-level predictors
compare rows in a layout-invariant (sorted) form.
"""

from __future__ import annotations

import numpy as np

from videosync._validation import check_choice, check_flag, check_number
from videosync.embed.base import Embedder, Embedding, Frames
from videosync.io import VideoInfo


class MotionEmbedder(Embedder):
    name = "motion"
    summary = "grid motion energy (frame differences), cells matched across views; no weights"
    pixel_format = "gray"
    default_metric = "cosine"

    def __init__(self, *, grid: int = 4, multiscale: bool = True, max_side: int = 160, compensate: str = "auto",
                 moving_ratio: float = 0.8) -> None:
        super().__init__(max_side=max_side)
        self.grid = check_number("MotionEmbedder", "grid", grid, low=1, high=32, integer=True)
        self.multiscale = check_flag("MotionEmbedder", "multiscale", multiscale)
        self.compensate = check_choice("MotionEmbedder", "compensate", compensate, ("auto", "on", "off"))
        self.moving_ratio = check_number("MotionEmbedder", "moving_ratio", moving_ratio, low=0.0)

    @classmethod
    def test_params(cls):
        return [{}, {"grid": 2, "multiscale": False, "max_side": 64, "compensate": "on"}]

    @property
    def levels(self) -> list[int]:
        """Grid sizes whose cells become channels: 1×1, 2×2 and grid×grid when multiscale."""
        return sorted({1, 2, self.grid} if self.multiscale else {self.grid})

    def _embed(self, frames: Frames, info: VideoInfo) -> Embedding:
        levels = self.levels
        prev = prev_img = None
        prev_t = None
        times, rows = [], []
        switch = _MotionSwitch(self.compensate, self.moving_ratio)
        plan = None
        for t, img in frames:
            cur = img.astype(np.float32) * (1.0 / 255.0)
            if img.dtype != np.uint8:  # OpenCV's corner tracking wants 8-bit frames
                img = np.clip(np.rint(img), 0, 255).astype(np.uint8)
            if prev is not None:
                d = np.abs(cur - prev)
                if plan is None or plan[0] != d.shape:
                    plan = (d.shape, _cell_plan(d.shape, levels))
                i = len(times)
                t_mid = 0.5 * (t + prev_t)
                plain = _cell_means(d, plan[1])
                if switch.wants_check(i, t_mid):
                    row, ratio = _compensated_cells(prev_img, img, prev, cur, d, plain, plan[1])
                    switch.update(i, t_mid, ratio, row)
                rows.append(switch.row(i, plain))
                times.append(t_mid)
            prev, prev_img, prev_t = cur, img, t
        rows = switch.finish(rows)
        details = None
        if self.compensate != "off" and rows:
            details = {"camera_motion": {"compensate": self.compensate, "checks": switch.checks,
                                         "compensated_share": round(switch.compensated / len(rows), 3)}}
        x = np.array(rows, dtype=np.float64)
        eps = 0.05 * float(np.median(x)) + 1e-6 if x.size else 1e-6
        valid = None
        keys = getattr(frames, "key_frames", None)
        if keys is not None and len(keys) == len(rows) + 1 and np.mean(keys) < 0.5:
            valid = ~np.asarray(keys[1:], dtype=bool)  # row r spans frames r and r + 1
        return Embedding(np.array(times), np.log(x + eps), valid=valid, channels_correspond=(levels == [1]),
                         details=details)


def camera_moves(residual_ratios, moving_ratio: float = 0.8) -> bool:
    """Whether a camera's own motion dominates its frame differences: the median of
    (difference after warping by the camera's motion) / (plain difference) over the frame
    pairs given, as :func:`_compensated_cells` computes them, is at most ``moving_ratio``."""
    r = np.asarray(residual_ratios, dtype=float)
    r = r[np.isfinite(r)]
    return r.size >= 2 and float(np.median(r)) <= moving_ratio


class _MotionSwitch:
    """When to fit the camera's motion and which row to keep, frame pair by frame pair.

    ``"on"``: every pair, compensated. ``"off"``: never. ``"auto"``: the first ``warmup``
    pairs are all checked and :func:`camera_moves` on them decides how the video starts (their
    rows are settled by :meth:`finish`). After that a still camera is checked every 5 % of the
    time elapsed, at least every 0.25 s and at most every ``probe_seconds`` — and on every
    pair while its last check looked moving — a moving one on every pair, and the decision
    follows the median of the last ``window`` checks: a still
    camera becomes moving when it is at most ``moving_ratio``, a moving one still again only
    when it exceeds ``release_ratio`` (1: the warp no longer removes anything), so the slow
    phases of a pan do not flip it back and forth."""

    def __init__(self, mode: str, moving_ratio: float, *, warmup: int = 10, probe_seconds: float = 2.0,
                 window: int = 15, release_ratio: float = 1.0) -> None:
        self.mode, self.moving_ratio, self.release_ratio = mode, moving_ratio, max(release_ratio, moving_ratio)
        self.warmup, self.probe, self.window = warmup, probe_seconds, window
        self.moving = mode == "on"
        self.suspicious = False
        self.recent: list[float] = []
        self.last_check = -np.inf
        self.t0: float | None = None
        self.comp: dict[int, np.ndarray] = {}
        self.warm: dict[int, np.ndarray] = {}
        self.warm_moving = False
        self.checks = 0
        self.compensated = 0
        """How many pairs were checked / kept compensated (for the embedding's details)."""

    def wants_check(self, i: int, t: float) -> bool:
        if self.t0 is None:
            self.t0 = t
        if self.mode != "auto":
            return self.mode == "on"
        # a still camera: often near the start (short clips need an early switch), then every
        # ``probe`` seconds (long footage pays little): 5 % of the time elapsed, within [0.25 s, probe]
        every = min(self.probe, max(0.25, 0.05 * (t - self.t0)))
        return i < self.warmup or self.moving or self.suspicious or t - self.last_check >= every

    def update(self, i: int, t: float, ratio: float, row: np.ndarray) -> None:
        self.last_check = t
        self.checks += 1
        if self.mode == "on":
            self.comp[i] = row
            return
        self.recent = (self.recent + [ratio])[-self.window:]
        self.suspicious = ratio <= self.moving_ratio
        if i < self.warmup:
            self.warm[i] = row
            if i == self.warmup - 1:
                self.moving = self.warm_moving = camera_moves(self.recent, self.moving_ratio)
            return
        self.moving = camera_moves(self.recent, self.release_ratio if self.moving else self.moving_ratio)
        if self.moving:
            self.comp[i] = row

    def row(self, i: int, plain: np.ndarray) -> np.ndarray:
        row = self.comp.pop(i, None)
        if row is None:
            return plain
        self.compensated += 1
        return row

    def finish(self, rows: list) -> list:
        """The rows with the warm-up settled: compensated if the video started moving."""
        if self.mode != "auto" or not self.warm:
            return rows
        n = min(self.warmup, len(rows))
        if n < self.warmup:  # a video shorter than the warm-up: decided on all of it
            self.warm_moving = camera_moves(self.recent, self.moving_ratio)
        if self.warm_moving:
            rows = [self.warm.get(i, r) for i, r in enumerate(rows[:n])] + list(rows[n:])
            self.compensated += n
        return rows


def camera_homography(prev_u8: np.ndarray, cur_u8: np.ndarray, *, corners: int = 200,
                      min_distance: float | None = None, ransac_px: float | None = None, lk: dict | None = None,
                      max_jump: float | None = 0.5) -> np.ndarray | None:
    """The camera's motion between two grey frames: a homography mapping ``prev`` onto
    ``cur``, fitted with RANSAC to corners tracked by pyramidal Lucas-Kanade (OpenCV).

    ``corners`` strongest corners at least ``min_distance`` px apart (default: width / 40),
    RANSAC threshold ``ransac_px`` (default: width / 200), ``lk`` passed to
    ``cv2.calcOpticalFlowPyrLK``. None when too few corners are tracked, when OpenCV finds the
    points degenerate, or when the fit is implausible (the image centre moves more than
    ``max_jump`` of the width; None: no such check), i.e. when the frames give no usable
    estimate. Also the `tracks` embedder's camera motion."""
    import cv2

    h, w = cur_u8.shape
    p0 = cv2.goodFeaturesToTrack(prev_u8, corners, 0.01, max(3, w // 40) if min_distance is None else min_distance)
    if p0 is None or len(p0) < 8:
        return None
    p1, st, _ = cv2.calcOpticalFlowPyrLK(prev_u8, cur_u8, p0, None, **(lk or {}))
    ok = st.ravel() == 1
    if ok.sum() < 8:
        return None
    try:
        H, _ = cv2.findHomography(p0[ok], p1[ok], cv2.RANSAC, max(1.0, w / 200) if ransac_px is None else ransac_px)
    except cv2.error:  # degenerate point sets can trip OpenCV's assertions
        return None
    if H is None or not np.all(np.isfinite(H)):
        return None
    if max_jump is not None:
        c = np.array([w / 2, h / 2, 1.0])
        m = H @ c
        if abs(m[2]) < 1e-6 or np.hypot(*(m[:2] / m[2] - c[:2])) > max_jump * w:
            return None
    return H


def _compensated_cells(prev_u8, cur_u8, prev, cur, plain, plain_cells, plan) -> tuple[np.ndarray, float]:
    """Cell means of ``|cur − prev warped by the camera's motion|`` over the pixels both
    frames cover (cells under 5 % covered keep ``plain_cells``, the cell means of the plain
    difference ``plain``), and the ratio of the compensated to the plain difference over the
    covered pixels (1 and the plain cells when no motion could be estimated)."""
    import cv2

    h, w = cur.shape
    H = camera_homography(prev_u8, cur_u8)
    if H is None:
        return plain_cells, 1.0
    warped = cv2.warpPerspective(prev, H, (w, h), flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_CONSTANT,
                                 borderValue=np.nan)
    d = np.abs(cur - warped)
    covered = np.isfinite(d)
    d[~covered] = 0.0
    cover = _cell_means(covered.astype(np.float32), plan)
    row = np.where(cover > 0.05, _cell_means(d, plan) / np.maximum(cover, 1e-6), plain_cells)
    n = int(covered.sum())
    base = float(plain[covered].sum()) if n else 0.0
    ratio = float(d.sum()) / base if n and base > 0 else 1.0
    return row, ratio


def _cell_plan(shape: tuple[int, int], levels: list[int]):
    """Cell borders per grid level, computed once per frame size (the per-frame work is then
    one pair of ``reduceat`` on the finest grid; coarser grids whose borders are a subset of
    the finest grid's, as 1×1 and 2×2 are of 4×4, are sums of its cells)."""
    h, w = shape
    finest = max(levels)
    fy = np.linspace(0, h, finest + 1).astype(int)
    fx = np.linspace(0, w, finest + 1).astype(int)
    out = []
    for g in levels:
        ys = np.linspace(0, h, g + 1).astype(int)
        xs = np.linspace(0, w, g + 1).astype(int)
        area = np.maximum(np.outer(np.diff(ys), np.diff(xs)), 1)
        iy, ix = np.searchsorted(fy, ys), np.searchsorted(fx, xs)
        nested = np.array_equal(fy[iy], ys) and np.array_equal(fx[ix], xs)
        out.append((g, ys, xs, area, (iy[:-1], ix[:-1]) if nested else None))
    return fy, fx, out


def _cell_means(d: np.ndarray, plan) -> np.ndarray:
    """Mean of ``d`` over every cell of every grid level, levels concatenated (finest sums reused)."""
    fy, fx, levels = plan
    fine = np.add.reduceat(np.add.reduceat(d, fy[:-1], axis=0), fx[:-1], axis=1).astype(np.float64)
    cells = []
    for g, ys, xs, area, nested in levels:
        if nested is not None:
            rs = np.add.reduceat(np.add.reduceat(fine, nested[0], axis=0), nested[1], axis=1)
        else:
            rs = np.add.reduceat(np.add.reduceat(d, ys[:-1], axis=0), xs[:-1], axis=1)
        cells.append((rs / area).ravel())
    return np.concatenate(cells)
