"""Our learned lag-profile head: numpy/torch agreement, training, persistence, negatives."""

import numpy as np
import pytest

from test_predict import world_signal
from videosync.embed import Embedding
from videosync.errors import MissingWeightsError
from videosync.predict import PREDICTORS, SearchRange
from videosync.predict.profile import ProfileHead, forward
from videosync.similarity import SimilarityMatrix

torch = pytest.importorskip("torch", reason="training needs torch: pip install torch==2.13.0")
from videosync.learn import profile as learn  # noqa: E402

FPS = 10.0


def _pair(offset_frames, seed, n=80, noise=0.6, other=None):
    """b shows a's instant i at i + offset (or another world when ``other`` is given)."""
    rng = np.random.default_rng(seed + 99)
    t = (np.arange(n) + 40) / FPS
    a = world_signal(t, seed=seed) + rng.normal(0, noise, (n, 6))
    b = world_signal(t - offset_frames / FPS, seed=seed if other is None else other) + rng.normal(0, noise, (n, 6))
    tau = np.arange(n) / FPS
    return SimilarityMatrix(Embedding(tau, a), Embedding(tau, b))


def _samples(n, seed0, negatives=0):
    rng = np.random.default_rng(seed0)
    search = SearchRange(max_offset_seconds=13 / FPS, min_overlap_seconds=2.0)
    out = []
    for i in range(n):
        k = int(rng.integers(-12, 13))
        out.append(learn._sample(_pair(k, seed0 + i), search, k / FPS))
    for i in range(negatives):
        out.append(learn._sample(_pair(0, seed0 + 5000 + i, other=seed0 + 9000 + i), search, None))
    return [s for s in out if s is not None]


def test_numpy_forward_matches_torch():
    net = learn._torch_model(8, (1, 2), 5)
    params = learn.to_numpy_params(net, (1, 2), 1.0)
    s = _samples(3, 0)
    x, m, _ = learn._batch(s, torch)
    with torch.no_grad():
        ref = net(x, m).numpy()
    for k, smp in enumerate(s):
        logits, null = forward(params, smp.x, smp.allowed)
        L = smp.x.shape[1]
        ok = smp.allowed
        np.testing.assert_allclose(logits[ok], ref[k, :L][ok], rtol=1e-4, atol=1e-4)
        assert np.all(np.isneginf(logits[~ok]))
        assert null == pytest.approx(float(ref[k, -1]), rel=1e-4, abs=1e-4)


def test_training_learns_offsets_and_negatives(tmp_path):
    train = _samples(160, 0, negatives=50)
    val = _samples(60, 10_000, negatives=20)
    params, losses = learn.fit(train, epochs=20, hidden=12, seed=0)
    assert losses[-1] < 0.7 * losses[0]
    t = learn.fit_temperature(params, val)
    m = learn.evaluate(params, val, t)
    pos = [s for s in val if s.target >= 0]
    naive = np.mean([abs(s.truth_steps) <= 1 for s in pos])
    assert m["acc_at_1_head"] > naive + 0.4, (m, naive)
    assert m["acc_at_1_head"] >= m["acc_at_1_lag"] - 0.1, m
    # negatives: low confidence, and the confidence separates right from wrong/unrelated
    pred = learn.predict_samples(params, val, t)
    conf_neg = np.mean([p[1] for p, s in zip(pred, val) if s.target < 0])
    conf_pos = np.mean([p[1] for p, s in zip(pred, val) if s.target >= 0])
    assert conf_neg < conf_pos - 0.3, (conf_neg, conf_pos)
    assert m["auroc_head"] > 0.75 and m["auroc_head"] > m["auroc_lag"], m

    # save / load round trip through the plug-in; deterministic
    params["temperature"] = np.array(t)
    path = tmp_path / "profile.npz"
    ProfileHead.save_params(path, params)
    head = PREDICTORS.create("profile", weights=str(path))
    sim = _pair(7, 123)
    search = SearchRange(max_offset_seconds=13 / FPS, min_overlap_seconds=2.0)
    e1, e2 = head.predict(sim, search), ProfileHead(weights=str(path)).predict(sim, search)
    assert e1.offset_seconds == e2.offset_seconds and e1.confidence == e2.confidence
    assert e1.offset_seconds == pytest.approx(0.7, abs=0.15)
    assert 0 <= e1.confidence <= 1 and 0 <= e1.details["p_no_overlap"] <= 1


def test_missing_weights_one_line(tmp_path):
    with pytest.raises(MissingWeightsError, match="videosync train profile"):
        ProfileHead(weights=str(tmp_path / "nope.npz"))
