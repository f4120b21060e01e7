"""Solver level: pairwise → global offsets, the sign convention, robustness."""

import numpy as np
import pytest

from videosync.multiview import PairMeasurement as P
from videosync.multiview import solve_offsets
from videosync.multiview import PairMeasurement


def test_sign_convention_at_solver_level():
    # Pair (a, b) measures offset_seconds[b] - offset_seconds[a].
    truth = np.array([0.0, -2.0, 2.0])
    pairs = [P(0, 1, -2.0, 0.9), P(0, 2, 2.0, 0.9), P(1, 2, 4.0, 0.9)]
    sol = solve_offsets(3, pairs)
    np.testing.assert_allclose(sol.offsets_seconds, truth, atol=1e-6)
    assert sol.pair_used.all()


def test_other_reference():
    pairs = [P(0, 1, 1.0, 0.9), P(1, 2, 0.5, 0.9)]
    sol = solve_offsets(3, pairs, reference=1)
    np.testing.assert_allclose(sol.offsets_seconds, [-1.0, 0.0, 0.5], atol=1e-6)


def test_outlier_pair_is_overruled_and_reported():
    truth = np.array([0.0, 1.0, 2.5, -0.5])
    pairs = [P(i, j, truth[j] - truth[i], 0.8) for i in range(4) for j in range(i + 1, 4)]
    pairs[1] = P(0, 2, 7.0, 0.8)  # a confident wrong pair
    sol = solve_offsets(4, pairs)
    np.testing.assert_allclose(sol.offsets_seconds, truth, atol=1e-3)
    assert not sol.pair_used[1] and sol.pair_used[[0, 2, 3, 4, 5]].all()
    assert abs(sol.pair_residual_seconds[1]) > 4


def test_weights_favour_confident_pairs():
    pairs = [P(0, 1, 1.0, 0.95), P(0, 2, 2.0, 0.95), P(1, 2, 1.4, 0.1)]
    sol = solve_offsets(3, pairs)
    np.testing.assert_allclose(sol.offsets_seconds, [0, 1.0, 2.0], atol=0.02)


def test_unreachable_camera_gets_low_confidence_not_an_error():
    pairs = [P(0, 1, 1.0, 0.9), P(0, 2, 3.0, 0.01)]
    sol = solve_offsets(3, pairs)
    assert not sol.connected[2]
    assert sol.confidence[2] <= 0.05
    assert sol.offsets_seconds[2] == pytest.approx(3.0)  # best guess kept, flagged


def _repeating_scene(n=20, spacing=7.0, period=111.67, seed=0):
    """Cameras started ``spacing`` s apart on a scene that repeats every ``period`` s: close
    cameras overlap and match right (confidence 1); far ones do not overlap, yet match the
    scene's repetition, consistently among themselves, with weak to high confidence."""
    rng = np.random.default_rng(seed)
    truth = -spacing * np.arange(n)
    pairs = []
    for a in range(n):
        for b in range(a + 1, n):
            d = truth[b] - truth[a]
            if b - a <= 4:
                pairs.append(PairMeasurement(a, b, d + rng.normal(0, 0.005), 1.0))
            elif b - a >= 12:
                pairs.append(PairMeasurement(a, b, d + period, float(rng.uniform(0.2, 0.97))))
            else:
                pairs.append(PairMeasurement(a, b, float(rng.uniform(-20, 20)), float(rng.uniform(0.05, 0.3))))
    return truth, pairs


def test_consistent_forest_start_survives_a_repeating_scene():
    from videosync.multiview.solve import consistent_forest, inlier_mass, solve_robust

    truth, pairs = _repeating_scene()
    plain = solve_offsets(20, pairs, tolerance_seconds=0.15)
    assert np.max(np.abs(plain.offsets_seconds - truth)) > 10  # a plain start is led astray
    x0, group = consistent_forest(20, pairs, cycle_tolerance=0.3)
    assert len(set(group)) == 1
    sol = solve_robust(20, pairs, tolerance_seconds=0.15)
    assert np.max(np.abs(sol.offsets_seconds - truth)) < 0.02
    assert inlier_mass(sol, pairs, 0.15) > inlier_mass(plain, pairs, 0.15)
    right = np.array([abs(p.offset_seconds - (truth[p.b] - truth[p.a])) < 0.05 for p in pairs])
    assert sol.pair_used[right].all() and not sol.pair_used[~right].any()
