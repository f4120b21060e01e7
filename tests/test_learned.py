"""The ``learned`` embedder: network shapes, loss, persistence, determinism, a tiny training."""

import numpy as np
import pytest

torch = pytest.importorskip("torch")
torch.set_num_threads(1)  # the suite runs on a shared 2-core machine

from videosync.embed import EMBEDDERS  # noqa: E402
from videosync.errors import MissingWeightsError  # noqa: E402
from videosync.learn.visual import (  # noqa: E402
    Camera,
    NetConfig,
    VisualNet,
    decode_small,
    embed_stream,
    fit,
    load_model,
    save_model,
    sequence_contrastive_loss,
    to_embedding,
)
from videosync.predict import PREDICTORS  # noqa: E402
from videosync.similarity import SimilarityMatrix  # noqa: E402

TINY = NetConfig(size=32, widths=(8, 16), frame_dim=32, dim=16)


def _net(seed=0, config=TINY):
    torch.manual_seed(seed)
    return VisualNet(config).eval()


def _frames(n, seed=0, size=(48, 40)):
    rng = np.random.default_rng(seed)
    return [(i / 30, rng.integers(0, 256, size=(size[1], size[0], 3), dtype=np.uint8)) for i in range(n)]


def test_forward_shapes():
    net = _net()
    x = torch.rand(2, 12 + 2, 3, 32, 32)
    z = net(x)
    assert z.shape == (2, 12, 16)
    t, e = embed_stream(net, _frames(7))
    assert t.shape == (7,) and e.shape == (7, 16) and e.dtype == np.float32


def test_streaming_matches_one_pass_and_is_deterministic():
    net = _net()
    frames = _frames(23)
    _, whole = embed_stream(net, frames, chunk=64)
    _, chunked = embed_stream(net, frames, chunk=5)  # chunk borders must not change anything
    np.testing.assert_allclose(chunked, whole, atol=1e-5)
    _, again = embed_stream(net, frames, chunk=64)
    np.testing.assert_array_equal(again, whole)


def test_no_positional_signal_from_constant_frames():
    """Identical frames must give identical rows: nothing encodes a frame's position."""
    net = _net()
    img = np.full((40, 48, 3), 120, np.uint8)
    _, e = embed_stream(net, [(i / 30, img) for i in range(20)])
    np.testing.assert_allclose(e, np.broadcast_to(e[:1], e.shape), atol=1e-6)


def test_loss_prefers_matching_instants_and_decreases_on_a_tiny_batch():
    w = torch.arange(10, dtype=torch.float32)[None] / 10
    z = torch.randn(1, 10, 8)
    aligned = sequence_contrastive_loss(z, z, w, w, sigma_seconds=0.05)
    shuffled = sequence_contrastive_loss(z, z[:, torch.randperm(10)], w, w, sigma_seconds=0.05)
    assert aligned < shuffled

    net = _net()
    gen = torch.Generator().manual_seed(0)
    xa, xb = torch.rand(2, 2, 10, 3, 32, 32, generator=gen)
    wa = torch.arange(8, dtype=torch.float32).repeat(2, 1) / 10
    opt = torch.optim.Adam(net.parameters(), lr=3e-3)
    losses = []
    for _ in range(25):
        loss = sequence_contrastive_loss(net(xa), net(xb), wa, wa, sigma_seconds=0.05)
        opt.zero_grad()
        loss.backward()
        opt.step()
        losses.append(float(loss.detach()))
    assert losses[-1] < 0.7 * losses[0]


def test_save_load_round_trip(tmp_path):
    net = _net(seed=3)
    path = str(tmp_path / "w.npz")
    save_model(net, path, {"model": "learned"})
    assert (tmp_path / "w.json").is_file()
    back = load_model(path)
    assert back.config == net.config
    frames = _frames(9, seed=1)
    np.testing.assert_array_equal(embed_stream(back, frames)[1], embed_stream(net, frames)[1])


def test_missing_weights_says_so(tmp_path):
    emb = EMBEDDERS.create("learned", weights=str(tmp_path / "none.npz"))
    with pytest.raises(MissingWeightsError, match="learned"):
        emb.embed_frames(_frames(3), None)


def _offset_frames(path_a, path_b, weights):
    emb = EMBEDDERS.create("learned", weights=weights, max_side=96)
    est = PREDICTORS.create("lag").predict(SimilarityMatrix(emb.embed_video(path_a), emb.embed_video(path_b)))
    return est.offset_seconds


def _retrieval(net, a, b):
    """Share of a's frames whose nearest frame of b (cosine, standardised embeddings) shows
    the same world instant within 1.5 frames of b."""
    za = to_embedding(a.world, embed_stream(net, zip(a.world, a.frames))[1], standardize=True).features
    zb = to_embedding(b.world, embed_stream(net, zip(b.world, b.frames))[1], standardize=True).features
    za /= np.linalg.norm(za, axis=1, keepdims=True)
    zb /= np.linalg.norm(zb, axis=1, keepdims=True)
    inside = (a.world > b.world[0]) & (a.world < b.world[-1])
    j = (za[inside] @ zb.T).argmax(axis=1)
    return float(np.mean(np.abs(b.world[j] - a.world[inside]) <= 1.5 / b.fps))


def test_tiny_training_on_a_rig_recovers_its_offsets(rig_factory, tmp_path):
    rig = rig_factory()  # 3 cameras, offsets (0, 1.5, -0.75) s, 30/25/30 fps, different views
    cams = []
    for path, off, fps in zip(rig.paths, rig.offsets_seconds, rig.fps):
        t, frames = decode_small(path, TINY.size)
        cams.append(Camera(frames, t - off, fps))  # the world instant each frame shows
    net = _net(seed=1)
    before = np.mean([_retrieval(net, cams[0], cams[k]) for k in (1, 2)])
    losses = fit(net, [cams], steps=40, pairs=3, length=16, lr=3e-3, seed=0)
    assert np.mean(losses[-10:]) < np.mean(losses[:10])
    # Training is what makes frames of different cameras at one instant alike (≈0.1 → ≈0.4).
    after = np.mean([_retrieval(net, cams[0], cams[k]) for k in (1, 2)])
    assert after > before + 0.15, (before, after)
    weights = str(tmp_path / "rig.npz")
    save_model(net, weights)
    for k in (1, 2):
        found = _offset_frames(rig.paths[0], rig.paths[k], weights)
        assert abs(found - rig.offsets_seconds[k]) <= 1 / 30, (k, found)
