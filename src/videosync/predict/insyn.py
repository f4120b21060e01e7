"""``insyn``: a fractional-offset head after InSynFormer (AAAI 2024), on pose features.

1. **Coarse**: the ``lag`` predictor's peak (:class:`~videosync.predict.lag.LagPredictor`,
   same search range), rounded to a whole grid step k.
2. **Windows**: along the overlap at lag k, windows of T grid rows (T = the model's window,
   stride ``stride``) are cut from both videos' resampled features
   (:attr:`SimilarityMatrix.grid_a` / ``grid_b``); windows with too few valid rows are skipped.
3. **Model** (:class:`~videosync.predict.models.insyn.InSynFormer`): each window pair → a
   distribution over the residual r ∈ [−K − ½, K + ½) grid steps in 0.1-step bins
   (inter-frame × intra-frame classes), decoded to r and a confidence. With ``symmetric``
   the swapped pair is also run and the two answers averaged (r(a, b) − r(b, a)) / 2, which
   cancels any bias of the model towards one view.
4. **Aggregate**: the confidence-weighted median of the windows' r; offset = (k + r) · step
   (convention of :mod:`videosync.timebase`). Confidence: the ``lag`` confidence times the
   weight share of windows within 0.3 steps of the answer.

Input: the model is trained for one feature layout. The shipped weights take the ``pose``
embedder's default features (58 columns: image and world joint angles, distances, their
rates and the pose speed; ``space="both"``, ``symmetric=True``); other embeddings raise
:class:`~videosync.errors.InvalidParameterError`. Weights: the shipped ``insyn.pt`` unless
``weights=PATH``; train with ``videosync train insyn`` (docs/insyn.md).
"""

from __future__ import annotations

import json
import os
from typing import Any

import numpy as np

from videosync._validation import check_choice, check_flag, check_number
from videosync.errors import InvalidParameterError, MissingDependencyError, MissingWeightsError
from videosync.predict.base import OffsetEstimate, Predictor, SearchRange
from videosync.predict.lag import LagPredictor
from videosync.similarity import SimilarityMatrix
from videosync.weights import resolve as resolve_weights

AGREE_STEPS = 0.3
"""Windows within this many grid steps of the answer count as agreeing (confidence)."""


def _torch():
    try:
        import torch

        from videosync.predict.models import insyn as models
    except ImportError:
        raise MissingDependencyError("the 'insyn' predictor", extra="torch",
                                     hint="pip install torch==2.13.0 (a CPU build)") from None
    return torch, models


def save_model(path: str | os.PathLike, net, meta: dict[str, Any] | None = None) -> None:
    """Write an :class:`InSynFormer` (config + weights + ``meta``) to ``path`` (torch format)."""
    torch, _ = _torch()
    # meta as JSON text: torch.load(weights_only=True) accepts no other objects (e.g. versions)
    torch.save({"config": dict(net.config), "state": net.state_dict(),
                "meta_json": json.dumps(meta or {}, default=str)}, os.fspath(path))


def load_model(path: str | os.PathLike):
    """(model in eval mode, meta) from a file written by :func:`save_model`."""
    torch, models = _torch()
    p = os.fspath(path)
    if not os.path.isfile(p):
        raise MissingWeightsError("the 'insyn' predictor", f"no weights file at {p}; train one with "
                                  "'videosync train insyn --out insyn.pt'")
    blob = torch.load(p, map_location="cpu", weights_only=True)
    net = models.InSynFormer(**blob["config"])
    net.load_state_dict(blob["state"])
    net.eval()
    return net, json.loads(blob.get("meta_json", "{}"))


def window_starts(sim: SimilarityMatrix, lag_steps: int, window: int, stride: int,
                  min_valid: float = 0.75) -> np.ndarray:
    """Rows i of a such that rows i … i+T−1 of a and i+d … i+d+T−1 of b (d = lag − start
    offset) exist and at least ``min_valid`` of each window's rows are valid."""
    n, m = sim.shape
    d = int(lag_steps) - sim.start_offset_steps
    lo, hi = max(0, -d), min(n, m - d) - window
    if hi < lo:
        return np.zeros(0, int)
    starts = np.arange(lo, hi + 1, max(1, int(stride)))
    if starts[-1] != hi:  # reach the end of the overlap too
        starts = np.append(starts, hi)
    va = np.concatenate([[0], np.cumsum(sim.grid_a.valid)])
    vb = np.concatenate([[0], np.cumsum(sim.grid_b.valid)])
    fa = (va[starts + window] - va[starts]) / window
    fb = (vb[starts + d + window] - vb[starts + d]) / window
    return starts[(fa >= min_valid) & (fb >= min_valid)]


def window_arrays(sim: SimilarityMatrix, lag_steps: int, starts: np.ndarray, window: int):
    """(xa, xb, valid_a, valid_b): (W, T, D) float32 features and (W, T) bool, zero where invalid."""
    d = int(lag_steps) - sim.start_offset_steps
    idx = np.asarray(starts, int)[:, None] + np.arange(window)[None, :]
    ga, gb = sim.grid_a, sim.grid_b
    va, vb = ga.valid[idx], gb.valid[idx + d]
    xa = np.where(va[..., None], ga.features[idx], 0.0).astype(np.float32)
    xb = np.where(vb[..., None], gb.features[idx + d], 0.0).astype(np.float32)
    return xa, xb, va, vb


def weighted_median(x: np.ndarray, w: np.ndarray) -> float:
    """The value at half of the total weight (w ≥ 0; uniform weights if they sum to 0)."""
    x, w = np.asarray(x, float), np.asarray(w, float)
    if w.sum() <= 0:
        w = np.ones_like(x)
    o = np.argsort(x)
    c = np.cumsum(w[o])
    return float(x[o][np.searchsorted(c, 0.5 * c[-1])])


class InSynPredictor(Predictor):
    """Fractional offsets: ``lag``'s whole-step peak refined by an InSynFormer-style head.

    Parameters
    ----------
    weights : path, optional
        An ``insyn.pt`` written by ``videosync train insyn``; default: the shipped weights.
    stride : int
        Grid rows between consecutive windows.
    min_valid : float
        Least share of valid rows in each view's window for the window to be used.
    symmetric : bool
        Also run every window with the views swapped and average the two answers.
    mode : {"auto", "diagonal", "matched"}
        The coarse ``lag`` predictor's scoring (see :mod:`videosync.predict.lag`).
    """

    name = "insyn"
    summary = "InSynFormer fractional head: lag's peak + a cross-view transformer on pose windows (torch)"
    is_trainable = True
    accepts = ("pose",)
    """Embedders whose features the shipped weights were trained on (default settings)."""

    def __init__(self, *, weights: str | None = None, stride: int = 8, min_valid: float = 0.75,
                 symmetric: bool = True, mode: str = "auto") -> None:
        self.weights = weights
        self.stride = check_number("InSynPredictor", "stride", stride, low=1, high=1024, integer=True)
        self.min_valid = check_number("InSynPredictor", "min_valid", min_valid, low=0, high=1)
        self.symmetric = check_flag("InSynPredictor", "symmetric", symmetric)
        self.mode = check_choice("InSynPredictor", "mode", mode, ("auto", "diagonal", "matched"))
        self.model_ = None
        self.meta_: dict = {}
        self._path = resolve_weights(self.name, "pt", weights)
        if weights is not None and not os.path.isfile(os.fspath(weights)):
            raise MissingWeightsError("the 'insyn' predictor", f"no weights file at {os.fspath(weights)}; "
                                      "train one with 'videosync train insyn --out insyn.pt'")

    @classmethod
    def is_available(cls) -> bool:
        import importlib.util

        return importlib.util.find_spec("torch") is not None

    @classmethod
    def test_params(cls) -> list[dict]:
        return []  # needs trained weights and pose features; covered by tests/test_insyn.py

    def with_model(self, net, meta: dict | None = None) -> "InSynPredictor":
        """Use an in-memory model (e.g. just trained) instead of a weights file."""
        self.model_, self.meta_ = net.eval(), dict(meta or {})
        return self

    def _net(self):
        if self.model_ is None:
            if self._path is None:
                raise MissingWeightsError("the 'insyn' predictor", "this package ships none; train them with "
                                          "'videosync train insyn --out insyn.pt' and pass weights=PATH")
            self.model_, self.meta_ = load_model(self._path)
        return self.model_

    def check_input(self, sim: SimilarityMatrix) -> None:
        """Raise :class:`InvalidParameterError` unless ``sim``'s features fit the model."""
        net = self._net()
        dim = sim.grid_a.features.shape[1]
        want = net.config["in_dim"]
        if dim != want or not sim.channels_correspond:
            layout = self.meta_.get("features", f"{want} corresponding columns")
            raise InvalidParameterError(
                f"the 'insyn' predictor takes {', '.join(self.accepts)} embeddings ({layout}); "
                f"got {dim} columns{'' if sim.channels_correspond else ' that differ between cameras'}")

    def residuals(self, sim: SimilarityMatrix, lag_steps: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """(starts, r, confidence) of every usable window at whole lag ``lag_steps``; r in grid steps."""
        torch, models = _torch()
        net = self._net()
        t = net.config["window"]
        starts = window_starts(sim, lag_steps, t, self.stride, self.min_valid)
        if starts.size == 0:
            return starts, np.zeros(0), np.zeros(0)
        xa, xb, va, vb = (torch.from_numpy(x) for x in window_arrays(sim, lag_steps, starts, t))
        k = net.max_inter
        # One intra-op thread for these small batches: on the loaded 2-core machine torch's
        # default pool took 1034 s for the suite entry's 400 pairs; one thread, 10-35 s.
        threads = torch.get_num_threads()
        torch.set_num_threads(1)
        try:
            with torch.no_grad():
                r, c = models.decode(net(xa, xb, va, vb), k)
                if self.symmetric:
                    r2, c2 = models.decode(net(xb, xa, vb, va), k)
                    r, c = 0.5 * (r - r2), torch.sqrt(c * c2)
        finally:
            torch.set_num_threads(threads)
        return starts, r.numpy(), c.numpy()

    def _predict(self, sim: SimilarityMatrix, search: SearchRange) -> OffsetEstimate:
        self.check_input(sim)
        coarse = LagPredictor(mode=self.mode).predict(sim, search)
        step = sim.step_seconds
        details = {"coarse_offset_seconds": coarse.offset_seconds, **{f"lag_{k}": v for k, v in coarse.details.items()
                                                                      if k in ("mode", "margin", "reason")}}
        if coarse.confidence == 0.0 and "reason" in coarse.details:
            return OffsetEstimate(coarse.offset_seconds, 0.0, lags_seconds=coarse.lags_seconds,
                                  scores=coarse.scores, details=details | {"windows": 0})
        lag = int(round(coarse.offset_seconds / step))
        starts, r, c = self.residuals(sim, lag)
        if starts.size == 0:
            return OffsetEstimate(coarse.offset_seconds, coarse.confidence, lags_seconds=coarse.lags_seconds,
                                  scores=coarse.scores, overlap_seconds=coarse.overlap_seconds,
                                  details=details | {"windows": 0, "reason": "no window of valid rows in the overlap"})
        res = weighted_median(r, c)
        agree = float(c[np.abs(r - res) <= AGREE_STEPS].sum() / max(c.sum(), 1e-12))
        return OffsetEstimate(
            (lag + res) * step,
            float(np.clip(coarse.confidence * agree, 0.0, 1.0)),
            lags_seconds=coarse.lags_seconds,
            scores=coarse.scores,
            overlap_seconds=coarse.overlap_seconds,
            details=details | {"windows": int(starts.size), "whole_lag_steps": lag, "residual_steps": res,
                               "agreement": agree,
                               "spread_steps": float(np.median(np.abs(r - res)))},
        )
