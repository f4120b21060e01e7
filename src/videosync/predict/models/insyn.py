"""InSynFormer-style fractional head: a small cross-view transformer over short clips.

After Liu et al., *Advancing Video Synchronization with Fractional Frame Analysis*, AAAI 2024
(``../shared/seeds/003``; digest in ALGORITHMS.md §4), with these choices of ours:

* **Input**: two windows of T grid rows (one per view) of per-frame features, cut around a
  coarse integer alignment: row i of ``xa`` and row i of ``xb`` are the same instant if the
  coarse lag were exact. The features of a row (D columns: the pose embedder's joint angles,
  distances and rates, or any embedding whose columns mean the same thing in every camera)
  are embedded together into one token per row; the paper keeps one token per joint, which
  costs D times more attention for the same window.
* **Temporal self-attention** (TSA) within each view, then **cross-view attention** (CVA):
  queries from one view, keys and values from the other, both directions.
* **Relative time only**: every attention adds a learned bias indexed by the row distance
  j − i (per head); there is no absolute position encoding, so nothing ties an answer to a
  place in the window (CARL's absolute encoding biased VideoSync towards 0, ALGORITHMS.md §5).
* **Output**: a hierarchy of (2K + 1) inter-frame classes e ∈ {−K … K} (whole grid steps,
  centred: ``e = round(r)``) each with 10 intra-frame classes (0.1-step bins of r − e), as one
  flat vector of (2K + 1)·10 leaf logits. Leaf (e, j) stands for the residual
  ``r = e − 0.45 + 0.1·j``; r is the true lag minus the coarse lag, in grid steps.
* **Loss**: hierarchical cross-entropy (Bertinetto et al. 2020) with λ(C) = exp(−α·h(C)):
  ``L = −exp(−α)·log P(e) − log P(j | e)``, α = 0.1 (paper's value).

Shapes: ``xa, xb`` (B, T, D) float32; ``valid_a, valid_b`` (B, T) bool; logits (B, (2K+1)·10).
"""

from __future__ import annotations

import math

import torch
from torch import nn
from torch.nn import functional as F

N_INTRA = 10
"""Intra-frame classes per inter-frame class (0.1-step bins)."""


class RelativeAttention(nn.Module):
    """Multi-head attention that knows row distances only (Shaw et al. 2018).

    Each head adds a learned bias per row distance j − i to its attention logits and a
    learned vector per row distance to the values, so the output says *where* (relative to
    the query row) the matching rows were, not only what they contain: that is what an
    offset is read from. No absolute position enters.
    """

    def __init__(self, dim: int, heads: int, max_distance: int, dropout: float = 0.0) -> None:
        super().__init__()
        if dim % heads:
            raise ValueError(f"dim {dim} is not a multiple of heads {heads}")
        self.heads, self.max_distance = heads, max_distance
        self.q = nn.Linear(dim, dim)
        self.kv = nn.Linear(dim, 2 * dim)
        self.out = nn.Linear(dim, dim)
        self.bias = nn.Parameter(torch.zeros(heads, 2 * max_distance + 1))
        self.rel_value = nn.Parameter(torch.randn(heads, 2 * max_distance + 1, dim // heads) * 0.02)
        self.match_gain = nn.Parameter(torch.full((heads,), 2.0))
        with torch.no_grad():  # one value channel per head starts as the signed distance itself
            self.rel_value[:, :, 0] = torch.arange(-max_distance, max_distance + 1) / 4.0
        self.drop = nn.Dropout(dropout)
        # Keys start equal to queries (scaled up): attention then begins as content matching
        # (a row attends to the rows that look like it), which an offset needs. From a random
        # start the toy problem of tests/test_insyn.py stays stuck at chance for a long time.
        with torch.no_grad():
            self.q.weight.mul_(3.0)
            self.kv.weight[:dim].copy_(self.q.weight)

    def forward(self, x: torch.Tensor, ctx: torch.Tensor, ctx_valid: torch.Tensor | None,
                match: torch.Tensor | None = None) -> torch.Tensor:
        b, tq, d = x.shape
        tk = ctx.shape[1]
        h = self.heads
        q = self.q(x).view(b, tq, h, d // h).transpose(1, 2)
        k, v = self.kv(ctx).view(b, tk, 2, h, d // h).permute(2, 0, 3, 1, 4)
        rel = torch.arange(tk, device=x.device)[None, :] - torch.arange(tq, device=x.device)[:, None]
        rel = rel.clamp(-self.max_distance, self.max_distance) + self.max_distance
        logits = q @ k.transpose(-1, -2) / math.sqrt(d // h) + self.bias[:, rel][None]
        if match is not None:  # (B, tq, tk) input-feature similarity, weighted per head
            logits = logits + self.match_gain[None, :, None, None] * match[:, None]
        if ctx_valid is not None:
            logits = logits.masked_fill(~ctx_valid[:, None, None, :], float("-inf"))
        w = self.drop(torch.softmax(logits, dim=-1))  # (B, h, tq, tk)
        y = w @ v + torch.einsum("bhqk,hqkd->bhqd", w, self.rel_value[:, rel])
        return self.out(y.transpose(1, 2).reshape(b, tq, d))


class Block(nn.Module):
    """Pre-norm attention (self or cross) + feed-forward, both residual."""

    def __init__(self, dim: int, heads: int, max_distance: int, dropout: float) -> None:
        super().__init__()
        self.norm_q = nn.LayerNorm(dim)
        self.norm_kv = nn.LayerNorm(dim)
        self.attn = RelativeAttention(dim, heads, max_distance, dropout)
        self.norm_ff = nn.LayerNorm(dim)
        self.ff = nn.Sequential(nn.Linear(dim, 2 * dim), nn.GELU(), nn.Dropout(dropout), nn.Linear(2 * dim, dim))

    def forward(self, x, ctx=None, ctx_valid=None, match=None):
        q = self.norm_q(x)
        kv = q if ctx is None else self.norm_kv(ctx)
        x = x + self.attn(q, kv, ctx_valid, match)
        return x + self.ff(self.norm_ff(x))


class InSynFormer(nn.Module):
    """TSA within each view, CVA between views, hierarchical inter/intra-frame classes.

    Parameters
    ----------
    in_dim : int
        Features per row (D).
    window : int
        Rows per view (T); also bounds the relative distances the attention tells apart.
    dim, heads : int
        Token width and attention heads.
    tsa_layers, cva_layers : int
        Temporal self-attention blocks per view, then cross-view blocks per direction.
    max_inter : int
        K: inter-frame classes −K … K around the coarse lag.
    """

    def __init__(self, in_dim: int, *, window: int = 32, dim: int = 64, heads: int = 4, tsa_layers: int = 2,
                 cva_layers: int = 2, max_inter: int = 2, dropout: float = 0.1) -> None:
        super().__init__()
        self.config = {"in_dim": int(in_dim), "window": int(window), "dim": int(dim), "heads": int(heads),
                       "tsa_layers": int(tsa_layers), "cva_layers": int(cva_layers),
                       "max_inter": int(max_inter), "dropout": float(dropout)}
        self.max_inter = int(max_inter)
        # Each row: its features, a validity flag, and its difference to the next row (a local
        # rate: the cue for a sub-row shift), embedded together.
        self.embed = nn.Sequential(nn.Linear(2 * in_dim + 1, dim), nn.GELU(), nn.Linear(dim, dim))
        md = window - 1
        self.tsa = nn.ModuleList([Block(dim, heads, md, dropout) for _ in range(tsa_layers)])
        self.cva_a = nn.ModuleList([Block(dim, heads, md, dropout) for _ in range(cva_layers)])
        self.cva_b = nn.ModuleList([Block(dim, heads, md, dropout) for _ in range(cva_layers)])
        # The local lag profile of the inputs (mean row match along the diagonals |j − i| ≤
        # K + 2) goes to the head beside the pooled tokens: the whole-step class can be read
        # from it from the first step on, the attention layers add the fraction.
        self.profile_reach = self.max_inter + 2
        self.profile = nn.Sequential(nn.Linear(2 * self.profile_reach + 1, dim), nn.GELU())
        self.norm = nn.LayerNorm(3 * dim)
        self.head = nn.Sequential(nn.Linear(3 * dim, 2 * dim), nn.GELU(),
                                  nn.Linear(2 * dim, self.n_leaves))

    @property
    def n_inter(self) -> int:
        return 2 * self.max_inter + 1

    @property
    def n_leaves(self) -> int:
        return self.n_inter * N_INTRA

    def _tokens(self, x: torch.Tensor, valid: torch.Tensor) -> torch.Tensor:
        x = x * valid[..., None]
        dx = torch.zeros_like(x)
        both = valid[:, 1:] & valid[:, :-1]
        dx[:, :-1] = (x[:, 1:] - x[:, :-1]) * both[..., None]
        return self.embed(torch.cat([x, dx, valid[..., None].to(x.dtype)], dim=-1))

    def forward(self, xa: torch.Tensor, xb: torch.Tensor, valid_a: torch.Tensor | None = None,
                valid_b: torch.Tensor | None = None) -> torch.Tensor:
        """(B, T, D) windows → (B, (2K + 1)·10) leaf logits."""
        if valid_a is None:
            valid_a = torch.ones(xa.shape[:2], dtype=torch.bool, device=xa.device)
        if valid_b is None:
            valid_b = torch.ones(xb.shape[:2], dtype=torch.bool, device=xb.device)
        # Rows with nothing valid in the window would give NaN attention: let them see all rows.
        va = valid_a | ~valid_a.any(dim=1, keepdim=True)
        vb = valid_b | ~valid_b.any(dim=1, keepdim=True)
        a, b = self._tokens(xa, valid_a), self._tokens(xb, valid_b)
        match = _match(xa, xb, valid_a, valid_b)
        m_ab, m_ba = _per_row(match), _per_row(match.transpose(1, 2))
        for blk in self.tsa:  # shared weights for both views: the views are interchangeable
            a, b = blk(a, None, va), blk(b, None, vb)
        for ba, bb in zip(self.cva_a, self.cva_b):
            a, b = ba(a, b, vb, m_ab), bb(b, a, va, m_ba)
        wa = va[..., None].to(a.dtype)
        wb = vb[..., None].to(b.dtype)
        prof = self.profile(_local_profile(match, valid_a, valid_b, self.profile_reach))
        pooled = torch.cat([(a * wa).sum(1) / wa.sum(1), (b * wb).sum(1) / wb.sum(1), prof], dim=-1)
        return self.head(self.norm(pooled))


def _match(xa: torch.Tensor, xb: torch.Tensor, va: torch.Tensor, vb: torch.Tensor) -> torch.Tensor:
    """(B, T, T) similarity of the input rows of a (rows) and b (columns): minus the mean
    squared difference per column, 0 where either row is invalid. Cross-view attention adds
    it (times a learned gain per head) to its logits, so it starts as feature matching."""
    d = torch.cdist(xa, xb).pow(2) / xa.shape[-1]
    return -(d * (va[:, :, None] & vb[:, None, :]))


def _per_row(m: torch.Tensor) -> torch.Tensor:
    """Standardised per query row, so the gain means the same whatever the features' spread."""
    return (m - m.mean(-1, keepdim=True)) / (m.std(-1, keepdim=True) + 1e-6)


def _local_profile(match: torch.Tensor, va: torch.Tensor, vb: torch.Tensor, reach: int) -> torch.Tensor:
    """(B, 2·reach + 1): mean of ``match`` along each diagonal j − i = −reach … reach over
    valid row pairs, standardised per window (a shape, not a level)."""
    both = (va[:, :, None] & vb[:, None, :]).to(match.dtype)
    cols = []
    for dlt in range(-reach, reach + 1):
        m = torch.diagonal(match, offset=dlt, dim1=1, dim2=2)
        w = torch.diagonal(both, offset=dlt, dim1=1, dim2=2)
        cols.append((m * w).sum(1) / w.sum(1).clamp_min(1.0))
    p = torch.stack(cols, dim=1)
    return (p - p.mean(1, keepdim=True)) / (p.std(1, keepdim=True) + 1e-6)


def residual_to_leaf(r: torch.Tensor, max_inter: int) -> tuple[torch.Tensor, torch.Tensor]:
    """True residuals r (grid steps) → (inter class index 0…2K, intra class 0…9), clipped."""
    e = torch.round(r).clamp(-max_inter, max_inter)
    j = torch.floor((r - e + 0.5) * N_INTRA).clamp(0, N_INTRA - 1)
    return (e + max_inter).long(), j.long()


def leaf_values(max_inter: int) -> torch.Tensor:
    """(2K + 1)·10 residuals that the leaves stand for (bin centres), in leaf order."""
    e = torch.arange(-max_inter, max_inter + 1, dtype=torch.float64)
    j = torch.arange(N_INTRA, dtype=torch.float64)
    return (e[:, None] - 0.5 + (j[None, :] + 0.5) / N_INTRA).reshape(-1)


def hierarchical_loss(logits: torch.Tensor, r: torch.Tensor, max_inter: int, alpha: float = 0.1) -> torch.Tensor:
    """Hierarchical cross-entropy (InSynFormer eq. 8–9): −exp(−α)·log P(e) − log P(j | e), mean over the batch.

    P over leaves is one softmax; P(e) sums its children, P(j | e) = P(e, j) / P(e).
    """
    b = logits.shape[0]
    e, j = residual_to_leaf(r, max_inter)
    logp = F.log_softmax(logits, dim=-1).view(b, 2 * max_inter + 1, N_INTRA)
    logp_e = torch.logsumexp(logp, dim=-1)  # (B, 2K+1)
    lp_e = logp_e.gather(1, e[:, None])[:, 0]
    lp_leaf = logp[torch.arange(b), e, j]
    return (-math.exp(-alpha) * lp_e - (lp_leaf - lp_e)).mean()


def decode(logits: torch.Tensor, max_inter: int, half_width: int = 2) -> tuple[torch.Tensor, torch.Tensor]:
    """Leaf logits → (residual in grid steps, confidence), both (B,).

    The residual is the probability-weighted mean of the bin centres within ``half_width``
    bins of the most probable bin (sub-bin precision without the pull of far-away mass); the
    confidence is the probability mass of those bins.
    """
    p = F.softmax(logits.double(), dim=-1)
    vals = leaf_values(max_inter).to(p.device)
    n = p.shape[1]
    best = p.argmax(dim=1)
    offs = torch.arange(-half_width, half_width + 1, device=p.device)
    idx = (best[:, None] + offs[None, :]).clamp(0, n - 1)
    inside = (best[:, None] + offs[None, :] >= 0) & (best[:, None] + offs[None, :] < n)
    w = p.gather(1, idx) * inside
    mass = w.sum(1)
    r = (w * vals[idx]).sum(1) / mass.clamp_min(1e-12)
    return r, mass
