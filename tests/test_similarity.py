import numpy as np
import pytest

from videosync.embed import Embedding
from videosync.errors import ShapeError
from videosync.similarity import SimilarityMatrix, resample


def _emb(x, fps=10.0, t0=0.0):
    return Embedding(t0 + np.arange(len(x)) / fps, x)


def test_lag_profile_equals_brute_force_diagonal_means(rng):
    a = rng.normal(size=(23, 5))
    b = rng.normal(size=(31, 5))
    sim = SimilarityMatrix(_emb(a), _emb(b), metric="cosine")
    prof = sim.lag_profile()
    s = sim.dense()
    n, m = s.shape
    for lag, score, cnt in zip(prof.lags_steps, prof.score, prof.overlap_steps):
        diag = np.array([s[i, i + lag] for i in range(n) if 0 <= i + lag < m])
        assert cnt == diag.size
        assert score == pytest.approx(diag.mean(), abs=1e-5)


def test_neg_sqeuclidean_is_distance_on_unit_rows(rng):
    a, b = rng.normal(size=(7, 4)), rng.normal(size=(9, 4))
    s = SimilarityMatrix(_emb(a), _emb(b), metric="neg_sqeuclidean").dense()
    an = a / np.linalg.norm(a, axis=1, keepdims=True)
    bn = b / np.linalg.norm(b, axis=1, keepdims=True)
    expect = -((an[:, None, :] - bn[None, :, :]) ** 2).sum(-1)
    np.testing.assert_allclose(s, expect, atol=1e-5)
    assert s.max() <= 0 and s.min() >= -4


def test_blocks_and_softmax(rng):
    a, b = rng.normal(size=(50, 3)), rng.normal(size=(40, 3))
    sim = SimilarityMatrix(_emb(a), _emb(b), temperature=0.2)
    full = sim.dense()
    stacked = np.concatenate([blk for _, blk in sim.iter_blocks(block_rows=7)])
    np.testing.assert_allclose(stacked, full)
    p = sim.softmax_block(0, 50)
    np.testing.assert_allclose(p.sum(axis=1), 1.0, atol=1e-5)
    assert np.array_equal(p.argmax(axis=1), full.argmax(axis=1))


def test_different_frame_rates_are_compared_on_time():
    # One smooth signal sampled at 30 and 25 fps: the profile peaks at lag 0 on time.
    f = lambda t: np.stack([np.sin(2.1 * t), np.cos(3.3 * t), np.sin(0.7 * t + 1)], axis=1)
    ta, tb = np.arange(0, 6, 1 / 30), np.arange(0, 6, 1 / 25)
    sim = SimilarityMatrix(Embedding(ta, f(ta)), Embedding(tb, f(tb)))
    assert sim.step_seconds == pytest.approx(1 / 30)
    prof = sim.lag_profile()
    ok = prof.overlap_steps > 60
    assert prof.lags_steps[ok][np.argmax(prof.score[ok])] == 0


def test_resample_marks_gaps_invalid():
    t = np.array([0.0, 0.1, 0.2, 0.3, 1.0, 1.1, 1.2])
    g = resample(Embedding(t, np.ones((7, 2))), 0.1)
    assert g.start_step == 0
    assert g.valid[:4].all() and not g.valid[5:9].any() and g.valid[-2:].all()


def test_dimension_mismatch_is_shape_error(rng):
    with pytest.raises(ShapeError):
        SimilarityMatrix(_emb(rng.normal(size=(5, 3))), _emb(rng.normal(size=(5, 4))))


def test_embedding_checks():
    with pytest.raises(ShapeError):
        Embedding(np.arange(3.0), np.zeros((4, 2)))
    with pytest.raises(ShapeError):
        Embedding(np.array([0.0, 0.0, 1.0]), np.zeros((3, 2)))


def test_matched_profile_equals_brute_force(rng):
    from videosync.similarity import matched_lag_profile
    from videosync.similarity.matrix import Grid

    a, b = rng.normal(size=(30, 3)), rng.normal(size=(25, 4))
    va = np.ones(30, bool)
    va[5] = False
    vb = np.ones(25, bool)
    vb[[2, 10]] = False
    prof = matched_lag_profile(Grid(a.astype(np.float32), va, 0, 0.1), Grid(b.astype(np.float32), vb, 0, 0.1))
    checked = 0
    for lag, r, n in zip(prof.lags_steps, prof.correlation, prof.overlap_steps):
        rows = [(i, i + lag) for i in range(30) if 0 <= i + lag < 25 and va[i] and vb[i + lag]]
        assert n == len(rows)
        if len(rows) < 4:
            assert np.isnan(r)
            continue
        A, B = a[[i for i, _ in rows]], b[[j for _, j in rows]]
        R = np.array([[np.corrcoef(A[:, p], B[:, q])[0, 1] for q in range(4)] for p in range(3)])
        assert r == pytest.approx(0.5 * (R.max(1).mean() + R.max(0).mean()), abs=1e-6)
        checked += 1
    assert checked > 40


def test_matched_profile_finds_lag_with_permuted_channels(rng):
    from videosync.similarity import matched_lag_profile
    from videosync.similarity.matrix import Grid

    base = np.cumsum(rng.normal(size=(120, 5)), axis=0)
    base = np.diff(base, axis=0)  # white-ish channels
    a = base[:100]
    b = base[7:107][:, [3, 0, 4, 1, 2]] * [2, 0.5, 1, 3, 1] + 4  # lag 7, channels shuffled and rescaled
    prof = matched_lag_profile(Grid(a.astype(np.float32), np.ones(100, bool), 0, 1.0),
                               Grid(b.astype(np.float32), np.ones(100, bool), 0, 1.0))
    assert prof.lags_steps[np.nanargmax(prof.significance)] == -7
