"""``lag`` scores the features' change beside their level (``orders=(0, 1)``, the default)."""

import numpy as np
import pytest

from videosync.embed import Embedding
from videosync.errors import InvalidParameterError
from videosync.predict import SearchRange
from videosync.predict.lag import LagPredictor
from videosync.similarity import SimilarityMatrix, matched_lag_profile
from videosync.similarity.matched import difference_grid, remove_frame_rhythm
from videosync.similarity.matrix import Grid


def _camera(sources, rng, trend_scale):
    """6 grid cells mixing the shared event sources, plus this camera's own slow drift."""
    n = sources.shape[1]
    mix = sources.T @ rng.uniform(0.5, 1.5, size=(sources.shape[0], 6))
    trend = np.cumsum(rng.normal(scale=trend_scale, size=(n, 6)), axis=0)
    return mix + trend + rng.normal(scale=0.05, size=(n, 6))


def _scene(seed, n=90, lag=13, trend_scale=0.6):
    """Motion-energy-like channels: sparse events whose energy decays over ~1 s, seen by two
    cameras ``lag`` rows apart, each camera with a slow drift of its own (exposure, clutter)."""
    rng = np.random.default_rng(seed)
    m = n + lag
    spikes = (rng.random((3, m)) < 0.08) * rng.uniform(0.5, 1.5, (3, m))
    kernel = np.exp(-np.arange(30) / 10.0)
    sources = np.array([np.convolve(s, kernel)[:m] for s in spikes])
    a = _camera(sources[:, :n], rng, trend_scale)
    b = _camera(sources[:, lag:], rng, trend_scale)
    emb = [Embedding(np.arange(n) * 0.1, x.astype(np.float32), channels_correspond=False) for x in (a, b)]
    return SimilarityMatrix(*emb)


def test_change_and_level_profile_is_the_stouffer_sum(rng):
    a = Grid(rng.normal(size=(40, 3)).astype(np.float32), np.ones(40, bool), 0, 0.1)
    valid = np.ones(35, bool)
    valid[[4, 20]] = False
    b = Grid(rng.normal(size=(35, 4)).astype(np.float32), valid, 2, 0.1)
    level = matched_lag_profile(a, b)
    change = matched_lag_profile(remove_frame_rhythm(difference_grid(a)), remove_frame_rhythm(difference_grid(b)))
    both = matched_lag_profile(a, b, orders=(0, 1))
    raw = matched_lag_profile(difference_grid(a), difference_grid(b))
    np.testing.assert_allclose(matched_lag_profile(a, b, orders=(0, 1), rhythm=False).significance,
                               (level.significance + raw.significance) / np.sqrt(2), equal_nan=True)
    np.testing.assert_array_equal(both.lags_steps, level.lags_steps)
    np.testing.assert_array_equal(both.overlap_steps, level.overlap_steps)
    np.testing.assert_allclose(both.significance, (level.significance + change.significance) / np.sqrt(2),
                               equal_nan=True)
    d = difference_grid(b)
    assert not d.valid[0] and not d.valid[4] and not d.valid[5] and d.valid[6]
    np.testing.assert_allclose(d.features[6], b.features[6] - b.features[5])


def test_change_finds_lags_a_drifting_level_misses():
    """Each camera's own slow drift blurs the level's correlation; the change keeps the onsets."""
    search = SearchRange(min_overlap_seconds=2.0)
    right = {(0,): 0, (0, 1): 0}
    for seed in range(40):
        sim = _scene(seed)
        for orders in right:
            est = LagPredictor(orders=orders, confidence="margin").predict(sim, search)
            right[orders] += abs(est.offset_seconds / 0.1 + 13) <= 1  # b shows a's row i + 13 at row i
    assert right[(0,)] <= 32  # the level alone: 28 of 40 when written
    assert right[(0, 1)] >= 36  # level and change: 39 of 40


def test_orders_parameter_forms_and_errors():
    assert LagPredictor().orders == (0, 1)
    assert LagPredictor(orders=0).orders == (0,)
    assert LagPredictor(orders="0,1").orders == (0, 1)
    for bad in (2, "x", (), (0, 3)):
        with pytest.raises(InvalidParameterError):
            LagPredictor(orders=bad)
    g = Grid(np.zeros((5, 1), np.float32), np.ones(5, bool), 0, 0.1)
    for bad in ((2,), ("x",), (0, "y"), 3):
        with pytest.raises(InvalidParameterError):
            matched_lag_profile(g, g, orders=bad)
    assert matched_lag_profile(g, g, orders=1).lags_steps.size  # the forms LagPredictor takes
