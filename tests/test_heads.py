"""VideoSync's reference logistic-regression head: input, training, persistence."""

import numpy as np
import pytest

pytest.importorskip("sklearn")

from test_predict import world_signal  # noqa: E402
from videosync.embed import Embedding  # noqa: E402
from videosync.errors import MissingWeightsError  # noqa: E402
from videosync.predict import PREDICTORS  # noqa: E402
from videosync.predict.heads import LogRegHead, similarity_image  # noqa: E402
from videosync.similarity import SimilarityMatrix  # noqa: E402

FPS = 10.0


def _pair(offset_frames, seed, n=30):
    """Equal-length windows of one world; b's window shows a's instant i at i + offset."""
    t = (np.arange(n) + 40) / FPS
    a = world_signal(t, seed=seed)
    b = world_signal(t - offset_frames / FPS, seed=seed)
    tau = np.arange(n) / FPS
    return SimilarityMatrix(Embedding(tau, a), Embedding(tau, b))


def test_similarity_image_is_padded_row_softmax():
    sim = _pair(3, seed=0, n=20)
    img = similarity_image(sim, size=32)
    assert img.shape == (32, 32)
    np.testing.assert_allclose(img[:20, :20].sum(axis=1), 1.0, atol=1e-5)
    assert not img[20:].any() and not img[:, 20:].any()
    assert similarity_image(_pair(0, 0, n=40), size=32).shape == (32, 32)  # truncated


def _data(n, rng, seed0):
    offs = rng.integers(-5, 6, size=n)
    return [_pair(int(k), seed=seed0 + i) for i, k in enumerate(offs)], offs


@pytest.mark.parametrize("name, params", [
    ("logreg", {}),
    ("mlp", {"hidden": (128, 64)}),
    ("svr", {}),
    pytest.param("cnn", {"epochs": 30}, marks=pytest.mark.skipif(
        not PREDICTORS.get("cnn").is_available(), reason="torch not installed: pip install torch==2.13.0")),
])
def test_training_beats_naive_and_round_trips(tmp_path, name, params):
    rng = np.random.default_rng(0)
    tr, ytr = _data(300, rng, 0)
    te, yte = _data(60, rng, 1000)  # other worlds than the training ones
    head = PREDICTORS.create(name, size=32, max_offset_frames=5, **params).fit(tr, ytr)
    found = np.array([head.predict(s).offset_seconds * FPS for s in te])
    acc = np.mean(np.abs(found - yte) <= 0.5)
    naive_acc = np.mean(yte == 0)
    assert acc > naive_acc + 0.2, (acc, naive_acc)
    assert np.mean(np.abs(found - yte)) < 0.5 * np.mean(np.abs(yte))  # well under the naive error
    path = tmp_path / "w.npz"
    head.save(path, card={"note": "test"})
    assert (tmp_path / "w.json").exists()
    again = PREDICTORS.create(name, weights=str(path))
    found2 = np.array([again.predict(s).offset_seconds * FPS for s in te])
    np.testing.assert_array_equal(found, found2)  # deterministic, same weights
    est = again.predict(te[0])
    assert 0 <= est.confidence <= 1


def test_missing_weights_are_a_clear_error(tmp_path):
    with pytest.raises(MissingWeightsError, match="videosync train logreg"):
        LogRegHead().predict(_pair(1, 0))
    with pytest.raises(FileNotFoundError):
        LogRegHead(weights=str(tmp_path / "nope.npz"))


def test_cnn_shapes_and_loss_decreases():
    torch = pytest.importorskip("torch")
    from videosync.predict.models.cnn import SimilarityMatrixClassifier

    net = SimilarityMatrixClassifier(size=256, n_classes=61)
    assert net(torch.zeros(2, 1, 256, 256)).shape == (2, 61)
    assert 33e6 < sum(p.numel() for p in net.parameters()) < 35e6  # the reference's ~34 M
    torch.manual_seed(0)
    small = SimilarityMatrixClassifier(size=32, n_classes=5, dropout=0.0)
    x, y = torch.rand(8, 1, 32, 32), torch.arange(8) % 5
    opt = torch.optim.AdamW(small.parameters(), lr=1e-3)
    losses = []
    for _ in range(30):
        opt.zero_grad()
        loss = torch.nn.functional.cross_entropy(small(x), y)
        loss.backward()
        opt.step()
        losses.append(loss.item())
    assert losses[-1] < 0.5 * losses[0]
