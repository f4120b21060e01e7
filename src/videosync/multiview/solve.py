"""Pairwise offsets → one consistent set of offsets for N cameras.

Each pair (a, b) measures o_ab ≈ x_b − x_a (``x`` = offset_seconds per camera, the
reference fixed at 0). We solve the weighted least-squares problem with robust
(iteratively reweighted, Cauchy) weights, so a pair that disagrees with the others is
down-weighted and reported as not used. Weights start at each pair's confidence.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from videosync._validation import check_number


@dataclass(frozen=True)
class PairMeasurement:
    """One pair's measured offset of camera ``b`` relative to camera ``a``."""

    a: int
    b: int
    offset_seconds: float
    confidence: float
    tolerance_seconds: float | None = None
    """This pair's Cauchy scale and rejection threshold (None: the solve's ``tolerance_seconds``);
    e.g. a loose prior from file metadata beside tight measured pairs."""


@dataclass(frozen=True, repr=False)
class Solution:
    """The N-camera solve."""

    offsets_seconds: np.ndarray
    """(N,) per camera; the reference is exactly 0."""
    residual_seconds: np.ndarray
    """(N,) weighted RMS residual of the camera's used pairs (NaN if none)."""
    confidence: np.ndarray
    """(N,) in [0, 1]; 1 for the reference."""
    connected: np.ndarray
    """(N,) bool: reached from the reference through used pairs."""
    pair_used: np.ndarray
    """(P,) bool, per measurement: kept by the robust solve."""
    pair_residual_seconds: np.ndarray
    """(P,) measured − solved offset of each pair."""

    def __repr__(self) -> str:
        return f"Solution(offsets_seconds={np.round(self.offsets_seconds, 4).tolist()})"


def solve_offsets(
    n_cameras: int,
    pairs: list[PairMeasurement],
    *,
    reference: int = 0,
    tolerance_seconds: float = 0.15,
    min_confidence: float = 0.05,
    iterations: int = 20,
    initial_offsets_seconds: np.ndarray | None = None,
) -> Solution:
    """Robust weighted least squares for camera offsets.

    Parameters
    ----------
    n_cameras : int
    pairs : list of PairMeasurement
    reference : int
        The camera whose offset is fixed to 0.
    tolerance_seconds : float
        Scale of the Cauchy weights, and the residual above which a pair is reported as
        not used (a pair's own ``tolerance_seconds`` overrides it).
    min_confidence : float
        Pairs below this confidence are not used at all.
    initial_offsets_seconds : (N,) array, optional
        A starting guess (e.g. from a consistency-checked spanning tree): the robust weights
        start from its residuals, so gross outliers (tens of seconds) have no pull from the
        first iteration. Default: start from the plain weighted least-squares solution.
    """
    check_number("solve_offsets", "n_cameras", n_cameras, low=1, integer=True)
    check_number("solve_offsets", "reference", reference, low=0, high=n_cameras - 1, integer=True)
    check_number("solve_offsets", "tolerance_seconds", tolerance_seconds, low=0, low_open=True)
    p = len(pairs)
    a = np.array([q.a for q in pairs], dtype=int)
    b = np.array([q.b for q in pairs], dtype=int)
    o = np.array([q.offset_seconds for q in pairs], dtype=float)
    c = np.array([q.confidence for q in pairs], dtype=float)
    tol = np.array([tolerance_seconds if q.tolerance_seconds is None else q.tolerance_seconds for q in pairs],
                   dtype=float)
    base_w = np.where(c >= min_confidence, c, 0.0)

    x = np.zeros(n_cameras)
    robust = np.ones(p)
    if initial_offsets_seconds is not None and p:
        x0 = np.asarray(initial_offsets_seconds, dtype=float)
        x = x0 - x0[reference]
        robust = 1.0 / (1.0 + ((o - (x[b] - x[a])) / tol) ** 2)
    if p:
        for _ in range(iterations):
            w = base_w * robust
            x_new = _weighted_solve(n_cameras, a, b, o, w, reference)
            r = o - (x_new[b] - x_new[a])
            robust = 1.0 / (1.0 + (r / tol) ** 2)
            if np.allclose(x_new, x, atol=1e-9):
                x = x_new
                break
            x = x_new
    r = o - (x[b] - x[a]) if p else np.zeros(0)
    used = (base_w > 0) & (np.abs(r) <= tol)
    if used.any():  # final solve on the kept pairs only: rejected pairs have no pull at all
        x = _weighted_solve(n_cameras, a, b, o, base_w * used, reference)
        r = o - (x[b] - x[a])
        used = (base_w > 0) & (np.abs(r) <= tol)

    connected = _reachable(n_cameras, a[used], b[used], reference)
    x[~connected] = 0.0
    # Unreached cameras keep a best guess: their most confident pair to a reached camera
    # (status and confidence say it is not to be trusted).
    for cam in np.flatnonzero(~connected):
        best = None
        for k in range(p):
            if c[k] <= 0:
                continue
            if a[k] == cam and connected[b[k]]:
                cand = (c[k], x[b[k]] - o[k])
            elif b[k] == cam and connected[a[k]]:
                cand = (c[k], x[a[k]] + o[k])
            else:
                continue
            if best is None or cand[0] > best[0]:
                best = cand
        if best is not None:
            x[cam] = best[1]
    x[reference] = 0.0
    r = o - (x[b] - x[a]) if p else np.zeros(0)

    resid = np.full(n_cameras, np.nan)
    conf = np.zeros(n_cameras)
    for cam in range(n_cameras):
        mine = used & ((a == cam) | (b == cam))
        if mine.any():
            ww = base_w[mine]
            resid[cam] = float(np.sqrt(np.sum(ww * r[mine] ** 2) / np.sum(ww)))
            # Independent agreeing evidence: 1 - prod(1 - c).
            conf[cam] = 1.0 - float(np.prod(1.0 - np.clip(c[mine], 0, 1)))
    conf[reference] = 1.0
    conf[~connected] = np.minimum(conf[~connected], min_confidence)
    return Solution(x, resid, conf, connected, used, r)


FOREST_ORDERS = ("product", "support", "confidence")


def consistent_forest(n: int, pairs: list[PairMeasurement], *, floor: float = 0.05, cycle_tolerance: float = 0.3,
                      can_join=None, order: str = "product") -> tuple[np.ndarray, np.ndarray]:
    """Greedy spanning forest over ``n`` nodes, robust to confidently wrong pairs: a starting
    guess for :func:`solve_offsets` (``initial_offsets_seconds``).

    Pairs (confidence ≥ ``floor``; the most confident one per node pair) are taken in
    ``order`` and join two trees when they connect different ones. The *triangle support* of a
    pair is the confidence of the other two-pair paths between the same nodes that agree with
    it within ``cycle_tolerance`` (each path counts its weaker pair). ``"product"``:
    confidence × (1 + support), so a confident pair that nothing confirms waits for confirmed
    ones, and so does a weak pair that many weak paths confirm (a scene that repeats itself
    makes every pair of non-overlapping views agree on the same wrong offsets);
    ``"support"``: support, then confidence; ``"confidence"``: confidence (a maximum spanning
    tree). ``can_join(members_a, x_a, members_b, x_b_moved)``, if
    given, may refuse a join (e.g. two clips of one camera would overlap). No single order is
    safe from wrong pairs that agree with each other (on the repeating scene of
    tests/test_solve.py "support" and "product" follow them, "confidence" does not):
    :func:`solve_robust` tries each. Returns (x with x_b − x_a ≈ offset for used pairs, tree id
    per node).
    """
    if order not in FOREST_ORDERS:
        raise ValueError(f"order must be one of {FOREST_ORDERS}")
    return _grow_forest(n, _forest_candidates(n, pairs, floor, cycle_tolerance), order, can_join)


def _forest_candidates(n, pairs, floor, cycle_tolerance) -> list[tuple[float, float, int, int, float]]:
    """(triangle support, confidence, a, b, offset) per node pair (see :func:`consistent_forest`)."""
    nbr: dict[int, dict[int, tuple[float, float]]] = {i: {} for i in range(n)}
    for e in pairs:
        if e.confidence >= floor and e.confidence > nbr[e.a].get(e.b, (0.0, -1.0))[1]:
            nbr[e.a][e.b] = (e.offset_seconds, e.confidence)
            nbr[e.b][e.a] = (-e.offset_seconds, e.confidence)
    out = []
    for a in range(n):
        for b, (v, c) in nbr[a].items():
            if b < a:
                continue
            support = sum(min(c_ak, nbr[k][b][1]) for k, (v_ak, c_ak) in nbr[a].items()
                          if k != b and b in nbr[k] and abs(v_ak + nbr[k][b][0] - v) < cycle_tolerance)
            out.append((support, c, a, b, v))
    return out


def _grow_forest(n, candidates, order, can_join) -> tuple[np.ndarray, np.ndarray]:
    key = {"product": lambda r: (r[1] * (1.0 + r[0]), r[1]), "support": lambda r: (r[0], r[1]),
           "confidence": lambda r: (r[1], r[1])}[order]
    ranked = sorted(candidates, key=key, reverse=True)
    x = np.zeros(n)
    group = np.arange(n)
    members = {i: [i] for i in range(n)}
    for _, _, a, b, v in ranked:
        ga, gb = group[a], group[b]
        if ga == gb:
            continue
        moved = x[members[gb]] + (x[a] + v - x[b])
        if can_join is not None and not can_join(members[ga], x[members[ga]], members[gb], moved):
            continue
        x[members[gb]] = moved
        group[members[gb]] = ga
        members[ga] += members.pop(gb)
    return x, group


def inlier_mass(sol: Solution, pairs: list[PairMeasurement], tolerance_seconds: float) -> float:
    """How much evidence a solution explains (used to choose between starting points):
    Σ log-odds of the confident pairs, log(c / (1 − c)) for c > 0.5 (c capped at 0.999),
    each times 1 / (1 + (residual / tolerance)²). Log-odds, as for independent evidence: one
    pair at 0.999 outweighs several at 0.7, so many middling pairs that agree on a wrong
    configuration (a repeating scene) do not outvote a few certain ones."""
    return evidence_mass(pairs, sol.pair_residual_seconds, tolerance_seconds)


def evidence_mass(pairs: list[PairMeasurement], residuals_seconds, tolerance_seconds: float) -> float:
    """:func:`inlier_mass` for any placement: ``residuals_seconds[k]`` is how far it puts pair
    k's two nodes from the pair's offset."""
    if not pairs:
        return 0.0
    c = np.clip(np.array([p.confidence for p in pairs], dtype=float), 0.5, 0.999)
    w = np.log(c / (1.0 - c))
    tol = np.array([tolerance_seconds if p.tolerance_seconds is None else p.tolerance_seconds for p in pairs])
    return float(np.sum(w / (1.0 + (np.asarray(residuals_seconds, dtype=float) / tol) ** 2)))


def solve_robust(n_cameras: int, pairs: list[PairMeasurement], *, reference: int = 0,
                 tolerance_seconds: float = 0.15, cycle_tolerance: float | None = None, **kwargs) -> Solution:
    """:func:`solve_offsets` from several starts — the plain weighted least squares and a
    :func:`consistent_forest` of each order — keeping the solution that explains the most
    evidence (:func:`inlier_mass`). One start can be led astray by pairs that are wrong but
    agree with each other (a repeating scene); the others then win."""
    cyc = 2 * tolerance_seconds if cycle_tolerance is None else cycle_tolerance
    best, best_mass = None, -1.0
    candidates = _forest_candidates(n_cameras, pairs, 0.05, cyc)  # the triangle supports, once
    starts = [None] + [_grow_forest(n_cameras, candidates, o, None)[0] for o in FOREST_ORDERS]
    for x0 in starts:
        sol = solve_offsets(n_cameras, pairs, reference=reference, tolerance_seconds=tolerance_seconds,
                            initial_offsets_seconds=x0, **kwargs)
        mass = inlier_mass(sol, pairs, tolerance_seconds)
        if mass > best_mass + 1e-9:
            best, best_mass = sol, mass
    return best


def _weighted_solve(n, a, b, o, w, reference) -> np.ndarray:
    keep = w > 0
    free = [k for k in range(n) if k != reference]
    col = {cam: i for i, cam in enumerate(free)}
    rows = int(keep.sum())
    A = np.zeros((rows + len(free), len(free)))
    y = np.zeros(rows + len(free))
    for r_i, k in enumerate(np.flatnonzero(keep)):
        sw = np.sqrt(w[k])
        if b[k] != reference:
            A[r_i, col[b[k]]] += sw
        if a[k] != reference:
            A[r_i, col[a[k]]] -= sw
        y[r_i] = sw * o[k]
    # A tiny ridge keeps cameras without any pair at 0 instead of undefined.
    for i in range(len(free)):
        A[rows + i, i] = 1e-6
    sol, *_ = np.linalg.lstsq(A, y, rcond=None)
    x = np.zeros(n)
    for cam, i in col.items():
        x[cam] = sol[i]
    return x


def _reachable(n, a, b, start) -> np.ndarray:
    seen = np.zeros(n, bool)
    seen[start] = True
    stack = [start]
    while stack:
        u = stack.pop()
        for x, y in zip(a, b):
            for s, t in ((x, y), (y, x)):
                if s == u and not seen[t]:
                    seen[t] = True
                    stack.append(t)
    return seen
