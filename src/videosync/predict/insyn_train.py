"""Training data and trainer of the ``insyn`` fractional head, made without rendering video.

Data: the synthetic people of :mod:`videosync.synth` as skeletons (MuJoCo kinematics, no
GL), seen by random pinhole cameras with their own frame rates and random phases, degraded
like a pose detector's output — all from the ``sesyn`` generator
(:mod:`videosync.embed.sesyn_train`: :func:`make_bank`, :func:`random_cameras`,
:func:`synth_view`, :class:`Augment`). Each view's 12 body joints go through the ``pose``
embedder's own feature code (:func:`videosync.embed.pose.pose_features`, image landmarks in
pixels plus noisy 3-D "world" landmarks, as MediaPipe gives both), so the head is trained
on the exact feature layout it reads at inference. Two views of one person start at world
times that differ by a real number of seconds, so the true offset is sub-frame by
construction; the pair then goes through :class:`~videosync.similarity.SimilarityMatrix`
and the predictor's own window cutting (:func:`videosync.predict.insyn.window_arrays`).

Each training window is cut at a whole lag k around the truth L (grid steps): the residual
r = L − k is uniform in ±0.6 steps for most windows (the coarse peak is right) and in
±(K + ½) for the rest (the coarse peak is off by up to K steps).
"""

from __future__ import annotations

import json
import math
import os
import time

import numpy as np

from videosync.embed.base import Embedding, zscore_columns
from videosync.errors import InvalidParameterError
from videosync.similarity import SimilarityMatrix

POSE_JOINTS = slice(5, 17)
"""COCO keypoints 5…16 are the pose embedder's 12 joints, in its order (shoulders … ankles)."""

FEATURES = "pose embedder defaults: space='both', symmetric=True, smooth_seconds=0.1 (58 columns)"

PARAMS = ("train_seeds", "val_seeds", "seconds", "pairs", "clip_seconds", "max_offset_seconds", "window", "dim",
          "heads", "tsa_layers", "cva_layers", "max_inter", "batch", "lr", "steps", "minutes", "eval_every",
          "alpha", "world_noise_m", "near_share", "noise_px", "drift_px", "init")


def _int_list(v) -> list[int]:
    out: list[int] = []
    for part in str(v).split(","):
        if "-" in part.strip()[1:]:
            a, b = part.split("-")
            out += list(range(int(a), int(b) + 1))
        elif part.strip():
            out.append(int(part))
    return out


def _worlds(seeds) -> list[tuple[str, int]]:
    """A one-person and a three-person world per seed (each person is used on its own)."""
    return [(kind, s) for s in seeds for kind in ("human", "humans")]


def view_embedding(track, world_points: np.ndarray, rng: np.random.Generator, world_noise_m: float = 0.03
                   ) -> Embedding:
    """A detector's view (``PoseTrack``, COCO pixels) + its 3-D joints → the ``pose`` embedding.

    ``world_points``: (T, 17, 3) metres at the track's frames. MediaPipe's world landmarks
    are a per-view 3-D estimate: here the truth plus white and slowly drifting noise
    (standard deviations up to ``world_noise_m``).
    """
    from videosync.embed.pose import pose_features

    image = track.points[:, POSE_JOINTS]
    detected = track.present[:, POSE_JOINTS].all(axis=1)
    world = np.asarray(world_points, float)[:, POSE_JOINTS]
    n = len(track.times_seconds)
    sigma, drift = rng.uniform(0, world_noise_m), rng.uniform(0, world_noise_m)
    knots = max(2, n // 15)
    slow = rng.normal(0, drift, (knots, 12, 3))
    pos = np.linspace(0, knots - 1, n)
    i = np.minimum(pos.astype(int), knots - 2)
    a = (pos - i)[:, None, None]
    world = world + rng.normal(0, sigma, world.shape) + slow[i] * (1 - a) + slow[i + 1] * a
    pf = pose_features(track.times_seconds, world=world, image=image, detected=detected,
                       smooth_seconds=0.1, symmetric=True)
    feats = np.zeros(pf.features.shape, np.float32)
    if pf.valid.sum() > 2:
        feats[pf.valid] = zscore_columns(pf.features[pf.valid])
    return Embedding(pf.times_seconds, feats, valid=pf.valid)


def detector_augment(noise_px: float = 4.0, drift_px: float = 3.0):
    """The ``sesyn`` degradations, adapted to the pose embedder: MediaPipe reports all joints
    whenever it finds the person, so single missing joints are rare (a frame without a
    joint is a frame without a pose row). Pixel noise up to ``noise_px`` (at least an eighth
    of it), slow drift up to ``drift_px``."""
    from videosync.embed.sesyn_train import Augment

    return Augment(noise_px=(noise_px / 8, noise_px), drift_px=(0.0, drift_px), drop_frames=(0.0, 0.05),
                   drop_joints=(0.0, 0.004))


def make_pair(bank, rng: np.random.Generator, *, clip_seconds: float = 8.0, max_offset_seconds: float = 1.0,
              aug=None, world_noise_m: float = 0.03) -> tuple[SimilarityMatrix, float]:
    """Two views of one random person of ``bank`` → (similarity matrix, true offset in seconds).

    View b starts ``δ`` seconds later in world time than view a (δ real, |δ| ≤
    ``max_offset_seconds``), so the instant at a-time t appears at b-time t − δ:
    offset_seconds = −δ (:mod:`videosync.timebase`).
    """
    from videosync.embed.sesyn_train import STORE_HZ, _interp, random_cameras, synth_view

    i = int(rng.integers(len(bank.people)))
    kp = bank.people[i]
    total = kp.shape[0] / STORE_HZ
    delta = rng.uniform(-max_offset_seconds, max_offset_seconds)
    lo = max(0.2, 0.2 - delta)
    hi = min(total - clip_seconds - 0.3, total - clip_seconds - 0.3 - delta)
    w_a = rng.uniform(lo, hi)
    cams = random_cameras(rng, int(rng.integers(2, 5)), bank.centre[i], bank.radius[i])
    pick = rng.choice(len(cams), 2, replace=False)
    embs = []
    for cam, w0 in ((cams[pick[0]], w_a), (cams[pick[1]], w_a + delta)):
        track = synth_view(kp, cam, w0, clip_seconds, rng, aug)
        world = _interp(kp, w0 + track.times_seconds, STORE_HZ)
        embs.append(view_embedding(track, world, rng, world_noise_m))
    return SimilarityMatrix(embs[0], embs[1]), -delta


def sample_windows(sim: SimilarityMatrix, truth_seconds: float, rng: np.random.Generator, n: int, *,
                   window: int, max_inter: int, near_share: float = 0.7):
    """``n`` random windows of one pair → (xa, xb, va, vb, r) with r = L − k in grid steps."""
    from videosync.predict.insyn import window_arrays, window_starts

    L = truth_seconds / sim.step_seconds
    out = []
    for _ in range(n * 3):
        if len(out) >= n:
            break
        far = rng.random() >= near_share
        r_target = rng.uniform(-max_inter - 0.5, max_inter + 0.5) if far else rng.uniform(-0.6, 0.6)
        k = int(round(L - r_target))
        r = L - k
        if abs(r) >= max_inter + 0.5:
            continue
        starts = window_starts(sim, k, window, 1, 0.75)
        if starts.size == 0:
            continue
        s = starts[rng.integers(starts.size)]
        xa, xb, va, vb = window_arrays(sim, k, np.array([s]), window)
        out.append((xa[0], xb[0], va[0], vb[0], r))
    if not out:
        return None
    return tuple(np.stack(z) for z in zip(*out))


def evaluate(pred, pairs, max_offset_seconds: float) -> dict:
    """Pair-level validation: ``pred`` (an InSynPredictor) beside ``lag``'s parabola, in grid
    steps, both searching offsets up to ``max_offset_seconds`` (+ 0.1 s)."""
    from videosync.predict import SearchRange
    from videosync.predict.lag import LagPredictor

    lag = LagPredictor()
    search = SearchRange(max_offset_seconds=max_offset_seconds + 0.1, min_overlap_seconds=2.0)
    e_insyn, e_lag, e_round = [], [], []
    for sim, truth in pairs:
        L = truth / sim.step_seconds
        e_insyn.append(pred.predict(sim, search).offset_seconds / sim.step_seconds - L)
        est = lag.predict(sim, search).offset_seconds / sim.step_seconds
        e_lag.append(est - L)
        e_round.append(round(est) - L)
    ei, el, er = (np.abs(np.array(x)) for x in (e_insyn, e_lag, e_round))
    return {"pairs": len(pairs), "insyn_mean_abs_steps": float(ei.mean()), "insyn_median_abs_steps": float(np.median(ei)),
            "lag_parabola_mean_abs_steps": float(el.mean()), "lag_parabola_median_abs_steps": float(np.median(el)),
            "lag_rounded_mean_abs_steps": float(er.mean()),
            # errors capped at 1 step: the fraction, without the weight of wrong whole-step peaks
            "insyn_capped_mean_abs_steps": float(np.minimum(ei, 1).mean()),
            "lag_parabola_capped_mean_abs_steps": float(np.minimum(el, 1).mean()),
            "insyn_share_within_0.1": float(np.mean(ei <= 0.1)), "lag_share_within_0.1": float(np.mean(el <= 0.1))}


def train_insyn(request) -> dict:
    """``videosync train insyn``: pose features of synthetic skeletons, hierarchical cross-entropy.

    Parameters (``--arg KEY=VALUE``): ``train_seeds`` (e.g. ``200-219``), ``val_seeds``,
    ``seconds`` per world, ``pairs`` in the training pool, ``clip_seconds``,
    ``max_offset_seconds``, ``noise_px`` and ``drift_px`` (largest pixel noise and drift),
    ``init`` (weights to start from), model size (``window``, ``dim``, ``heads``, ``tsa_layers``,
    ``cva_layers``, ``max_inter``), ``batch`` windows per step, ``lr``, ``steps`` and
    ``minutes`` (the run stops at whichever comes first), ``eval_every`` (steps), ``alpha``
    (HXE), ``world_noise_m``, ``near_share`` (windows whose coarse lag is right).
    """
    import torch

    from videosync import __version__
    from videosync.embed.sesyn_train import make_bank
    from videosync.predict.insyn import InSynPredictor, save_model
    from videosync.predict.models.insyn import InSynFormer, hierarchical_loss
    from videosync.train import check_params

    p = check_params(request.params, PARAMS, "insyn")
    train_seeds = _int_list(p.get("train_seeds", "200-219"))
    val_seeds = _int_list(p.get("val_seeds", "950-951"))
    seconds = float(p.get("seconds", 40.0))
    n_pairs = int(p.get("pairs", 600))
    clip = float(p.get("clip_seconds", 8.0))
    max_off = float(p.get("max_offset_seconds", 1.0))
    cfg = {"window": int(p.get("window", 32)), "dim": int(p.get("dim", 64)), "heads": int(p.get("heads", 4)),
           "tsa_layers": int(p.get("tsa_layers", 2)), "cva_layers": int(p.get("cva_layers", 2)),
           "max_inter": int(p.get("max_inter", 2))}
    batch = int(p.get("batch", 64))
    lr = float(p.get("lr", 1e-3))
    max_steps = int(p.get("steps", 100000))
    minutes = float(p.get("minutes", 30.0))
    eval_every = int(p.get("eval_every", 500))
    alpha = float(p.get("alpha", 0.1))
    world_noise = float(p.get("world_noise_m", 0.03))
    near = float(p.get("near_share", 0.7))
    log = request.progress or (lambda m: None)

    started = time.perf_counter()
    torch.set_num_threads(1)
    torch.manual_seed(request.seed)
    rng = np.random.default_rng(request.seed)
    aug = detector_augment(float(p.get("noise_px", 4.0)), float(p.get("drift_px", 3.0)))
    bank = make_bank(_worlds(train_seeds), seconds=seconds, progress=log)
    val_bank = make_bank(_worlds(val_seeds), seconds=seconds)
    pool = []
    for k in range(n_pairs):
        pool.append(make_pair(bank, rng, clip_seconds=clip, max_offset_seconds=max_off, aug=aug,
                              world_noise_m=world_noise))
        if (k + 1) % 100 == 0:
            log(f"training pairs: {k + 1}/{n_pairs}")
    vrng = np.random.default_rng(request.seed + 1)
    val_pairs = [make_pair(val_bank, vrng, clip_seconds=clip, max_offset_seconds=max_off, aug=aug,
                           world_noise_m=world_noise) for _ in range(60)]
    in_dim = pool[0][0].grid_a.features.shape[1]
    net = InSynFormer(in_dim, **cfg)
    init = p.get("init")
    if init:  # continue from earlier weights (same architecture), e.g. on noisier data
        from videosync.predict.insyn import load_model

        start, _ = load_model(init)
        if start.config != net.config:
            raise InvalidParameterError(f"init weights {init} have config {start.config}, not {net.config}")
        net.load_state_dict(start.state_dict())
    opt = torch.optim.AdamW(net.parameters(), lr=lr, weight_decay=0.01)
    deadline = started + 60.0 * minutes
    total_steps = max_steps
    per_pair = 8
    history, running, best, best_state, step = [], [], None, None, 0
    pred = InSynPredictor()
    while step < max_steps and time.perf_counter() < deadline:
        net.train()
        parts = []
        for j in rng.choice(len(pool), batch // per_pair, replace=False):
            w = sample_windows(pool[j][0], pool[j][1], rng, per_pair, window=cfg["window"],
                               max_inter=cfg["max_inter"], near_share=near)
            if w is not None:
                parts.append(w)
        xa, xb, va, vb, r = (np.concatenate(z) for z in zip(*parts))
        if rng.random() < 0.5:  # the views are interchangeable: swap them, negate r
            xa, xb, va, vb, r = xb, xa, vb, va, -r
        # learning rate: linear warm-up over 200 steps, then cosine over the step budget
        frac = min(1.0, (time.perf_counter() - started) / (60.0 * minutes))
        scale = min(1.0, (step + 1) / 200) * 0.5 * (1 + math.cos(math.pi * max(frac, step / total_steps)))
        for g in opt.param_groups:
            g["lr"] = lr * max(scale, 0.02)
        logits = net(torch.from_numpy(xa), torch.from_numpy(xb), torch.from_numpy(va), torch.from_numpy(vb))
        loss = hierarchical_loss(logits, torch.from_numpy(r).float(), cfg["max_inter"], alpha)
        opt.zero_grad()
        loss.backward()
        torch.nn.utils.clip_grad_norm_(net.parameters(), 1.0)
        opt.step()
        step += 1
        running.append(loss.item())
        if step % 50 == 0:
            log(f"step {step}: loss {np.mean(running[-50:]):.3f}, {(time.perf_counter() - started) / 60:.1f} min")
        if step % eval_every == 0:
            net.eval()
            val = evaluate(pred.with_model(net), val_pairs, max_off)
            history.append({"step": step, "minutes": round((time.perf_counter() - started) / 60, 2),
                            "loss": float(np.mean(running[-eval_every:])), **val})
            log(f"validation at step {step}: insyn {val['insyn_capped_mean_abs_steps']:.3f} steps (capped at 1), "
                f"lag parabola {val['lag_parabola_capped_mean_abs_steps']:.3f}")
            if best is None or val["insyn_capped_mean_abs_steps"] < best[0]:
                best = (val["insyn_capped_mean_abs_steps"], step)
                best_state = {k: v.detach().clone() for k, v in net.state_dict().items()}
    if best_state is not None:
        net.load_state_dict(best_state)
    net.eval()
    frng = np.random.default_rng(request.seed + 2)
    final_pairs = [make_pair(val_bank, frng, clip_seconds=clip, max_offset_seconds=max_off, aug=aug,
                             world_noise_m=world_noise) for _ in range(150)]
    final = evaluate(pred.with_model(net), final_pairs, max_off)
    log(f"final validation: insyn {final['insyn_capped_mean_abs_steps']:.3f} steps (capped at 1), lag parabola "
        f"{final['lag_parabola_capped_mean_abs_steps']:.3f} steps")
    card = {
        "model": "insyn",
        "command": request.command,
        "videosync_version": __version__,
        "torch_version": torch.__version__,
        "seed": request.seed,
        "features": FEATURES,
        "data": {"source": "videosync.synth humanoid skeletons (Walker + mj_kinematics, no rendering) through "
                           "videosync.embed.sesyn_train's cameras and detector degradations, then the pose "
                           "embedder's feature code; real-valued offsets",
                 "train_worlds": [f"{k}-s{s}" for k, s in bank.seeds],
                 "validation_worlds": [f"{k}-s{s}" for k, s in val_bank.seeds],
                 "seconds_per_world": seconds, "pairs": n_pairs, "clip_seconds": clip,
                 "max_offset_seconds": max_off, "world_noise_m": world_noise,
                 "augmentation": {k: (list(v) if isinstance(v, tuple) else v) for k, v in vars(aug).items()},
                 "windows": f"{per_pair} per pair per step, residual uniform in ±0.6 steps for {near:.0%}, "
                            f"else ±{cfg['max_inter'] + 0.5}; views swapped at random"},
        "parameters": {**cfg, "in_dim": in_dim, "parameters": int(sum(q.numel() for q in net.parameters())),
                       "batch_windows": batch, "optimizer": "AdamW wd 0.01, warm-up 200 steps, cosine, clip 1",
                       "lr": lr, "alpha": alpha, "init": init or None, "steps": step, "kept_step": None if best is None else best[1]},
        "validation_history": history,
        "validation": final | {"protocol": "150 held-out pairs (validation worlds), whole 8 s clips, "
                                           "errors in grid steps (the finer camera's frames)"},
        "minutes": round((time.perf_counter() - started) / 60, 2),
    }
    save_model(request.out, net, {"features": FEATURES, "card": card})
    with open(os.path.splitext(request.out)[0] + ".json", "w") as fh:
        json.dump(card, fh, indent=2)
    return card
