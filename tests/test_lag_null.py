"""The lag predictor's null-model confidence: high for pairs that share a signal, low for
pairs that share nothing, and never a change of the answer."""

import numpy as np
import pytest

from videosync.embed import Embedding
from videosync.predict import SearchRange
from videosync.predict.lag import (NULL_EARLY, LagPredictor, null_count, null_decided, null_excess, null_profiles,
                                  without_null)
from videosync.similarity import SimilarityMatrix


def smooth_noise(n, d, seed, width=5):
    """(n, d) random signals smoothed over ``width`` frames (autocorrelated, not periodic)."""
    x = np.random.default_rng(seed).normal(size=(n + 4 * width, d))
    k = np.exp(-0.5 * (np.arange(-2 * width, 2 * width + 1) / width) ** 2)
    return np.stack([np.convolve(x[:, j], k, mode="valid")[:n] for j in range(d)], axis=1)


def pair(lag_frames, *, related, correspond, seed=0, n=180, fps=30.0, noise=0.5):
    """Two 6 s embeddings; b shows a's world ``lag_frames`` later (same world only if ``related``)."""
    world = smooth_noise(n + 80, 12, seed)
    other = smooth_noise(n + 80, 12, seed + 100)
    rng = np.random.default_rng(seed + 1)
    a = world[40:40 + n]
    src = world if related else other
    b = src[40 - lag_frames:40 - lag_frames + n]
    if not correspond:  # another camera: channels mixed and permuted
        b = b[:, rng.permutation(12)] @ (np.eye(12) + 0.3 * rng.normal(size=(12, 12)))
    a = a + noise * rng.normal(size=a.shape)
    b = b + noise * rng.normal(size=b.shape)
    t = np.arange(n) / fps
    return SimilarityMatrix(Embedding(t, a, channels_correspond=correspond),
                            Embedding(t, b, channels_correspond=correspond))


SEARCH = SearchRange(max_offset_seconds=31 / 30, min_overlap_seconds=2.0)


@pytest.mark.parametrize("correspond", [True, False])
def test_null_confidence_separates_related_from_unrelated(correspond):
    pred = LagPredictor()
    pos = [pred.predict(pair(7 * s - 20, related=True, correspond=correspond, seed=s), SEARCH) for s in range(5)]
    neg = [pred.predict(pair(0, related=False, correspond=correspond, seed=s), SEARCH) for s in range(5)]
    for s, e in enumerate(pos):
        assert e.offset_seconds == pytest.approx((7 * s - 20) / 30, abs=1.01 / 30)
    assert min(e.confidence for e in pos) > 0.5
    assert max(e.confidence for e in neg) < 0.5
    assert all(e.details["confidence_method"] == "null" and e.details["null_profiles"] in (NULL_EARLY, 24)
               for e in pos)


def test_null_confidence_never_changes_the_answer_and_is_reproducible():
    for s in range(4):
        sim = pair(5 - 4 * s, related=s % 2 == 0, correspond=False, seed=s)
        a = LagPredictor().predict(sim, SEARCH)
        b = LagPredictor(confidence="margin").predict(sim, SEARCH)
        assert a.offset_seconds == b.offset_seconds
        assert a.confidence == LagPredictor().predict(sim, SEARCH).confidence


def test_null_count_shrinks_for_long_inputs():
    short = pair(0, related=True, correspond=True, n=180)
    long_ = pair(0, related=True, correspond=True, n=20000)
    assert null_count(short) == 24
    assert 4 <= null_count(long_) < 24
    assert without_null(LagPredictor()).confidence == "margin" and LagPredictor().confidence == "null"
    assert without_null(LagPredictor()).orders == (0, 1)
    assert without_null(LagPredictor(), level_only=True).orders == (0,)  # the many-camera screening
    assert null_count(short, 0) == 0


def test_null_excess_is_in_null_standard_deviations():
    nulls = np.array([[0.0, 1.0, 0.0, -1.0], [1.0, 0.0, -1.0, 0.0]])
    y = np.array([np.nan, 4.0, 0.0, 0.0])  # lag 0 is not a candidate
    # null maxima over lags 1..3: 1 and 0 (mean 0.5); sd of the 6 null scores there
    sd = np.std([1.0, 0.0, -1.0, 0.0, -1.0, 0.0])
    assert null_excess(y, 1, nulls) == pytest.approx((4.0 - 0.5) / sd)
    assert np.isnan(null_excess(y, 1, np.zeros((3, 4))))


@pytest.mark.parametrize("correspond", [True, False])
def test_sequential_nulls_stop_only_when_the_rest_would_not_matter(correspond):
    """The first 8 null profiles are the first 8 of the full set; a pair stops there only
    when its confidence is settled (>= 0.999 or <= 0.1), and then the full set agrees."""
    sims = [pair(7 * s - 20, related=True, correspond=correspond, seed=s, noise=0.2) for s in range(3)]
    sims += [pair(0, related=False, correspond=correspond, seed=s) for s in range(3)]
    sims += [pair(5, related=True, correspond=correspond, seed=s, noise=3.0) for s in range(3)]  # weak
    stopped = 0
    for sim in sims:
        full = LagPredictor(sequential=False).predict(sim, SEARCH)
        seq = LagPredictor().predict(sim, SEARCH)
        assert seq.offset_seconds == full.offset_seconds
        assert full.details["null_profiles"] == 24
        if seq.details["null_profiles"] == NULL_EARLY:
            stopped += 1
            assert full.confidence >= 0.99 or full.confidence <= 0.12
            assert abs(seq.confidence - full.confidence) < 0.02
        else:  # undecided after 8: the full computation, bit for bit
            assert seq.details["null_profiles"] == 24 and seq.confidence == full.confidence
    assert 0 < stopped < len(sims)
    mode = "diagonal" if correspond else "matched"
    allp = null_profiles(sims[0], mode, 24, orders=(0, 1))
    part = null_profiles(sims[0], mode, 24, orders=(0, 1), subset=slice(8, 24))
    np.testing.assert_array_equal(part, allp[8:])


def test_null_decided_needs_a_settled_confidence():
    nulls = np.random.default_rng(0).normal(size=(8, 40))
    y = np.zeros(40)
    assert null_decided(y + 0, 3, nulls + 0, 0.0)  # peak at the null level: surely low
    y[3] = 50.0
    assert null_decided(y, 3, nulls, 5.0)  # far above every null maximum: surely high
    y[3] = 3.5  # near the null maxima: open either way
    assert not null_decided(y, 3, nulls, 1.0)
    assert not null_decided(y, 3, nulls[:2], 1.0)  # too few to judge
