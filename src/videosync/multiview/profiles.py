"""N cameras from every pair's whole lag-score profile, not just its peak.

A pair's profile often has the right offset as its second or third peak (a repetitive
motion, a short overlap, people confused between views). Around a cycle of cameras only
the right peaks agree: o_ab + o_bc ≈ o_ac. :func:`solve_with_profiles`

1. takes each pair's candidates: its own answer and the ``candidates`` highest other local
   maxima of its profile, each with a height ``h`` (the score in standard deviations
   above the profile's median);
2. forms hypotheses: every spanning tree of the pair graph (at most ``max_trees``) times
   every choice of candidate on its edges, each fixing all cameras' offsets;
3. scores a hypothesis by Σ over all pairs of the height of the pair's best candidate
   within the pair's tolerance of what the hypothesis predicts (0 if none), so a
   hypothesis wins by making many pairs agree with tall peaks;
4. hands the winning candidate of each pair to the robust IRLS solve
   (:func:`~videosync.multiview.solve.solve_offsets`) with weight = the pair's confidence
   for its own answer, or ``0.5 · h / h_max`` for another peak of its profile; pairs with no
   candidate near the hypothesis keep their own answer, which the robust solve rejects.

Pairs whose own answer the solve does not follow (more than the tolerance away) are
reported as **overruled**. With two cameras, or without profiles, it is the plain solve.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass

import numpy as np

from videosync._validation import check_number
from videosync.multiview.solve import PairMeasurement, Solution, solve_offsets
from videosync.predict.lag import _local_maxima

__all__ = ["ProfileSolution", "profile_candidates", "solve_with_profiles"]


@dataclass(frozen=True, repr=False)
class ProfileSolution:
    """The profile-aware solve: the IRLS solution plus what each pair contributed."""

    solution: Solution
    chosen_offsets_seconds: np.ndarray
    """(P,) the offset each pair contributed (its own answer or another peak of its profile)."""
    overruled: np.ndarray
    """(P,) bool: the solved offset differs from the pair's own answer by more than the tolerance."""
    hypotheses: int
    """How many hypotheses were scored (0: plain solve)."""

    def __repr__(self) -> str:
        return f"ProfileSolution({self.solution!r}, overruled={int(self.overruled.sum())})"


def profile_candidates(offset_seconds: float, lags_seconds, scores, *, candidates: int = 3,
                       exclusion_seconds: float = 0.2) -> list[tuple[float, float]]:
    """``(offset, height)`` candidates of one pair: its own answer first, then the highest
    other local maxima of the profile (heights in standard deviations above the median)."""
    lags = np.asarray(lags_seconds, dtype=float)
    y = np.asarray(scores, dtype=float)
    fin = np.isfinite(y)
    if fin.sum() < 3:
        return [(float(offset_seconds), 0.0)]
    med, sd = float(np.median(y[fin])), float(np.std(y[fin]))
    if sd <= 1e-12:
        return [(float(offset_seconds), 0.0)]
    h = (y - med) / sd
    own = int(np.argmin(np.abs(lags - offset_seconds)))
    out = [(float(offset_seconds), float(np.nanmax(h[max(0, own - 1):own + 2])))]
    peaks = _local_maxima(y)
    peaks = peaks[np.argsort(-h[peaks])]
    for p in peaks:
        if len(out) > candidates:
            break
        if all(abs(lags[p] - c) > exclusion_seconds for c, _ in out):
            out.append((float(lags[p]), float(h[p])))
    return out


def _spanning_trees(n: int, edges: list[tuple[int, int]], limit: int, rng) -> list[tuple[int, ...]]:
    """Index sets of ``n - 1`` edges that connect all ``n`` nodes (all, or ``limit`` sampled)."""
    def connects(sel):
        parent = list(range(n))

        def find(u):
            while parent[u] != u:
                parent[u] = parent[parent[u]]
                u = parent[u]
            return u

        for k in sel:
            ra, rb = find(edges[k][0]), find(edges[k][1])
            if ra == rb:
                return False
            parent[ra] = rb
        return True

    idx = range(len(edges))
    total = 1
    for k in range(n - 1):
        total = total * (len(edges) - k) // (k + 1)
    if total <= 4 * limit:
        trees = [sel for sel in itertools.combinations(idx, n - 1) if connects(sel)]
        if len(trees) > limit:
            trees = [trees[i] for i in rng.choice(len(trees), limit, replace=False)]
        return trees
    trees, seen = [], set()
    for _ in range(20 * limit):
        sel = tuple(sorted(rng.choice(len(edges), n - 1, replace=False).tolist()))
        if sel not in seen and connects(sel):
            seen.add(sel)
            trees.append(sel)
            if len(trees) >= limit:
                break
    return trees


def _tree_offsets(n, reference, edges, tree, values):
    """Offsets fixed by a spanning tree whose edge k says x_b − x_a = values[k]."""
    x = np.full(n, np.nan)
    x[reference] = 0.0
    pending = list(zip(tree, values))
    while pending:
        rest = []
        for k, v in pending:
            a, b = edges[k]
            if np.isfinite(x[a]) and not np.isfinite(x[b]):
                x[b] = x[a] + v
            elif np.isfinite(x[b]) and not np.isfinite(x[a]):
                x[a] = x[b] - v
            elif not (np.isfinite(x[a]) and np.isfinite(x[b])):
                rest.append((k, v))
        if len(rest) == len(pending):
            break
        pending = rest
    return x


def solve_with_profiles(
    n_cameras: int,
    pairs: list[PairMeasurement],
    profiles: list[tuple[np.ndarray, np.ndarray] | None],
    *,
    reference: int = 0,
    tolerance_seconds: float = 0.15,
    min_confidence: float = 0.05,
    candidates: int = 3,
    max_trees: int = 60,
    max_hypotheses: int = 20000,
    seed: int = 0,
) -> ProfileSolution:
    """Robust N-camera solve that may use other peaks of each pair's profile (module docstring).

    Parameters
    ----------
    n_cameras, pairs, reference, tolerance_seconds, min_confidence
        As for :func:`~videosync.multiview.solve.solve_offsets`.
    profiles : list of (lags_seconds, scores) or None
        One per measurement (the predictor's ``OffsetEstimate.lags_seconds`` / ``scores``,
        higher is better); None where a pair has no profile.
    candidates : int
        Other profile peaks considered per pair besides its own answer.
    """
    check_number("solve_with_profiles", "candidates", candidates, low=0, high=10, integer=True)
    if len(profiles) != len(pairs):
        from videosync.errors import InvalidParameterError

        raise InvalidParameterError(f"profiles must have one entry per pair ({len(pairs)}), got {len(profiles)}")
    own = np.array([q.offset_seconds for q in pairs], dtype=float)
    tol = np.array([q.tolerance_seconds or tolerance_seconds for q in pairs], dtype=float)

    def plain(measured, hyps):
        sol = solve_offsets(n_cameras, measured, reference=reference, tolerance_seconds=tolerance_seconds,
                            min_confidence=min_confidence)
        a = np.array([q.a for q in pairs], dtype=int)
        b = np.array([q.b for q in pairs], dtype=int)
        solved = sol.offsets_seconds[b] - sol.offsets_seconds[a] if pairs else np.zeros(0)
        return ProfileSolution(sol, np.array([q.offset_seconds for q in measured], dtype=float),
                               np.abs(own - solved) > tol, hyps)

    if n_cameras < 3 or not pairs or any(p is None for p in profiles):
        return plain(list(pairs), 0)
    cands = [profile_candidates(q.offset_seconds, *prof, candidates=candidates) for q, prof in zip(pairs, profiles)]
    edges = [(q.a, q.b) for q in pairs]
    rng = np.random.default_rng(seed)
    trees = _spanning_trees(n_cameras, edges, max_trees, rng)
    if not trees:
        return plain(list(pairs), 0)
    best_score, best_x, count = -np.inf, None, 0
    per_tree = max(1, max_hypotheses // len(trees))
    for tree in trees:
        choices = list(itertools.product(*[range(len(cands[k])) for k in tree]))
        if len(choices) > per_tree:
            choices = [choices[i] for i in rng.choice(len(choices), per_tree, replace=False)]
        for ch in choices:
            x = _tree_offsets(n_cameras, reference, edges, tree, [cands[k][c][0] for k, c in zip(tree, ch)])
            if not np.isfinite(x).all():
                continue
            count += 1
            score = 0.0
            for k, (a, b) in enumerate(edges):
                pred = x[b] - x[a]
                score += max([h for o, h in cands[k] if abs(o - pred) <= tol[k] and h > 0], default=0.0)
            if score > best_score + 1e-9:
                best_score, best_x = score, x
    if best_x is None:
        return plain(list(pairs), count)
    measured = []
    for k, q in enumerate(pairs):
        pred = best_x[q.b] - best_x[q.a]
        near = [(h, i) for i, (o, h) in enumerate(cands[k]) if abs(o - pred) <= tol[k] and h > 0]
        if not near:
            measured.append(q)
            continue
        h, i = max(near)
        if i == 0:
            measured.append(q)
        else:
            h_max = max(hh for _, hh in cands[k])
            w = 0.5 * h / h_max if h_max > 0 else 0.0
            measured.append(PairMeasurement(q.a, q.b, cands[k][i][0], float(np.clip(w, 0, 1)), q.tolerance_seconds))
    return plain(measured, count)
