"""Lag profile for features whose channels do not correspond between videos.

A motion-energy grid cell in one camera sees a different part of the scene than the same
cell in another camera. Instead of comparing channel *d* with channel *d*, each channel
of a is matched to the channel of b it correlates with best, at every candidate lag:

* R_pq(L) = Pearson correlation of a's channel p and b's channel q over the frames that
  overlap at lag L (means and variances taken *within* the overlap);
* r(L) = ½ (mean_p max_q R_pq(L) + mean_q max_p R_pq(L));
* the significance ``z(L) = atanh(r(L)) · sqrt(n(L) − 3)`` (Fisher), which makes lags
  with different overlaps comparable — a plain mean inflates short overlaps.

With ``orders=(0, 1)`` the same is done for the frame-to-frame *change* of every channel
(first differences, order 1), and the significances are summed (Stouffer: Σ z / √k): the
level of a motion signal carries its slow course, its change the onsets and stops, which
pin the lag more sharply; together they beat either alone.

Every sum is an FFT cross-correlation (with validity masks), so the cost is
O(D² · (N+M) log(N+M)), processed one channel of a at a time to keep memory at
O(D · (N+M)).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from videosync.errors import InvalidParameterError
from videosync.similarity.matrix import Grid


@dataclass(frozen=True)
class MatchedProfile:
    lags_steps: np.ndarray
    """(L,) lag of b relative to a in grid steps (start steps already accounted for)."""
    correlation: np.ndarray
    """(L,) best-match correlation r(L), NaN where the overlap is under 4 frames."""
    significance: np.ndarray
    """(L,) atanh(r) · sqrt(n − 3)."""
    overlap_steps: np.ndarray
    step_seconds: float


def check_orders(owner: str, orders) -> tuple[int, ...]:
    """``orders`` as a tuple of 0 and/or 1, from a tuple, a single int or a string such as
    "0,1" (the CLI); :class:`~videosync.errors.InvalidParameterError` otherwise."""
    if isinstance(orders, str):
        orders = [o for o in orders.replace("+", ",").split(",") if o.strip()]
    if isinstance(orders, (int, np.integer)):
        orders = (orders,)
    try:
        out = tuple(dict.fromkeys(int(o) for o in orders))
    except (TypeError, ValueError):
        out = ()
    if not out or any(o not in (0, 1) for o in out):
        raise InvalidParameterError(
            f"The 'orders' parameter of {owner} must be 0 and/or 1 (e.g. 0,1). Got {orders!r} instead.")
    return out


def difference_grid(g: Grid) -> Grid:
    """The frame-to-frame change of a grid's channels: row i is row i minus row i − 1 (valid
    where both are); same length and start as ``g``, so lags line up with its profile."""
    f = np.zeros_like(g.features)
    f[1:] = g.features[1:] - g.features[:-1]
    v = np.zeros_like(g.valid)
    v[1:] = g.valid[1:] & g.valid[:-1]
    return Grid(f, v, g.start_step, g.step_seconds)


RHYTHM_PERIODS = (2, 4)
"""Periods (in grid steps, i.e. frames) of the encoder's frame-type rhythm that
:func:`remove_frame_rhythm` projects out."""


def remove_frame_rhythm(g: Grid, periods: tuple[int, ...] = RHYTHM_PERIODS) -> Grid:
    """``g`` without the components of every channel that repeat with the given periods
    (in steps, counted on the file's own timeline): a least-squares fit, over the valid
    rows, of a cosine and a sine at 1/P cycles per step for each period P (one alternating
    column for P = 2), subtracted.

    Why: motion measured on compressed video carries the encoder's frame-type pattern
    (reference and B-frames of different quality: a 2- and 4-frame rhythm). It is the same
    in every file whatever the scene, so it pulls lag profiles towards the lag that lines
    up the files' frame counters rather than the scene. Every static camera of the real
    visualsync-dev scenes (3D-POP, EgoHumans, Panoptic) has a line at 1/2 or 1/4 cycle per
    frame, 4-230x the neighbouring frequencies, and differencing (the change profile)
    boosts it against the slow content. Real
    motion has little power at exactly these frequencies; removing them costs a few degrees
    of freedom per channel. Fewer than 4 valid rows per fitted column: ``g`` unchanged."""
    t = g.start_step + np.arange(len(g.valid))
    cols = []
    for p in periods:
        if p == 2:
            cols.append(np.where(t % 2 == 0, 1.0, -1.0))
        else:
            cols += [np.cos(2 * np.pi * t / p), np.sin(2 * np.pi * t / p)]
    design = np.stack(cols + [np.ones(len(t))], axis=1)
    if g.valid.sum() < 4 * design.shape[1]:
        return g
    x = g.features.astype(np.float64)
    dv = design[g.valid]
    gram = dv.T @ dv  # 6 × 6 normal equations: far cheaper than an SVD least squares here
    if np.linalg.cond(gram) > 1e8:
        return g
    coef = np.linalg.solve(gram, dv.T @ x[g.valid])
    out = x - design[:, :-1] @ coef[:-1]
    return Grid(out.astype(g.features.dtype, copy=False), g.valid, g.start_step, g.step_seconds)


def matched_lag_profile(ga: Grid, gb: Grid, *, orders: tuple[int, ...] = (0,), rhythm: bool = True,
                        eps: float = 1e-9) -> MatchedProfile:
    """Best-match channel correlation at every lag between two grids of one step.

    ``orders``: 0 scores the channels as they are, 1 their change from row to row; with
    several, ``significance`` is Σ z / √k over them and ``correlation`` their mean r (the
    overlap is that of order 0). ``rhythm``: the change is scored without the encoder's
    frame-type rhythm (:func:`remove_frame_rhythm`), which dominates its spectrum on
    compressed video; the level is scored as it is."""
    orders = check_orders("matched_lag_profile", orders)

    def change(g):
        d = difference_grid(g)
        return remove_frame_rhythm(d) if rhythm else d

    if orders != (0,):
        parts = [_matched(ga, gb, eps) if o == 0 else _matched(change(ga), change(gb), eps) for o in orders]
        first = parts[0]
        with np.errstate(invalid="ignore"):
            z = sum(p.significance for p in parts) / np.sqrt(len(parts))
            r = sum(p.correlation for p in parts) / len(parts)
        overlap = next((p.overlap_steps for o, p in zip(orders, parts) if o == 0), first.overlap_steps)
        return MatchedProfile(first.lags_steps, r, z, overlap, first.step_seconds)
    return _matched(ga, gb, eps)


def _matched(ga: Grid, gb: Grid, eps: float) -> MatchedProfile:
    from scipy.fft import irfft, next_fast_len, rfft

    va = ga.valid.astype(np.float64)
    vb = gb.valid.astype(np.float64)
    a = np.where(ga.valid[:, None], ga.features, 0.0).astype(np.float64)
    b = np.where(gb.valid[:, None], gb.features, 0.0).astype(np.float64)
    # Centre globally for numerical stability (Pearson is shift-invariant).
    if ga.valid.any():
        a = (a - a[ga.valid].mean(axis=0)) * va[:, None]
    if gb.valid.any():
        b = (b - b[gb.valid].mean(axis=0)) * vb[:, None]
    n, m = a.shape[0], b.shape[0]
    size = next_fast_len(n + m - 1, real=True)
    d = np.arange(-(n - 1), m)
    idx = d % size

    def xc(fx, fy):  # sum_i x(i) y(i + d) for every diagonal d
        return irfft(np.conj(fx) * fy, n=size, axis=0)[idx]

    Fa = rfft(a, n=size, axis=0)
    Fb = rfft(b, n=size, axis=0)
    Fva = rfft(va, n=size)
    Fvb = rfft(vb, n=size)
    cnt = np.rint(xc(Fva, Fvb))
    sa = xc(Fa, Fvb[:, None])  # (L, Da) sum of a_p over the overlap
    saa = xc(rfft(a * a, n=size, axis=0), Fvb[:, None])
    sb = xc(Fva[:, None], Fb)  # (L, Db)
    sbb = xc(Fva[:, None], rfft(b * b, n=size, axis=0))
    with np.errstate(invalid="ignore", divide="ignore"):
        nn = np.maximum(cnt, 1.0)[:, None]
        var_a = np.maximum(saa / nn - (sa / nn) ** 2, 0.0)
        var_b = np.maximum(sbb / nn - (sb / nn) ** 2, 0.0)
        sd_a = np.sqrt(var_a)
        sd_b = np.sqrt(var_b)
        L, Da, Db = len(d), a.shape[1], b.shape[1]
        best_over_q = np.full((L, Da), -np.inf)
        best_over_p = np.full((L, Db), -np.inf)
        for p in range(Da):
            sab = irfft(np.conj(Fa[:, p : p + 1]) * Fb, n=size, axis=0)[idx]  # (L, Db)
            cov = sab / nn - (sa[:, p : p + 1] / nn) * (sb / nn)
            den = sd_a[:, p : p + 1] * sd_b
            r = np.where(den > eps, cov / np.where(den > eps, den, 1.0), np.nan)
            r_filled = np.where(np.isnan(r), -np.inf, r)
            best_over_q[:, p] = r_filled.max(axis=1)
            best_over_p = np.maximum(best_over_p, r_filled)
    def _mean_finite(x):
        ok = np.isfinite(x)
        s = np.where(ok, x, 0.0).sum(axis=1)
        k = ok.sum(axis=1)
        return np.where(k > 0, s / np.maximum(k, 1), np.nan)

    r = 0.5 * (_mean_finite(best_over_q) + _mean_finite(best_over_p))
    r = np.where(cnt >= 4, r, np.nan)
    z = np.arctanh(np.clip(r, -0.999, 0.999)) * np.sqrt(np.maximum(cnt - 3, 0.5))
    lags = d + (gb.start_step - ga.start_step)
    return MatchedProfile(lags.astype(np.int64), r, z, cnt.astype(np.int64), ga.step_seconds)
