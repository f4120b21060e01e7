"""The ``insyn`` fractional head: model, hierarchical loss, save/load, predictor, a toy training."""

import math

import numpy as np
import pytest

torch = pytest.importorskip("torch")

from videosync.embed import Embedding  # noqa: E402
from videosync.errors import InvalidParameterError, MissingWeightsError  # noqa: E402
from videosync.predict import PREDICTORS  # noqa: E402
from videosync.predict.insyn import InSynPredictor, load_model, save_model, weighted_median  # noqa: E402
from videosync.predict.models.insyn import (  # noqa: E402
    N_INTRA,
    InSynFormer,
    decode,
    hierarchical_loss,
    leaf_values,
    residual_to_leaf,
)
from videosync.similarity import SimilarityMatrix  # noqa: E402

D, T, K = 4, 16, 1


@pytest.fixture(autouse=True)
def _one_thread():
    """One intra-op thread: several threads on a shared CPU make these small models far slower."""
    n = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(n)


def _net(seed=0):
    torch.manual_seed(seed)
    return InSynFormer(D, window=T, dim=16, heads=2, tsa_layers=1, cva_layers=1, max_inter=K, dropout=0.0)


def _toy(rng, n):
    """Windows of smooth random signals with b's row i showing a's instant i − r (r rows: the
    residual in the offset convention, the instant at a-row i appears at b-row i + r)."""
    r = rng.uniform(-K - 0.5, K + 0.5, n)
    f = rng.uniform(0.03, 0.12, (n, 1, D, 2))
    ph = rng.uniform(0, 2 * np.pi, (n, 1, D, 2))
    t = np.arange(T)[None, :, None, None]
    xa = np.sin(2 * np.pi * f * t + ph).sum(-1)
    xb = np.sin(2 * np.pi * f * (t - r[:, None, None, None]) + ph).sum(-1)
    return (torch.tensor(xa, dtype=torch.float32), torch.tensor(xb, dtype=torch.float32),
            torch.tensor(r, dtype=torch.float32))


def test_forward_shapes_and_masks():
    net = _net().eval()
    xa, xb, _ = _toy(np.random.default_rng(0), 5)
    out = net(xa, xb)
    assert out.shape == (5, (2 * K + 1) * N_INTRA)
    va = torch.ones(5, T, dtype=torch.bool)
    va[:, :4] = False
    va[0] = False  # a window without any valid row still gives finite logits
    out2 = net(xa, xb, va, None)
    assert torch.isfinite(out2).all()
    # invalid rows are ignored: changing their content changes nothing
    xa2 = xa.clone()
    xa2[:, :4] = 100.0
    torch.testing.assert_close(net(xa2, xb, va, None)[1:], out2[1:])


def test_leaves_cover_the_residual_range():
    r = torch.tensor([-1.49, -0.51, -0.5, -0.04, 0.0, 0.06, 0.49, 1.2, 1.499])
    e, j = residual_to_leaf(r, K)
    centre = leaf_values(K)[e * N_INTRA + j]
    assert torch.all((centre - r.double()).abs() <= 0.05 + 1e-9)
    # one-hot logits decode to the leaf centre
    logits = torch.full((1, (2 * K + 1) * N_INTRA), -30.0)
    logits[0, 17] = 30.0
    val, conf = decode(logits, K)
    assert float(val) == pytest.approx(float(leaf_values(K)[17]), abs=1e-6) and float(conf) > 0.99


def test_hierarchical_loss_known_value_and_alpha():
    logits = torch.zeros(3, (2 * K + 1) * N_INTRA)  # uniform: P(e) = 1/3, P(j | e) = 1/10
    r = torch.tensor([0.0, 0.7, -1.2])
    want = math.exp(-0.1) * math.log(2 * K + 1) + math.log(N_INTRA)
    assert float(hierarchical_loss(logits, r, K, alpha=0.1)) == pytest.approx(want, rel=1e-6)
    assert float(hierarchical_loss(logits, r, K, alpha=0.0)) == pytest.approx(math.log(30), rel=1e-6)


def test_loss_decreases_on_a_tiny_batch():
    net = _net().train()
    xa, xb, r = _toy(np.random.default_rng(1), 16)
    opt = torch.optim.AdamW(net.parameters(), 3e-3)
    first = hierarchical_loss(net(xa, xb), r, K).item()
    for _ in range(60):
        loss = hierarchical_loss(net(xa, xb), r, K)
        opt.zero_grad()
        loss.backward()
        opt.step()
    assert loss.item() < 0.5 * first


def test_save_load_round_trip(tmp_path):
    net = _net(3).eval()
    path = tmp_path / "insyn.pt"
    save_model(path, net, {"features": "toy"})
    again, meta = load_model(path)
    xa, xb, _ = _toy(np.random.default_rng(2), 4)
    with torch.no_grad():
        torch.testing.assert_close(net(xa, xb), again(xa, xb))
    assert meta == {"features": "toy"} and again.config == net.config


def test_missing_weights_and_wrong_features_are_one_line_errors(tmp_path, monkeypatch):
    with pytest.raises(MissingWeightsError, match="videosync train insyn"):
        InSynPredictor(weights=tmp_path / "nope.pt")
    pred = InSynPredictor()
    monkeypatch.setattr(pred, "_path", None)  # as if the package shipped no weights
    t = np.arange(100) / 30
    sim = SimilarityMatrix(Embedding(t, np.random.default_rng(0).normal(size=(100, D))),
                           Embedding(t, np.random.default_rng(1).normal(size=(100, D))))
    with pytest.raises(MissingWeightsError) as info:
        pred.predict(sim)
    assert "\n" not in str(info.value)
    pred.with_model(_net(), {"features": "toy layout"})
    bad = SimilarityMatrix(Embedding(t, np.ones((100, D + 1)) + t[:, None]),
                           Embedding(t, np.ones((100, D + 1)) - t[:, None]))
    with pytest.raises(InvalidParameterError, match="takes pose embeddings") as info:
        pred.predict(bad)
    assert "\n" not in str(info.value)
    cells = SimilarityMatrix(Embedding(t, np.random.default_rng(2).normal(size=(100, D)), channels_correspond=False),
                             Embedding(t, np.random.default_rng(3).normal(size=(100, D)), channels_correspond=False))
    with pytest.raises(InvalidParameterError, match="differ between cameras"):
        pred.predict(cells)
    assert "insyn" in PREDICTORS.names()


def test_weighted_median():
    assert weighted_median([0.0, 1.0, 10.0], [1, 1, 1]) == 1.0
    assert weighted_median([0.0, 1.0, 10.0], [0, 0, 5]) == 10.0
    assert weighted_median([0.3, -0.2], [0, 0]) in (0.3, -0.2)


def _rig_pair(rng, offset_seconds, seconds=6.0, fps=30.0):
    """Two 'cameras' of the same smooth D-channel signal, b's frames at times shifted by the offset."""
    f = rng.uniform(0.5, 2.5, (D, 2))
    ph = rng.uniform(0, 2 * np.pi, (D, 2))

    def sig(w):
        return np.sin(2 * np.pi * f[None] * w[:, None, None] + ph[None]).sum(-1)

    t = np.arange(int(seconds * fps)) / fps
    a = Embedding(t, sig(t))
    b = Embedding(t, sig(t - offset_seconds))  # b-time t shows world t - offset: offset convention
    return SimilarityMatrix(a, b)


def test_tiny_training_recovers_fractional_offsets_better_than_rounding():
    rng = np.random.default_rng(0)
    net = _net(0).train()
    opt = torch.optim.AdamW(net.parameters(), 3e-3)
    for _ in range(200):
        xa, xb, r = _toy(rng, 32)
        loss = hierarchical_loss(net(xa, xb), r, K)
        opt.zero_grad()
        loss.backward()
        opt.step()
    pred = InSynPredictor(stride=4).with_model(net)
    errs, rounding = [], []
    for k in range(6):
        truth = (k - 2.5) * 0.37 / 30.0 + 0.1  # fractional offsets, seconds
        sim = _rig_pair(np.random.default_rng(10 + k), truth)
        est = pred.predict(sim)
        again = pred.predict(sim)
        assert est.offset_seconds == again.offset_seconds  # deterministic inference
        assert 0.0 <= est.confidence <= 1.0 and est.details["windows"] > 0
        errs.append(abs(est.offset_seconds - truth) * 30)
        rounding.append(abs(round(truth * 30) - truth * 30))
    assert np.mean(errs) < 0.6 * np.mean(rounding), (errs, rounding)


def test_training_pairs_have_the_right_sign_and_sub_frame_truth():
    from videosync.synth import available

    ok, why = available()  # sets up MuJoCo's GL backend before mujoco is imported (test_synth needs that)
    if not ok:
        pytest.skip(why)
    from videosync.embed.sesyn_train import make_bank
    from videosync.predict.insyn_train import make_pair, sample_windows

    bank = make_bank([("human", 960)], seconds=8.0)
    rng = np.random.default_rng(0)
    for _ in range(3):  # clean views: the lag profile must peak at the truth (convention check)
        sim, truth = make_pair(bank, rng, clip_seconds=5.0, max_offset_seconds=0.5, aug=None, world_noise_m=0.0)
        p = sim.lag_profile()
        ok = p.overlap_steps >= 60
        best = p.lags_steps[ok][np.nanargmax(p.score[ok])]
        assert abs(best - truth / sim.step_seconds) <= 1.0
        xa, xb, va, vb, r = sample_windows(sim, truth, rng, 4, window=16, max_inter=2)
        assert xa.shape == xb.shape == (len(r), 16, sim.grid_a.features.shape[1]) and va.shape == (len(r), 16)
        assert np.all(np.abs(r) < 2.5) and np.isfinite(xa).all()
