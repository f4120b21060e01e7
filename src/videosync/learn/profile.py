"""Training the ``profile`` head (:mod:`videosync.predict.profile`): ``videosync train profile``.

Data, all made by the project: rendered synthetic worlds of every kind
(:func:`videosync.eval.datasets.load_synthetic`, seeds the bench does not use), embedded
once, then

* **positives**: equal-length crop pairs with offsets uniform in ±R frames (R and the
  crop length drawn per pair, so the head sees many ranges and lengths), searched over
  ±(R + 1) frames as the bench does, plus every camera pair of the whole clips searched
  over all lags the overlap rule allows;
* **negatives**: crops of two different worlds (label: *null*, "no lag is right").

Validation is split by scene (whole worlds held out). The softmax temperature is then
fitted on the validation pairs (temperature scaling), so that the confidence — the mass
within ±1 step of the answer — reads as a probability. Then the stacked confidence (the
network's confidence at ``lag``'s peak and ``lag``'s null confidence, logistic regression) is
fitted on the first validation seed's worlds and reported on the others. ``init=PATH`` (or
``shipped``) keeps an existing network and refits only the temperature and the stack.
Torch is needed for training the network only.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass

import numpy as np

from videosync.errors import InvalidParameterError, MissingDependencyError
from videosync.predict.base import SearchRange
from videosync.predict.profile import CHANNELS, ProfileHead, forward, lag_channels, window_probability
from videosync.similarity import SimilarityMatrix

KINDS = ("human", "humans", "objects", "pendulums", "pouring", "flock")


@dataclass
class Sample:
    x: np.ndarray  # (C, L) channels
    allowed: np.ndarray  # (L,) bool
    target: int  # index of the true lag, or -1 for "null"
    truth_steps: float  # true offset in steps (nan for negatives)
    lags: np.ndarray
    lag_pred: int  # index the hand-crafted `lag` predictor would pick (for comparison)
    lag_conf: float


def _sample(sim: SimilarityMatrix, search: SearchRange, truth_seconds: float | None) -> Sample | None:
    from videosync.predict.lag import LagPredictor

    lags, x, allowed, _, _ = lag_channels(sim, search)
    if allowed.sum() < 3:
        return None
    step = sim.step_seconds
    target, truth_steps = -1, math.nan
    if truth_seconds is not None:
        truth_steps = truth_seconds / step
        i = int(np.argmin(np.abs(lags - truth_steps)))
        if not allowed[i] or abs(lags[i] - truth_steps) > 0.5 + 1e-6:
            return None  # the truth is outside the search: not a usable positive
        target = i
    est = LagPredictor().predict(sim, search)
    lag_pred = int(np.argmin(np.abs(lags * step - est.offset_seconds))) if len(lags) else 0
    return Sample(x, allowed, target, truth_steps, lags, lag_pred, est.confidence)


def make_samples(scenes, cache, *, n_pairs: int, negatives: float, seed: int, whole: bool = True) -> list[Sample]:
    """Training/validation samples from embedded ``scenes`` (see the module docstring)."""
    from videosync.eval.pairs import make_pairs
    from videosync.io import probe

    rng = np.random.default_rng(seed)
    durations = {p: probe(p).duration_seconds for s in scenes for p in s.paths}
    by_name = {s.name: s for s in scenes}
    out: list[Sample] = []
    crops = []
    for r, clip in ((8, 4.0), (15, 5.0), (30, 6.0), (60, 8.0)):
        pairs = make_pairs(scenes, durations, n_pairs=max(1, n_pairs // 4), max_offset_frames=r,
                           clip_seconds=clip, seed=int(rng.integers(1 << 30)))
        for p in pairs:
            s = by_name[p.scene]
            a, b = p.apply(cache[s.paths[p.a]], cache[s.paths[p.b]])
            crops.append((p, a, b))
            search = SearchRange(max_offset_seconds=(r + 1) / p.fps, min_overlap_seconds=2.0)
            smp = _sample(SimilarityMatrix(a, b), search, p.truth_seconds)
            if smp is not None:
                out.append(smp)
    if whole:
        for s in scenes:
            for i in range(len(s.paths)):
                for j in range(len(s.paths)):
                    if i != j:
                        smp = _sample(SimilarityMatrix(cache[s.paths[i]], cache[s.paths[j]]), SearchRange(),
                                      s.relative_offset(i, j))
                        if smp is not None:
                            out.append(smp)
    n_neg = int(round(negatives * len(out) / max(1e-9, 1 - negatives)))
    tries = 0
    while n_neg > 0 and tries < 20 * n_neg and len(scenes) > 1:
        tries += 1
        (p, a, _), (q, _, b) = (crops[k] for k in rng.integers(len(crops), size=2))
        if p.scene == q.scene:
            continue
        r = int(round(abs(p.truth_seconds) * p.fps)) + 1
        search = SearchRange(max_offset_seconds=(r + 1) / p.fps, min_overlap_seconds=2.0)
        smp = _sample(SimilarityMatrix(a, b), search, None)
        if smp is not None:
            out.append(smp)
            n_neg -= 1
    return out


def _torch_model(hidden: int, dilations: tuple[int, ...], kernel: int):
    import torch
    from torch import nn

    class Net(nn.Module):
        def __init__(self):
            super().__init__()
            chans = [len(CHANNELS)] + [hidden] * len(dilations)
            self.convs = nn.ModuleList(
                nn.Conv1d(chans[i], chans[i + 1], kernel, dilation=d, padding=d * (kernel - 1) // 2)
                for i, d in enumerate(dilations))
            self.out = nn.Conv1d(hidden, 1, 1)
            self.null = nn.Linear(2 * hidden, 1)

        def forward(self, x, mask):  # x (B, C, L), mask (B, L) bool
            h = x
            for c in self.convs:
                h = torch.relu(c(h))
            logits = self.out(h)[:, 0]
            m = mask[:, None, :]
            hmax = torch.where(m, h, torch.full_like(h, -1e9)).amax(dim=2)
            hmean = (h * m).sum(dim=2) / m.sum(dim=2).clamp(min=1)
            null = self.null(torch.cat([hmax, hmean], dim=1))
            logits = torch.where(mask, logits, torch.full_like(logits, -1e9))
            return torch.cat([logits, null], dim=1)  # (B, L + 1); the last column is the null

    return Net()


def _batch(samples, torch):
    L = max(s.x.shape[1] for s in samples)
    x = np.zeros((len(samples), len(CHANNELS), L), np.float32)
    mask = np.zeros((len(samples), L), bool)
    y = np.zeros(len(samples), np.int64)
    for k, s in enumerate(samples):
        n = s.x.shape[1]
        x[k, :, :n] = s.x
        mask[k, :n] = s.allowed
        y[k] = s.target if s.target >= 0 else L  # null column
    return torch.from_numpy(x), torch.from_numpy(mask), torch.from_numpy(y)


def to_numpy_params(net, dilations, temperature: float) -> dict[str, np.ndarray]:
    p = {f"conv{i}.{k}": v.detach().numpy().astype(np.float32)
         for i, c in enumerate(net.convs) for k, v in c.state_dict().items()}
    p.update({f"out.{k}": v.detach().numpy().astype(np.float32) for k, v in net.out.state_dict().items()})
    p.update({f"null.{k}": v.detach().numpy().astype(np.float32) for k, v in net.null.state_dict().items()})
    p["dilations"] = np.array(dilations, np.int64)
    p["temperature"] = np.array(temperature, np.float64)
    return p


def fit(train: list[Sample], *, epochs: int = 40, hidden: int = 24, dilations=(1, 2, 4, 8), kernel: int = 5,
        lr: float = 3e-3, batch: int = 32, seed: int = 0, progress=None, val: list[Sample] | None = None):
    """Train the network; returns numpy parameters (temperature 1) and the loss per epoch."""
    try:
        import torch
    except ImportError as exc:  # pragma: no cover - depends on the environment
        raise MissingDependencyError("training the profile head", "torch", package="torch",
                                     hint="pip install torch==2.13.0") from exc
    torch.manual_seed(seed)
    threads = torch.get_num_threads()
    torch.set_num_threads(1)  # tiny tensors: one thread is faster and leaves the other core free
    rng = np.random.default_rng(seed)
    net = _torch_model(hidden, tuple(dilations), kernel)
    opt = torch.optim.Adam(net.parameters(), lr=lr, weight_decay=1e-4)
    sched = torch.optim.lr_scheduler.CosineAnnealingLR(opt, T_max=max(1, epochs))
    losses, best, best_state = [], math.inf, None
    order = np.argsort([s.x.shape[1] for s in train])  # similar lengths per batch: less padding
    chunks = [order[i:i + batch] for i in range(0, len(order), batch)]
    for ep in range(epochs):
        net.train()
        total = 0.0
        for c in rng.permutation(len(chunks)):
            x, m, y = _batch([train[k] for k in chunks[c]], torch)
            loss = torch.nn.functional.cross_entropy(net(x, m), y)
            opt.zero_grad()
            loss.backward()
            opt.step()
            total += float(loss.detach()) * len(chunks[c])
        sched.step()
        losses.append(total / len(train))
        if val:
            vl = _nll(net, val, torch, 1.0)
            if vl < best:
                best, best_state = vl, {k: v.detach().clone() for k, v in net.state_dict().items()}
        if progress:
            progress(f"profile epoch {ep + 1}/{epochs}: train loss {losses[-1]:.3f}"
                     + (f", validation loss {vl:.3f}" if val else ""))
    if best_state is not None:
        net.load_state_dict(best_state)
    torch.set_num_threads(threads)
    return to_numpy_params(net, tuple(dilations), 1.0), losses


def _nll(net, samples, torch, temperature: float) -> float:
    net.eval()
    with torch.no_grad():
        total = 0.0
        for i in range(0, len(samples), 64):
            x, m, y = _batch(samples[i:i + 64], torch)
            total += float(torch.nn.functional.cross_entropy(net(x, m) / temperature, y, reduction="sum"))
    return total / max(1, len(samples))


def predict_samples(params, samples: list[Sample], temperature: float = 1.0):
    """(chosen index, confidence, null probability) per sample, with the numpy forward."""
    out = []
    for s in samples:
        logits, null = forward(params, s.x, s.allowed)
        best = int(np.argmax(logits))
        z = np.concatenate([logits, [null]]) / temperature
        z = np.exp(z - np.max(z))
        out.append((best, window_probability(logits, null, best, temperature), float(z[-1] / z.sum())))
    return out


def fit_temperature(params, samples: list[Sample]) -> float:
    """Temperature minimising the validation negative log-likelihood (grid + refine)."""
    def nll(t):
        tot = 0.0
        for s in samples:
            logits, null = forward(params, s.x, s.allowed)
            z = np.concatenate([logits, [null]]) / t
            zmax = np.max(z)
            lse = zmax + math.log(np.exp(z - zmax).sum())
            tot += lse - z[s.target if s.target >= 0 else -1]
        return tot / len(samples)

    grid = np.exp(np.linspace(math.log(0.25), math.log(8.0), 25))
    vals = [nll(t) for t in grid]
    return float(grid[int(np.argmin(vals))])


def evaluate(params, samples: list[Sample], temperature: float) -> dict:
    """Accuracy within one step (head vs lag), AUROC of the confidence for "answer within one
    step" with negatives counted as wrong, errors among confident answers, reliability bins."""
    from videosync.eval.metrics import auroc, reliability

    pred = predict_samples(params, samples, temperature)
    pos = [k for k, s in enumerate(samples) if s.target >= 0]
    def within(k, idx):
        return abs(samples[k].lags[idx] - samples[k].truth_steps) <= 1.0
    ok_head = np.array([within(k, pred[k][0]) if samples[k].target >= 0 else False for k in range(len(samples))])
    ok_lag = np.array([within(k, samples[k].lag_pred) if samples[k].target >= 0 else False
                       for k in range(len(samples))])
    conf_head = np.array([p[1] for p in pred])
    conf_lag = np.array([s.lag_conf for s in samples])
    conf_head_at_peak = np.array([window_probability(*forward(params, s.x, s.allowed), s.lag_pred, temperature)
                                  for s in samples])
    accepted = conf_head >= 0.5
    return {
        "pairs": len(samples),
        "positives": len(pos),
        "negatives": len(samples) - len(pos),
        "acc_at_1_head": float(ok_head[pos].mean()) if pos else None,
        "acc_at_1_lag": float(ok_lag[pos].mean()) if pos else None,
        "auroc_head": auroc(conf_head, ok_head),
        "auroc_lag": auroc(conf_lag, ok_lag),
        "auroc_head_confidence_of_peak": auroc(conf_head_at_peak, ok_lag),
        "accepted_fraction_head": float(accepted.mean()),
        "errors_among_accepted_head": float((~ok_head[accepted]).mean()) if accepted.any() else None,
        "errors_among_accepted_lag": float((~ok_lag[conf_lag >= 0.5]).mean()) if (conf_lag >= 0.5).any() else None,
        "reliability_head": reliability(conf_head, ok_head),
    }


def _stack_inputs(params, samples: list[Sample], temperature: float):
    """(P (n, 2): the network's confidence at lag's peak and lag's null confidence; y: lag's
    peak within one step of the truth, negatives False)."""
    P = np.array([[window_probability(*forward(params, s.x, s.allowed), s.lag_pred, temperature), s.lag_conf]
                  for s in samples])
    y = np.array([s.target >= 0 and abs(s.lags[s.lag_pred] - s.truth_steps) <= 1.0 for s in samples])
    return P, y


def fit_stack(X: np.ndarray, y: np.ndarray, *, l2: float = 1e-3, iterations: int = 50) -> np.ndarray:
    """Logistic regression (intercept + weights) by Newton's method with a small L2 penalty."""
    A = np.hstack([np.ones((len(X), 1)), X])
    w = np.zeros(A.shape[1])
    for _ in range(iterations):
        p = 1.0 / (1.0 + np.exp(-np.clip(A @ w, -50, 50)))
        g = A.T @ (p - y) + l2 * w
        H = (A * (p * (1 - p))[:, None]).T @ A + l2 * np.eye(A.shape[1])
        step = np.linalg.solve(H, g)
        w -= step
        if np.max(np.abs(step)) < 1e-8:
            break
    return w


def train(request) -> dict:
    """Trainer registered as ``profile`` in :data:`videosync.train.TRAINERS`."""
    from videosync import __version__
    from videosync.eval.benchmark import embed_scenes
    from videosync.eval.datasets import load_synthetic
    from videosync.train import check_params

    # Defaults = the shipped weights' run (see videosync/weights/profile.json).
    params = {"kinds": KINDS, "train_seeds": (30, 32), "val_seeds": (31, 33), "embedder": "motion", "n_pairs": 1200,
              "negatives": 0.25, "epochs": 20, "hidden": 24, "kernel": 5, "cache": None, "init": None}
    params.update(check_params(request.params, tuple(params), "profile"))
    if isinstance(params["kinds"], str):
        params["kinds"] = tuple(k for k in params["kinds"].split(",") if k)
    unknown = sorted(set(params["kinds"]) - set(KINDS))
    if unknown:
        raise InvalidParameterError(f"unknown synthetic kinds {unknown}; known: {', '.join(KINDS)}")
    import os

    cache_dir = params["cache"] or os.path.join(os.path.expanduser("~"), ".cache", "videosync")
    started = time.perf_counter()
    init = params["init"]
    init_card = None
    tr_scenes, va_scenes, va_first = [], [], []
    val_seeds = tuple(params["val_seeds"])
    for kind in params["kinds"]:
        if not init:
            tr_scenes += load_synthetic(kind, cache_dir, seeds=tuple(params["train_seeds"]), progress=request.progress)
        first = load_synthetic(kind, cache_dir, seeds=val_seeds[:1], progress=request.progress)
        va_first += first
        va_scenes += first + load_synthetic(kind, cache_dir, seeds=val_seeds[1:], progress=request.progress)
    cache = embed_scenes(tr_scenes + va_scenes, params["embedder"], request.progress)
    per_scene = max(8, params["n_pairs"] // max(1, len(params["kinds"])))
    train_s, val_s, in_first = [], [], []
    for k, s in enumerate(tr_scenes):  # pairs per world, so every kind is represented
        train_s += make_samples([s] + [t for t in tr_scenes if t is not s][:1], cache, n_pairs=per_scene,
                                negatives=params["negatives"], seed=request.seed + k)
    for k, s in enumerate(va_scenes):
        got = make_samples([s] + [t for t in va_scenes if t is not s][:1], cache, n_pairs=per_scene // 2,
                           negatives=params["negatives"], seed=request.seed + 1000 + k)
        val_s += got
        in_first += [any(s is f for f in va_first)] * len(got)
    if request.progress:
        request.progress(f"profile: {len(train_s)} training and {len(val_s)} validation pairs")
    dil = (1, 2, 4, 8)
    if init:  # keep an existing network; refit its temperature and the stacked confidence
        import hashlib

        from videosync.weights import shipped

        path = shipped("profile", "npz") if str(init) == "shipped" else os.path.expanduser(str(init))
        if path is None or not os.path.isfile(path):
            raise InvalidParameterError(f"profile: init weights not found ({init})")
        with np.load(path) as d:
            net_params = {k: d[k] for k in d.files if k not in ("temperature", "calib")}
        with open(path, "rb") as fh:
            init_card = f"{os.path.basename(path)}, sha256 {hashlib.sha256(fh.read()).hexdigest()[:16]}"
        dil = tuple(int(v) for v in net_params["dilations"])
        losses = []
    else:
        net_params, losses = fit(train_s, epochs=int(params["epochs"]), hidden=int(params["hidden"]), dilations=dil,
                                 kernel=int(params["kernel"]), seed=request.seed, progress=request.progress,
                                 val=val_s)
    temperature = fit_temperature(net_params, val_s)
    net_params["temperature"] = np.array(temperature)
    metrics = evaluate(net_params, val_s, temperature)
    # Stacked confidence: fitted on the first validation seed's worlds, reported on the others.
    from videosync.eval.metrics import auroc

    from videosync.predict.profile import _logit, stacked_confidence

    P, y = _stack_inputs(net_params, val_s, temperature)
    first = np.array(in_first, bool)
    calib = fit_stack(np.vectorize(_logit)(P[first]), y[first])
    net_params["calib"] = calib
    stacked = np.array([stacked_confidence(calib, pn, pl) for pn, pl in P])  # as the head computes it
    held = ~first
    metrics["stacked"] = {
        "fitted_on": f"validation seed {val_seeds[0]} ({int(first.sum())} pairs)",
        "reported_on": f"validation seeds {list(val_seeds[1:])} ({int(held.sum())} pairs)",
        "coefficients": [round(float(v), 4) for v in calib],
        "auroc_stacked": auroc(stacked[held], y[held]),
        "auroc_lag_null": auroc(np.clip(P[held, 1], 1e-4, 1 - 1e-4), y[held]),  # as the stack sees them
        "auroc_network_at_peak": auroc(np.clip(P[held, 0], 1e-4, 1 - 1e-4), y[held]),
        "errors_among_accepted_stacked": float((~y[held][stacked[held] >= 0.5]).mean())
        if (stacked[held] >= 0.5).any() else None,
        "accepted_stacked": float((stacked[held] >= 0.5).mean()),
    }
    card = {
        "model": "profile",
        "command": request.command,
        "videosync_version": __version__,
        "data": {"synthetic_kinds": list(params["kinds"]), "train_seeds": list(params["train_seeds"]),
                 "validation_seeds": list(params["val_seeds"]), "embedder": params["embedder"],
                 "train_pairs": len(train_s), "validation_pairs": len(val_s), "negatives_fraction": params["negatives"],
                 "note": "bench worlds are seeds 0-2; these seeds are disjoint from them"},
        "init": init_card,
        "parameters": {"hidden": params["hidden"], "kernel": params["kernel"], "dilations": list(dil),
                       "epochs": None if init else params["epochs"], "seed": request.seed,
                       "channels": list(CHANNELS)},
        "train_loss": [round(v, 4) for v in losses],
        "temperature": temperature,
        "validation": metrics,
        "train_minutes": round((time.perf_counter() - started) / 60, 1),
    }
    ProfileHead.save_params(request.out, net_params)
    import json

    with open(os.path.splitext(os.fspath(request.out))[0] + ".json", "w") as f:
        json.dump(card, f, indent=2)
    return card
