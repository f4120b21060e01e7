"""SeSyn-Net's network and losses (torch): an ST-GCN over COCO-17 pose sequences with one
embedding per frame, trained by cycling frames through another view of the same instant.

Yin, Han, Feng, Wang, *Self-Supervised Human Pose based Multi-Camera Video
Synchronization*, ACM MM 2022 (SeSyn-Net); the ST-GCN blocks follow Yan, Xiong, Lin, AAAI
2018 (spatial partition, learnable edge importance). As in SeSyn-Net the temporal stride is
1 everywhere and features are taken before any pooling over time, so every input frame has
an output row; the last block has 128 channels per joint. There is **no positional or
absolute-time encoding**: temporal convolutions are the only way time enters, so a frame's
embedding depends on the poses around it, never on where it sits in the clip.

Differences from the paper, and why:

- The per-frame output is the 17 × 128 joint features flattened and projected to ``dim``
  (128) and L2-normalised, so the project's cosine similarity layer can compare frames.
- The losses compare L2-normalised embeddings with a softmax temperature (0.1 by default;
  the paper's 1 on unnormalised features). On the unit sphere ‖a − b‖² ≤ 4, so at
  temperature 1 every softmax row would be nearly flat.
- Temporal padding replicates the edge frame instead of inserting zeros: zero padding gives
  the first and last frames distinctive embeddings (a positional cue; VideoSync §4.2).
- Channels are 32, 64, 64, 128, 128, 128 (six blocks, temporal kernel 9; receptive field
  49 frames = 1.6 s at 30 Hz) instead of 64 × 4 + 128 × 5: the paper's network costs about
  4× more and must train on a shared 2-core CPU.
"""

from __future__ import annotations

import numpy as np
import torch
from torch import nn
from torch.nn import functional as F

COCO_EDGES = (
    (15, 13), (13, 11), (16, 14), (14, 12), (11, 12), (5, 11), (6, 12), (5, 6), (5, 7), (6, 8),
    (7, 9), (8, 10), (1, 2), (0, 1), (0, 2), (1, 3), (2, 4), (3, 5), (4, 6),
)
"""The COCO-17 skeleton (mmskeleton's ``coco`` layout)."""

N_JOINTS = 17
IN_CHANNELS = 3
"""Per joint: x, y (hip-centred, torso-scaled) and presence (1 seen, 0 missing)."""


def spatial_adjacency(n: int = N_JOINTS, edges=COCO_EDGES, centre: int = 0) -> np.ndarray:
    """ST-GCN's 'spatial' partition: (3, n, n) normalised adjacency (root, centripetal,
    centrifugal) by hop distance to ``centre``."""
    hop = np.full((n, n), np.inf)
    adj = np.eye(n, dtype=bool)
    for i, j in edges:
        adj[i, j] = adj[j, i] = True
    # hop distances (max 1 is all ST-GCN needs)
    np.fill_diagonal(hop, 0)
    for i, j in edges:
        hop[i, j] = hop[j, i] = 1
    dist = np.full(n, np.inf)  # distance of each joint to the centre (BFS)
    dist[centre] = 0
    frontier = [centre]
    while frontier:
        nxt = []
        for i in frontier:
            for j in range(n):
                if adj[i, j] and dist[j] == np.inf:
                    dist[j] = dist[i] + 1
                    nxt.append(j)
        frontier = nxt
    deg = adj.sum(axis=0).astype(np.float64)
    norm = adj / deg[None, :]  # column-normalised, as ST-GCN's normalize_digraph
    a = np.zeros((3, n, n))
    for i in range(n):
        for j in range(n):
            if hop[j, i] > 1:
                continue
            if dist[j] == dist[i]:
                a[0, j, i] = norm[j, i]
            elif dist[j] > dist[i]:
                a[1, j, i] = norm[j, i]
            else:
                a[2, j, i] = norm[j, i]
    return a.astype(np.float32)


class STGCNBlock(nn.Module):
    """Graph conv over joints (K partitions) → BN → ReLU → temporal conv (stride 1) → BN, with
    a residual connection."""

    def __init__(self, c_in: int, c_out: int, n_parts: int, kernel: int = 9, dropout: float = 0.0,
                 residual: bool = True) -> None:
        super().__init__()
        self.n_parts = n_parts
        self.kernel = kernel
        self.gcn = nn.Conv2d(c_in, c_out * n_parts, kernel_size=1)
        self.bn1 = nn.BatchNorm2d(c_out)
        self.tcn = nn.Conv2d(c_out, c_out, kernel_size=(kernel, 1))
        self.bn2 = nn.BatchNorm2d(c_out)
        self.drop = nn.Dropout(dropout)
        if not residual:
            self.res = None
        elif c_in == c_out:
            self.res = nn.Identity()
        else:
            self.res = nn.Sequential(nn.Conv2d(c_in, c_out, kernel_size=1), nn.BatchNorm2d(c_out))

    def forward(self, x: torch.Tensor, adj: torch.Tensor) -> torch.Tensor:
        b, _, t, v = x.shape
        y = self.gcn(x).view(b, self.n_parts, -1, t, v)
        y = torch.einsum("bkctv,kvw->bctw", y, adj)
        y = F.relu(self.bn1(y))
        p = self.kernel // 2
        y = F.pad(y, (0, 0, p, p), mode="replicate")
        y = self.drop(self.bn2(self.tcn(y)))
        if self.res is not None:
            y = y + self.res(x)
        return F.relu(y)


class SeSynNet(nn.Module):
    """(B, 3, T, 17) pose sequences → (B, T, dim) L2-normalised per-frame embeddings."""

    def __init__(self, channels=(32, 64, 64, 128, 128, 128), kernel: int = 9, dim: int = 128,
                 dropout: float = 0.0) -> None:
        super().__init__()
        self.channels = tuple(int(c) for c in channels)
        self.kernel = int(kernel)
        self.dim = int(dim)
        self.register_buffer("adj", torch.from_numpy(spatial_adjacency()))
        n_parts = self.adj.shape[0]
        self.data_bn = nn.BatchNorm1d(IN_CHANNELS * N_JOINTS)
        blocks, c_prev = [], IN_CHANNELS
        for i, c in enumerate(self.channels):
            blocks.append(STGCNBlock(c_prev, c, n_parts, kernel, dropout, residual=i > 0))
            c_prev = c
        self.blocks = nn.ModuleList(blocks)
        # learnable edge importance, one mask per block (ST-GCN)
        self.importance = nn.ParameterList([nn.Parameter(torch.ones_like(self.adj)) for _ in blocks])
        self.proj = nn.Linear(c_prev * N_JOINTS, self.dim)

    @property
    def receptive_field(self) -> int:
        """Input frames that influence one output frame."""
        return len(self.channels) * (self.kernel - 1) + 1

    def joint_features(self, x: torch.Tensor) -> torch.Tensor:
        """(B, 3, T, 17) → (B, C, T, 17): 128 channels per joint per frame."""
        b, c, t, v = x.shape
        x = self.data_bn(x.permute(0, 3, 1, 2).reshape(b, v * c, t))
        x = x.view(b, v, c, t).permute(0, 2, 3, 1)
        for blk, imp in zip(self.blocks, self.importance):
            x = blk(x, self.adj * imp)
        return x

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        f = self.joint_features(x)  # (B, C, T, V)
        b, c, t, v = f.shape
        f = f.permute(0, 2, 3, 1).reshape(b, t, v * c)
        return F.normalize(self.proj(f), dim=-1)


# ----------------------------------------------------------------------------- losses


def sesyn_losses(fu: torch.Tensor, fv: torch.Tensor, *, temperature: float = 0.1,
                 tau: int = 1) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """SeSyn-Net's three self-supervised losses for views u (M, D) and v (N, D) of one event.

    S(m, n) = −‖F^u_m − F^v_n‖² / T; X = row-softmax(S); F̃ = X·F^v (soft nearest
    neighbours of u's frames in v); S̃(m′, m) = −‖F̃_m′ − F^u_m‖² / T.

    Returns (L_iden, L_devi, L_intv): cross-entropy of each row of S̃ against its own
    index (cycle back to the same frame); mean |p − g| with p = row-softmax(S̃)·g, g the
    frame indices (how far the cycle lands, in frames); mean |(p_m − p_{m−τ}) − τ|
    (neighbours come back as neighbours).
    """
    s = -torch.cdist(fu, fv).pow(2) / temperature
    x = torch.softmax(s, dim=1)
    f_tilde = x @ fv
    s2 = -torch.cdist(f_tilde, fu).pow(2) / temperature
    m = fu.shape[0]
    g = torch.arange(m, dtype=fu.dtype, device=fu.device)
    l_iden = F.cross_entropy(s2, torch.arange(m, device=fu.device))
    p = torch.softmax(s2, dim=1) @ g
    l_devi = (p - g).abs().mean()
    l_intv = ((p[tau:] - p[:-tau]) - tau).abs().mean()
    return l_iden, l_devi, l_intv


def alignment_loss(fu: torch.Tensor, fv: torch.Tensor, target: torch.Tensor, *,
                   temperature: float = 0.1) -> torch.Tensor:
    """Cross-view same-instant term (ours, not SeSyn-Net's): cross-entropy of each row of
    S = −‖F^u_m − F^v_n‖² / T against the frame of v that shows the same instant
    (``target[m]``; rows with target −1 are ignored).

    The cycle losses alone are satisfied by *any* consistent matching, including a constant
    shift (u_m → v_{m+c} → u_m); on random camera pairs that is what they learned (held-out
    offsets at chance level). Synthetic data knows which frames show the same instant, so
    this term pins the matching to the true one."""
    s = -torch.cdist(fu, fv).pow(2) / temperature
    return F.cross_entropy(s, target, ignore_index=-1)


def total_loss(fu, fv, weights=(0.7, 0.015), temperature: float = 0.1, target=None, mu_align: float = 0.0):
    """L = L_iden + μ₁·L_devi + μ₂·L_intv (μ = SeSyn-Net's CMU-SYN weights by default), plus
    ``mu_align`` × :func:`alignment_loss` when the true matches ``target`` are known."""
    li, ld, lt = sesyn_losses(fu, fv, temperature=temperature)
    total = li + weights[0] * ld + weights[1] * lt
    la = torch.zeros(())
    if target is not None and mu_align > 0:
        la = alignment_loss(fu, fv, target, temperature=temperature)
        total = total + mu_align * la
    return total, (li, ld, lt, la)


# ------------------------------------------------------------------------ save / load


def state_arrays(net: SeSynNet) -> dict[str, np.ndarray]:
    """Plain arrays for ``np.savez`` (no pickles): architecture and every tensor."""
    out = {f"p:{k}": v.detach().cpu().numpy() for k, v in net.state_dict().items()}
    out["arch:channels"] = np.array(net.channels, np.int64)
    out["arch:kernel"] = np.array(net.kernel, np.int64)
    out["arch:dim"] = np.array(net.dim, np.int64)
    return out


def net_from_arrays(arrays) -> SeSynNet:
    """The network saved by :func:`state_arrays` (in eval mode)."""
    net = SeSynNet(channels=tuple(int(c) for c in arrays["arch:channels"]), kernel=int(arrays["arch:kernel"]),
                   dim=int(arrays["arch:dim"]))
    state = {k[2:]: torch.from_numpy(np.array(arrays[k])) for k in arrays if k.startswith("p:")}
    net.load_state_dict(state)
    net.eval()
    return net
