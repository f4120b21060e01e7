"""Long inputs and clock drift: coarse-to-fine pair matching, windowed offsets, a robust
offset + rate fit.

Two embeddings (one per video, computed once while streaming the decode) are matched in
two stages, so the work and memory of the search do not grow with the square of the
duration and the full lag range is always searched (never silently capped):

1. **Coarse**: both embeddings are box-averaged onto a grid of ``coarse_step_seconds``
   (default: 0.2 s, coarser for very long inputs so the grid holds at most
   ``coarse_max_rows`` rows) and every candidate offset the
   :class:`~videosync.predict.SearchRange` allows is scored once (the predictor's FFT
   profile). This gives a rough offset ``c`` and the pair's confidence.
2. **Fine**: windows of ``window_seconds`` of video *a* along the overlap at ``c``, each
   matched at the full frame rate against *b* within ``c ± search`` (the coarse step's
   uncertainty plus room for a drift of ``max_drift_ppm`` over the overlap). Each window
   gives an offset at its centre time ``t`` on *a*'s timeline.

Then a robust fit through the window offsets:

* with drift: ``offset(t) = offset_seconds + drift_ppm·1e-6 · t`` by weighted Theil–Sen
  (median of pairwise slopes), inliers within ``max(tolerance, 3·MAD)``, refitted by
  weighted least squares on the inliers; so *b*'s clock reads
  ``τ_b = offset_seconds + (1 + drift_ppm·1e-6)·t_a`` (the convention of
  :class:`videosync.result.CameraResult`);
* without: the weighted median (a constant offset), inliers as above.

Times are the videos' own timestamps (pts), so different nominal frame rates (29.97 vs 30,
25 vs 30) are compared on time and need no correction: a 29.97 fps file whose pts say so
runs at 1000/1001 of 30 fps *frames* but at the same *seconds*.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from videosync._validation import check_number
from videosync.embed.base import Embedding
from videosync.predict.base import OffsetEstimate, Predictor, SearchRange
from videosync.predict.lag import without_null
from videosync.similarity import SimilarityMatrix

__all__ = ["DriftFit", "PairMatch", "box_average", "fit_drift", "match_pair", "solve_rates", "windowed_offsets"]

DEFAULT_WINDOW_SECONDS = 20.0
DEFAULT_MAX_DRIFT_PPM = 1000.0
LONG_SECONDS = 600.0
"""Pairs whose longer video exceeds this are matched coarse-to-fine by default."""


@dataclass(frozen=True, repr=False)
class DriftFit:
    """A line through per-window offsets: ``offset(t) = offset_seconds + drift_ppm·1e-6·t``."""

    offset_seconds: float
    """Offset of b at a's time 0 (the intercept)."""
    drift_ppm: float
    """b's clock rate against a's, minus 1, in parts per million (0 when not fitted)."""
    residual_seconds: float
    """RMS of the inlier windows around the line (NaN with fewer than 2 inliers)."""
    window_times_seconds: np.ndarray
    """(K,) window centres on a's timeline."""
    window_offsets_seconds: np.ndarray
    """(K,) offset measured in each window."""
    window_confidence: np.ndarray
    """(K,) the predictor's confidence per window."""
    inliers: np.ndarray
    """(K,) bool: windows that agree with the line."""
    fitted_rate: bool

    @property
    def n_windows(self) -> int:
        return int(len(self.window_times_seconds))

    @property
    def n_inliers(self) -> int:
        return int(self.inliers.sum())

    @property
    def drift_stderr_ppm(self) -> float:
        """Standard error of the rate from the inlier windows' scatter (inf when not fitted).

        Window errors are correlated along the content, so this is a lower bound; it is used
        to refuse rates from short overlaps (± a few hundred ppm), not as a calibrated interval."""
        t = self.window_times_seconds[self.inliers]
        if not self.fitted_rate or t.size < 3 or not math.isfinite(self.residual_seconds):
            return float("inf")
        spread = float(np.sqrt(np.sum((t - t.mean()) ** 2)))
        return float("inf") if spread <= 0 else self.residual_seconds * math.sqrt(t.size / (t.size - 2)) / spread * 1e6

    def offset_at(self, t_a_seconds: float) -> float:
        return self.offset_seconds + self.drift_ppm * 1e-6 * float(t_a_seconds)

    def to_dict(self) -> dict[str, Any]:
        return {
            "offset_seconds": _r(self.offset_seconds),
            "drift_ppm": _r(self.drift_ppm, 3),
            "residual_seconds": _r(self.residual_seconds),
            "drift_stderr_ppm": _r(self.drift_stderr_ppm, 3),
            "windows": self.n_windows,
            "inliers": self.n_inliers,
            "fitted_rate": self.fitted_rate,
        }

    def __repr__(self) -> str:
        return (f"DriftFit(offset_seconds={self.offset_seconds:.4f}, drift_ppm={self.drift_ppm:.1f}, "
                f"residual_seconds={self.residual_seconds:.4f}, inliers={self.n_inliers}/{self.n_windows})")


@dataclass(frozen=True, repr=False)
class PairMatch:
    """One pair matched (coarse-to-fine when long): b's offset with a as the reference."""

    estimate: OffsetEstimate
    """Offset (at a's time 0 when a rate was fitted) and confidence; the coarse profile as scores."""
    fit: DriftFit | None = None
    """The window fit (None when the pair was matched in one pass without windows)."""
    mode: str = "single"
    """``"single"`` (one full-rate pass) or ``"coarse-to-fine"``."""
    details: dict[str, Any] = field(default_factory=dict)

    @property
    def offset_seconds(self) -> float:
        return self.estimate.offset_seconds

    @property
    def confidence(self) -> float:
        return self.estimate.confidence

    @property
    def drift_ppm(self) -> float:
        return 0.0 if self.fit is None else self.fit.drift_ppm

    def __repr__(self) -> str:
        return (f"PairMatch(offset_seconds={self.offset_seconds:.4f}, confidence={self.confidence:.3f}, "
                f"drift_ppm={self.drift_ppm:.1f}, mode={self.mode!r})")


def _r(x: float, nd: int = 6):
    x = float(x)
    return round(x, nd) if math.isfinite(x) else None


def box_average(emb: Embedding, step_seconds: float) -> Embedding:
    """Mean of the valid rows in each bin ``[k·step, (k+1)·step)``, placed at the bin centre.

    Bins without a valid row are left out (the similarity layer marks them as gaps).
    Memory: one row per bin.
    """
    check_number("box_average", "step_seconds", step_seconds, low=0, low_open=True)
    t = emb.times_seconds
    keep = np.ones(len(t), bool) if emb.valid is None else emb.valid
    if keep.sum() < 2:
        keep = np.ones(len(t), bool)
    k = np.floor(t[keep] / step_seconds + 1e-9).astype(np.int64)
    f = emb.features[keep].astype(np.float64)
    bins, inv = np.unique(k, return_inverse=True)
    sums = np.zeros((len(bins), f.shape[1]))
    np.add.at(sums, inv, f)
    counts = np.bincount(inv, minlength=len(bins)).astype(np.float64)
    return Embedding((bins + 0.5) * step_seconds, sums / counts[:, None], None, emb.channels_correspond, emb.details)


def _retimed(emb: Embedding, lo: float, hi: float, shift: float) -> Embedding | None:
    """Rows with lo ≤ t < hi, times minus ``shift`` (None when fewer than 4 rows)."""
    t = emb.times_seconds
    i0, i1 = np.searchsorted(t, lo - 1e-9), np.searchsorted(t, hi - 1e-9)
    if i1 - i0 < 4:
        return None
    return Embedding(t[i0:i1] - shift, emb.features[i0:i1], None if emb.valid is None else emb.valid[i0:i1],
                     emb.channels_correspond, emb.details)


def _weighted_median(x: np.ndarray, w: np.ndarray) -> float:
    order = np.argsort(x)
    x, w = x[order], w[order]
    c = np.cumsum(w)
    if c[-1] <= 0:
        return float(np.median(x))
    return float(x[np.searchsorted(c, 0.5 * c[-1])])


def fit_drift(
    times_seconds,
    offsets_seconds,
    weights=None,
    *,
    fit_rate: bool = True,
    tolerance_seconds: float = 0.05,
) -> DriftFit:
    """Robust offset (+ rate) through window offsets.

    Args:
        times_seconds: (K,) window centres on a's timeline.
        offsets_seconds: (K,) offset of b measured in each window.
        weights: (K,) non-negative (e.g. window confidences); default equal.
        fit_rate: fit a slope (drift) or only a constant offset.
        tolerance_seconds: a window within this of the line is always an inlier.

    Returns:
        A :class:`DriftFit`. With fewer than 2 usable windows (or all at one time) the rate is 0.
    """
    t = np.asarray(times_seconds, dtype=np.float64)
    o = np.asarray(offsets_seconds, dtype=np.float64)
    w = np.ones_like(t) if weights is None else np.clip(np.asarray(weights, dtype=np.float64), 0, None)
    if t.size == 0:
        empty = np.zeros(0)
        return DriftFit(0.0, 0.0, float("nan"), empty, empty, empty, np.zeros(0, bool), False)
    w_use = np.where(w > 0, w, 0.0)
    if w_use.sum() <= 0:
        w_use = np.full_like(t, 1e-3)
    can_slope = fit_rate and t.size >= 3 and np.ptp(t) > 0
    slope = 0.0
    if can_slope:
        i, j = np.triu_indices(t.size, 1)
        dt = t[j] - t[i]
        ok = np.abs(dt) > 1e-9
        if ok.any():
            slopes = (o[j] - o[i])[ok] / dt[ok]
            slope = _weighted_median(slopes, (w_use[i] * w_use[j])[ok] + 1e-12)
    intercept = _weighted_median(o - slope * t, w_use + 1e-12)
    r = o - (intercept + slope * t)
    big = w_use > 0.2 * w_use.max()
    mad = 1.4826 * float(np.median(np.abs(r[big]))) if big.any() else 0.0
    inl = (np.abs(r) <= max(tolerance_seconds, 3.0 * mad)) & (w > 0)
    if inl.sum() >= (3 if can_slope else 1):
        ww = w_use[inl]
        if can_slope and np.ptp(t[inl]) > 0:
            A = np.stack([np.ones(inl.sum()), t[inl]], axis=1) * np.sqrt(ww)[:, None]
            (intercept, slope), *_ = np.linalg.lstsq(A, o[inl] * np.sqrt(ww), rcond=None)
        else:
            intercept = float(np.sum(ww * (o[inl] - slope * t[inl])) / np.sum(ww))
        r = o - (intercept + slope * t)
    resid = float(np.sqrt(np.average(r[inl] ** 2, weights=w_use[inl]))) if inl.sum() >= 2 else float("nan")
    return DriftFit(float(intercept), float(slope * 1e6), resid, t, o, w, inl, bool(can_slope))


def windowed_offsets(
    a: Embedding,
    b: Embedding,
    centre_offset_seconds: float,
    predictor: Predictor,
    *,
    window_seconds: float = DEFAULT_WINDOW_SECONDS,
    search_seconds: float = 1.0,
    max_windows: int = 40,
    metric: str = "cosine",
    step_seconds: float | None = None,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Offsets measured in windows of a along the overlap at ``centre_offset_seconds``.

    Window k takes a's rows in ``[s_k, s_k + W)`` and b's rows in
    ``[s_k + c − S, s_k + W + c + S)``, and lets the predictor answer within ``±S``
    (``S = search_seconds``) of c. Windows are evenly spaced (at most ``max_windows``),
    so the cost is flat in the duration.

    Returns:
        (times, offsets, confidences), each (K,): window centre on a's timeline, offset of b
        there, the predictor's confidence. Empty when the overlap is shorter than 4 frames.
    """
    c, S, W = float(centre_offset_seconds), float(search_seconds), float(window_seconds)
    lo = max(a.times_seconds[0], b.times_seconds[0] - c)
    hi = min(a.times_seconds[-1], b.times_seconds[-1] - c)
    if hi - lo <= 0:
        return np.zeros(0), np.zeros(0), np.zeros(0)
    if hi - lo <= W:
        starts = np.array([lo])
        W = hi - lo
    else:
        n = int(min(max_windows, math.floor((hi - lo) / W)))
        starts = np.linspace(lo, hi - W, max(n, 1))
    search = SearchRange(max_offset_seconds=S, min_overlap_seconds=min(2.0, 0.5 * W), min_overlap_fraction=0.5)
    predictor = without_null(predictor)  # window confidences only weight the fit
    times, offs, conf = [], [], []
    for s in starts:
        wa = _retimed(a, s, s + W, s)
        wb = _retimed(b, s + c - S, s + W + c + S, s + c)
        if wa is None or wb is None:
            continue
        sim = SimilarityMatrix(wa, wb, metric=metric, step_seconds=step_seconds)
        est = predictor.predict(sim, search)
        times.append(s + 0.5 * W)
        offs.append(c + est.offset_seconds)
        conf.append(est.confidence)
    return np.array(times), np.array(offs), np.array(conf)


def _duration(e: Embedding) -> float:
    return float(e.times_seconds[-1] - e.times_seconds[0])


def is_long(a: Embedding, b: Embedding) -> bool:
    """True when the longer of two videos exceeds :data:`LONG_SECONDS` (matched coarse-to-fine)."""
    return max(_duration(a), _duration(b)) > LONG_SECONDS


def match_pair(
    a: Embedding,
    b: Embedding,
    predictor: Predictor,
    *,
    search: SearchRange | None = None,
    metric: str = "cosine",
    drift: bool = False,
    coarse: bool | None = None,
    coarse_step_seconds: float = 0.2,
    coarse_max_rows: int = 20_000,
    window_seconds: float = DEFAULT_WINDOW_SECONDS,
    max_windows: int | None = None,
    max_drift_ppm: float = DEFAULT_MAX_DRIFT_PPM,
    step_seconds: float | None = None,
    temperature: float = 0.1,
) -> PairMatch:
    """Offset (and optionally rate) of b with a as the reference, coarse-to-fine when long.

    Args:
        a, b: the two videos' embeddings.
        predictor: answers each similarity (coarse and per window), e.g. ``lag``.
        search: which offsets are candidates (default :class:`SearchRange`()).
        drift: fit a rate through the window offsets (otherwise a constant offset).
        coarse: force (True) or skip (False) the coarse stage; None: when the longer video
            exceeds :data:`LONG_SECONDS`.
        coarse_step_seconds: coarse grid step (raised so the grid has ≤ ``coarse_max_rows``).
        window_seconds, max_windows: the fine windows (default at most 40 with ``drift``, where
            more windows pin the rate, else 12: enough for a robust median offset).
        max_drift_ppm: the fine search leaves room for this much drift over the overlap.

    Returns:
        A :class:`PairMatch`. With drift, ``offset_seconds`` is b's offset at a's time 0 and
        ``fit.drift_ppm`` its rate: ``τ_b = offset + (1 + drift_ppm·1e-6)·t_a``.
    """
    search = search or SearchRange()
    longest = max(_duration(a), _duration(b))
    use_coarse = is_long(a, b) if coarse is None else bool(coarse)
    details: dict[str, Any] = {}
    if use_coarse:
        step = max(coarse_step_seconds, longest / coarse_max_rows)
        ca, cb = box_average(a, step), box_average(b, step)
        sim = SimilarityMatrix(ca, cb, metric=metric, step_seconds=step, temperature=temperature)
        first = predictor.predict(sim, search)
        details["coarse_step_seconds"] = step
        details["coarse_offset_seconds"] = first.offset_seconds
    else:
        step = None
        sim = SimilarityMatrix(a, b, metric=metric, step_seconds=step_seconds, temperature=temperature)
        first = predictor.predict(sim, search)
    if not use_coarse and not drift:
        return PairMatch(first, None, "single", details)

    c = first.offset_seconds
    overlap = max(0.0, min(a.times_seconds[-1], b.times_seconds[-1] - c) - max(a.times_seconds[0],
                                                                                 b.times_seconds[0] - c))
    S = (3.0 * step if step else 0.25) + max_drift_ppm * 1e-6 * overlap
    if max_windows is None:
        max_windows = 40 if drift else 12
    t, o, w = windowed_offsets(a, b, c, predictor, window_seconds=window_seconds, search_seconds=S,
                               max_windows=max_windows, metric=metric, step_seconds=step_seconds)
    fit = fit_drift(t, o, w, fit_rate=drift, tolerance_seconds=max(0.02, 0.5 * _frame(a, b)))
    details.update(fit.to_dict())
    if fit.n_windows == 0 or fit.n_inliers == 0:
        return PairMatch(first, fit, "coarse-to-fine" if use_coarse else "single", details)
    frac = float(w[fit.inliers].sum() / w.sum()) if w.sum() > 0 else 0.0
    conf = first.confidence * (0.5 + 0.5 * frac)
    if not use_coarse:
        # One full-rate pass already gave the offset; the windows add the rate only.
        conf = first.confidence
    est = OffsetEstimate(
        fit.offset_seconds, float(np.clip(conf, 0, 1)), lags_seconds=first.lags_seconds, scores=first.scores,
        overlap_seconds=first.overlap_seconds,
        details={**first.details, "windows_agreeing": frac, "drift_ppm": fit.drift_ppm,
                 "drift_residual_seconds": _r(fit.residual_seconds)},
    )
    return PairMatch(est, fit, "coarse-to-fine" if use_coarse else "single", details)


def _frame(a: Embedding, b: Embedding) -> float:
    return max(float(np.median(np.diff(a.times_seconds))), float(np.median(np.diff(b.times_seconds))))


def solve_rates(
    n_cameras: int,
    rates: list[tuple[int, int, float, float]],
    *,
    reference: int = 0,
    tolerance_ppm: float = 50.0,
) -> tuple[np.ndarray, np.ndarray]:
    """One clock rate per camera from pairwise rates, by the robust N-camera solve.

    Args:
        rates: ``(a, b, drift_ppm, weight)``: b's clock against a's (``τ_b ∝ (1 + drift_ppm·1e-6)·τ_a``);
            to first order ``drift_ppm ≈ ε_b − ε_a``.
        reference: the camera whose clock defines time (ε = 0).
        tolerance_ppm: pairs disagreeing by more are not used.

    Returns:
        (ε_ppm, measured): (N,) each camera's rate error against the reference (0 where not
        measured) and (N,) bool, True where a chain of used pairs reaches the reference.
    """
    from videosync.multiview import PairMeasurement, solve_offsets

    if not rates:
        return np.zeros(n_cameras), np.arange(n_cameras) == reference
    sol = solve_offsets(n_cameras, [PairMeasurement(a, b, ppm, float(np.clip(w, 0, 1))) for a, b, ppm, w in rates],
                        reference=reference, tolerance_seconds=tolerance_ppm, min_confidence=0.05)
    return np.where(sol.connected, sol.offsets_seconds, 0.0), np.asarray(sol.connected, bool)


MAX_RATE_STDERR_PPM = 60.0
"""A pair's rate is used only when its standard error is below this."""
MIN_RATE_SPAN_SECONDS = 120.0
"""... and its agreeing windows span at least this much: window offsets wander by ~5–10 ms with
the content, which over a one-minute span is ±100–200 ppm whatever their scatter says."""


def rate_evidence(match: PairMatch, min_confidence: float, max_stderr_ppm: float = MAX_RATE_STDERR_PPM,
                  min_span_seconds: float = MIN_RATE_SPAN_SECONDS) -> float:
    """Weight of a pair's fitted rate (0: not usable): confident pair, ≥ 3 agreeing windows
    spanning ≥ ``min_span_seconds``, rate standard error under ``max_stderr_ppm``; more precise
    rates weigh more."""
    fit = match.fit
    if fit is None or not fit.fitted_rate or fit.n_inliers < 3 or match.confidence < min_confidence:
        return 0.0
    se = fit.drift_stderr_ppm
    if not se <= max_stderr_ppm or np.ptp(fit.window_times_seconds[fit.inliers]) < min_span_seconds:
        return 0.0
    return match.confidence * min(1.0, (0.5 * max_stderr_ppm / max(se, 1e-9)) ** 2)
