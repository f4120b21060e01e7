"""Left/right swap resolution (videosync.embed.sides) on synthetic 2-D walks with injected swaps."""

import numpy as np
import pytest

from videosync.embed.sesyn import COCO_LR_SWAP, PoseTrack
from videosync.embed.sides import facing_cue, facing_flips, resolve_sides, swap_sides


def _walk(seconds=8.0, fps=30.0, towards=True, side_view=False):
    """A person walking towards the camera for half the clip, then turning and walking away
    (or, with ``side_view``, across the image at a constant distance). COCO-17 pixels."""
    t = np.arange(int(seconds * fps)) / fps
    half = seconds / 2
    if side_view:
        scale = np.full(len(t), 30.0)
        facing = np.zeros(len(t))  # lateral axis along the depth: no image-x separation
    else:
        # distance shrinks then grows: the person approaches (facing us), then walks away
        scale = np.where(t < half, 20.0 + 5.0 * t, 20.0 + 5.0 * (seconds - t))
        facing = np.where(t < half, 1.0, -1.0)  # +1: front view (left side at image right)
    phase = 2 * np.pi * 0.9 * t
    p = np.zeros((len(t), 17, 2))
    cx, cy = 160.0 + (30.0 * t if side_view else 0.0), 120.0
    for j in range(17):
        side = 0 if j == 0 else (1 if j % 2 == 1 else -1)  # COCO: odd = left, even = right
        height = {0: 1.6, 1: 1.55, 2: 1.55, 3: 1.5, 4: 1.5, 5: 1.0, 6: 1.0, 7: 0.6, 8: 0.6, 9: 0.2, 10: 0.2,
                  11: 0.0, 12: 0.0, 13: -0.5, 14: -0.5, 15: -1.0, 16: -1.0}[j]
        width = 0.35 if j in (5, 6) else 0.25
        swing = 0.15 * side * np.sin(phase) * (j >= 13)  # legs swing in opposite phase
        x = cx + scale * (side * width * facing + (swing if side_view else 0.0))
        y = cy - scale * (height + (0.0 if side_view else 0.3 * swing))
        p[:, j] = np.stack([x, y], axis=1)
    return PoseTrack(t, p, np.ones((len(t), 17), bool))


def _inject(track, fraction=0.4, seed=0):
    """Swap left and right in runs of 2-25 frames covering about ``fraction`` of the frames."""
    rng = np.random.default_rng(seed)
    n = len(track)
    swapped = np.zeros(n, bool)
    while swapped.mean() < fraction:
        s = int(rng.integers(0, n))
        swapped[s:s + int(rng.integers(2, 26))] = True
    return swap_sides(track, swapped), swapped


def test_swap_sides_exchanges_left_and_right_only_where_asked():
    tr = _walk(seconds=2.0)
    flips = np.zeros(len(tr), bool)
    flips[3] = True
    out = swap_sides(tr, flips)
    np.testing.assert_array_equal(out.points[3], tr.points[3][list(COCO_LR_SWAP)])
    np.testing.assert_array_equal(np.delete(out.points, 3, axis=0), np.delete(tr.points, 3, axis=0))
    np.testing.assert_array_equal(swap_sides(out, flips).points, tr.points)


def test_resolver_recovers_the_true_assignment_from_injected_swaps():
    truth = _walk()
    seen, swapped = _inject(truth, 0.4)
    assert 0.35 < swapped.mean() < 0.6
    fixed = resolve_sides(seen)
    # the turn (cue near 0 around the middle) is the only place where it may not decide
    wrong = np.any(np.abs(fixed.points - truth.points) > 1e-9, axis=(1, 2))
    assert wrong.mean() < 0.05, wrong.mean()
    t = truth.times_seconds
    assert not wrong[np.abs(t - t[-1] / 2) > 0.7].any()
    # the cue itself: positive on the clean walk away from the turn
    cue = facing_cue(t, truth.points, np.ones(len(t), bool))
    assert np.all(cue[np.abs(t - t[-1] / 2) > 0.7] > 0.01)


def test_resolver_leaves_side_views_as_the_detector_gave_them():
    truth = _walk(side_view=True)
    seen, swapped = _inject(truth, 0.3, seed=1)
    flips = facing_flips(seen.times_seconds, seen.points, np.ones(len(seen), bool))
    assert not flips.any()  # no depth motion and no lateral separation: nothing to decide
    np.testing.assert_array_equal(resolve_sides(seen).points, seen.points)


def test_resolver_skips_frames_without_shoulders_and_hips():
    truth = _walk()
    seen, _ = _inject(truth, 0.4, seed=2)
    present = seen.present.copy()
    present[::3, 11] = False  # a hip missing in every third frame
    out = resolve_sides(PoseTrack(seen.times_seconds, seen.points, present))
    np.testing.assert_array_equal(out.points[::3], seen.points[::3])  # undecided: unchanged
    few = PoseTrack(seen.times_seconds[:3], seen.points[:3], seen.present[:3])
    np.testing.assert_array_equal(resolve_sides(few).points, few.points)


def test_sesyn_embedder_uses_the_resolver():
    pytest.importorskip("torch")
    from videosync.embed.sesyn import SeSynEmbedder
    from videosync.errors import InvalidParameterError
    from videosync.weights import shipped

    with pytest.raises(InvalidParameterError):
        SeSynEmbedder(sides="mirror")
    if shipped("sesyn", "npz") is None:
        pytest.skip("no shipped sesyn weights")
    truth = _walk()
    seen, _ = _inject(truth, 0.4, seed=3)
    ref = SeSynEmbedder(sides="detector").embed_track(truth).features
    fixed = SeSynEmbedder(sides="facing").embed_track(seen).features
    raw = SeSynEmbedder(sides="detector").embed_track(seen).features

    def cos(a, b):
        return float(np.mean(np.sum(a * b, axis=1)))

    assert cos(fixed, ref) > cos(raw, ref) + 0.02


def test_pose_embedder_undoes_swaps_before_its_features():
    from videosync.embed.pose import PoseEmbedder

    truth = _walk()
    seen, swapped = _inject(truth, 0.4, seed=4)
    t = truth.times_seconds

    def arrays(track):  # the pose embedder's 12 joints are COCO 5..16, in the same order
        image = track.points[:, 5:].copy()
        world = np.concatenate([image / 100.0, np.zeros((len(t), 12, 1))], axis=2)
        return t, world, image, np.ones(len(t), bool)

    clean = PoseEmbedder(symmetric=False).embed_arrays(*arrays(truth)).features
    fixed = PoseEmbedder(symmetric=False, sides="facing").embed_arrays(*arrays(seen)).features
    raw = PoseEmbedder(symmetric=False).embed_arrays(*arrays(seen)).features
    rows = np.abs(0.5 * (t[1:] + t[:-1]) - t[-1] / 2) > 1.0  # away from the turn
    np.testing.assert_allclose(fixed[rows], clean[rows], atol=2e-3)  # z-scores include the turn
    assert np.abs(raw[rows] - clean[rows]).max() > 0.5
