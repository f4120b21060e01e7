"""The encoder's frame-type rhythm (a 2- and 4-frame pattern in every file's own frame
counter) is projected out of the change profile, so it cannot pull the answer to the lag
that lines up the files' frame counters."""

import numpy as np
import pytest

from videosync.embed import Embedding
from videosync.predict import SearchRange
from videosync.predict.lag import LagPredictor
from videosync.similarity import SimilarityMatrix, matched_lag_profile
from videosync.similarity.matched import remove_frame_rhythm
from videosync.similarity.matrix import Grid


def rhythm(n, d, rng, amp):
    """(n, d) per-channel 2- and 4-frame patterns on a file's own frame counter."""
    t = np.arange(n)[:, None]
    return amp * (rng.uniform(0.5, 1.0, d) * np.where(t % 2 == 0, 1.0, -1.0)
                  + rng.uniform(0.5, 1.0, d) * np.cos(np.pi * t / 2 + rng.uniform(0, 2 * np.pi, d)))


def scene(n, d, lag, seed, amp):
    """Two cameras of one world of sparse events (motion onsets), b ``lag`` frames later,
    channels mixed differently per camera, each file with its own encoder rhythm."""
    rng = np.random.default_rng(seed)
    events = (rng.random((n + 60, d)) < 0.04) * rng.uniform(1, 3, (n + 60, d))
    k = np.exp(-np.arange(6) / 1.5)  # each event decays over a few frames
    world = np.stack([np.convolve(events[:, j], k)[: n + 60] for j in range(d)], 1)
    a = world[30:30 + n]
    b = world[30 - lag:30 - lag + n][:, rng.permutation(d)] @ (np.eye(d) + 0.2 * rng.normal(size=(d, d)))
    a = a + rhythm(n, d, rng, amp) + 0.05 * rng.normal(size=a.shape)
    b = b + rhythm(n, d, rng, amp) + 0.05 * rng.normal(size=b.shape)
    return a, b


def test_remove_frame_rhythm_removes_the_pattern_and_keeps_the_rest():
    rng = np.random.default_rng(0)
    n, d = 200, 6
    slow = np.cumsum(rng.normal(size=(n, d)), axis=0)
    g = Grid(slow + rhythm(n, d, rng, 3.0), np.ones(n, bool), 0, 0.1)
    out = remove_frame_rhythm(g)
    resid = out.features - slow
    resid -= resid.mean(axis=0)
    assert np.abs(resid).max() < 0.5  # the rhythm (amplitude up to 6) is gone...
    spec = np.abs(np.fft.rfft(out.features - out.features.mean(0), axis=0)) ** 2
    assert spec[n // 2].max() < 1e-6 * spec.sum(axis=0).max()  # ...exactly at 1/2 cycle per frame
    assert np.corrcoef(out.features[:, 0], slow[:, 0])[0, 1] > 0.99  # the scene stays
    few = Grid(g.features[:10], np.ones(10, bool), 0, 0.1)
    assert remove_frame_rhythm(few) is few  # too short to fit: left alone


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_change_profile_ignores_the_files_shared_frame_rhythm(seed):
    n, d, lag = 240, 8, 7
    a, b = scene(n, d, lag, seed, amp=0.5)
    ga, gb = Grid(a, np.ones(n, bool), 0, 0.1), Grid(b, np.ones(n, bool), 0, 0.1)

    def best(p):
        z = np.where(p.overlap_steps >= 60, p.significance, -np.inf)
        return int(p.lags_steps[np.argmax(z)])

    kept = matched_lag_profile(ga, gb, orders=(1,), rhythm=False)
    removed = matched_lag_profile(ga, gb, orders=(1,))
    assert best(kept) % 2 == 0 and best(kept) != lag  # drawn to where the frame counters line up
    assert best(removed) == lag
    # The predictor (level and change) answers the scene's lag, in seconds, with the rhythm removed.
    t = np.arange(n) / 10.0
    sim = SimilarityMatrix(Embedding(t, a, channels_correspond=False), Embedding(t, b, channels_correspond=False))
    est = LagPredictor().predict(sim, SearchRange(max_offset_seconds=3.0))
    assert est.offset_seconds == pytest.approx(lag / 10.0, abs=0.015)  # to 0.15 frame
