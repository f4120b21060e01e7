"""VideoSync's learned offset heads over the similarity image (for comparison).

The reference code (VideoSync, ``train_sync_offset_detector.py``) feeds each head the
row-softmaxed similarity matrix at temperature 1, **zero-padded bottom/right to 256 × 256**
(top-left anchored, truncated if larger), flattened, and classifies the offset into the
integers −R…R frames (R = 30: 61 classes). This module reproduces that input exactly and
three of its heads — ``logreg`` (sklearn ``LogisticRegression`` defaults, ``max_iter=1000``),
``mlp`` (``MLPClassifier`` with hidden layers 2048/1024/512, adam, lr 1e-3, early stopping,
``validation_fraction=0.2``, ``n_iter_no_change=20``, ``random_state=42``) and ``svr``
(``SVR()`` defaults on the raw offset, rounded and clipped as in the paper) — with the
reference's flaws fixed where they are flaws: the offset is read on the common
time grid, and training/validation are split by scene (``videosync train``).

It is a fixed-range, fixed-size head: it cannot answer outside ±R and ignores frames past
the 256th. Weights are an ``.npz`` of plain arrays (no pickles), loaded with ``weights=PATH``;
inference is numpy only. Without weights a head raises :class:`MissingWeightsError`. The
reference MLP has 134 M weights in its first layer at 256 × 256 input: use ``size`` and
``hidden`` to train smaller ones.
"""

from __future__ import annotations

import json
import os

import numpy as np

from videosync._validation import check_number
from videosync.errors import MissingDependencyError, MissingWeightsError
from videosync.predict.base import OffsetEstimate, Predictor, SearchRange
from videosync.similarity import SimilarityMatrix
from videosync.weights import resolve as resolve_weights


def similarity_image(sim: SimilarityMatrix, *, size: int = 256, temperature: float = 1.0) -> np.ndarray:
    """(size, size) float32: the row-softmaxed similarity, zero-padded bottom/right.

    As in the reference: negative squared Euclidean distance of unit rows, softmax at
    ``temperature`` 1 (so rows are nearly flat — a flaw of the reference kept on purpose).

    Rows are video a's grid frames, columns b's; entry (i, j) is the probability that
    row i matches column j. Column j − i = k means offset k grid steps *before* the start
    offsets of the two grids are added (see :meth:`SimilarityMatrix.start_offset_steps`).
    """
    n = min(sim.shape[0], size)
    s = sim.block(0, n)[:, :size].astype(np.float64)
    if sim.metric == "cosine":  # the reference uses −‖â − b̂‖² = 2 cos − 2, in [−4, 0]
        s = 2.0 * s - 2.0
    s = s / temperature
    s = np.where(np.isnan(s), -np.inf, s)
    m = np.max(s, axis=1, keepdims=True)
    e = np.exp(s - np.where(np.isfinite(m), m, 0.0))
    z = e.sum(axis=1, keepdims=True)
    p = e / np.where(z > 0, z, 1.0)
    out = np.zeros((size, size), np.float32)
    out[: p.shape[0], : p.shape[1]] = p
    return out


class LogRegHead(Predictor):
    """VideoSync's logistic-regression head (reference input, ±R classes)."""

    name = "logreg"
    summary = "VideoSync logistic-regression head on the 256x256 softmax image (needs trained weights)"
    is_trainable = True

    def __init__(self, *, weights: str | None = None, size: int = 256, max_offset_frames: int = 30) -> None:
        self.weights = weights
        self.size = check_number("LogRegHead", "size", size, low=4, high=1024, integer=True)
        self.max_offset_frames = check_number(
            "LogRegHead", "max_offset_frames", max_offset_frames, low=1, integer=True)
        self.coef_: np.ndarray | None = None
        self.intercept_: np.ndarray | None = None
        self.classes_: np.ndarray | None = None
        path = resolve_weights(self.name, "npz", weights)  # the user's file, else the shipped one
        if path is not None:
            self.load(path)

    @classmethod
    def is_available(cls) -> bool:
        return _importable("sklearn")

    @classmethod
    def test_params(cls) -> list[dict]:
        return []  # needs trained weights; covered by tests/test_heads.py

    # Training -----------------------------------------------------------------------
    def fit(self, sims: list[SimilarityMatrix], offsets_steps: np.ndarray, *, seed: int = 0) -> "LogRegHead":
        """Fit on similarity matrices and their true offsets in grid steps (rounded, clipped to ±R)."""
        try:
            from sklearn.linear_model import LogisticRegression
        except ImportError:
            raise MissingDependencyError("the 'logreg' head", extra="learn", package="scikit-learn") from None
        X = np.stack([self.features(s) for s in sims])
        y = self._labels(sims, offsets_steps)
        model = LogisticRegression(max_iter=1000, random_state=seed).fit(X, y)
        self.coef_ = model.coef_.astype(np.float32)
        self.intercept_ = model.intercept_.astype(np.float32)
        self.classes_ = model.classes_.astype(np.int64)
        return self

    def _labels(self, sims, offsets_steps) -> np.ndarray:
        # The image's column − row equals (offset − start offset) grid steps.
        lab = np.rint(np.asarray(offsets_steps, float) - np.array([s.start_offset_steps for s in sims]))
        return np.clip(lab, -self.max_offset_frames, self.max_offset_frames).astype(np.int64)

    def features(self, sim: SimilarityMatrix) -> np.ndarray:
        return similarity_image(sim, size=self.size).ravel()

    # Persistence --------------------------------------------------------------------
    def save(self, path: str | os.PathLike, card: dict | None = None) -> None:
        """Weights as ``.npz``; ``card`` (how they were trained) goes beside as ``.json``."""
        self._check_fitted()
        np.savez_compressed(path, coef=self.coef_, intercept=self.intercept_, classes=self.classes_,
                            size=self.size, max_offset_frames=self.max_offset_frames)
        _write_card(path, card)

    def load(self, path: str | os.PathLike) -> "LogRegHead":
        p = _weights_path(path, self.name)
        with np.load(p) as d:
            self.coef_, self.intercept_, self.classes_ = d["coef"], d["intercept"], d["classes"]
            self.size, self.max_offset_frames = int(d["size"]), int(d["max_offset_frames"])
        return self

    def _check_fitted(self) -> None:
        if self.coef_ is None:
            raise MissingWeightsError(f"the {self.name!r} head",
                                      f"pass weights=PATH (made by 'videosync train {self.name}')")

    def _logits(self, x: np.ndarray) -> np.ndarray:
        logits = self.coef_ @ x + self.intercept_
        if len(self.classes_) == 2:  # sklearn keeps one row for two classes: the second's logit
            return np.array([0.0, float(logits[0])])
        return logits

    # Prediction ---------------------------------------------------------------------
    def _predict(self, sim: SimilarityMatrix, search: SearchRange) -> OffsetEstimate:
        self._check_fitted()
        logits = self._logits(self.features(sim))
        p = np.exp(logits - logits.max())
        p /= p.sum()
        lags = self.classes_ + sim.start_offset_steps
        if search.max_offset_seconds is not None:
            p = np.where(np.abs(lags * sim.step_seconds) <= search.max_offset_seconds + 1e-9, p, 0.0)
        k = int(np.argmax(p))
        conf = float(p[k] / p.sum()) if p.sum() > 0 else 0.0
        return OffsetEstimate(float(lags[k]) * sim.step_seconds, conf,
                              lags_seconds=lags * sim.step_seconds, scores=p,
                              details={"classes": int(len(self.classes_))})


class MLPHead(LogRegHead):
    """VideoSync's MLP head (reference sizes by default)."""

    name = "mlp"
    summary = "VideoSync MLP head (2048/1024/512) on the softmax image (needs trained weights)"

    def __init__(self, *, weights: str | None = None, size: int = 256, max_offset_frames: int = 30,
                 hidden: tuple = (2048, 1024, 512)) -> None:
        self.hidden = tuple(int(h) for h in hidden)
        self.layers_: list[tuple[np.ndarray, np.ndarray]] | None = None
        super().__init__(weights=weights, size=size, max_offset_frames=max_offset_frames)

    def fit(self, sims, offsets_steps, *, seed: int = 42) -> "MLPHead":
        try:
            from sklearn.neural_network import MLPClassifier
        except ImportError:
            raise MissingDependencyError("the 'mlp' head", extra="learn", package="scikit-learn") from None
        X = np.stack([self.features(s) for s in sims])
        y = self._labels(sims, offsets_steps)
        m = MLPClassifier(self.hidden, activation="relu", solver="adam", learning_rate_init=1e-3,
                          early_stopping=True, validation_fraction=0.2, n_iter_no_change=20, max_iter=1000,
                          random_state=seed).fit(X, y)
        self.layers_ = [(w.astype(np.float32), b.astype(np.float32)) for w, b in zip(m.coefs_, m.intercepts_)]
        self.classes_ = m.classes_.astype(np.int64)
        self.coef_ = self.layers_[-1][0]  # marks the head as fitted
        return self

    def save(self, path, card=None) -> None:
        self._check_fitted()
        arrays = {f"w{i}": w for i, (w, _) in enumerate(self.layers_)}
        arrays.update({f"b{i}": b for i, (_, b) in enumerate(self.layers_)})
        np.savez_compressed(path, classes=self.classes_, size=self.size, max_offset_frames=self.max_offset_frames,
                            n_layers=len(self.layers_), **arrays)
        _write_card(path, card)

    def load(self, path) -> "MLPHead":
        p = _weights_path(path, self.name)
        with np.load(p) as d:
            n = int(d["n_layers"])
            self.layers_ = [(d[f"w{i}"], d[f"b{i}"]) for i in range(n)]
            self.classes_ = d["classes"]
            self.size, self.max_offset_frames = int(d["size"]), int(d["max_offset_frames"])
        self.coef_ = self.layers_[-1][0]
        return self

    def _logits(self, x: np.ndarray) -> np.ndarray:
        h = x
        for i, (w, b) in enumerate(self.layers_):
            h = h @ w + b
            if i < len(self.layers_) - 1:
                h = np.maximum(h, 0.0)
        if len(self.classes_) == 2:
            return np.array([0.0, float(h[0])])
        return h


class SVRHead(LogRegHead):
    """VideoSync's support-vector regression head: the offset as a real number."""

    name = "svr"
    summary = "VideoSync SVR head (RBF) on the softmax image; no confidence (needs trained weights)"
    returns_confidence = False

    def fit(self, sims, offsets_steps, *, seed: int = 0) -> "SVRHead":
        try:
            from sklearn.svm import SVR
        except ImportError:
            raise MissingDependencyError("the 'svr' head", extra="learn", package="scikit-learn") from None
        X = np.stack([self.features(s) for s in sims])
        y = self._labels(sims, offsets_steps).astype(float)
        m = SVR().fit(X, y)
        self.support_ = m.support_vectors_.astype(np.float32)
        self.coef_ = m.dual_coef_.astype(np.float32).ravel()
        self.intercept_ = np.asarray(m.intercept_, np.float32)
        self.gamma_ = float(m._gamma)
        return self

    def save(self, path, card=None) -> None:
        self._check_fitted()
        np.savez_compressed(path, support=self.support_, dual_coef=self.coef_, intercept=self.intercept_,
                            gamma=self.gamma_, size=self.size, max_offset_frames=self.max_offset_frames)
        _write_card(path, card)

    def load(self, path) -> "SVRHead":
        p = _weights_path(path, self.name)
        with np.load(p) as d:
            self.support_, self.coef_, self.intercept_ = d["support"], d["dual_coef"], d["intercept"]
            self.gamma_ = float(d["gamma"])
            self.size, self.max_offset_frames = int(d["size"]), int(d["max_offset_frames"])
        return self

    def _predict(self, sim: SimilarityMatrix, search: SearchRange) -> OffsetEstimate:
        self._check_fitted()
        x = self.features(sim)
        k = np.exp(-self.gamma_ * ((self.support_ - x) ** 2).sum(axis=1))
        value = float(k @ self.coef_ + self.intercept_[0])
        lag = float(np.clip(np.rint(value), -self.max_offset_frames, self.max_offset_frames))
        offset = (lag + sim.start_offset_steps) * sim.step_seconds
        if search.max_offset_seconds is not None:
            offset = float(np.clip(offset, -search.max_offset_seconds, search.max_offset_seconds))
        return OffsetEstimate(offset, 0.0, details={"regressed_steps": value})


def _importable(module: str) -> bool:
    import importlib.util

    return importlib.util.find_spec(module) is not None


def _weights_path(path, name: str) -> str:
    p = os.fspath(path)
    if not os.path.isfile(p):
        raise MissingWeightsError(f"the {name!r} head", f"no weights file at {p}; train one with "
                                  f"'videosync train {name} --out weights.npz'")
    return p


def _write_card(path, card) -> None:
    if card is not None:
        with open(os.path.splitext(os.fspath(path))[0] + ".json", "w") as f:
            json.dump(card, f, indent=2)


class CNNHead(LogRegHead):
    """VideoSync's CNN head (``SimilarityMatrixClassifier``), trained with its recipe but
    with the best validation weights really kept (deep copy) and validation split by scene."""

    name = "cnn"
    summary = "VideoSync CNN head on the softmax image (torch; needs trained weights)"

    def __init__(self, *, weights: str | None = None, size: int = 256, max_offset_frames: int = 30,
                 epochs: int = 150, batch_size: int = 32) -> None:
        self.epochs = int(epochs)
        self.batch_size = int(batch_size)
        self.model_ = None
        super().__init__(weights=weights, size=size, max_offset_frames=max_offset_frames)

    @classmethod
    def is_available(cls) -> bool:
        return _importable("torch")

    def _torch(self):
        try:
            import torch

            from videosync.predict.models.cnn import SimilarityMatrixClassifier
        except ImportError:
            raise MissingDependencyError("the 'cnn' head", extra="torch",
                                         hint="pip install torch==2.13.0 (a CPU build)") from None
        return torch, SimilarityMatrixClassifier

    def fit(self, sims, offsets_steps, *, seed: int = 0, val_sims=None, val_offsets_steps=None) -> "CNNHead":
        """AdamW (lr 1e-4, wd 0.01), batch 32, ReduceLROnPlateau(×0.5, patience 5) on validation
        loss, early stop after 10 epochs without improvement; keeps the best weights."""
        import copy

        torch, Net = self._torch()
        torch.manual_seed(seed)
        R = self.max_offset_frames
        X = torch.from_numpy(np.stack([similarity_image(s, size=self.size) for s in sims]))[:, None]
        y = torch.from_numpy(self._labels(sims, offsets_steps) + R)
        if val_sims is None:  # hold out 20 % of the given pairs (callers should split by scene)
            n_val = max(1, len(sims) // 5)
            Xv, yv, X, y = X[:n_val], y[:n_val], X[n_val:], y[n_val:]
        else:
            Xv = torch.from_numpy(np.stack([similarity_image(s, size=self.size) for s in val_sims]))[:, None]
            yv = torch.from_numpy(self._labels(val_sims, val_offsets_steps) + R)
        net = Net(size=self.size, n_classes=2 * R + 1)
        opt = torch.optim.AdamW(net.parameters(), lr=1e-4, weight_decay=0.01)
        sched = torch.optim.lr_scheduler.ReduceLROnPlateau(opt, factor=0.5, patience=5)
        loss_fn = torch.nn.CrossEntropyLoss()
        gen = torch.Generator().manual_seed(seed)
        best, best_state, stale = float("inf"), None, 0
        self.history_ = []
        for _ in range(self.epochs):
            net.train()
            order = torch.randperm(len(X), generator=gen)
            for i in range(0, len(X), self.batch_size):
                idx = order[i:i + self.batch_size]
                if len(idx) < 2:  # BatchNorm needs two samples
                    continue
                opt.zero_grad()
                loss = loss_fn(net(X[idx]), y[idx])
                loss.backward()
                opt.step()
            net.eval()
            with torch.no_grad():
                val_loss = float(loss_fn(net(Xv), yv))
            self.history_.append(val_loss)
            sched.step(val_loss)
            if val_loss < best - 1e-6:
                best, best_state, stale = val_loss, copy.deepcopy(net.state_dict()), 0
            else:
                stale += 1
                if stale >= 10:
                    break
        net.load_state_dict(best_state)
        net.eval()
        self.model_ = net
        self.classes_ = np.arange(-R, R + 1)
        self.coef_ = np.zeros(1)  # marks the head as fitted
        return self

    def save(self, path, card=None) -> None:
        self._check_fitted()
        arrays = {f"p:{k}": v.detach().cpu().numpy() for k, v in self.model_.state_dict().items()}
        np.savez_compressed(path, size=self.size, max_offset_frames=self.max_offset_frames, **arrays)
        _write_card(path, card)

    def load(self, path) -> "CNNHead":
        torch, Net = self._torch()
        p = _weights_path(path, self.name)
        with np.load(p) as d:
            self.size, self.max_offset_frames = int(d["size"]), int(d["max_offset_frames"])
            state = {k[2:]: torch.from_numpy(d[k].copy()) for k in d.files if k.startswith("p:")}
        net = Net(size=self.size, n_classes=2 * self.max_offset_frames + 1)
        net.load_state_dict(state)
        net.eval()
        self.model_ = net
        self.classes_ = np.arange(-self.max_offset_frames, self.max_offset_frames + 1)
        self.coef_ = np.zeros(1)
        return self

    def _logits(self, x: np.ndarray) -> np.ndarray:
        torch, _ = self._torch()
        with torch.no_grad():
            t = torch.from_numpy(x.reshape(1, 1, self.size, self.size).astype(np.float32))
            return self.model_(t)[0].numpy().astype(np.float64)
