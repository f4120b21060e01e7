"""Our learned offset head: a small 1-D network over the lag-score profiles.

VideoSync's heads (:mod:`videosync.predict.heads`) read a fixed 256 × 256 image and classify
into a fixed ±R: they cannot answer outside the range they were trained on, ignore frames
past the 256th and — as the bench's noise-substitution rows show — learn where offsets
usually are rather than what the videos share. This head reads what the hand-crafted
``lag`` predictor reads, the per-lag scores, and learns how to read them:

* **input**: for every candidate lag, a few channels computed from the similarity
  (:func:`lag_channels`): the matched-channel significance and correlation, the diagonal
  mean score (both robustly standardised over the candidates), the overlap fraction and
  the distance to the edge of the search range;
* **network**: dilated 1-D convolutions along the lag axis — the same weights at every
  lag, so it works for **any offset range and clip length** — giving one logit per lag,
  plus a *null* logit from pooled features that stands for "no lag is right" (trained on
  pairs of unrelated clips);
* **output**: an offset and a **confidence = the probability that the answer is within one
  frame**: the softmax mass of the lags within ±1 step of the answer, with a temperature
  fitted on held-out pairs (``videosync train profile`` records it in the run card).
  ``answer="peak"`` (default) answers where ``lag`` does (same sub-frame refinement) and
  uses the network for the confidence and the "no overlap" probability;
  ``answer="network"`` answers at the network's own best lag. On the bench the network's
  own choice was less accurate than the peak while its confidence ranked answers better,
  hence the default (BENCHMARKS.md, "Confidence" entry);
* **stacked confidence** (weights with a ``calib`` array, ``answer="peak"``): the network's
  confidence and ``lag``'s null-profile confidence combined by a logistic regression fitted on
  held-out worlds (``videosync train profile``; ``init=`` refits it for existing weights),
  since on the bench the network alone ranked answers worse than ``lag``'s null confidence.

Inference is numpy only (weights are an ``.npz`` of plain arrays); training needs torch.
Shipped weights (``videosync/weights/profile.npz``) are used unless ``weights=PATH``.
"""

from __future__ import annotations

import math
import os

import numpy as np

from videosync._validation import check_choice, check_number
from videosync.errors import MissingWeightsError
from videosync.predict.base import OffsetEstimate, Predictor, SearchRange
from videosync.predict.lag import LagPredictor, _refine_matched, peak_subframe
from videosync.similarity import SimilarityMatrix, matched_lag_profile
from videosync.weights import resolve as resolve_weights
from videosync.weights import shipped as shipped_weights

CHANNELS = ("matched_z", "matched_r", "diagonal", "overlap_fraction", "edge")


def _robust_standardise(y: np.ndarray, allowed: np.ndarray) -> np.ndarray:
    v = y[allowed & np.isfinite(y)]
    if v.size < 3:
        return np.zeros_like(y)
    med = float(np.median(v))
    mad = 1.4826 * float(np.median(np.abs(v - med)))
    sd = float(np.std(v))
    scale = mad if mad > 1e-9 else (sd if sd > 1e-9 else 1.0)
    out = (y - med) / scale
    return np.clip(np.where(np.isfinite(out), out, 0.0), -20.0, 20.0)


def lag_channels(sim: SimilarityMatrix, search: SearchRange):
    """(lags_steps, X of shape (len(CHANNELS), L), allowed, matched significance, overlap steps),
    cut to the span of the allowed lags (the network never looks past the search range).

    Channels are zero at lags inside the span that the overlap rule still excludes.
    """
    mp = matched_lag_profile(sim.grid_a, sim.grid_b)
    dp = sim.lag_profile()
    if not np.array_equal(mp.lags_steps, dp.lags_steps):  # same grids: same lags by construction
        raise AssertionError("matched and diagonal profiles disagree on the lags")
    allowed = search.allowed_lags(dp.lags_steps, dp.overlap_steps, sim) & np.isfinite(mp.significance)
    idx = np.flatnonzero(allowed)
    sl = slice(idx[0], idx[-1] + 1) if idx.size else slice(0, 0)
    lags, allowed = dp.lags_steps[sl], allowed[sl]
    n_min = max(1, min(sim.shape))
    pos = np.arange(len(lags))
    edge = np.clip(np.minimum(pos, len(lags) - 1 - pos) / 10.0, 0.0, 1.0)
    x = np.stack([
        _robust_standardise(mp.significance[sl], allowed),
        np.nan_to_num(mp.correlation[sl], nan=0.0),
        _robust_standardise(dp.score[sl], allowed),
        dp.overlap_steps[sl] / n_min,
        edge,
    ]).astype(np.float32)
    x[:, ~allowed] = 0.0
    return lags, x, allowed, mp.significance[sl], dp.overlap_steps[sl]


# --- the network, numpy forward (training mirrors it in torch: videosync.learn.profile) ---

def _conv1d(x: np.ndarray, w: np.ndarray, b: np.ndarray, dilation: int) -> np.ndarray:
    """'same' 1-D convolution (cross-correlation, as torch): x (C, L), w (O, C, K)."""
    k = w.shape[2]
    pad = dilation * (k - 1) // 2
    xp = np.pad(x, ((0, 0), (pad, pad)))
    L = x.shape[1]
    out = np.repeat(b[:, None], L, axis=1).astype(np.float64)
    for t in range(k):
        out += w[:, :, t] @ xp[:, t * dilation: t * dilation + L]
    return out


def forward(params: dict[str, np.ndarray], x: np.ndarray, allowed: np.ndarray) -> tuple[np.ndarray, float]:
    """Per-lag logits (−inf where not allowed) and the null logit."""
    h = x.astype(np.float64)
    i = 0
    while f"conv{i}.weight" in params:
        h = _conv1d(h, params[f"conv{i}.weight"], params[f"conv{i}.bias"], int(params["dilations"][i]))
        h = np.maximum(h, 0.0)
        i += 1
    logits = (params["out.weight"][0, :, 0] @ h) + float(params["out.bias"][0])
    mask = allowed.astype(np.float64)
    if mask.sum() > 0:
        hmax = np.where(mask[None, :] > 0, h, -np.inf).max(axis=1)
        hmean = (h * mask[None, :]).sum(axis=1) / mask.sum()
    else:
        hmax = hmean = np.zeros(h.shape[0])
    pooled = np.concatenate([hmax, hmean])
    null = float(params["null.weight"][0] @ pooled + params["null.bias"][0])
    return np.where(allowed, logits, -np.inf), null


def window_probability(logits: np.ndarray, null: float, best: int, temperature: float, radius: int = 1) -> float:
    """Softmax mass (over the lags and the null) of the lags within ±radius of ``best``."""
    z = np.concatenate([logits, [null]]) / temperature
    z = z - np.max(z[np.isfinite(z)])
    e = np.where(np.isfinite(z), np.exp(z), 0.0)
    lo, hi = max(0, best - radius), min(len(logits), best + radius + 1)
    return float(e[lo:hi].sum() / e.sum())


def _logit(p: float) -> float:
    p = float(np.clip(p, 1e-4, 1 - 1e-4))
    return math.log(p / (1 - p))


def stacked_confidence(calib: np.ndarray, network_conf: float, lag_conf: float) -> float:
    """sigmoid(c0 + c1 · logit(network's confidence) + c2 · logit(lag's null confidence))."""
    c = np.asarray(calib, np.float64)
    z = float(c[0] + c[1] * _logit(network_conf) + c[2] * _logit(lag_conf))
    return 1.0 / (1.0 + math.exp(-max(-50.0, min(50.0, z))))


class ProfileHead(Predictor):
    name = "profile"
    summary = "learned 1-D network over the lag profiles: any range, sub-frame, calibrated confidence (numpy)"

    def __init__(self, *, weights: str | None = None, temperature: float | None = None,
                 answer: str = "peak") -> None:
        self.weights = weights
        self.answer = check_choice("ProfileHead", "answer", answer, ("peak", "network"))
        self.temperature = None if temperature is None else check_number(
            "ProfileHead", "temperature", temperature, low=1e-3)
        self.params_: dict[str, np.ndarray] | None = None
        path = resolve_weights(self.name, "npz", weights)
        if path is not None:
            self.load(path)

    @classmethod
    def is_available(cls) -> bool:
        """Usable without arguments: this package ships its weights."""
        return shipped_weights(cls.name, "npz") is not None

    @classmethod
    def test_params(cls):
        return [{}, {"answer": "network"}] if cls.is_available() else []

    # Persistence --------------------------------------------------------------------
    def load(self, path: str | os.PathLike) -> "ProfileHead":
        p = os.fspath(path)
        if not os.path.isfile(p):
            raise MissingWeightsError("the 'profile' head", f"no weights file at {p}; train one with "
                                      "'videosync train profile --out weights.npz'")
        with np.load(p) as d:
            self.params_ = {k: d[k] for k in d.files}
        return self

    @staticmethod
    def save_params(path: str | os.PathLike, params: dict[str, np.ndarray]) -> None:
        np.savez_compressed(path, **params)

    # Prediction ---------------------------------------------------------------------
    def _predict(self, sim: SimilarityMatrix, search: SearchRange) -> OffsetEstimate:
        if self.params_ is None:
            raise MissingWeightsError("the 'profile' head", "pass weights=PATH (made by 'videosync train profile')")
        lags, x, allowed, significance, overlap = lag_channels(sim, search)
        step = sim.step_seconds
        if allowed.sum() < 3:
            return OffsetEstimate(0.0, 0.0,
                                  details={"reason": "fewer than 3 candidate lags satisfy the overlap rule"})
        logits, null = forward(self.params_, x, allowed)
        temperature = self.temperature or float(self.params_.get("temperature", 1.0))
        stacked = self.answer == "peak" and "calib" in self.params_
        lag_est = None
        if self.answer == "peak":  # where `lag` answers; the network says how likely that is right
            # with the stack, lag's null confidence is needed too: one call gives both
            lag_est = LagPredictor(confidence="null" if stacked else "margin").predict(sim, search)
            offset_steps = lag_est.offset_seconds / step
            best = int(np.argmin(np.where(allowed, np.abs(lags - offset_steps), np.inf)))
            frac = offset_steps - lags[best]
        else:
            best = int(np.argmax(logits))
            # Sub-step: the same refinement as `lag` on the matched profile.
            frac = peak_subframe(np.where(allowed, significance, np.nan), best)
            if not sim.channels_correspond:
                frac = _refine_matched(sim, int(lags[best]), frac)
        conf = window_probability(logits, null, best, temperature)
        extra = {}
        if stacked:
            lag_conf = lag_est.confidence
            extra = {"network_confidence": conf, "lag_confidence": lag_conf}
            conf = stacked_confidence(self.params_["calib"], conf, lag_conf)
        z = np.concatenate([logits, [null]]) / temperature
        z = np.exp(z - np.max(z))
        p_null = float(z[-1] / z.sum())
        return OffsetEstimate(
            (lags[best] + frac) * step,
            conf,
            lags_seconds=lags * step,
            scores=np.where(allowed, logits, np.nan),
            overlap_seconds=float(overlap[best] * step),
            details={"subframe_steps": frac, "p_no_overlap": p_null, "temperature": temperature,
                     "candidates": int(allowed.sum()), **extra},
        )
