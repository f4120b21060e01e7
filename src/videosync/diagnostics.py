"""What a person needs to judge one pair: its lag-score curve and a similarity thumbnail.

Both are small enough to live in ``sync.json`` (optional fields of each pair, see
:meth:`videosync.result.SyncResult.to_dict`), so a review page or plots can be made from
the JSON alone, without the videos' embeddings.

* :class:`LagCurve`: the predictor's score per candidate offset (higher is better),
  downsampled to at most ``max_points`` — full resolution around the peak, the maximum of
  each bin elsewhere, so no peak disappears — with the chosen peak and its strongest
  runners-up (other local maxima, each farther than ``exclusion_seconds`` from the peak
  and from each other).
* :class:`SimilarityThumbnail`: the frame-to-frame similarity matrix of the pair shrunk to
  at most 128 × 128 (rows: video a's time, columns: video b's time), as uint8 grey levels.
  A pair whose offset is right shows a bright diagonal line through the cell
  (t_a, t_a + offset_seconds).
"""

from __future__ import annotations

import base64
from dataclasses import dataclass
from typing import Any

import numpy as np

DEFAULT_MAX_POINTS = 2000
DEFAULT_PEAK_WINDOW_POINTS = 300
DEFAULT_RUNNERS_UP = 3
DEFAULT_EXCLUSION_SECONDS = 0.2
THUMBNAIL_SIZE = 128


@dataclass(frozen=True, repr=False)
class LagCurve:
    """A pair's score per candidate offset (b relative to a), ready to plot."""

    lags_seconds: np.ndarray
    """(K,) candidate offsets, increasing (K ≤ max_points)."""
    scores: np.ndarray
    """(K,) score per offset, higher is better; NaN where the predictor scored nothing."""
    peak_offset_seconds: float
    """The pair's answer (sub-frame refined), i.e. where the curve is read."""
    peak_score: float | None
    """Score at the candidate offset nearest the answer."""
    runners_up_seconds: tuple[float, ...] = ()
    """Offsets of the strongest other local maxima, best first."""
    runners_up_scores: tuple[float, ...] = ()
    n_lags: int = 0
    """How many candidate offsets the predictor scored before downsampling."""

    def __repr__(self) -> str:
        return (
            f"LagCurve(points={len(self.lags_seconds)} of {self.n_lags}, "
            f"peak_offset_seconds={self.peak_offset_seconds:.4f}, runners_up={len(self.runners_up_seconds)})"
        )

    def to_dict(self) -> dict[str, Any]:
        return {
            "lags_seconds": [_r(x, 6) for x in self.lags_seconds],
            "scores": [_r(x, 6) for x in self.scores],
            "n_lags": int(self.n_lags),
            "peak": {"offset_seconds": _r(self.peak_offset_seconds, 6), "score": _r(self.peak_score, 6)},
            "runners_up": [
                {"offset_seconds": _r(o, 6), "score": _r(s, 6)}
                for o, s in zip(self.runners_up_seconds, self.runners_up_scores)
            ],
        }

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> "LagCurve":
        def arr(key):
            return np.array([np.nan if x is None else float(x) for x in d[key]], dtype=float)

        peak = d.get("peak") or {}
        runners = d.get("runners_up") or []
        lags, scores = arr("lags_seconds"), arr("scores")
        if lags.shape != scores.shape:
            from videosync.errors import InvalidParameterError

            raise InvalidParameterError(
                f"lag_curve has {lags.size} lags but {scores.size} scores; they must match"
            )
        return cls(
            lags_seconds=lags,
            scores=scores,
            peak_offset_seconds=float(peak.get("offset_seconds") or 0.0),
            peak_score=None if peak.get("score") is None else float(peak["score"]),
            runners_up_seconds=tuple(float(r["offset_seconds"]) for r in runners),
            runners_up_scores=tuple(np.nan if r.get("score") is None else float(r["score"]) for r in runners),
            n_lags=int(d.get("n_lags") or lags.size),
        )


def lag_curve(
    lags_seconds: np.ndarray,
    scores: np.ndarray,
    peak_offset_seconds: float,
    *,
    max_points: int = DEFAULT_MAX_POINTS,
    peak_window_points: int = DEFAULT_PEAK_WINDOW_POINTS,
    n_runners_up: int = DEFAULT_RUNNERS_UP,
    exclusion_seconds: float = DEFAULT_EXCLUSION_SECONDS,
) -> LagCurve:
    """Summarise a predictor's lag-score profile (see the module docstring).

    Args:
        lags_seconds: (L,) candidate offsets.
        scores: (L,) score per offset (higher is better, NaN allowed).
        peak_offset_seconds: the pair's answer.
    """
    lags = np.asarray(lags_seconds, dtype=float).ravel()
    y = np.asarray(scores, dtype=float).ravel()
    order = np.argsort(lags, kind="stable")
    lags, y = lags[order], y[order]
    n = lags.size
    z = np.where(np.isfinite(y), y, -np.inf)
    peak_i = int(np.argmin(np.abs(lags - peak_offset_seconds))) if n else 0
    runners = _runners_up(lags, z, peak_i, n_runners_up, exclusion_seconds)
    keep = _downsample(z, peak_i, runners, max_points, peak_window_points)
    return LagCurve(
        lags_seconds=lags[keep],
        scores=y[keep],
        peak_offset_seconds=float(peak_offset_seconds),
        peak_score=float(y[peak_i]) if n and np.isfinite(y[peak_i]) else None,
        runners_up_seconds=tuple(float(lags[i]) for i in runners),
        runners_up_scores=tuple(float(y[i]) for i in runners),
        n_lags=int(n),
    )


def _runners_up(lags, z, peak_i, count, exclusion_seconds) -> list[int]:
    if lags.size < 3 or count <= 0:
        return []
    left = np.concatenate([[-np.inf], z[:-1]])
    right = np.concatenate([z[1:], [-np.inf]])
    maxima = np.flatnonzero((z > left) & (z >= right) & np.isfinite(z))
    chosen: list[int] = []
    taken = [float(lags[peak_i])]
    for i in maxima[np.argsort(-z[maxima], kind="stable")]:
        if all(abs(lags[i] - t) > exclusion_seconds for t in taken):
            chosen.append(int(i))
            taken.append(float(lags[i]))
            if len(chosen) == count:
                break
    return chosen


def _downsample(z, peak_i, runners, max_points, window) -> np.ndarray:
    """Indices to keep: all if few; else a full-resolution window around the peak, the
    runners-up, and the maximum of each of evenly spaced bins over the rest."""
    n = z.size
    if n <= max_points:
        return np.arange(n)
    window = min(window, max_points // 4)
    lo, hi = max(0, peak_i - window), min(n, peak_i + window + 1)
    must = set(range(lo, hi)) | set(runners) | {0, n - 1}
    budget = max(1, max_points - len(must))
    rest = np.setdiff1d(np.arange(n), np.fromiter(must, int))
    if rest.size:
        bins = np.array_split(rest, min(budget, rest.size))
        must |= {int(b[np.argmax(z[b])]) for b in bins if b.size}
    return np.array(sorted(must), dtype=int)


@dataclass(frozen=True, repr=False)
class SimilarityThumbnail:
    """A pair's similarity matrix shrunk to at most 128 × 128 grey levels."""

    image: np.ndarray
    """(H, W) uint8: row = video a's time (down), column = video b's time (right); bright = similar."""
    a_seconds: tuple[float, float]
    """Own-timeline times of video a at the first and last row."""
    b_seconds: tuple[float, float]
    """Own-timeline times of video b at the first and last column."""

    def __repr__(self) -> str:
        return f"SimilarityThumbnail(shape={self.image.shape}, a_seconds={self.a_seconds}, b_seconds={self.b_seconds})"

    def png_bytes(self) -> bytes:
        import cv2

        ok, buf = cv2.imencode(".png", self.image)
        if not ok:  # pragma: no cover - cv2 always encodes uint8 grey images
            raise RuntimeError("PNG encoding of the similarity thumbnail failed; please report this")
        return buf.tobytes()

    def to_dict(self) -> dict[str, Any]:
        return {
            "png_base64": base64.b64encode(self.png_bytes()).decode("ascii"),
            "a_seconds": [_r(x, 6) for x in self.a_seconds],
            "b_seconds": [_r(x, 6) for x in self.b_seconds],
        }

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> "SimilarityThumbnail":
        import cv2

        from videosync.errors import InvalidParameterError

        raw = np.frombuffer(base64.b64decode(d["png_base64"]), dtype=np.uint8)
        img = cv2.imdecode(raw, cv2.IMREAD_GRAYSCALE)
        if img is None:
            raise InvalidParameterError("similarity_thumbnail.png_base64 is not a PNG image")
        return cls(img, tuple(map(float, d["a_seconds"])), tuple(map(float, d["b_seconds"])))


def similarity_thumbnail(sim, size: int = THUMBNAIL_SIZE) -> SimilarityThumbnail:
    """Shrink a :class:`~videosync.similarity.SimilarityMatrix` to at most size × size.

    Reads only ``size`` evenly spaced rows (one row block each) and averages columns into
    ``size`` bins: O(size · M · D), cheap next to the embedding.
    """
    n, m = sim.shape
    rows = np.unique(np.linspace(0, n - 1, min(size, n)).round().astype(int))
    cols = np.array_split(np.arange(m), min(size, m))
    starts = np.array([c[0] for c in cols])
    img = np.empty((rows.size, len(cols)), dtype=np.float64)
    for r, i in enumerate(rows):
        s = sim.block(int(i), int(i) + 1)[0].astype(np.float64)
        ok = np.isfinite(s)
        total = np.add.reduceat(np.where(ok, s, 0.0), starts)
        count = np.add.reduceat(ok.astype(np.int64), starts)
        img[r] = np.where(count > 0, total / np.maximum(count, 1), np.nan)
    fin = np.isfinite(img)
    out = np.zeros(img.shape, dtype=np.uint8)
    if fin.any():
        lo, hi = np.percentile(img[fin], [1, 99.5])
        scaled = (img - lo) / (hi - lo) if hi > lo else np.zeros_like(img)
        out[fin] = np.clip(scaled[fin] * 255.0 + 0.5, 0, 255).astype(np.uint8)
    ta, tb = sim.grid_a.times_seconds, sim.grid_b.times_seconds
    return SimilarityThumbnail(
        out,
        (float(ta[rows[0]]), float(ta[rows[-1]])),
        (float(tb[cols[0][0]]), float(tb[cols[-1][-1]])),
    )


def _r(x, ndigits: int):
    if x is None:
        return None
    x = float(x)
    if not np.isfinite(x):
        return None
    return round(x, ndigits)
