"""Every accuracy metric of the reference papers, in one place.

All inputs are per-pair offsets in **frames** (found ``P``, truth ``R``) plus the frame
rate for conversions. Definitions (≤ where the reference code uses ≤):

* ``mean_abs_frames`` ± ``sem_frames``: mean |P − R| and its standard error (VideoSync).
* ``median_abs_ms``: median |P − R| in milliseconds.
* ``acc_at_{1,5,10}``: share with |P − R| ≤ 1, 5, 10 frames (SeSyn-Net's code uses ≤).
* ``abs_err_seconds``: mean |P − R| / fps (SeSyn-Net's Abs.err).
* ``rel_err``: Σ|P − R| / Σ|R| (SeSyn-Net's Rel.err; NaN when every R is 0).
* ``racc_at_{10,30,50}``: share with |P − R| / |R| ≤ 0.1, 0.3, 0.5 over pairs with R ≠ 0.
* ``acc_ex_at_{1,3}``, ``acc_in_at_{1,3,5}`` (InSynFormer, fractional offsets): offsets are
  quantised to tenths of a frame, q = round(10·f); the whole-frame part is
  ex = floor(q / 10) and the tenths in = q − 10·ex ∈ {0..9}. Acc_ex@i: |P_ex − R_ex| < i;
  Acc_in@j: |P_in − R_in| < j tenths.
* ``low_confidence``: share of pairs with confidence < ``threshold``.
* ``accepted_error_rate``: among pairs with confidence ≥ threshold, share with |P − R| > 1.
"""

from __future__ import annotations

import numpy as np


def _whole_and_tenths(frames: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    q = np.rint(np.asarray(frames, dtype=float) * 10).astype(np.int64)
    ex = np.floor_divide(q, 10)
    return ex, q - 10 * ex


def compute_metrics(
    found_frames,
    truth_frames,
    *,
    fps,
    confidence=None,
    threshold: float = 0.5,
) -> dict[str, float]:
    """All metrics for paired arrays of found and true offsets in frames.

    ``fps`` may be a scalar or one value per pair.
    """
    p = np.asarray(found_frames, dtype=float)
    r = np.asarray(truth_frames, dtype=float)
    if p.shape != r.shape or p.ndim != 1:
        raise ValueError("found_frames and truth_frames must be 1-D arrays of one length")
    n = p.size
    if n == 0:
        raise ValueError("no pairs")
    f = np.broadcast_to(np.asarray(fps, dtype=float), p.shape)
    e = np.abs(p - r)
    out: dict[str, float] = {
        "pairs": float(n),
        "mean_abs_frames": float(e.mean()),
        "sem_frames": float(e.std(ddof=1) / np.sqrt(n)) if n > 1 else 0.0,
        "median_abs_ms": float(np.median(e / f) * 1000.0),
        "acc_at_1": float(np.mean(e <= 1 + 1e-9)),
        "acc_at_5": float(np.mean(e <= 5 + 1e-9)),
        "acc_at_10": float(np.mean(e <= 10 + 1e-9)),
        "abs_err_seconds": float(np.mean(e / f)),
        "rel_err": float(e.sum() / np.abs(r).sum()) if np.abs(r).sum() > 0 else float("nan"),
    }
    nz = r != 0
    for k in (10, 30, 50):
        out[f"racc_at_{k}"] = float(np.mean(e[nz] / np.abs(r[nz]) <= k / 100 + 1e-12)) if nz.any() else float("nan")
    pe, pi = _whole_and_tenths(p)
    re_, ri = _whole_and_tenths(r)
    for i in (1, 3):
        out[f"acc_ex_at_{i}"] = float(np.mean(np.abs(pe - re_) < i))
    for j in (1, 3, 5):
        out[f"acc_in_at_{j}"] = float(np.mean(np.abs(pi - ri) < j))
    if confidence is not None:
        c = np.asarray(confidence, dtype=float)
        acc = c >= threshold
        out["low_confidence"] = float(np.mean(~acc))
        out["accepted_error_rate"] = float(np.mean(e[acc] > 1 + 1e-9)) if acc.any() else float("nan")
    return out


def naive_expected_mae(max_offset_frames: int) -> float:
    """Expected |error| of always answering 0 for integer offsets uniform on [−R, R]."""
    k = np.arange(-max_offset_frames, max_offset_frames + 1)
    return float(np.abs(k).mean())


def auroc(scores, positive) -> float | None:
    """Area under the ROC curve of ``scores`` for the boolean labels ``positive``
    (Mann–Whitney, ties counted half); None when one class is empty."""
    from scipy.stats import rankdata

    s = np.asarray(scores, float)
    y = np.asarray(positive, bool)
    n_pos, n_neg = int(y.sum()), int((~y).sum())
    if n_pos == 0 or n_neg == 0:
        return None
    ranks = rankdata(s)
    return float((ranks[y].sum() - n_pos * (n_pos + 1) / 2) / (n_pos * n_neg))


def reliability(confidence, correct, bins: int = 5) -> list[dict]:
    """Reliability diagram as rows: per confidence bin, the count, mean confidence and the
    fraction correct (a calibrated confidence has the two equal)."""
    c = np.asarray(confidence, float)
    ok = np.asarray(correct, bool)
    edges = np.linspace(0.0, 1.0, bins + 1)
    rows = []
    for lo, hi in zip(edges[:-1], edges[1:]):
        m = (c >= lo) & ((c < hi) if hi < 1.0 else (c <= hi))
        rows.append({"bin": f"{lo:.1f}-{hi:.1f}", "pairs": int(m.sum()),
                     "mean_confidence": float(c[m].mean()) if m.any() else None,
                     "fraction_correct": float(ok[m].mean()) if m.any() else None})
    return rows
