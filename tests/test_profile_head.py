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


def test_stacked_confidence_fit_and_use(tmp_path):
    """The stack is a logistic regression of the network's and lag's confidences: fitted by
    Newton's method it separates a synthetic set the way the generating model does, and a
    head whose weights carry it reports lag's confidence and the stacked one."""
    from videosync.predict.lag import LagPredictor
    from videosync.predict.profile import stacked_confidence

    rng = np.random.default_rng(0)
    X = rng.normal(0, 2, (4000, 2))
    true_w = np.array([-0.5, 1.5, 0.3])
    y = rng.random(4000) < 1 / (1 + np.exp(-(true_w[0] + X @ true_w[1:])))
    w = learn.fit_stack(X, y)
    np.testing.assert_allclose(w, true_w, atol=0.15)
    p = 0.3
    assert stacked_confidence(np.array([0.0, 1.0, 0.0]), p, 0.9) == pytest.approx(p)  # network only
    assert stacked_confidence(np.array([0.0, 0.0, 1.0]), p, 0.9) == pytest.approx(0.9)  # lag only

    train = _samples(60, 0, negatives=15)
    params, _ = learn.fit(train, epochs=3, hidden=8, seed=0)
    params["temperature"] = np.array(1.0)
    params["calib"] = np.array([0.1, 0.4, 0.8])
    path = tmp_path / "profile.npz"
    ProfileHead.save_params(path, params)
    sim = _pair(5, 7)
    search = SearchRange(max_offset_seconds=13 / FPS, min_overlap_seconds=2.0)
    est = ProfileHead(weights=str(path)).predict(sim, search)
    lag_conf = LagPredictor().predict(sim, search).confidence
    assert est.details["lag_confidence"] == pytest.approx(lag_conf)
    assert est.confidence == pytest.approx(stacked_confidence(params["calib"], est.details["network_confidence"],
                                                              lag_conf))
    # answer="network" does not use the stack (it is fitted at lag's peak)
    net = ProfileHead(weights=str(path), answer="network").predict(sim, search)
    assert "lag_confidence" not in net.details
