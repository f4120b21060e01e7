"""Epilines predictor: background geometry + correspondence-free epipolar cost of moving points.

For scenes without people (or cameras the body-landmark path fails on). Input: the
``tracks`` embedder's rows (:mod:`videosync.embed.tracks`): per video, background keypoints
with descriptors on key frames, and the moving points (KLT tracks) of every frame.

Geometry (no offset needed)
---------------------------
The background does not move, so matching a's background with b's (ratio test, then
``cv2.findFundamentalMat`` with MAGSAC) gives the pair's fundamental matrix F (x_bᵀ F x_a = 0)
whatever the offset. Every key frame of a is matched with every key frame of b (at most
``max_keys`` of each, evenly spread, when the cameras are static):

* ``geometry="static"``: one F from all key-frame pairs' matches pooled;
* ``geometry="moving"``: one F per pair of key frames; the rows at instant t of a and
  t + lag of b use the F of a's key frame nearest t and b's nearest t + lag (the per-time-
  window geometry of moving cameras);
* ``geometry="auto"`` (default): static when the pooled F explains most key-frame pairs'
  own matches, else moving.

Key-frame pairs (or the pool) with fewer than ``min_inliers`` RANSAC inliers give no
geometry. When nothing gives geometry the answer is offset 0 with confidence 0 and the
reason in ``details`` (an honest "don't know").

Dynamics (the cost per lag)
---------------------------
For a candidate lag k, the moving points of a at grid row i are compared with those of b at
``i + k`` (fractional k: b's tracks interpolated linearly in time; a track counts only where
both neighbouring frames have it). No correspondence between the moving points is needed:
for each moving point of a, its epipolar line in b, ``F x_a``, and the distance from that
line to the *nearest* moving point of b; symmetrically, each moving point of b against a's
points through ``Fᵀ x_b``. At the right lag a point seen by both cameras lies on its
partner's line (distance ≈ tracking noise); at a wrong one only by chance.

Clutter: with many moving points, some point lies near any line by chance, and more so in
busy frames, which would favour lags that pair busy frames. With ``normalise=True`` each
distance is divided by the distance the same line's parallel neighbours (shifted by ±1.5 and
±3 % of the image side) have to their nearest point: ≈ 1 by chance, ≪ 1 for a real hit, so
the chance level is the same in busy and quiet frames. Each value is capped (``cap``), and
the lag's cost is the mean of the lowest ``keep`` share of them (a trimmed mean: points seen
by one camera only never find a partner). Score: ``-log10(cost)``; lags whose cost rests
on fewer than 30 % of the best-supported lag's values are dropped.

Search: coarse (every allowed whole lag, every other row), the best peaks again with every
row, then ±0.6 step in ``subframe_step`` steps around the best and a parabola. Confidence:
the margin between the peak and the best other local maximum, as for ``lag``.

Limits (see docs/geometric.md): the cameras must share enough textured static background
for SIFT to match across their viewpoints (wide baselines, fisheye lenses and planar,
texture-poor floors defeat it); a point moving along its epipolar line carries no timing;
with very many movers the normalised values of true hits and chance converge.
"""

from __future__ import annotations

import numpy as np

from videosync._validation import check_choice, check_flag, check_number
from videosync.predict.base import OffsetEstimate, Predictor, SearchRange
from videosync.predict.epipolar import coarse_to_fine
from videosync.predict.lag import margin_confidence, peak_margin, peak_subframe
from videosync.similarity import SimilarityMatrix

__all__ = ["EpilinesPredictor", "Geometry", "background_geometry", "epiline_cost"]

_SCALE = 1000.0  # points in fractions of the longer side → about pixels, for OpenCV's thresholds
_SHIFTS = np.array([-0.03, -0.015, 0.015, 0.03])
_PLANAR = 0.85  # F inliers one homography explains, above which the geometry is called planar


def _match(kp_a, ds_a, kp_b, ds_b, kind: str, ratio: float) -> tuple[np.ndarray, np.ndarray]:
    """Ratio-test matches of two keypoint sets → (P, 2) points in a and in b."""
    import cv2

    oka, okb = np.isfinite(kp_a).all(axis=1), np.isfinite(kp_b).all(axis=1)
    if oka.sum() < 2 or okb.sum() < 2:
        return np.zeros((0, 2)), np.zeros((0, 2))
    pa, pb = kp_a[oka], kp_b[okb]
    if kind == "orb":
        da = np.clip(np.round(ds_a[oka]), 0, 255).astype(np.uint8)
        db = np.clip(np.round(ds_b[okb]), 0, 255).astype(np.uint8)
        matcher = cv2.BFMatcher(cv2.NORM_HAMMING)
    else:
        da, db = np.ascontiguousarray(ds_a[oka], np.float32), np.ascontiguousarray(ds_b[okb], np.float32)
        matcher = cv2.BFMatcher(cv2.NORM_L2)
    ia, ib = [], []
    for pair in matcher.knnMatch(da, db, k=2):
        if len(pair) == 2 and pair[0].distance < ratio * pair[1].distance:
            ia.append(pair[0].queryIdx)
            ib.append(pair[0].trainIdx)
    return pa[ia], pb[ib]


def _fundamental(pa: np.ndarray, pb: np.ndarray, threshold: float, min_inliers: int):
    """(F, inlier mask) from matches by MAGSAC, F with x_bᵀ F x_a = 0 in the points' unit; or (None, None).

    ``min_inliers`` counts distinct inliers (pooled key frames of static cameras repeat the
    same background points; a repetitive texture's wrong matches do not add up)."""
    import cv2

    if len(pa) < max(8, min_inliers):
        return None, None
    try:
        F, mask = cv2.findFundamentalMat((pa * _SCALE).astype(np.float64), (pb * _SCALE).astype(np.float64),
                                         cv2.USAC_MAGSAC, threshold * _SCALE, 0.999, 2000)
    except cv2.error:  # degenerate sets can trip OpenCV's USAC assertions
        return None, None
    if F is None or F.shape != (3, 3) or mask is None:
        return None, None
    m = mask.ravel().astype(bool)
    cells = np.round(np.column_stack([pa[m], pb[m]]) / threshold).astype(np.int64)
    if len(np.unique(cells, axis=0)) < min_inliers:
        return None, None
    S = np.diag([_SCALE, _SCALE, 1.0])
    F = S.T @ F @ S
    return F / np.linalg.norm(F), m


def _line_distance(F: np.ndarray, pa: np.ndarray, pb: np.ndarray) -> np.ndarray:
    """Distance of each pb to the epipolar line F pa (points in the same unit)."""
    ha = np.column_stack([pa, np.ones(len(pa))])
    hb = np.column_stack([pb, np.ones(len(pb))])
    lines = ha @ F.T
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.abs((lines * hb).sum(axis=1)) / np.hypot(lines[:, 0], lines[:, 1])


class Geometry:
    """Fundamental matrices of a camera pair: one (static) or one per pair of key frames.

    ``F[pair_index[ka, kb]]`` is the geometry between a's key frame ``ka`` and b's ``kb``
    (index −1: none)."""

    def __init__(self, F: np.ndarray, pair_index: np.ndarray, mode: str, inliers: int, matches: int,
                 pairs_with_geometry: int, pairs: int, planar: float = float("nan")) -> None:
        self.F, self.pair_index, self.mode = F, pair_index, mode
        self.planar = planar  # share of F's inliers one homography also explains (≈ 1: plane, F ill-posed)
        self.inliers, self.matches = inliers, matches
        self.pairs_with_geometry, self.pairs = pairs_with_geometry, pairs


def background_geometry(kp_a, ds_a, kp_b, ds_b, kind: str = "sift", *, geometry: str = "auto", ratio: float = 0.8,
                        threshold: float = 0.002, min_inliers: int = 20, max_keys: int = 8) -> Geometry | None:
    """The pair's epipolar geometry from its background keypoints.

    Parameters
    ----------
    kp_a, kp_b : np.ndarray [shape=(Sa, K, 2), (Sb, K, 2)]
        Keypoints per key frame (NaN: missing), in fractions of the longer image side.
    ds_a, ds_b : np.ndarray [shape=(Sa, K, D), (Sb, K, D)]
    geometry : {"auto", "static", "moving"}
    ratio, threshold, min_inliers, max_keys
        Lowe's ratio, RANSAC inlier distance (fractions of the longer side), the inliers a
        geometry needs, and key frames per view pooled for the static geometry.

    Returns
    -------
    Geometry or None (no key-frame pair nor the pool has ``min_inliers`` inliers).
    """
    sa, sb = len(kp_a), len(kp_b)
    pick_a = np.unique(np.linspace(0, sa - 1, min(sa, max_keys)).round().astype(int))
    pick_b = np.unique(np.linspace(0, sb - 1, min(sb, max_keys)).round().astype(int))
    matches = {(i, j): _match(kp_a[i], ds_a[i], kp_b[j], ds_b[j], kind, ratio) for i in pick_a for j in pick_b}
    pool = [m for m in matches.values() if len(m[0])]
    F0 = mask0 = None
    if pool:
        F0, mask0 = _fundamental(np.concatenate([p[0] for p in pool]), np.concatenate([p[1] for p in pool]),
                                 threshold, min_inliers)
    if F0 is not None:  # static cameras: the pooled F holds for most key-frame pairs, not a few
        held = [np.sum(_line_distance(F0, pa, pb) < 2 * threshold) >= max(8, 0.3 * len(pa)) for pa, pb in pool]
        if np.mean(held) < 0.5:
            F0 = None
    if geometry != "static":
        own = {}
        for key, (pa, pb) in matches.items():
            F, mask = _fundamental(pa, pb, threshold, min_inliers)
            if F is not None:
                own[key] = (F, mask, pa, pb)
        # static cameras: the pooled F explains (most of) every key-frame pair's own inliers
        explained = sum(int(np.mean(_line_distance(F0, pa[mask], pb[mask]) < 2 * threshold) >= 0.5)
                        for F, mask, pa, pb in own.values()) if F0 is not None else 0
        if geometry == "moving" or (own and explained < 0.6 * len(own)):
            for i in range(sa):
                for j in range(sb):
                    if (i, j) not in matches:
                        matches[i, j] = pa, pb = _match(kp_a[i], ds_a[i], kp_b[j], ds_b[j], kind, ratio)
                        F, mask = _fundamental(pa, pb, threshold, min_inliers)
                        if F is not None:
                            own[i, j] = (F, mask, pa, pb)
            if not own:
                return None
            index = np.full((sa, sb), -1)
            for n, key in enumerate(own):
                index[key] = n
            return Geometry(np.stack([v[0] for v in own.values()]), index, "moving",
                            int(np.median([v[1].sum() for v in own.values()])),
                            int(np.median([len(v[2]) for v in own.values()])), len(own), len(matches),
                            float(np.median([_planar_share(v[2][v[1]], v[3][v[1]], threshold)
                                             for v in own.values()])))
    if F0 is None:
        return None
    pa = np.concatenate([p[0] for p in pool])[mask0]
    pb = np.concatenate([p[1] for p in pool])[mask0]
    return Geometry(F0[None], np.zeros((sa, sb), int), "static", int(mask0.sum()), len(mask0),
                    sum(len(m[0]) > 0 for m in matches.values()), len(matches), _planar_share(pa, pb, threshold))


def _planar_share(pa: np.ndarray, pb: np.ndarray, threshold: float) -> float:
    """Share of matches (F's inliers) one RANSAC homography explains: near 1, the background
    is (close to) one plane and F is not determined by it (any epipole fits)."""
    import cv2

    if len(pa) < 8:
        return float("nan")
    try:
        H, mask = cv2.findHomography(pa * _SCALE, pb * _SCALE, cv2.RANSAC, 2 * threshold * _SCALE)
    except cv2.error:
        return float("nan")
    return float(mask.mean()) if H is not None and mask is not None else 0.0


def epiline_cost(A: np.ndarray, B: np.ndarray, F: np.ndarray, *, normalise: bool = True, cap: float | None = None,
                 keep: float = 0.5, window: int = 5) -> tuple[float, int]:
    """Correspondence-free epipolar cost of two views' moving points at the same instants.

    Parameters
    ----------
    A, B : np.ndarray [shape=(n, Ma, 2), (n, Mb, 2)]
        Moving points per row (NaN: none); row i of A and of B are the same instant.
    F : np.ndarray [shape=(3, 3) or (n, 3, 3)]
        x_bᵀ F x_a = 0, one for all rows or one per row (NaN: no geometry for the row).
    normalise : bool
        Divide each distance by the chance distance of parallel lines (see the module doc).
    cap : float, optional
        Values are capped here (default 1 normalised, 0.03 of the image side raw).
    keep : float
        Share of the lowest values averaged (trimmed mean).
    window : int
        Rows over which a point of one view and a candidate partner of the other are
        compared (their distances averaged, both present in at least half the rows): a
        track must follow its partner's epipolar lines for a while, which chance rarely
        does even in a cluster of movers; 1: each row alone.

    Returns
    -------
    (cost, values)
        NaN cost when no row has moving points in both views.
    """
    if cap is None:
        cap = 1.0 if normalise else 0.03
    n = A.shape[0]
    Fr = np.broadcast_to(F, (n, 3, 3)) if F.ndim == 2 else F
    rows = np.isfinite(A).all(axis=2).any(axis=1) & np.isfinite(B).all(axis=2).any(axis=1) & \
        np.isfinite(Fr).all(axis=(1, 2))
    if not rows.any():
        return float("nan"), 0
    if window > 1:  # keep the rows' time order (windows run over consecutive rows)
        rows = np.ones(n, bool)
    a, b, Fr = A[rows], B[rows], Fr[rows]
    ha = np.concatenate([a, np.ones(a.shape[:2] + (1,))], axis=2)
    hb = np.concatenate([b, np.ones(b.shape[:2] + (1,))], axis=2)
    vals = []
    for pts, other, Fx in ((ha, hb, Fr), (hb, ha, np.swapaxes(Fr, 1, 2))):
        with np.errstate(invalid="ignore", divide="ignore"):
            lines = np.einsum("nij,nmj->nmi", np.nan_to_num(Fx, nan=0.0), np.nan_to_num(pts))  # lines in the other view
            lines = lines / np.hypot(lines[..., 0], lines[..., 1])[..., None]
        s = np.einsum("nmi,npi->nmp", lines, np.nan_to_num(other))  # signed distances (n, m, p)
        ok = np.isfinite(pts).all(axis=2)[:, :, None] & np.isfinite(other).all(axis=2)[:, None, :] & \
            np.isfinite(Fx).all(axis=(1, 2))[:, None, None] & np.isfinite(s)
        d = _windowed(np.abs(s), ok, window)
        if normalise:
            chance = np.mean([_windowed(np.abs(s - dl), ok, window) for dl in _SHIFTS], axis=0)
            with np.errstate(divide="ignore", invalid="ignore"):
                d = d / chance
        counted = np.isfinite(pts).all(axis=2) & np.isfinite(other).all(axis=2).any(axis=1)[:, None] & \
            np.isfinite(Fx).all(axis=(1, 2))[:, None]  # no partner in a row with points: no hit (cap)
        vals.append(np.where(np.isfinite(d), d, cap)[counted])
    v = np.minimum(np.concatenate(vals), cap)
    if v.size == 0:
        return float("nan"), 0
    k = max(1, int(round(keep * v.size)))
    return float(np.mean(np.partition(v, k - 1)[:k])), int(v.size)


def _windowed(x: np.ndarray, ok: np.ndarray, window: int) -> np.ndarray:
    """Per point of the first view and row: the smallest, over the other view's points, of
    the mean of ``x`` (n, m, p) over ``window`` consecutive rows where ``ok`` (the two tracks
    both present in at least half the rows); inf where no partner qualifies. (n, m)."""
    if window <= 1:
        return np.min(np.where(ok, x, np.inf), axis=2)
    xs = np.where(ok, x, 0.0)
    c = np.concatenate([np.zeros((1,) + x.shape[1:]), np.cumsum(xs, axis=0)])
    k = np.concatenate([np.zeros((1,) + x.shape[1:]), np.cumsum(ok, axis=0)])
    h = window // 2
    lo = np.clip(np.arange(len(x)) - h, 0, len(x))
    hi = np.clip(np.arange(len(x)) + window - h, 0, len(x))
    tot, cnt = c[hi] - c[lo], k[hi] - k[lo]
    with np.errstate(invalid="ignore", divide="ignore"):
        mean = np.where((cnt >= max(2, (window + 1) // 2)) & ok, tot / np.maximum(cnt, 1), np.inf)
    return np.min(mean, axis=2)


def _interp(P: np.ndarray, pos: np.ndarray) -> np.ndarray:
    """Points of (m, M, 2) at fractional rows ``pos`` (n,), linear in time; NaN outside or
    where either neighbouring row lacks the point."""
    m = P.shape[0]
    out = np.full((len(pos),) + P.shape[1:], np.nan)
    j0 = np.floor(pos + 1e-9).astype(int)
    w = pos - j0
    w = np.where(w < 1e-9, 0.0, w)
    j1 = np.where(w > 0, j0 + 1, j0)
    inside = (j0 >= 0) & (j1 < m)
    if inside.any():
        wi = w[inside][:, None, None]
        out[inside] = P[j0[inside]] * (1 - wi) + P[j1[inside]] * wi
    return out


class EpilinesPredictor(Predictor):
    """Offset by the epipolar cost of moving points under the static background's geometry.

    Parameters
    ----------
    geometry : {"auto", "static", "moving"}
        One F for the pair, one per pair of key frames (moving cameras), or decided from the
        data.
    ratio : float
        Lowe's ratio test for background matches.
    threshold : float
        RANSAC inlier distance, in fractions of the longer image side.
    min_inliers : int
        Inlier matches a geometry needs.
    normalise : bool
        Divide each line distance by its chance level (clutter; see the module doc).
    keep : float
        Share of the lowest per-point values in the trimmed mean.
    track_window : int
        Grid rows over which a moving point and a candidate partner are compared (see
        :func:`epiline_cost`); 1 (default): each row alone (about 4× cheaper).
    subframe_step : float
        Step (grid steps) of the fine search around the best whole lag; 0 disables it.
    exclusion_seconds : float
        Other local maxima closer than this to the peak are not runners-up.
    """

    name = "epilines"
    summary = "background F (SIFT + MAGSAC) + epipolar-line distance of moving KLT points per lag (tracks embedder)"

    def __init__(self, *, geometry: str = "auto", ratio: float = 0.8, threshold: float = 0.002, min_inliers: int = 20,
                 normalise: bool = True, keep: float = 0.5, track_window: int = 1, subframe_step: float = 0.1,
                 exclusion_seconds: float = 0.3) -> None:
        self.geometry = check_choice("EpilinesPredictor", "geometry", geometry, ("auto", "static", "moving"))
        self.ratio = check_number("EpilinesPredictor", "ratio", ratio, low=0, low_open=True, high=1)
        self.threshold = check_number("EpilinesPredictor", "threshold", threshold, low=0, low_open=True)
        self.min_inliers = check_number("EpilinesPredictor", "min_inliers", min_inliers, low=8, integer=True)
        self.normalise = check_flag("EpilinesPredictor", "normalise", normalise)
        self.keep = check_number("EpilinesPredictor", "keep", keep, low=0, low_open=True, high=1)
        self.track_window = check_number("EpilinesPredictor", "track_window", track_window, low=1, high=50,
                                         integer=True)
        self.subframe_step = check_number("EpilinesPredictor", "subframe_step", subframe_step, low=0, high=0.5)
        self.exclusion_seconds = check_number("EpilinesPredictor", "exclusion_seconds", exclusion_seconds, low=0)

    @classmethod
    def test_params(cls):
        return [{}, {"geometry": "moving", "normalise": False, "track_window": 3, "subframe_step": 0.0}]

    def _predict(self, sim: SimilarityMatrix, search: SearchRange) -> OffsetEstimate:
        from videosync.embed.tracks import unpack_tracks

        ta = unpack_tracks(sim.grid_a.features, sim.grid_a.valid)
        tb = unpack_tracks(sim.grid_b.features, sim.grid_b.valid)
        if ta is None or tb is None or ta.kind != tb.kind or ta.descriptors.shape[2] != tb.descriptors.shape[2]:
            return OffsetEstimate(0.0, 0.0, details={
                "reason": "the embedding's rows are not background + moving tracks (use embedder 'tracks')"})
        geo = None
        if len(ta.segment_ids) and len(tb.segment_ids):
            geo = background_geometry(ta.keypoints, ta.descriptors, tb.keypoints, tb.descriptors, ta.kind,
                                      geometry=self.geometry, ratio=self.ratio, threshold=self.threshold,
                                      min_inliers=self.min_inliers)
        if geo is None:
            return OffsetEstimate(0.0, 0.0, details={
                "reason": "no epipolar geometry: the two views' backgrounds do not match (no F with "
                          f"{self.min_inliers} distinct RANSAC inliers that holds on most key-frame pairs, "
                          "nor per key-frame pair)"})
        A, Bm = ta.movers, tb.movers
        n, m = A.shape[0], Bm.shape[0]
        # key frame (index into the unpacked key frames) of every row: the nearest segment id
        ka = np.clip(np.searchsorted(ta.segment_ids, np.round(ta.segment)), 0, len(ta.segment_ids) - 1)
        kb = np.clip(np.searchsorted(tb.segment_ids, np.round(tb.segment)), 0, len(tb.segment_ids) - 1)
        Fnan = np.concatenate([geo.F, np.full((1, 3, 3), np.nan)])  # index -1 → no geometry
        step = sim.step_seconds
        base = sim.start_offset_steps
        d_all = np.arange(-(n - 1), m)
        lags = d_all + base
        overlap = np.minimum(n, m - d_all) - np.maximum(0, -d_all)
        allowed = search.allowed_lags(lags, overlap, sim)

        def cost(d: float, stride: int = 1) -> tuple[float, int]:
            rows = np.arange(0, n, stride)
            pos = rows + d
            B = _interp(Bm, pos)
            jb = np.clip(np.round(pos).astype(int), 0, m - 1)
            F = geo.F[0] if geo.mode == "static" else Fnan[geo.pair_index[ka[rows], kb[jb]]]
            return epiline_cost(A[rows], B, F, normalise=self.normalise, keep=self.keep,
                                window=max(1, -(-self.track_window // stride)))

        err, npts, allowed = coarse_to_fine(d_all, allowed, lambda d: cost(d, stride=2), cost, reach=2)
        score = np.full(len(lags), np.nan)  # the full cost near the best peaks, else the coarse one
        with np.errstate(divide="ignore", invalid="ignore"):
            score[allowed] = -np.log10(np.maximum(err[allowed], 1e-9))
        lags_s = lags * step
        ok = allowed & np.isfinite(score)
        details = {"geometry": geo.mode, "background_inliers": geo.inliers, "background_matches": geo.matches,
                   "key_pairs_with_geometry": geo.pairs_with_geometry, "key_pairs": geo.pairs,
                   "planar_share": geo.planar}
        if ok.sum() < 3:
            return OffsetEstimate(0.0, 0.0, lags_seconds=lags_s, scores=score, details={
                **details, "reason": "fewer than 3 candidate lags have moving points in both views"})
        y = np.where(ok, score, np.nan)
        best = int(np.nanargmax(y))
        frac = 0.0
        if self.subframe_step > 0:
            fine = np.arange(-0.6, 0.6 + 1e-9, self.subframe_step)
            fy = np.array([y[best] if abs(f) < 1e-9 else -np.log10(max(cost(d_all[best] + f)[0], 1e-9))
                           for f in fine])
            fy = np.where(np.isfinite(fy), fy, -np.inf)
            j = int(np.argmax(fy))
            frac = float(fine[j]) + peak_subframe(fy, j) * self.subframe_step
        else:
            frac = peak_subframe(y, best)
        margin, runner = peak_margin(y, best, max(2, int(round(self.exclusion_seconds / step))))
        conf = margin_confidence(margin)
        if geo.planar >= _PLANAR:  # F from a (nearly) planar background is a guess: say so
            conf *= 0.25
            details["warning"] = "background (nearly) planar: the fundamental matrix is ill-posed"
        return OffsetEstimate(
            (lags[best] + frac) * step,
            conf,
            lags_seconds=lags_s,
            scores=score,
            overlap_seconds=float(overlap[best] * step),
            details={**details, "peak_cost": float(err[best]), "peak_score": float(y[best]),
                     "runner_up_score": runner, "margin": float(margin) if np.isfinite(margin) else None,
                     "subframe_steps": frac, "values_at_peak": int(npts[best]), "candidates": int(ok.sum())},
        )
