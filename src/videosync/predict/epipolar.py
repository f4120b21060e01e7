"""Epipolar predictor: score each candidate offset by how well the two views' time-aligned
correspondences obey one epipolar geometry.

A point seen by two cameras at the same instant satisfies x_bᵀ F x_a = 0 for the pair's
fundamental matrix F. At a wrong offset the moving points of one view are paired with
where they were at another instant in the other view, and no single F explains them.

Input: an embedding whose rows are per-frame correspondences packed as ``(x, y, present)``
triples (the ``landmarks`` embedder; :func:`videosync.embed.landmarks.pack_landmarks`),
read from the similarity matrix's resampled grids (:attr:`SimilarityMatrix.grid_a`,
``grid_b``), so videos with different frame rates are compared on time.

For a candidate lag k (grid steps; the instant at time t in a appears at t + k·step in b):

1. pair grid row i of a with the instant ``i + k`` of b; for fractional k the rows of b are
   interpolated linearly in time (a point counts only where both neighbouring frames have
   it), which is the sub-frame track interpolation;
2. split the overlap into time windows (``window_seconds``; None: one window, i.e. static
   cameras with one F) and, in each window, estimate F robustly (MSAC over random
   8-point solutions on Hartley-normalised points, :func:`fit_fundamental`) from two of
   four contiguous time blocks and measure the Sampson distance of the other two blocks'
   points, then the other way round (two-fold cross-validation: a fit that only bends to
   a small or inconsistent set cannot score well on frames it has not seen, and held-out
   frames are not sandwiched between fit frames);
3. with ``mirror=True`` each held-out frame of b is also tried with its left/right body
   sides swapped (pose estimators swap them in back views) and the better is kept;
4. the lag's error is the ``statistic`` (median, or mean of the best 60 %) of the
   Sampson distances, in units of the image's longer side; its score is
   ``-log10(error)`` (higher is better).

Every integer lag allowed by the :class:`~videosync.predict.base.SearchRange` is scored
(cheaply first, then the best peaks again with the full fit); lags whose error rests on
less than 30 % of the best-supported lag's points are dropped (few frames are easy to fit);
around the best one, fractional lags (``subframe_step``) are scored too
within ±0.6 step, and a parabola through the best fine lag and its neighbours gives the answer. Confidence: the
margin between the peak and the best other local maximum, in standard deviations of the
profile (as the ``lag`` predictor).

Limits: the correspondences must be right (one person per camera with the pose
embedder: cameras following different people give a flat, low-confidence profile); a
still scene has no signal (every lag fits).
"""

from __future__ import annotations

import numpy as np

from videosync._validation import check_choice, check_flag, check_number
from videosync.predict.base import OffsetEstimate, Predictor, SearchRange
from videosync.predict.lag import _local_maxima, margin_confidence, peak_margin, peak_subframe
from videosync.similarity import Grid, SimilarityMatrix

_REFINE_PEAKS = 5
_FOLD_BLOCKS = 4
_MIN_SUPPORT = 0.3  # candidate lags need this share of the best-supported lag's held-out points

__all__ = ["EpipolarPredictor", "alignment_error", "appearance_pairs", "fit_fundamental", "sampson_distance"]

def coarse_to_fine(d_all: np.ndarray, allowed: np.ndarray, coarse_cost, fine_cost, *, reach: int = 1):
    """Errors of every allowed lag by ``coarse_cost(d) -> (error, support)``, then the best
    ``_REFINE_PEAKS`` local minima and their ±``reach`` neighbours again by ``fine_cost``.

    A lag resting on far fewer points than the best-supported one is not comparable (a fit to
    a few frames is easy): it leaves ``allowed``. Returns (errors, supports, allowed)."""
    err = np.full(len(d_all), np.nan)
    npts = np.zeros(len(d_all), int)
    for li in np.flatnonzero(allowed):
        err[li], npts[li] = coarse_cost(float(d_all[li]))
    if npts.max() > 0:
        allowed = allowed & (npts >= _MIN_SUPPORT * npts.max())
    with np.errstate(divide="ignore", invalid="ignore"):
        coarse = -np.log10(np.maximum(err, 1e-9))
    peaks = _local_maxima(np.where(allowed, coarse, np.nan))
    top = peaks[np.argsort(-coarse[peaks])[:_REFINE_PEAKS]] if peaks.size else peaks
    for li in sorted({j for p in top for j in range(p - reach, p + reach + 1) if 0 <= j < len(d_all) and allowed[j]}):
        err[li], npts[li] = fine_cost(float(d_all[li]))
    return err, npts, allowed


def sampson_distance(F: np.ndarray, pa: np.ndarray, pb: np.ndarray) -> np.ndarray:
    """First-order geometric distance of each correspondence to F (x_bᵀ F x_a = 0).

    Parameters
    ----------
    F : np.ndarray [shape=(3, 3)]
    pa, pb : np.ndarray [shape=(P, 2)]
        Matching points in views a and b.

    Returns
    -------
    np.ndarray [shape=(P,)]
        sqrt of the Sampson error, in the points' unit.
    """
    xa = np.column_stack([pa, np.ones(len(pa))])
    xb = np.column_stack([pb, np.ones(len(pb))])
    Fa = xa @ F.T  # epipolar lines in b
    Fb = xb @ F  # epipolar lines in a
    num = np.einsum("ij,ij->i", xb, Fa) ** 2
    den = Fa[:, 0] ** 2 + Fa[:, 1] ** 2 + Fb[:, 0] ** 2 + Fb[:, 1] ** 2
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.sqrt(np.where(den > 0, num / den, np.inf))


def _normaliser(p: np.ndarray) -> np.ndarray:
    """Hartley's similarity transform: centroid to the origin, mean distance sqrt(2)."""
    c = p.mean(axis=0)
    d = np.mean(np.linalg.norm(p - c, axis=1))
    s = np.sqrt(2.0) / d if d > 1e-12 else 1.0
    return np.array([[s, 0, -s * c[0]], [0, s, -s * c[1]], [0, 0, 1.0]])


def _eight_point(xa: np.ndarray, xb: np.ndarray, w: np.ndarray | None = None) -> np.ndarray:
    """Batched (weighted) 8-point solutions with rank 2 enforced.

    xa, xb : (H, n, 2) normalised points → (H, 3, 3)."""
    ax, ay = xa[..., 0], xa[..., 1]
    bx, by = xb[..., 0], xb[..., 1]
    one = np.ones_like(ax)
    M = np.stack([bx * ax, bx * ay, bx, by * ax, by * ay, by, ax, ay, one], axis=-1)
    if w is not None:
        M = M * w[..., None]
    _, _, vt = np.linalg.svd(M, full_matrices=False)
    F = vt[..., -1, :].reshape(-1, 3, 3)
    u, sv, vt3 = np.linalg.svd(F)
    sv[..., 2] = 0.0
    return u @ (sv[..., None] * vt3)


def _sampson_batch(F: np.ndarray, xa: np.ndarray, xb: np.ndarray) -> np.ndarray:
    """Sampson distances of (n,) points under (H, 3, 3) hypotheses → (H, n)."""
    ha = np.column_stack([xa, np.ones(len(xa))])
    hb = np.column_stack([xb, np.ones(len(xb))])
    Fa = np.matmul(ha[None], np.swapaxes(F, 1, 2))  # (H, n, 3): epipolar lines in b
    Fb = np.matmul(hb[None], F)  # lines in a
    num = ((hb[None] * Fa).sum(axis=2)) ** 2
    den = Fa[..., 0] ** 2 + Fa[..., 1] ** 2 + Fb[..., 0] ** 2 + Fb[..., 1] ** 2
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.sqrt(np.where(den > 0, num / den, np.inf))


def fit_fundamental(pa: np.ndarray, pb: np.ndarray, *, threshold: float = 0.003, hypotheses: int = 256,
                    groups: np.ndarray | None = None, seed: int = 0) -> np.ndarray | None:
    """Robust fundamental matrix from matching points (F with x_bᵀ F x_a = 0), or None.

    MSAC: ``hypotheses`` random 8-point solutions (Hartley-normalised, evaluated together),
    the one with the lowest truncated cost (distances capped at ``threshold``, in the
    points' unit) is refined by least squares on its inliers, twice. Deterministic for a
    given ``seed``. Fewer than 8 points or a degenerate configuration gives None.

    ``groups`` (P,) int, optional: each hypothesis draws its 8 points from one group (e.g.
    one candidate pairing of a person in a with a person in b), so pooled candidate
    pairings of which only some are right still give all-inlier samples.
    """
    pa = np.asarray(pa, dtype=np.float64)
    pb = np.asarray(pb, dtype=np.float64)
    n = len(pa)
    if n < 8:
        return None
    Ta, Tb = _normaliser(pa), _normaliser(pb)
    na = pa @ Ta[:2, :2].T + Ta[:2, 2]
    nb = pb @ Tb[:2, :2].T + Tb[:2, 2]
    rng = np.random.default_rng(seed)
    if groups is None or n <= 8:
        idx = rng.integers(0, n, (hypotheses, 8)) if n > 8 else np.arange(8)[None]
    else:
        members = [np.flatnonzero(groups == g) for g in np.unique(groups)]
        members = [m for m in members if len(m) >= 8]
        if not members:
            return None
        pick = rng.integers(0, len(members), hypotheses)
        idx = np.stack([members[g][rng.integers(0, len(members[g]), 8)] for g in pick])
    with np.errstate(all="ignore"):
        Fn = _eight_point(na[idx], nb[idx])
        F = np.einsum("ji,hjk,kl->hil", Tb, Fn, Ta)  # Tbᵀ F Ta: back to the points' unit
        probe = rng.choice(n, 256, replace=False) if n > 256 else np.arange(n)  # preemptive scoring subset
        d = _sampson_batch(F, pa[probe], pb[probe])
        cost = np.minimum(np.nan_to_num(d, nan=np.inf), threshold).sum(axis=1)
        best = F[int(np.argmin(cost))]
        for _ in range(2):
            dist = _sampson_batch(best[None], pa, pb)[0]
            inl = dist < threshold
            if inl.sum() < 8:
                break
            Fn = _eight_point(na[inl][None], nb[inl][None])[0]
            refit = Tb.T @ Fn @ Ta
            if np.nan_to_num(np.minimum(_sampson_batch(refit[None], pa, pb)[0], threshold), nan=threshold).sum() \
                    <= np.minimum(dist, threshold).sum():
                best = refit
    if not np.isfinite(best).all() or np.abs(best).max() == 0:
        return None
    return best / np.linalg.norm(best)


def _robust(x: np.ndarray, statistic: str) -> float:
    if x.size == 0:
        return float("nan")
    if statistic == "median":
        return float(np.median(x))
    k = max(1, int(round(0.6 * x.size)))
    return float(np.mean(np.partition(x, k - 1)[:k]))


def _clipped_mean(x: np.ndarray, axis: int, cap: float = 0.05) -> np.ndarray:
    """Mean of the finite values along ``axis`` with each capped at ``cap`` (NaN if none): a
    cheap robust average for pairing decisions."""
    fin = np.isfinite(x)
    tot = np.where(fin, np.minimum(x, cap), 0.0).sum(axis=axis)
    cnt = fin.sum(axis=axis)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(cnt > 0, tot / np.maximum(cnt, 1), np.nan)


def _speed(P: np.ndarray) -> np.ndarray:
    """Image speed (per row) of every point of (n, S, K, 2) by central differences; 0 where unknown."""
    v = np.zeros(P.shape[:3])
    if P.shape[0] > 2:
        with np.errstate(invalid="ignore"):
            v[1:-1] = np.nan_to_num(np.linalg.norm(P[2:] - P[:-2], axis=-1) / 2.0, nan=0.0)
    return v


def _held_out(F, At, Bt, mirror, min_pair_points, Va, Vb, allowed=None):
    """Sampson distances of the held-out rows under F, persons paired per row.

    At (nt, Sa, K, 2), Bt (nt, Sb, K, 2), speeds Va (nt, Sa, K), Vb (nt, Sb, K), optional
    allowed (nt, Sa, Sb) pairings → list of (distances, speeds) of the chosen pairings' points."""
    nt, sa, k, _ = At.shape
    sb = Bt.shape[1]
    d = np.full((sa, sb, nt, k), np.nan)
    fa = np.isfinite(At).all(axis=3)
    variants = [Bt] if mirror is None else [Bt, Bt[:, :, mirror]]
    for p in range(sa):
        for q in range(sb):
            best = None
            for v in variants:
                m = fa[:, p] & np.isfinite(v[:, q]).all(axis=2)
                if not m.any():
                    continue
                dv = np.full((nt, k), np.nan)
                dv[m] = sampson_distance(F, At[:, p][m], v[:, q][m])
                if best is None:
                    best = dv
                else:  # per row: keep the side assignment with the lower (capped) mean distance (and enough points)
                    use = (_clipped_mean(dv, 1) < _clipped_mean(best, 1)) & (
                        np.isfinite(dv).sum(1) >= 0.8 * np.isfinite(best).sum(1))
                    best = np.where(use[:, None], dv, best)
            if best is not None:
                d[p, q] = best
    if allowed is not None:
        d[~np.transpose(allowed, (1, 2, 0))] = np.nan
    cnt = np.isfinite(d).sum(axis=3)  # (sa, sb, nt)
    med = np.where(cnt >= min_pair_points, _clipped_mean(d, 3), np.inf)
    out = []
    if sa == 1 and sb == 1:
        keep = np.isfinite(med[0, 0])
        x, v = d[0, 0][keep], np.maximum(Va[:, 0], Vb[:, 0])[keep]
        fin = np.isfinite(x)
        return [(x[fin], v[fin])]
    for r in range(nt):  # greedy one-to-one pairing of the row's people by median distance
        order = np.argsort(med[:, :, r], axis=None)
        used_a, used_b = set(), set()
        for flat in order:
            p, q = divmod(int(flat), sb)
            if not np.isfinite(med[p, q, r]) or p in used_a or q in used_b:
                continue
            used_a.add(p)
            used_b.add(q)
            x = d[p, q, r]
            fin = np.isfinite(x)
            out.append((x[fin], np.maximum(Va[r, p], Vb[r, q])[fin]))
    return out


def alignment_error(
    A: np.ndarray,
    B: np.ndarray,
    *,
    window: int | None = None,
    mirror: np.ndarray | None = None,
    threshold: float = 0.003,
    hypotheses: int = 256,
    statistic: str = "median",
    min_points: int = 24,
    max_points: int = 600,
    moving: float = 0.5,
    allowed: np.ndarray | None = None,
) -> tuple[float, int]:
    """Cross-validated epipolar error of time-aligned correspondences.

    Parameters
    ----------
    A, B : np.ndarray [shape=(n, K, 2) or (n, S, K, 2)]
        Row i of A and row i of B are the same instant. Without a person axis, point k
        of A and of B are the same 3-D point. With S person slots per view, point k of
        person p in A matches point k of *some* person q in B: F is fitted on all
        candidate pairings pooled (samples drawn within one pairing), and each held-out
        row pairs its people one-to-one, greedily by (capped) mean Sampson distance. NaN where
        missing.
    window : int, optional
        Rows per time window with its own F (moving cameras); None: one F for all rows.
    mirror : np.ndarray [shape=(K,)], optional
        Column permutation swapping left and right; held-out rows of B are scored with and
        without it and the better kept.
    moving : float
        Share of the held-out points, the fastest-moving in the image (central
        differences, the larger of the two views), that the error is taken over; 1: all.
    allowed : np.ndarray [shape=(n, S_a, S_b), bool], optional
        Which person of a may be paired with which person of b in each row (e.g. by their
        clothes' colour, :func:`appearance_pairs`); None: any pairing, decided by geometry.

    Returns
    -------
    (error, points)
        The robust held-out Sampson distance (NaN when too few points) and how many
        held-out points it rests on.
    """
    if A.ndim == 3:
        A, B = A[:, None], B[:, None]
    n, sa = A.shape[:2]
    sb = B.shape[1]
    fa = np.isfinite(A).all(axis=3)  # (n, sa, K)
    fb = np.isfinite(B).all(axis=3)
    va, vb = _speed(A), _speed(B)
    starts = [0] if window is None or window >= n else list(range(0, max(1, n - window // 2), window))
    errs = []
    rng = np.random.default_rng(0)
    for s in starts:
        e = n if window is None else min(n, s + window)
        if window is not None and e - s < max(4, window // 2) and s > 0:
            s = max(0, e - window)  # the last window is a full one, overlapping its neighbour
        rows = np.arange(s, e)
        # Four contiguous blocks, fit on two and test on the other two (and back): held-out
        # frames are not sandwiched between fit frames, so a wrong pairing that is smooth in
        # time cannot be interpolated by an F fitted to its neighbours.
        block = (np.arange(len(rows)) * _FOLD_BLOCKS) // max(1, len(rows)) % 2
        for fit_par in (0, 1):
            fit = rows[block == fit_par]
            test = rows[block != fit_par]
            pa, pb, g = [], [], []
            for p in range(sa):
                for q in range(sb):
                    m = fa[fit, p] & fb[fit, q]
                    if allowed is not None:
                        m &= allowed[fit, p, q][:, None]
                    if m.sum() >= 8:
                        pa.append(A[fit, p][m])
                        pb.append(B[fit, q][m])
                        g.append(np.full(int(m.sum()), p * sb + q))
            if not pa:
                continue
            pa, pb, g = np.concatenate(pa), np.concatenate(pb), np.concatenate(g)
            if len(pa) < min_points // 2:
                continue
            cap = max_points * min(sa, sb)
            if len(pa) > cap:
                pick = rng.choice(len(pa), cap, replace=False)
                pa, pb, g = pa[pick], pb[pick], g[pick]
            F = fit_fundamental(pa, pb, threshold=threshold, hypotheses=hypotheses,
                                groups=g if sa * sb > 1 else None)
            if F is None:
                continue
            errs += _held_out(F, A[test], B[test], mirror, 5, va[test], vb[test],
                              None if allowed is None else allowed[test])
    errs = [x for x in errs if x[0].size]
    if not errs:
        return float("nan"), 0
    allerr = np.concatenate([x[0] for x in errs])
    if allerr.size < min_points:
        return float("nan"), int(allerr.size)
    if moving < 1.0:  # the moving points carry the timing; still ones fit any lag
        speed = np.concatenate([x[1] for x in errs])
        keep = speed >= np.quantile(speed, 1.0 - moving)
        if keep.sum() >= min_points // 2:
            allerr = allerr[keep]
    return _robust(allerr, statistic), int(allerr.size)


def _slots(columns: int) -> tuple[int, int]:
    """(person slots, landmarks per slot) of a row of ``columns`` (x, y, present) columns:
    MediaPipe's 33 landmarks or 13 body points per person, else one slot of generic points."""
    k = columns // 3
    for per in (33, 13):
        if k % per == 0 and k > 0:
            return k // per, per
    return 1, k


def _layout(grid: Grid, details: dict | None) -> tuple[int, int, int]:
    """(person slots, landmarks per slot, appearance values per slot) of the rows: from the
    embedding's ``details["layout"]`` (the ``landmarks`` embedder), else inferred from the
    width of rows that hold (x, y, present) triples only."""
    lay = details.get("layout") if isinstance(details, dict) else None
    if isinstance(lay, dict) and lay.get("kind") == "landmarks":
        try:
            s, k, a = int(lay["people"]), int(lay["landmarks"]), int(lay.get("appearance", 0))
        except (KeyError, TypeError, ValueError):
            s = 0
        if s > 0 and k > 0 and a >= 0 and grid.features.shape[1] == s * (3 * k + 2 * a):
            return s, k, a
    s, k = _slots(grid.features.shape[1])
    return s, k, 0


def _points(grid: Grid, layout: tuple[int, int, int] | None = None) -> np.ndarray | None:
    """Grid rows → (N, S, K, 2) points (NaN where missing or the row is invalid), or None if
    the features are not (x, y, present) triples."""
    f = grid.features
    if f.ndim != 2:
        return None
    if layout is not None and layout[2]:
        f = f[:, : 3 * layout[0] * layout[1]]
    if f.shape[1] < 3 or f.shape[1] % 3:
        return None
    r = f.reshape(f.shape[0], -1, 3).astype(np.float64)
    pres = r[..., 2]
    if np.any((pres < -1e-6) | (pres > 1 + 1e-6)):
        return None
    ok = (pres >= 1 - 1e-6) & grid.valid[:, None]
    pts = np.where(ok[..., None], r[..., :2], np.nan)
    s, k = (layout[0], layout[1]) if layout is not None else _slots(f.shape[1])
    return pts.reshape(pts.shape[0], s, k, 2)


def _appearance(grid: Grid, layout: tuple[int, int, int]) -> np.ndarray | None:
    """Grid rows → (N, S, A) appearance of each person slot (NaN where missing), or None when
    the rows carry none. Each slot's block is A (value, present) pairs (present 1: measured
    in both neighbouring frames after time interpolation)."""
    s, k, a = layout
    if not a:
        return None
    f = grid.features[:, 3 * s * k:].astype(np.float64).reshape(len(grid.valid), s, a, 2)
    ok = (f[..., 1] >= 1 - 1e-6) & grid.valid[:, None, None]
    return np.where(ok, f[..., 0], np.nan)


def _colour_scale(app: np.ndarray) -> tuple[np.ndarray, np.ndarray] | None:
    """(median, spread) per channel of one camera's appearance over its whole video (NaN for
    a channel measured fewer than twice), or None when no channel is. Cameras differ in
    white balance and exposure, so colours are compared in units of each camera's own
    spread around its own median."""
    v = app.reshape(-1, app.shape[-1])
    enough = np.isfinite(v).sum(axis=0) >= 2
    if not enough.any():
        return None
    med = np.full(v.shape[1], np.nan)
    sd = np.full(v.shape[1], np.nan)
    med[enough] = np.nanmedian(v[:, enough], axis=0)
    sd[enough] = np.maximum(np.nanstd(v[:, enough], axis=0), 1e-6)
    return med, sd


def appearance_pairs(app_a: np.ndarray, app_b: np.ndarray, max_distance: float = 0.5) -> np.ndarray:
    """Which person of a may be which person of b, per row, by appearance.

    ``app_a`` (n, S_a, A), ``app_b`` (n, S_b, A): comparable appearance vectors (e.g. the
    standardised clothes colours of the ``landmarks`` embedder), NaN where missing. Per row
    the people are paired one to one, greedily by the root-mean-square difference over the
    values both have (at least half of them), and a pairing is kept where that difference
    is at most ``max_distance``. Returns (n, S_a, S_b) bool.
    """
    n, sa, na = app_a.shape
    sb = app_b.shape[1]
    diff = (app_a[:, :, None, :] - app_b[:, None, :, :]) ** 2
    both = np.isfinite(diff)
    cnt = both.sum(axis=-1)
    d = np.sqrt(np.where(both, diff, 0.0).sum(axis=-1) / np.maximum(cnt, 1))
    d = np.where(cnt >= max(1, (na + 1) // 2), d, np.inf)
    out = np.zeros((n, sa, sb), bool)
    rows = np.arange(n)
    for _ in range(min(sa, sb)):
        flat = d.reshape(n, -1)
        k = np.argmin(flat, axis=1)
        v = flat[rows, k]
        p, q = np.divmod(k, sb)
        ok = v <= max_distance
        out[rows[ok], p[ok], q[ok]] = True
        d[rows, p, :] = np.inf
        d[rows, :, q] = np.inf
    return out


def _shifted(grid: Grid, shift: float, n: int) -> Grid:
    """b's rows at fractional row positions ``i + shift`` for i in 0..n-1 (linear in time;
    invalid outside b), as a grid that :func:`_points` and :func:`_appearance` read: a point
    exists only where both neighbouring rows have it."""
    f = grid.features.astype(np.float64)
    m = f.shape[0]
    base = int(np.floor(shift + 1e-9))
    w = shift - base
    if w < 1e-9:
        w = 0.0
    j0 = np.arange(n) + base
    rows = np.zeros((n, f.shape[1]))
    valid = np.zeros(n, bool)
    inside = (j0 >= 0) & (j0 + (1 if w > 0 else 0) < m)
    if inside.any():
        j0i = j0[inside]
        j1i = j0i + 1 if w > 0 else j0i
        rows[inside] = f[j0i] * (1 - w) + f[j1i] * w
        valid[inside] = grid.valid[j0i] & grid.valid[j1i]
    return Grid(rows.astype(np.float32), valid, 0, grid.step_seconds)


class EpipolarPredictor(Predictor):
    """Offset by epipolar consistency of time-aligned cross-view correspondences.

    Parameters
    ----------
    window_seconds : float, optional
        Length of the time windows that get their own fundamental matrix (moving
        cameras). None (default): one F for the whole overlap (static cameras).
    hypotheses : int
        Random 8-point hypotheses per robust fit of F (MSAC).
    threshold : float
        Inlier distance of the robust fit, in fractions of the image's longer side.
    statistic : {"median", "trimmed"}
        Robust summary of the held-out Sampson distances.
    moving : float
        Share of held-out points, the fastest-moving ones, the summary is taken over (1: all).
    mirror : bool
        Also try each held-out frame of b with the body's left and right swapped.
    subframe_step : float
        Step (in grid steps) of the fine search around the best integer lag; 0 disables it.
    exclusion_seconds : float
        Other local maxima closer than this to the peak are not runners-up.
    appearance : bool
        When both embeddings carry each person's appearance (``landmarks`` with
        ``appearance=True``) and either holds several person slots, pair people across the
        views by it (per row, one to one, by clothes colour in units of each camera's own
        spread; :func:`appearance_pairs`) before the geometry is fitted; otherwise any
        pairing is tried and geometry decides.
    appearance_distance : float
        Largest root-mean-square colour difference (in those units) of a pairing.
    """

    name = "epipolar"
    summary = "epipolar consistency (robust F, held-out Sampson error) of landmark correspondences per lag"

    def __init__(self, *, window_seconds: float | None = None, hypotheses: int = 128, threshold: float = 0.003,
                 statistic: str = "median", moving: float = 0.5, mirror: bool = True, subframe_step: float = 0.1,
                 exclusion_seconds: float = 0.3, appearance: bool = True,
                 appearance_distance: float = 0.5) -> None:
        self.window_seconds = check_number("EpipolarPredictor", "window_seconds", window_seconds, low=0,
                                           low_open=True, allow_none=True)
        self.hypotheses = check_number("EpipolarPredictor", "hypotheses", hypotheses, low=1, high=10000,
                                       integer=True)
        self.threshold = check_number("EpipolarPredictor", "threshold", threshold, low=0, low_open=True)
        self.statistic = check_choice("EpipolarPredictor", "statistic", statistic, ("median", "trimmed"))
        self.moving = check_number("EpipolarPredictor", "moving", moving, low=0, low_open=True, high=1)
        self.mirror = check_flag("EpipolarPredictor", "mirror", mirror)
        self.subframe_step = check_number("EpipolarPredictor", "subframe_step", subframe_step, low=0, high=0.5)
        self.exclusion_seconds = check_number("EpipolarPredictor", "exclusion_seconds", exclusion_seconds, low=0)
        self.appearance = check_flag("EpipolarPredictor", "appearance", appearance)
        self.appearance_distance = check_number("EpipolarPredictor", "appearance_distance", appearance_distance,
                                                low=0, low_open=True)

    @classmethod
    def test_params(cls):
        return [{}, {"window_seconds": 2.0, "hypotheses": 32, "subframe_step": 0.0}]

    def _error(self, A, grid_b, shift, window, mirror, coarse=False, layout_b=None, colour=None):
        g = _shifted(grid_b, shift, A.shape[0])
        B = _points(g, layout_b)
        allowed = None
        if colour is not None:  # (a's standardised appearance, b's (median, spread))
            za, (med, sd) = colour
            allowed = appearance_pairs(za, (_appearance(g, layout_b) - med) / sd, self.appearance_distance)
        return alignment_error(A, B, window=window, mirror=mirror, threshold=self.threshold,
                               statistic=self.statistic, moving=self.moving,
                               hypotheses=max(8, self.hypotheses // 4) if coarse else self.hypotheses,
                               max_points=200 if coarse else 600, allowed=allowed)

    def _predict(self, sim: SimilarityMatrix, search: SearchRange) -> OffsetEstimate:
        la = _layout(sim.grid_a, sim.details_a)
        lb = _layout(sim.grid_b, sim.details_b)
        A = _points(sim.grid_a, la)
        Bp = _points(sim.grid_b, lb)
        if A is None or Bp is None or A.shape[2] != Bp.shape[2]:
            return OffsetEstimate(0.0, 0.0, details={
                "reason": "the embedding's rows are not (x, y, present) correspondences (use embedder 'landmarks')"})
        step = sim.step_seconds
        n, m = A.shape[0], Bp.shape[0]
        base = sim.start_offset_steps  # lag k <-> row i of a with row i + (k - base) of b
        d_all = np.arange(-(n - 1), m)
        lags = d_all + base
        overlap = np.minimum(n, m - d_all) - np.maximum(0, -d_all)
        allowed = search.allowed_lags(lags, overlap, sim)
        window = None if self.window_seconds is None else max(4, int(round(self.window_seconds / step)))
        mirror = None
        if self.mirror:
            from videosync.embed.landmarks import landmark_indices, mirror_permutation

            k = A.shape[2]
            if k in (33, 13):
                mirror = mirror_permutation(landmark_indices("all" if k == 33 else "body"))
        colour = None
        if self.appearance and la[2] and la[2] == lb[2] and la[0] * lb[0] > 1:  # someone to tell apart
            app_a, app_b = _appearance(sim.grid_a, la), _appearance(sim.grid_b, lb)
            sa_, sb_ = _colour_scale(app_a), _colour_scale(app_b)
            if sa_ is not None and sb_ is not None:
                colour = ((app_a - sa_[0]) / sa_[1], sb_)

        def cost(d, coarse=False):
            return self._error(A, sim.grid_b, d, window, mirror, coarse=coarse, layout_b=lb, colour=colour)

        # Coarse: every allowed whole lag with a cheap fit; fine: the best few peaks and their
        # neighbours again with the full fit.
        err, npts, allowed = coarse_to_fine(d_all, allowed, lambda d: cost(d, coarse=True), cost)
        with np.errstate(divide="ignore", invalid="ignore"):
            score = -np.log10(np.maximum(err, 1e-9))
        lags_s = lags * step
        ok = allowed & np.isfinite(score)
        if ok.sum() < 3:
            return OffsetEstimate(0.0, 0.0, lags_seconds=lags_s, scores=score, details={
                "reason": "fewer than 3 candidate lags have enough correspondences in both views"})
        y = np.where(ok, score, np.nan)
        best = int(np.nanargmax(y))
        err_answer = float(err[best])
        if self.subframe_step > 0:
            fine = np.arange(-0.6, 0.6 + 1e-9, self.subframe_step)
            fy = np.array([
                y[best] if abs(f) < 1e-9 else -np.log10(max(cost(d_all[best] + f)[0], 1e-9))
                for f in fine
            ])
            fy = np.where(np.isfinite(fy), fy, -np.inf)
            j = int(np.argmax(fy))
            frac = float(fine[j])
            err_answer = float(10 ** -fy[j])
            frac += peak_subframe(fy, j) * self.subframe_step
        else:
            frac = peak_subframe(y, best)
        offset = (lags[best] + frac) * step

        margin, runner = peak_margin(y, best, max(2, int(round(self.exclusion_seconds / step))))
        return OffsetEstimate(
            offset,
            margin_confidence(margin),
            lags_seconds=lags_s,
            scores=score,
            overlap_seconds=float(overlap[best] * step),
            details={
                "peak_error": float(err[best]),
                "error_at_answer": err_answer,
                "peak_score": float(y[best]),
                "runner_up_score": runner,
                "margin": float(margin) if np.isfinite(margin) else None,
                "subframe_steps": frac,
                "points_at_peak": int(npts[best]),
                "candidates": int(ok.sum()),
                "appearance": colour is not None,
            },
        )
