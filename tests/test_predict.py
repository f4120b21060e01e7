"""Predictor level: the offset convention and the predictors' behaviour on embeddings."""

import numpy as np
import pytest

from videosync.embed import Embedding
from videosync.predict import PREDICTORS, SearchRange
from videosync.predict.lag import parabolic_offset
from videosync.similarity import SimilarityMatrix


def world_signal(t, seed=0):
    """A smooth multichannel 'world' signal as a function of continuous time."""
    r = np.random.default_rng(seed)
    fr, ph = r.uniform(0.3, 2.0, size=(6, 4)), r.uniform(0, 6.3, size=(6, 4))
    return np.stack([np.sin(np.outer(t, fr[d]) + ph[d]).sum(axis=1) for d in range(6)], axis=1)


def camera(offset_seconds, fps=10.0, duration=20.0, seed=0, noise=0.0):
    """Embedding of a camera whose own time tau shows world time tau - offset."""
    tau = np.arange(int(duration * fps)) / fps
    x = world_signal(tau - offset_seconds, seed)
    x = x + np.random.default_rng(seed + 7).normal(0, noise, size=x.shape)
    return Embedding(tau, x)


@pytest.mark.parametrize("name", ["lag", "argmax", "dtw"])
def test_sign_convention_at_predictor_level(name):
    if name == "dtw":
        pytest.importorskip("librosa")
    pred = PREDICTORS.create(name)
    ref = camera(0.0)
    started_later = camera(-2.0)  # B started 2 s after the reference
    started_earlier = camera(+2.0)  # B started 2 s before
    assert pred.predict(SimilarityMatrix(ref, started_later)).offset_seconds == pytest.approx(-2.0, abs=0.051)
    assert pred.predict(SimilarityMatrix(ref, started_earlier)).offset_seconds == pytest.approx(2.0, abs=0.051)


def test_naive_always_zero_with_no_confidence():
    est = PREDICTORS.create("naive").predict(SimilarityMatrix(camera(0.0), camera(3.0)))
    assert est.offset_seconds == 0.0 and est.confidence == 0.0


@pytest.mark.parametrize("true_offset", [0.37, -1.23, 4.05])
def test_lag_recovers_fractional_offsets(true_offset):
    est = PREDICTORS.create("lag").predict(SimilarityMatrix(camera(0.0, fps=10), camera(true_offset, fps=10)))
    assert est.offset_seconds == pytest.approx(true_offset, abs=0.1 * 0.1)  # 0.1 frame at 10 fps


def test_lag_different_fps():
    a = camera(0.0, fps=30.0, duration=10)
    b = camera(-0.77, fps=25.0, duration=10)
    est = PREDICTORS.create("lag").predict(SimilarityMatrix(a, b))
    assert est.offset_seconds == pytest.approx(-0.77, abs=0.1 / 30)


def test_lag_max_offset_limits_search():
    a, b = camera(0.0), camera(5.0)
    pred = PREDICTORS.create("lag")
    assert pred.predict(SimilarityMatrix(a, b)).offset_seconds == pytest.approx(5.0, abs=0.05)
    limited = pred.predict(SimilarityMatrix(a, b), SearchRange(max_offset_seconds=3.0))
    assert abs(limited.offset_seconds) <= 3.0 + 1e-9


def test_lag_confidence_high_for_match_low_for_noise(rng):
    pred = PREDICTORS.create("lag")
    good = pred.predict(SimilarityMatrix(camera(0.0, noise=0.3), camera(1.5, noise=0.3, seed=0)))
    assert good.confidence > 0.6
    noise_a = Embedding(np.arange(200) / 10, rng.normal(size=(200, 6)))
    noise_b = Embedding(np.arange(200) / 10, rng.normal(size=(200, 6)))
    bad = pred.predict(SimilarityMatrix(noise_a, noise_b))
    assert bad.confidence < 0.5


def test_constant_features_give_zero_confidence():
    flat = Embedding(np.arange(100) / 10, np.zeros((100, 6)))
    est = PREDICTORS.create("lag").predict(SimilarityMatrix(camera(0.0, duration=10), flat))
    assert est.confidence == 0.0


def test_parabolic_offset_known_answers():
    # y = -(x - 0.3)^2 sampled at -1, 0, 1
    y = [-(d - 0.3) ** 2 for d in (-1, 0, 1)]
    assert parabolic_offset(*y) == pytest.approx(0.3)
    assert parabolic_offset(1.0, 1.0, 1.0) == 0.0  # flat: no refinement


def test_argmax_rounds_half_medians_not_floor():
    # Lags alternate between 1 and 2 grid steps: floor(1.5)=1 would be biased; rint gives 2.
    from videosync.predict.argmax import ArgmaxPredictor

    class FakeSim:
        step_seconds = 1.0
        start_offset_steps = 0
        shape = (4, 8)

        def iter_blocks(self, block_rows):
            s = np.full((4, 8), -1.0)
            for i, lag in enumerate([1, 2, 1, 2]):
                s[i, i + lag] = 0.0
            yield 0, s

    est = ArgmaxPredictor().predict(FakeSim())
    assert est.offset_seconds == 2.0
