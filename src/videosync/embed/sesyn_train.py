"""Training data and trainer of the ``sesyn`` embedder, made without rendering any video.

The synthetic humanoid of :mod:`videosync.synth` moves as an exact function of world time
(:class:`~videosync.synth._humanoid.Walker`). MuJoCo forward kinematics (``mj_kinematics``, no
GL) gives its body frames; the 17 COCO keypoints are fixed points of those frames
(:data:`KEYPOINTS`, checked against MediaPipe on rendered frames: docs/sesyn.md). They are
projected into pinhole cameras placed around the scene as :mod:`videosync.synth.render`
places its cameras, each with its own frame rate and phase, and degraded the way a pose
detector degrades them: Gaussian pixel noise (0–9 px) plus a slow per-joint drift, dropped
frames, missing joints, runs of frames without a person, left/right side swaps.

Training (:func:`train_sesyn`) follows SeSyn-Net: several views of the same instants pass
through the network and every ordered pair of views gets the self-identity,
self-deviation and interval-consistency losses (the paper's CMU-SYN weights 0.7, 0.015).
The losses are taken only on frames whose receptive field lies inside the window (no
padding), and each view's window is shifted at random, so where a frame sits in its window
says nothing about which frame of the other view it matches.

One term is ours: the cycle losses are met by any consistent matching, a constant shift
included, and trained alone they gave held-out offsets at chance level (Acc@1 2–8 % after
400 steps; docs/sesyn.md). Since synthetic views know which frames show the same instant,
a cross-entropy on the cross-view similarity against the true frame
(:func:`~videosync.embed._sesyn_net.alignment_loss`, weight ``mu_align``, default 1) pins
the matching down. ``--arg mu_align=0`` trains on the paper's losses only.
"""

from __future__ import annotations

import math
import os
import time
from dataclasses import dataclass

import numpy as np

from videosync.embed.sesyn import COCO_LR_SWAP, PoseTrack, network_input

KEYPOINTS = (  # (COCO joint, humanoid body suffix, point in the body's frame, metres)
    ("nose", "head", (0.115, 0.0, 0.15)),
    ("left_eye", "head", (0.085, 0.035, 0.175)),
    ("right_eye", "head", (0.085, -0.035, 0.175)),
    ("left_ear", "head", (0.01, 0.095, 0.15)),
    ("right_ear", "head", (0.01, -0.095, 0.15)),
    ("left_shoulder", "upper_arm_L", (0.0, 0.0, 0.0)),
    ("right_shoulder", "upper_arm_R", (0.0, 0.0, 0.0)),
    ("left_elbow", "forearm_L", (0.0, 0.0, 0.0)),
    ("right_elbow", "forearm_R", (0.0, 0.0, 0.0)),
    ("left_wrist", "forearm_L", (0.0, 0.0, -0.21)),
    ("right_wrist", "forearm_R", (0.0, 0.0, -0.21)),
    ("left_hip", "thigh_L", (0.0, 0.0, 0.0)),
    ("right_hip", "thigh_R", (0.0, 0.0, 0.0)),
    ("left_knee", "shin_L", (0.0, 0.0, 0.04)),
    ("right_knee", "shin_R", (0.0, 0.0, 0.04)),
    ("left_ankle", "foot_L", (0.0, 0.0, 0.08)),
    ("right_ankle", "foot_R", (0.0, 0.0, 0.08)),
)
"""Where each COCO keypoint sits on the capsule humanoid (body faces +x, +y is its left).
Wrists, knees and ankles are moved a few centimetres up from the joint centres, where
MediaPipe puts them on rendered frames (median error against MediaPipe 1.4–6 px for people
about 85 px tall: docs/sesyn.md)."""

STORE_HZ = 60.0
"""Rate at which world keypoints are stored; cameras sample them by linear interpolation."""


def world_keypoints(kind: str, seed: int, seconds: float, *, rate_hz: float = STORE_HZ) -> np.ndarray:
    """3-D COCO keypoints of every person of a synthetic world over [0, seconds).

    Returns:
        (P, T, 17, 3) float32 world positions (metres, z up) at times ``k / rate_hz``.
    """
    from videosync.synth import _gl
    from videosync.synth._worlds import WORLDS, build_xml

    try:  # let synth choose MuJoCo's GL backend first, so rendering later in this process works
        _gl.backend()
    except _gl.RenderUnavailableError:
        pass  # kinematics needs no GL
    import mujoco

    world = WORLDS[kind](seed, seconds + 1.0)
    model = mujoco.MjModel.from_xml_string(build_xml(world, 64, 64, seed, False))
    data = mujoco.MjData(model)
    world.bind(model)
    bodies = []
    for wk in world.walkers:
        ids = [mujoco.mj_name2id(model, mujoco.mjtObj.mjOBJ_BODY, wk.p + b) for _, b, _ in KEYPOINTS]
        bodies.append(np.array(ids))
    local = np.array([p for _, _, p in KEYPOINTS])
    n = int(round(seconds * rate_hz))
    out = np.zeros((len(world.walkers), n, 17, 3), np.float32)
    for k in range(n):
        world.apply(model, data, k / rate_hz)
        for i, ids in enumerate(bodies):
            r = data.xmat[ids].reshape(-1, 3, 3)
            out[i, k] = data.xpos[ids] + np.einsum("jab,jb->ja", r, local)
    return out


@dataclass
class Camera:
    """A pinhole camera as MuJoCo's free camera (lookat, distance, azimuth, elevation, fovy)."""

    lookat: np.ndarray
    distance: float
    azimuth_deg: float
    elevation_deg: float
    fovy_deg: float
    width: int
    height: int
    roll_deg: float = 0.0

    def project(self, pts: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """World points (..., 3) → pixels (..., 2) (x right, y down) and in-front mask."""
        az, el = math.radians(self.azimuth_deg), math.radians(self.elevation_deg)
        fwd = np.array([math.cos(el) * math.cos(az), math.cos(el) * math.sin(az), math.sin(el)])
        pos = np.asarray(self.lookat) - self.distance * fwd
        right = np.cross(fwd, [0.0, 0.0, 1.0])
        right /= np.linalg.norm(right)
        up = np.cross(right, fwd)
        if self.roll_deg:
            c, s = math.cos(math.radians(self.roll_deg)), math.sin(math.radians(self.roll_deg))
            right, up = c * right + s * up, -s * right + c * up
        d = pts - pos
        z = d @ fwd
        f = 0.5 * self.height / math.tan(math.radians(self.fovy_deg) / 2)
        zz = np.where(z > 1e-3, z, np.nan)
        u = 0.5 * self.width + f * (d @ right) / zz
        v = 0.5 * self.height - f * (d @ up) / zz
        return np.stack([u, v], axis=-1), z > 0.1


def random_cameras(rng: np.random.Generator, n: int, centre, radius: float) -> list[Camera]:
    """``n`` cameras around the scene as ``videosync.synth.render`` places them (evenly spread
    azimuths with jitter), with wider ranges of elevation, field of view, size and roll."""
    az0 = rng.uniform(0, 360)
    cams = []
    for k in range(n):
        w, h = [(320, 240), (640, 360), (640, 480), (1280, 720), (360, 640)][rng.integers(5)]
        fovy = rng.uniform(32, 65)
        half_v = math.radians(fovy) / 2
        half = min(half_v, math.atan(math.tan(half_v) * w / h))
        dist = min(radius / math.tan(half) * rng.uniform(0.6, 1.05), 12.0)
        cams.append(Camera(
            lookat=np.asarray(centre) + rng.normal(0, 0.06 * radius, 3) * np.array([1, 1, 0.4]),
            distance=float(dist), azimuth_deg=float(az0 + 360.0 * k / n + rng.uniform(-25, 25)),
            elevation_deg=float(rng.uniform(-35, 5)), fovy_deg=float(fovy), width=w, height=h,
            roll_deg=float(rng.normal(0, 2.0)),
        ))
    return cams


def _interp(kp: np.ndarray, w: np.ndarray, rate_hz: float) -> np.ndarray:
    """Keypoints (T, 17, 3) stored at k / rate_hz, linearly interpolated at world times w."""
    f = np.clip(w * rate_hz, 0, kp.shape[0] - 1.000001)
    i = np.floor(f).astype(int)
    a = (f - i)[:, None, None]
    return kp[i] * (1 - a) + kp[i + 1] * a


@dataclass
class Augment:
    """Detector-like degradations applied to one view (ranges; each view draws its own)."""

    noise_px: tuple[float, float] = (0.0, 9.0)
    drift_px: tuple[float, float] = (0.0, 4.0)
    drop_frames: tuple[float, float] = (0.0, 0.12)
    drop_joints: tuple[float, float] = (0.0, 0.06)
    miss_runs_per_second: float = 0.04
    swap_fraction: tuple[float, float] = (0.0, 0.45)
    """Share of frames with left and right exchanged (MediaPipe on the synthetic humanoid:
    20–35 % of frames, mostly the whole body, in runs of 1–46 frames)."""
    swap_run_frames: tuple[float, float] = (3.0, 30.0)
    arm_error_fraction: tuple[float, float] = (0.0, 0.0)
    """Share of frames in which one arm's elbow and wrist are misplaced (off by default).
    MediaPipe on the rendered humanoid misplaces arms for seconds at a time in some views;
    with the arms from the truth every failure of the sesyn bench goes away (docs/sesyn.md)."""
    arm_error_seconds: tuple[float, float] = (0.5, 3.0)
    """Mean length of a run of misplaced-arm frames."""
    fps_choices: tuple[float, ...] = (24.0, 25.0, 30.0, 30.0, 50.0, 60.0)


def synth_view(kp_world: np.ndarray, cam: Camera, w_start: float, seconds: float, rng: np.random.Generator,
               aug: Augment | None, *, store_hz: float = STORE_HZ) -> PoseTrack:
    """What a detector would report for one camera filming ``kp_world`` from world time
    ``w_start`` (its own time 0) for ``seconds``: frames at the camera's own rate with a
    random phase, the first one at or just before own time 0, the last one at or after
    ``seconds``."""
    fps = float(rng.choice(aug.fps_choices)) if aug else 30.0
    phase = rng.uniform(0, 1 / fps)
    n = int(math.ceil(seconds * fps)) + 2
    t = np.arange(n) / fps - phase  # the view's own clock
    pts, front = cam.project(_interp(kp_world, w_start + t, store_hz))
    present = front & np.isfinite(pts).all(axis=-1)
    # joints far outside the image are not reported
    margin = 0.1 * max(cam.width, cam.height)
    present &= (pts[..., 0] > -margin) & (pts[..., 0] < cam.width + margin)
    present &= (pts[..., 1] > -margin) & (pts[..., 1] < cam.height + margin)
    pts = np.where(present[..., None], pts, 0.0)
    if aug is not None:
        sigma = rng.uniform(*aug.noise_px)
        pts = pts + rng.normal(0, sigma, pts.shape)
        drift = rng.uniform(*aug.drift_px)
        if drift > 0:  # slow per-joint bias, as a detector's errors are correlated in time
            knots = max(2, int(seconds * 2) + 2)
            k = rng.normal(0, drift, (knots, 17, 2))
            tk = np.linspace(t[0], t[-1], knots)
            idx = np.clip(np.searchsorted(tk, t) - 1, 0, knots - 2)
            a = ((t - tk[idx]) / (tk[idx + 1] - tk[idx]))[:, None, None]
            pts = pts + k[idx] * (1 - a) + k[idx + 1] * a
        present &= rng.random(present.shape) >= rng.uniform(*aug.drop_joints)
        for _ in range(rng.poisson(aug.miss_runs_per_second * seconds)):  # no person for a while
            s = rng.integers(n)
            present[s:s + rng.integers(1, int(0.4 * fps) + 2)] = False
        swapped = _swap_runs(rng, n, rng.uniform(*aug.swap_fraction), rng.uniform(*aug.swap_run_frames))
        for s, e in swapped:  # left/right exchanged: mostly the whole body, sometimes arms or legs only
            u = rng.random()
            joints = np.arange(17) if u < 0.8 else (np.arange(5, 11) if u < 0.9 else np.arange(11, 17))
            src = np.array(COCO_LR_SWAP)[joints]
            pts[s:e, joints] = pts[s:e][:, src]
            present[s:e, joints] = present[s:e][:, src]
        if aug.arm_error_fraction[1] > 0:
            _misplace_arms(rng, pts, present, aug, fps)
        keep = rng.random(n) >= rng.uniform(*aug.drop_frames)
        keep[[0, -1]] = True
        t, pts, present = t[keep], pts[keep], present[keep]
    return PoseTrack(t, pts, present)


_ARMS = ((5, 7, 9), (6, 8, 10))  # (shoulder, elbow, wrist): left, right


def _rotate(v: np.ndarray, angle: np.ndarray) -> np.ndarray:
    """Rotate 2-D vectors v (..., 2) by angle (...) radians."""
    c, s = np.cos(angle), np.sin(angle)
    return np.stack([c * v[..., 0] - s * v[..., 1], s * v[..., 0] + c * v[..., 1]], axis=-1)


def _misplace_arms(rng: np.random.Generator, pts: np.ndarray, present: np.ndarray, aug: Augment,
                   fps: float) -> None:
    """In place: runs of frames where one arm's elbow and wrist are wrong, as a detector
    guessing an arm it cannot see. Per run one of: the arm swung about its shoulder by an
    angle drifting between two random values (40–160° either way); the arm frozen where it
    was when the run began; the other arm's pose copied (mirrored left/right in the image)."""
    n = len(pts)
    runs = _swap_runs(rng, n, rng.uniform(*aug.arm_error_fraction), rng.uniform(*aug.arm_error_seconds) * fps)
    for s, e in runs:
        side = int(rng.integers(2))
        sh, el, wr = _ARMS[side]
        osh, oel, owr = _ARMS[1 - side]
        rel = pts[s:e, [el, wr]] - pts[s:e, sh][:, None]
        mode = rng.random()
        if mode < 0.5:
            a0, a1 = rng.uniform(np.radians(40), np.radians(160), 2) * rng.choice([-1, 1], 2)
            angle = np.linspace(a0, a1, e - s)
            new = _rotate(rel, np.repeat(angle[:, None], 2, axis=1))
        elif mode < 0.75:
            new = np.repeat(rel[:1], e - s, axis=0)
        else:
            new = pts[s:e, [oel, owr]] - pts[s:e, osh][:, None]
            new[..., 0] *= -1
        pts[s:e, [el, wr]] = pts[s:e, sh][:, None] + new
        present[s:e, [el, wr]] = present[s:e, sh][:, None]


def _swap_runs(rng: np.random.Generator, n: int, fraction: float, mean_run: float) -> list[tuple[int, int]]:
    """Runs [s, e) of a two-state Markov chain that spends ``fraction`` of n frames swapped,
    in runs of ``mean_run`` frames on average."""
    if fraction <= 0:
        return []
    p_end = 1.0 / max(mean_run, 1.0)
    p_start = p_end * fraction / max(1.0 - fraction, 1e-3)
    runs, state, s = [], rng.random() < fraction, 0
    flips = rng.random(n)
    for i in range(n):
        if state and flips[i] < p_end:
            runs.append((s, i))
            state = False
        elif not state and flips[i] < p_start:
            s, state = i, True
    if state:
        runs.append((s, n))
    return runs


# ------------------------------------------------------------------------------ dataset


@dataclass
class SkeletonBank:
    """World keypoints of many people (one (T, 17, 3) array each) and their scenes."""

    people: list[np.ndarray]
    radius: list[float]
    centre: list[np.ndarray]
    seeds: list[tuple[str, int]]


def make_bank(worlds, *, seconds: float = 40.0, progress=None) -> SkeletonBank:
    """Skeletons of synthetic worlds ``(kind, seed)``; each person of a ``humans`` world is
    used on its own (with that world's camera distance)."""
    from videosync.synth._worlds import WORLDS

    people, radius, centre, used = [], [], [], []
    for kind, s in worlds:
        kp = world_keypoints(kind, int(s), seconds)
        cls = WORLDS[kind]
        for p in kp:
            people.append(p)
            radius.append(float(cls.radius))
            centre.append(np.array(cls.centre))
        used.append((kind, int(s)))
        if progress:
            progress(f"skeletons of {kind} seed {s}")
    return SkeletonBank(people, radius, centre, used)


def sample_group(bank: SkeletonBank, rng: np.random.Generator, *, n_views: int, frames: int, shift: int,
                 rate_hz: float, aug: Augment | None) -> tuple[np.ndarray, np.ndarray]:
    """Views of one random window of one random person → network inputs (V, 3, frames, 17)
    and each view's shift (V,) in grid steps: row j of view u shows the instant of row
    j + shift[u] − shift[v] of view v (to within the views' sub-step phases).

    Each view's window is shifted by up to ±``shift`` grid steps against the first view's.
    """
    i = int(rng.integers(len(bank.people)))
    kp = bank.people[i]
    total = kp.shape[0] / STORE_HZ
    seconds = frames / rate_hz
    w0 = rng.uniform(shift / rate_hz + 0.1, total - seconds - shift / rate_hz - 0.2)
    cams = random_cameras(rng, n_views, bank.centre[i], bank.radius[i])
    out = np.zeros((n_views, 3, frames, 17), np.float32)
    shifts = np.zeros(n_views, np.int64)
    for v, cam in enumerate(cams):
        d = 0 if v == 0 else int(rng.integers(-shift, shift + 1))
        shifts[v] = d
        track = synth_view(kp, cam, w0 + d / rate_hz, seconds, rng, aug)
        grid, x, _ = network_input(track, rate_hz=rate_hz)
        x = x[:, grid >= -1e-9][:, :frames]
        out[v, :, :x.shape[1]] = x
    return out, shifts


# ------------------------------------------------------------------------------ trainer


PARAMS = ("train_seeds", "humans_seeds", "val_seeds", "seconds", "steps", "minutes", "views", "frames", "lr", "temperature",
          "mu_devi", "mu_intv", "mu_align", "channels", "batch", "eval_every", "optimizer", "val_pairs", "stop_step",
          "arm_errors", "init")


def _int_list(v) -> list[int]:
    """``"100-139"``, ``"1,2,3"``, ``7`` or a sequence → a list of ints."""
    if isinstance(v, (int, np.integer)):
        return [int(v)]
    if isinstance(v, str):
        if "-" in v and "," not in v:
            a, b = v.split("-")
            return list(range(int(a), int(b) + 1))
        return [int(x) for x in v.split(",") if x]
    return [int(x) for x in v]


def validate(net, bank: SkeletonBank, *, n_pairs: int, seed: int, rate_hz: float = 30.0,
             max_offset: int = 30, clip_seconds: float = 6.0, aug: Augment | None = None) -> dict:
    """Held-out skeletons: pairs of views with an injected integer offset (±``max_offset``
    grid steps), equal-length clips; offset from the lag profile of the cosine similarity.
    Returns mean abs error and Acc@1 (|error| ≤ 1), and the naive always-0 baseline.
    ``aug``: the detector degradations (default :class:`Augment`'s)."""
    import torch

    from videosync.embed.sesyn import embed_input

    rng = np.random.default_rng(seed)
    aug = Augment() if aug is None else aug
    n = int(clip_seconds * rate_hz)
    context = 1.5
    errs = []
    net.eval()
    truths = []
    with torch.no_grad():
        for _ in range(n_pairs):
            i = int(rng.integers(len(bank.people)))
            kp = bank.people[i]
            total = kp.shape[0] / STORE_HZ
            delta = int(rng.integers(-max_offset, max_offset + 1))
            pad = max_offset / rate_hz + context + 0.3
            w0 = rng.uniform(pad, total - clip_seconds - pad)
            cams = random_cameras(rng, 2, bank.centre[i], bank.radius[i])
            # a shows [w0, w0 + D); b shows [w0 - delta/rate, ...): a's instant at time t is at t + delta in b
            feats = []
            for cam, ws in ((cams[0], w0), (cams[1], w0 - delta / rate_hz)):
                # embed a longer span and crop it, as the bench crops whole-video embeddings
                track = synth_view(kp, cam, ws - context, clip_seconds + 2 * context, rng, aug)
                grid, x, valid = network_input(track, rate_hz=rate_hz)
                f = embed_input(net, x)
                f[~valid] = 0.0
                keep = grid >= context - 1e-9
                feats.append(f[keep][:n])
            a, b = feats
            lags = np.arange(-max_offset - 1, max_offset + 2)
            scores = []
            for k in lags:  # mean over the overlap of a_i · b_{i+k}
                lo, hi = max(0, -k), min(len(a), len(b) - k)
                scores.append(np.mean(np.sum(a[lo:hi] * b[lo + k:hi + k], axis=1)) if hi - lo > 10 else -np.inf)
            found = int(lags[int(np.argmax(scores))])
            errs.append(found - delta)
            truths.append(delta)
    errs, truths = np.abs(np.array(errs, float)), np.abs(np.array(truths, float))
    return {"pairs": int(n_pairs), "mean_abs_frames": float(errs.mean()), "acc_at_1": float(np.mean(errs <= 1)),
            "naive_mean_abs_frames": float(truths.mean()), "naive_acc_at_1": float(np.mean(truths <= 1))}


def train_sesyn(request) -> dict:
    """``videosync train sesyn``: skeletons from synthetic worlds, SeSyn-Net's losses, SGD.

    Parameters (``--arg KEY=VALUE``): ``train_seeds`` (``human`` worlds, e.g. ``100-139``),
    ``humans_seeds`` (``humans`` worlds, three people each), ``val_seeds``,
    ``seconds`` per world, ``steps`` (upper bound) and ``minutes`` (time budget, the run stops
    at whichever comes first), ``views`` per window, ``frames`` per window (30 Hz),
    ``batch`` windows per step, ``optimizer`` (``adam`` or SeSyn-Net's ``sgd``), ``lr``,
    ``temperature``, ``mu_devi``, ``mu_intv``, ``mu_align`` (the added same-instant term;
    0 trains on SeSyn-Net's three losses only), ``channels`` (comma list), ``eval_every``
    (steps), ``val_pairs``, ``stop_step`` (stop there while the learning-rate schedule still
    plans ``steps``: with the run card's ``steps`` it repeats a run that the ``minutes``
    limit cut short), ``arm_errors`` (largest share of a view's frames with a misplaced arm,
    :func:`_misplace_arms`; 0, the default, leaves the arms alone) and ``init`` (start from
    these weights, ``shipped`` for the package's, instead of a random network; the run card
    records the file's hash). The weights kept are those with the best validation Acc@1. With one
    torch thread on one machine the run is deterministic for a given step count.
    """
    import torch

    from videosync import __version__
    from videosync.embed import _sesyn_net as sn
    from videosync.errors import InvalidParameterError
    from videosync.train import check_params

    p = check_params(request.params, PARAMS, "sesyn")
    train_seeds = _int_list(p.get("train_seeds", "100-139"))
    humans_seeds = _int_list(p.get("humans_seeds", "100-109"))
    val_seeds = _int_list(p.get("val_seeds", "900-902"))
    seconds = float(p.get("seconds", 40.0))
    max_steps = int(p.get("steps", 800))
    stop_step = int(p.get("stop_step", max_steps))
    minutes = float(p.get("minutes", 45.0))
    n_views = int(p.get("views", 3))
    frames = int(p.get("frames", 96))
    batch = int(p.get("batch", 2))
    optimizer = str(p.get("optimizer", "adam"))
    lr = float(p.get("lr", 0.001 if optimizer == "adam" else 0.005))
    temperature = float(p.get("temperature", 0.1))
    mu = (float(p.get("mu_devi", 0.7)), float(p.get("mu_intv", 0.015)))
    mu_align = float(p.get("mu_align", 1.0))
    channels = tuple(_int_list(p.get("channels", "32,48,64,64,96,128")))
    eval_every = int(p.get("eval_every", 100))
    arm_errors = float(p.get("arm_errors", 0.0))
    init = p.get("init")
    val_pairs = int(p.get("val_pairs", 40))
    if optimizer not in ("adam", "sgd"):
        raise InvalidParameterError(f"sesyn: optimizer must be adam or sgd, got {optimizer!r}")
    log = request.progress or (lambda m: None)

    started = time.perf_counter()
    torch.set_num_threads(1)
    torch.manual_seed(request.seed)
    rng = np.random.default_rng(request.seed)
    bank = make_bank([("human", s) for s in train_seeds] + [("humans", s) for s in humans_seeds],
                     seconds=seconds, progress=log)
    val_bank = make_bank([("human", s) for s in val_seeds] + [("humans", val_seeds[0])], seconds=seconds)
    init_card = None
    if init:
        import hashlib

        from videosync.embed.sesyn import load_network
        from videosync.weights import shipped

        init_path = shipped("sesyn", "npz") if str(init) == "shipped" else os.path.expanduser(str(init))
        if init_path is None:
            raise InvalidParameterError("sesyn: init=shipped but this package ships no sesyn weights")
        net = load_network(init_path)
        channels = tuple(net.channels)
        with open(init_path, "rb") as fh:
            init_card = f"{os.path.basename(init_path)}, sha256 {hashlib.sha256(fh.read()).hexdigest()[:16]}"
        log(f"starting from {init_path}")
    else:
        net = sn.SeSynNet(channels=channels)
    if optimizer == "sgd":  # SeSyn-Net's: SGD, Nesterov momentum 0.9, weight decay 1e-4
        opt = torch.optim.SGD(net.parameters(), lr=lr, momentum=0.9, nesterov=True, weight_decay=1e-4)
    else:  # converges in far fewer steps, which is what a CPU budget allows
        opt = torch.optim.AdamW(net.parameters(), lr=lr, weight_decay=1e-4)
    # cosine decay over the planned steps (a fixed count, so the run is reproducible)
    sched = torch.optim.lr_scheduler.LambdaLR(opt, lambda k: 0.5 * (1 + math.cos(math.pi * min(k, max_steps) / max_steps)))
    margin = net.receptive_field // 2
    shift = max(1, margin - 4)
    aug = Augment(arm_error_fraction=(0.0, arm_errors))
    history, best, best_state, step = [], None, None, 0
    deadline = started + 60.0 * minutes
    running = []
    while step < min(stop_step, max_steps) and time.perf_counter() < deadline:
        net.train()
        groups = [sample_group(bank, rng, n_views=n_views, frames=frames, shift=shift, rate_hz=30.0, aug=aug)
                  for _ in range(batch)]
        x = torch.from_numpy(np.concatenate([g[0] for g in groups]))
        f = net(x).view(batch, n_views, frames, -1)
        loss = 0.0
        parts = np.zeros(4)
        n_terms = 0
        rows = np.arange(margin, frames - margin)
        for g in range(batch):
            shifts = groups[g][1]
            for u in range(n_views):
                for v in range(n_views):
                    if u == v:
                        continue
                    tgt = rows + shifts[u] - shifts[v]
                    tgt = torch.from_numpy(np.where((tgt >= 0) & (tgt < frames), tgt, -1))
                    tot, terms = sn.total_loss(f[g, u, margin:frames - margin], f[g, v], mu, temperature,
                                               target=tgt, mu_align=mu_align)
                    loss = loss + tot
                    parts += [t.item() for t in terms]
                    n_terms += 1
        loss = loss / n_terms
        opt.zero_grad()
        loss.backward()
        torch.nn.utils.clip_grad_norm_(net.parameters(), 5.0)
        opt.step()
        sched.step()
        step += 1
        running.append(np.concatenate([[loss.item()], parts / n_terms]))
        if step % 20 == 0:
            r = np.mean(running[-20:], axis=0)
            log(f"step {step}: loss {r[0]:.3f} (iden {r[1]:.3f}, devi {r[2]:.2f}, intv {r[3]:.3f}, "
                f"align {r[4]:.3f}), "
                f"{(time.perf_counter() - started) / 60:.1f} min")
        if step % eval_every == 0:
            val = validate(net, val_bank, n_pairs=val_pairs, seed=request.seed + 1, aug=aug)
            history.append({"step": step, "minutes": round((time.perf_counter() - started) / 60, 2),
                            "loss": float(np.mean(running[-eval_every:], axis=0)[0]), **val})
            log(f"validation at step {step}: mean abs {val['mean_abs_frames']:.2f} frames, "
                f"Acc@1 {100 * val['acc_at_1']:.0f} %")
            key = (val["acc_at_1"], -val["mean_abs_frames"])
            if best is None or key > best[0]:
                best = (key, step)
                best_state = {k: v.detach().clone() for k, v in net.state_dict().items()}
    if best_state is not None:
        net.load_state_dict(best_state)
    net.eval()
    final = validate(net, val_bank, n_pairs=200, seed=request.seed + 2, aug=aug)
    log(f"final validation: mean abs {final['mean_abs_frames']:.2f} frames, Acc@1 {100 * final['acc_at_1']:.0f} %")
    arrays = sn.state_arrays(net)
    np.savez_compressed(request.out, **arrays)
    card = {
        "model": "sesyn",
        "command": request.command,
        "videosync_version": __version__,
        "torch_version": torch.__version__,
        "seed": request.seed,
        "init": init_card,
        "data": {"source": "videosync.synth humanoid skeletons (Walker + mj_kinematics, no rendering), "
                           "projected into random pinhole cameras",
                 "train_worlds": [f"{k}-s{s}" for k, s in bank.seeds], "validation_worlds":
                     [f"{k}-s{s}" for k, s in val_bank.seeds], "seconds_per_world": seconds,
                 "people": {"train": len(bank.people), "validation": len(val_bank.people)},
                 "augmentation": vars(aug) | {"fps_choices": list(aug.fps_choices)}},
        "parameters": {"channels": list(channels), "temporal_kernel": net.kernel, "dim": net.dim,
                       "parameters": int(sum(q.numel() for q in net.parameters())),
                       "receptive_field_frames": net.receptive_field, "rate_hz": 30.0, "views": n_views,
                       "frames": frames, "loss_frames": frames - 2 * margin, "batch_windows": batch,
                       "optimizer": optimizer + " (weight decay 1e-4, grad-norm clip 5, cosine decay)", "lr": lr,
                       "planned_steps": max_steps, "stopped_by_time_limit": step < max_steps,
                       "temperature": temperature, "mu_devi": mu[0], "mu_intv": mu[1], "mu_align": mu_align,
                       "steps": step,
                       "kept_step": None if best is None else best[1]},
        "losses": {"first_20_steps": [round(float(x), 4) for x in np.mean(running[:20], axis=0)],
                   "last_20_steps": [round(float(x), 4) for x in np.mean(running[-20:], axis=0)],
                   "order": ["total", "iden", "devi", "intv", "align"]},
        "validation_history": history,
        "validation": final | {"protocol": "held-out worlds, 2 random cameras, equal-length 6 s clips at 30 Hz, "
                                           "offsets uniform in ±30, lag profile argmax, augmented detections "
                                           "(the training's augmentation)"},
        "minutes": round((time.perf_counter() - started) / 60, 2),
    }
    import json

    with open(_card_path(request.out), "w") as fh:
        json.dump(card, fh, indent=2)
    return card


def _card_path(out: str) -> str:
    import os

    root, _ = os.path.splitext(out)
    return root + ".json"
