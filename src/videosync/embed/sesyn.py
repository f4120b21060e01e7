"""SeSyn-Net pose embedder: MediaPipe 2-D pose → COCO-17 → ST-GCN → one embedding per instant.

Yin, Han, Feng, Wang, *Self-Supervised Human Pose based Multi-Camera Video Synchronization*
(ACM MM 2022). One person's 2-D pose per frame (MediaPipe BlazePose, as in the ``pose``
embedder; its 33 landmarks mapped to the 17 COCO joints), normalised per frame (centred on
the mid-hip, divided by the torso length smoothed over ±1 s), resampled onto a fixed
``rate_hz`` grid of the video's own timeline (so cameras at 25, 30 or 60 fps give
comparable sequences and dropped frames are bridged), then embedded by a small ST-GCN
(:mod:`videosync.embed._sesyn_net`) trained without labels on synthetic multi-camera
skeletons (:mod:`videosync.embed.sesyn_train`). The network has no positional encoding: a
row depends on the poses within ±0.8 s of it and nothing else.

Rows are at the grid instants ``k / rate_hz``; a row is valid when a person was seen
within ``max_gap_seconds`` on both sides (or at that instant). Rows are L2-normalised.

Weights: the shipped ``videosync/weights/sesyn.npz`` (see its run card ``sesyn.json``) or
``weights=PATH``. Missing weights raise :class:`~videosync.errors.MissingWeightsError`;
missing torch or MediaPipe raise :class:`~videosync.errors.MissingDependencyError`.

Left/right swaps of the detector are undone, where the walking direction tells, by
:func:`videosync.embed.sides.resolve_sides` (``sides="facing"``, the default);
``sides="detector"`` keeps MediaPipe's labels.

Robustness tests (SeSyn-Net §4.5): ``drop_frames`` removes that fraction of the frames
(seeded) and ``noise_px`` adds Gaussian noise (standard deviation in pixels of the
video) to every landmark before the network.
"""

from __future__ import annotations

import os

import numpy as np

from videosync._validation import check_choice, check_number
from videosync.embed.base import Embedder, Embedding, Frames
from videosync.errors import MissingDependencyError, MissingWeightsError, ShapeError
from videosync.io import VideoInfo

__all__ = [
    "BLAZEPOSE_TO_COCO",
    "COCO_JOINTS",
    "COCO_LR_SWAP",
    "PoseTrack",
    "SeSynEmbedder",
    "network_input",
    "perturb_track",
]

COCO_JOINTS = (
    "nose", "left_eye", "right_eye", "left_ear", "right_ear", "left_shoulder", "right_shoulder",
    "left_elbow", "right_elbow", "left_wrist", "right_wrist", "left_hip", "right_hip",
    "left_knee", "right_knee", "left_ankle", "right_ankle",
)
"""The 17 COCO keypoints, in COCO order (left/right are the person's)."""

BLAZEPOSE_TO_COCO = (0, 2, 5, 7, 8, 11, 12, 13, 14, 15, 16, 23, 24, 25, 26, 27, 28)
"""Index among MediaPipe's 33 BlazePose landmarks of each of :data:`COCO_JOINTS`."""

COCO_LR_SWAP = (0, 2, 1, 4, 3, 6, 5, 8, 7, 10, 9, 12, 11, 14, 13, 16, 15)
"""The COCO joint order with left and right exchanged (a detector's side swap)."""

_LSH, _RSH, _LHI, _RHI = 5, 6, 11, 12


class PoseTrack:
    """One person's 2-D keypoints over a video: the embedder's input before the network.

    Attributes:
        times_seconds: (T,) strictly increasing frame times.
        points: (T, 17, 2) float64 COCO keypoints in pixels (same unit on both axes).
        present: (T, 17) bool; False where a joint was not seen (or the frame had no person).
    """

    def __init__(self, times_seconds, points, present) -> None:
        t = np.asarray(times_seconds, np.float64)
        p = np.asarray(points, np.float64)
        m = np.asarray(present, bool)
        if t.ndim != 1 or p.shape != (len(t), 17, 2) or m.shape != (len(t), 17):
            raise ShapeError(f"a pose track needs (T,), (T, 17, 2), (T, 17); got {t.shape}, {p.shape}, {m.shape}")
        if t.size > 1 and not np.all(np.diff(t) > 0):
            raise ShapeError("times_seconds must be strictly increasing")
        self.times_seconds, self.points, self.present = t, p, m

    def __len__(self) -> int:
        return len(self.times_seconds)


def perturb_track(track: PoseTrack, *, drop_frames: float = 0.0, noise_px: float = 0.0,
                  seed: int = 0) -> PoseTrack:
    """SeSyn-Net's robustness perturbations: drop a fraction of the frames (at random,
    never all but one) and add Gaussian noise of ``noise_px`` pixels to every coordinate."""
    rng = np.random.default_rng(seed)
    t, p, m = track.times_seconds, track.points.copy(), track.present
    if noise_px > 0:
        p = p + rng.normal(0.0, noise_px, p.shape)
    if drop_frames > 0 and len(t) > 2:
        keep = rng.random(len(t)) >= drop_frames
        keep[[0, -1]] = True  # the clip keeps its span
        t, p, m = t[keep], p[keep], m[keep]
    return PoseTrack(t, p, m)


def _rolling_nanmedian(x: np.ndarray, times: np.ndarray, half_seconds: float) -> np.ndarray:
    """Median of the finite values of x within ±half_seconds of each time (NaN if none)."""
    out = np.full(len(x), np.nan)
    ok = np.isfinite(x)
    if not ok.any():
        return out
    tv, xv = times[ok], x[ok]
    lo = np.searchsorted(tv, times - half_seconds, side="left")
    hi = np.searchsorted(tv, times + half_seconds, side="right")
    for i in range(len(x)):
        if hi[i] > lo[i]:
            out[i] = np.median(xv[lo[i]:hi[i]])
    return out


def normalise_track(track: PoseTrack, *, scale_seconds: float = 1.0) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Per frame: centre on the mid-hip, divide by the torso length (shoulder centre to hip
    centre) smoothed by a running median over ±``scale_seconds``.

    Returns:
        (T, 17, 2) normalised points, (T, 17) presence, (T,) bool frames usable (both hips
        and at least one shoulder seen).
    """
    p, m = track.points, track.present
    ok = m[:, _LHI] & m[:, _RHI] & (m[:, _LSH] | m[:, _RSH])
    hip = 0.5 * (p[:, _LHI] + p[:, _RHI])
    both = m[:, _LSH] & m[:, _RSH]
    sh = np.where(both[:, None], 0.5 * (p[:, _LSH] + p[:, _RSH]),
                  np.where(m[:, _LSH][:, None], p[:, _LSH], p[:, _RSH]))
    torso = np.where(ok, np.linalg.norm(sh - hip, axis=1), np.nan)
    torso[torso < 1e-6] = np.nan
    scale = _rolling_nanmedian(torso, track.times_seconds, scale_seconds)
    ok &= np.isfinite(scale)
    with np.errstate(invalid="ignore", divide="ignore"):
        q = (p - hip[:, None]) / scale[:, None, None]
    q[~ok] = 0.0
    pres = m & ok[:, None]
    q[~pres] = 0.0
    return q, pres, ok


def network_input(track: PoseTrack, *, rate_hz: float = 30.0, max_gap_seconds: float = 0.3,
                  scale_seconds: float = 1.0) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """A pose track → the network's input on the grid ``k / rate_hz`` of its own timeline.

    Each grid instant is interpolated linearly between the usable frames around it, if they
    are at most ``max_gap_seconds`` apart (or one falls on the instant); a joint is present
    there when present in the nearer of the two frames (its coordinates then come from the
    frames where it is present).

    Returns:
        grid_times (G,), x (3, G, 17) float32 (channels: x, y, presence; zeros where
        missing), valid (G,) bool.
    """
    t = track.times_seconds
    q, pres, ok = normalise_track(track, scale_seconds=scale_seconds)
    if len(t) == 0:
        return np.zeros(0), np.zeros((3, 0, 17), np.float32), np.zeros(0, bool)
    k0 = int(np.ceil(t[0] * rate_hz - 1e-6))
    k1 = int(np.floor(t[-1] * rate_hz + 1e-6))
    grid = np.arange(k0, max(k1, k0) + 1) / rate_hz
    x = np.zeros((3, len(grid), 17), np.float32)
    valid = np.zeros(len(grid), bool)
    idx = np.flatnonzero(ok)
    if idx.size == 0:
        return grid, x, valid
    tv = t[idx]
    j = np.searchsorted(tv, grid, side="right")  # tv[j-1] <= g < tv[j]
    i0 = np.clip(j - 1, 0, len(idx) - 1)
    i1 = np.clip(j, 0, len(idx) - 1)
    t0, t1 = tv[i0], tv[i1]
    exact = np.isclose(t0, grid, atol=1e-6) | np.isclose(t1, grid, atol=1e-6)
    inside = (t0 <= grid + 1e-9) & (t1 >= grid - 1e-9)
    valid = exact | (inside & (t1 - t0 <= max_gap_seconds))
    with np.errstate(invalid="ignore", divide="ignore"):
        w = np.where(t1 > t0, (grid - t0) / (t1 - t0), 0.0)
    w = np.clip(np.where(np.isclose(t0, grid, atol=1e-6), 0.0, w), 0.0, 1.0)
    a, b = idx[i0], idx[i1]
    pa, pb = pres[a], pres[b]  # (G, 17)
    qa, qb = q[a], q[b]
    both = pa & pb
    wj = w[:, None, None]
    coords = np.where(both[..., None], (1 - wj) * qa + wj * qb,
                      np.where(pa[..., None], qa, qb))
    near = np.where((w < 0.5)[:, None], pa, pb)
    present = near & valid[:, None]
    coords = np.where(present[..., None], coords, 0.0)
    x[0] = coords[..., 0]
    x[1] = coords[..., 1]
    x[2] = present
    return grid, x, valid


def _torch():
    try:
        import torch

        from videosync.embed import _sesyn_net
    except ImportError:
        raise MissingDependencyError("the 'sesyn' embedder", extra="torch",
                                     hint="pip install torch==2.13.0 (a CPU build)") from None
    return torch, _sesyn_net


def load_network(path: str | os.PathLike):
    """The SeSyn network saved at ``path`` (an ``.npz`` of plain arrays), in eval mode."""
    _, net_mod = _torch()
    if not os.path.isfile(path):
        raise MissingWeightsError("the 'sesyn' embedder", f"no weights file at {path}; train one with "
                                  "'videosync train sesyn --out sesyn.npz'")
    with np.load(path) as d:
        arrays = {k: d[k] for k in d.files}
    return net_from(arrays, net_mod)


def net_from(arrays, net_mod=None):
    if net_mod is None:
        _, net_mod = _torch()
    return net_mod.net_from_arrays(arrays)


def embed_input(net, x: np.ndarray, *, chunk: int = 2048) -> np.ndarray:
    """Run the network over a (3, G, 17) input in overlapping chunks → (G, dim) float32.

    Chunks overlap by the receptive field, so the result does not depend on ``chunk``
    except within half a receptive field of the clip's ends (edge padding).
    """
    torch, _ = _torch()
    g = x.shape[1]
    margin = net.receptive_field // 2 + 1
    out = np.zeros((g, net.dim), np.float32)
    with torch.no_grad():
        start = 0
        while start < g:
            stop = min(g, start + chunk)
            lo, hi = max(0, start - margin), min(g, stop + margin)
            xt = torch.from_numpy(np.ascontiguousarray(x[None, :, lo:hi]))
            f = net(xt)[0].numpy()
            out[start:stop] = f[start - lo:stop - lo]
            start = stop
    return out


def mediapipe_track(frames: Frames, info: VideoInfo) -> PoseTrack:
    """MediaPipe BlazePose (tracking mode, as the ``pose`` embedder runs it) on every frame →
    COCO-17 keypoints in pixels of the video."""
    from videosync.embed.pose import mediapipe_results

    idx = list(BLAZEPOSE_TO_COCO)
    times, pts, found = [], [], []
    w, h = float(info.width), float(info.height)
    for t, _, res in mediapipe_results(frames):
        times.append(t)
        if res.pose_landmarks is None:
            pts.append(np.zeros((17, 2)))
            found.append(False)
            continue
        lm = res.pose_landmarks.landmark
        pts.append(np.array([(lm[i].x * w, lm[i].y * h) for i in idx]))
        found.append(True)
    n = len(times)
    present = np.repeat(np.array(found, bool)[:, None], 17, axis=1) if n else np.zeros((0, 17), bool)
    return PoseTrack(np.array(times, np.float64), np.array(pts).reshape(n, 17, 2), present)


class SeSynEmbedder(Embedder):
    """SeSyn-Net: self-supervised ST-GCN embedding of one person's 2-D pose per instant.

    Parameters
    ----------
    weights : str, optional
        An ``.npz`` written by ``videosync train sesyn``; default: the shipped weights.
    rate_hz : float
        The grid the pose is resampled to and the rows are placed on (the network was
        trained at 30 Hz: its temporal kernels are 0.3 s long there).
    drop_frames : float
        Robustness test: fraction of frames removed at random before the network.
    noise_px : float
        Robustness test: Gaussian noise (pixels of the video) added to every landmark.
    seed : int
        Seed of the two perturbations.
    sides : {"facing", "detector"}
        "facing": undo left/right swaps where the walking direction tells
        (:func:`videosync.embed.sides.resolve_sides`, after the perturbations);
        "detector": keep the detector's labels.
    max_side : int
        Working size for MediaPipe.
    """

    name = "sesyn"
    summary = "SeSyn-Net: MediaPipe 2-D pose → ST-GCN frame embeddings (torch; shipped weights); one person"
    pixel_format = "rgb24"
    default_metric = "cosine"

    def __init__(self, *, weights: str | None = None, rate_hz: float = 30.0, drop_frames: float = 0.0,
                 noise_px: float = 0.0, seed: int = 0, sides: str = "facing", max_side: int = 512) -> None:
        super().__init__(max_side=max_side)
        self.weights = None if weights is None else os.fspath(weights)
        self.rate_hz = check_number("SeSynEmbedder", "rate_hz", rate_hz, low=1.0, high=240.0)
        self.drop_frames = check_number("SeSynEmbedder", "drop_frames", drop_frames, low=0.0, high=0.9)
        self.noise_px = check_number("SeSynEmbedder", "noise_px", noise_px, low=0.0, high=1000.0)
        self.seed = check_number("SeSynEmbedder", "seed", seed, low=0, integer=True)
        self.sides = check_choice("SeSynEmbedder", "sides", sides, ("facing", "detector"))
        self._net = None

    @classmethod
    def is_available(cls) -> bool:
        """torch and MediaPipe importable and the shipped weights present."""
        from videosync.weights import shipped

        try:
            _torch()
            from videosync.embed.pose import _pose_module

            _pose_module()
        except MissingDependencyError:
            return False
        return shipped("sesyn", "npz") is not None

    @classmethod
    def test_params(cls):
        return [{"max_side": 128}, {"max_side": 96, "drop_frames": 0.1, "noise_px": 2.0}]

    def network(self):
        """The loaded network (weights resolved on first use)."""
        if self._net is None:
            from videosync.weights import resolve

            path = resolve("sesyn", "npz", self.weights)
            if path is None:
                raise MissingWeightsError("the 'sesyn' embedder", "this install ships none; train them with "
                                          "'videosync train sesyn --out sesyn.npz' and pass weights=PATH")
            self._net = load_network(path)
        return self._net

    def embed_track(self, track: PoseTrack) -> Embedding:
        """Embed an already extracted pose track (perturbed as the parameters say)."""
        net = self.network()
        if self.drop_frames > 0 or self.noise_px > 0:
            track = perturb_track(track, drop_frames=self.drop_frames, noise_px=self.noise_px, seed=self.seed)
        if self.sides == "facing":
            from videosync.embed.sides import resolve_sides

            track = resolve_sides(track)
        grid, x, valid = network_input(track, rate_hz=self.rate_hz)
        if len(grid) < 2:
            raise ShapeError(f"sesyn: the video spans {len(grid)} grid instants at {self.rate_hz} Hz; 2 are needed")
        feats = embed_input(net, x)
        feats[~valid] = 0.0
        return Embedding(grid, feats, valid=valid)

    def _embed(self, frames: Frames, info: VideoInfo) -> Embedding:
        self.network()  # fail early (before MediaPipe runs) when weights or torch are missing
        return self.embed_track(mediapipe_track(frames, info))
