"""SeSyn-Net embedder: network shapes, losses, save/load, determinism, preprocessing, and a
toy training run (skeleton sequences, no video) that must recover offsets better than naive."""

import numpy as np
import pytest

torch = pytest.importorskip("torch")

from videosync.embed import _sesyn_net as sn  # noqa: E402
from videosync.embed.pose import MEDIAPIPE_INDEX  # noqa: E402
from videosync.embed.sesyn import (  # noqa: E402
    BLAZEPOSE_TO_COCO,
    COCO_JOINTS,
    COCO_LR_SWAP,
    PoseTrack,
    SeSynEmbedder,
    embed_input,
    load_network,
    network_input,
    perturb_track,
)
from videosync.errors import InvalidParameterError, MissingWeightsError  # noqa: E402


@pytest.fixture(autouse=True)
def _one_thread():
    n = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(n)


def _tiny(seed=0, channels=(8, 16), kernel=5, dim=16):
    torch.manual_seed(seed)
    return sn.SeSynNet(channels=channels, kernel=kernel, dim=dim)


def test_joint_mapping_matches_the_pose_embedder():
    assert len(BLAZEPOSE_TO_COCO) == len(COCO_JOINTS) == 17
    # the 12 body joints the pose embedder uses are COCO joints 5..16, in the same order
    assert tuple(BLAZEPOSE_TO_COCO[5:]) == tuple(MEDIAPIPE_INDEX)
    for i, j in enumerate(COCO_LR_SWAP):
        assert COCO_LR_SWAP[j] == i
        a, b = COCO_JOINTS[i], COCO_JOINTS[j]
        assert a == b == "nose" or a.replace("left", "right") == b or a.replace("right", "left") == b


def test_forward_shapes_and_norm():
    net = _tiny().eval()
    x = torch.randn(2, 3, 40, 17)
    f = net(x)
    assert f.shape == (2, 40, 16)
    np.testing.assert_allclose(f.norm(dim=-1).detach().numpy(), 1.0, atol=1e-5)
    assert net.joint_features(x).shape == (2, 16, 40, 17)
    assert net.receptive_field == 9
    full = sn.SeSynNet()  # the shipped architecture: 128 channels per joint, stride 1
    assert full.joint_features(torch.zeros(1, 3, 12, 17)).shape == (1, 128, 12, 17)


def test_adjacency_partitions_cover_the_skeleton():
    a = sn.spatial_adjacency()
    assert a.shape == (3, 17, 17)
    support = (a.sum(axis=0) > 0)
    for i, j in sn.COCO_EDGES:
        assert support[i, j] and support[j, i]
    assert support[np.eye(17, dtype=bool)].all()
    np.testing.assert_allclose(a.sum(axis=(0, 1)), 1.0, atol=1e-6)  # columns normalised


def test_losses_are_small_for_identical_distinct_views_and_large_for_shuffled():
    rng = np.random.default_rng(0)
    f = torch.nn.functional.normalize(torch.from_numpy(rng.normal(size=(30, 16))).float(), dim=1)
    li, ld, lt = sn.sesyn_losses(f, f, temperature=0.05)
    assert float(li) < 0.1 and float(ld) < 0.1 and float(lt) < 0.2
    const = torch.nn.functional.normalize(torch.ones(30, 16), dim=1)
    li2, ld2, _ = sn.sesyn_losses(const, const)
    assert float(li2) > 3.0 and float(ld2) > 5.0  # nothing to tell frames apart: the cycle is lost


def test_alignment_term_prefers_the_true_match():
    rng = np.random.default_rng(3)
    fv = torch.nn.functional.normalize(torch.from_numpy(rng.normal(size=(40, 16))).float(), dim=1)
    fu = fv[10:30]
    right = sn.alignment_loss(fu, fv, torch.arange(10, 30))
    wrong = sn.alignment_loss(fu, fv, torch.arange(12, 32))
    assert float(right) < 0.05 < 1.0 < float(wrong)
    ignored = sn.alignment_loss(fu, fv, torch.cat([torch.arange(10, 25), torch.full((5,), -1)]))
    assert float(ignored) < 0.05


def test_loss_decreases_on_a_tiny_batch():
    net = _tiny()
    rng = np.random.default_rng(1)
    x = torch.from_numpy(rng.normal(size=(2, 3, 24, 17)).astype(np.float32))
    x[1] = x[0] + 0.05 * torch.randn(3, 24, 17)  # two noisy views of one sequence
    opt = torch.optim.Adam(net.parameters(), lr=3e-3)
    losses = []
    for _ in range(15):
        f = net(x)
        loss, _ = sn.total_loss(f[0, 4:20], f[1])
        opt.zero_grad()
        loss.backward()
        opt.step()
        losses.append(loss.item())
    assert losses[-1] < 0.7 * losses[0]


def test_save_load_round_trip_and_deterministic_inference(tmp_path):
    net = _tiny(3).eval()
    path = tmp_path / "w.npz"
    np.savez(path, **sn.state_arrays(net))
    again = load_network(path)
    x = np.random.default_rng(2).normal(size=(3, 150, 17)).astype(np.float32)
    a = embed_input(net, x)
    b = embed_input(again, x)
    np.testing.assert_array_equal(a, b)
    np.testing.assert_array_equal(a, embed_input(again, x))
    # chunked inference gives the same rows as one pass
    np.testing.assert_allclose(embed_input(net, x, chunk=40), a, atol=1e-5)
    with pytest.raises(MissingWeightsError, match="no weights file"):
        load_network(tmp_path / "absent.npz")


def test_missing_weights_and_bad_parameters(tmp_path):
    with pytest.raises(MissingWeightsError):
        SeSynEmbedder(weights=str(tmp_path / "absent.npz")).network()
    with pytest.raises(InvalidParameterError, match="drop_frames"):
        SeSynEmbedder(drop_frames=1.5)


def _track(times, rng, n_person=1.0):
    """A figure whose joints move smoothly (non-periodic), in pixels."""
    t = np.asarray(times)
    base = rng.normal(0, 20, (17, 2))
    base[11], base[12] = (-10, 0), (10, 0)  # hips
    base[5], base[6] = (-12, -50), (12, -50)  # shoulders
    f = rng.uniform(0.3, 2.0, (17, 2, 3))
    ph = rng.uniform(0, 6.3, (17, 2, 3))
    motion = (8 * np.sin(2 * np.pi * f[None] * t[:, None, None, None] + ph[None])).sum(-1)
    motion[:, [11, 12]] = 0.0
    pts = 200 + base[None] + motion
    return PoseTrack(t, pts, np.ones((len(t), 17), bool))


def test_network_input_grid_gaps_and_invariance():
    rng = np.random.default_rng(4)
    t = np.arange(120) / 25.0
    tr = _track(t, rng)
    grid, x, valid = network_input(tr, rate_hz=30.0)
    assert grid[0] == 0 and np.allclose(np.diff(grid), 1 / 30) and grid[-1] <= t[-1]
    assert x.shape == (3, len(grid), 17) and valid.all()
    # translation and zoom of the image do not change the input
    moved = PoseTrack(t, 3.0 * tr.points + 77.0, tr.present)
    np.testing.assert_allclose(network_input(moved, rate_hz=30.0)[1], x, atol=1e-5)
    # a person missing for a second: those instants are invalid; a 3-frame gap is bridged
    pres = tr.present.copy()
    pres[40:65] = False
    pres[90:93] = False
    _, x2, v2 = network_input(PoseTrack(t, tr.points, pres), rate_hz=30.0)
    assert not v2[(grid > 40 / 25 + 0.01) & (grid < 64 / 25 - 0.01)].any()
    assert v2[(grid > 89 / 25) & (grid < 93 / 25)].all()
    assert (x2[:, ~v2] == 0).all()


def test_perturbations_are_seeded():
    rng = np.random.default_rng(5)
    tr = _track(np.arange(100) / 30.0, rng)
    a = perturb_track(tr, drop_frames=0.1, noise_px=3.0, seed=1)
    b = perturb_track(tr, drop_frames=0.1, noise_px=3.0, seed=1)
    np.testing.assert_array_equal(a.points, b.points)
    assert 75 <= len(a) < 100 and a.times_seconds[0] == 0 and a.times_seconds[-1] == tr.times_seconds[-1]
    assert 2.0 < np.std(a.points - tr.points[np.isin(tr.times_seconds, a.times_seconds)]) < 4.0


def _lag(a, b, max_lag):
    lags = np.arange(-max_lag, max_lag + 1)
    scores = [np.mean(np.sum(a[max(0, -k):min(len(a), len(b) - k)] * b[max(0, k):min(len(b), len(a) + k)], axis=1))
              for k in lags]
    return int(lags[int(np.argmax(scores))])


def _figure_3d(t, rng):
    """A 3-D figure whose joints move smoothly and non-periodically (metres, z up)."""
    base = rng.normal(0, 0.25, (17, 3))
    base[11], base[12] = (0, -0.1, 0), (0, 0.1, 0)  # hips
    base[5], base[6] = (0, -0.2, 0.5), (0, 0.2, 0.5)  # shoulders
    f = rng.uniform(0.3, 2.0, (17, 3, 3))
    ph = rng.uniform(0, 6.3, (17, 3, 3))
    motion = (0.1 * np.sin(2 * np.pi * f[None] * t[:, None, None, None] + ph[None])).sum(-1)
    motion[:, [11, 12]] = 0.0
    motion[..., 2] *= Z_SCALE  # mostly horizontal motion: what a camera sees depends on where it stands
    return base[None] + motion


def _camera_view(points3d, t, azimuth, rng, noise_px=1.0):
    """Orthographic view from ``azimuth`` (radians about z), 200 px per metre, with noise."""
    c, s = np.cos(azimuth), np.sin(azimuth)
    u = 200 * (-s * points3d[..., 0] + c * points3d[..., 1]) + 320
    v = -200 * points3d[..., 2] + 240
    p = np.stack([u, v], axis=-1) + rng.normal(0, noise_px, points3d.shape[:-1] + (2,))
    return network_input(PoseTrack(t, p, np.ones(p.shape[:2], bool)), rate_hz=30.0)[1]


def _toy_offset_errors(net, fa, fb, rng, n=20):
    errs, naive = [], []
    for _ in range(n):
        k = int(rng.integers(-15, 16))
        s0 = int(rng.integers(700, 740))
        a = fa[s0:s0 + 120]
        b = fb[s0 - k:s0 - k + 120]  # a's frame i is b's frame i + k
        errs.append(abs(_lag(a, b, 16) - k))
        naive.append(abs(k))
    return np.array(errs, float), np.array(naive, float)


def test_toy_training_recovers_offsets_better_than_naive():
    """Cameras 60-90 degrees apart see one moving 3-D skeleton; a tiny network trained for
    a few seconds with SeSyn-Net's losses (no labels) must find injected offsets between two
    *unseen* viewpoints far better than the always-0 answer, and better than before
    training."""
    rng = np.random.default_rng(6)
    t = np.arange(900) / 30.0
    person = _figure_3d(t, rng)
    views = [_camera_view(person, t, a, rng) for a in (0.0, 1.2, 2.4, 3.6, 4.8)]
    held = [_camera_view(person, t, a, rng) for a in (0.6, 2.0)]  # unseen viewpoints
    net = _tiny(7, channels=(16, 16), kernel=5)
    net.eval()
    before, naive = _toy_offset_errors(net, embed_input(net, held[0]), embed_input(net, held[1]),
                                       np.random.default_rng(8))
    net.train()
    opt = torch.optim.Adam(net.parameters(), lr=3e-3)
    T, m = 48, net.receptive_field // 2
    for _ in range(STEPS):
        s0 = int(rng.integers(20, 600))
        u, v = rng.choice(len(views), 2, replace=False)
        d = int(rng.integers(-6, 7))
        xu = torch.from_numpy(views[u][None, :, s0:s0 + T])
        xv = torch.from_numpy(views[v][None, :, s0 + d:s0 + d + T])
        f = net(torch.cat([xu, xv]))
        loss, _ = sn.total_loss(f[0, m:T - m], f[1])
        opt.zero_grad()
        loss.backward()
        opt.step()
    net.eval()
    after, _ = _toy_offset_errors(net, embed_input(net, held[0]), embed_input(net, held[1]),
                                  np.random.default_rng(8))
    assert after.mean() < 0.3 * naive.mean(), (after.mean(), naive.mean())
    assert after.mean() < 0.5 * before.mean(), (after.mean(), before.mean())
    assert np.mean(after <= 1) >= 0.7


STEPS = 80
Z_SCALE = 0.05


def test_misplaced_arms_change_only_elbows_and_wrists_in_runs():
    from videosync.embed.sesyn_train import Augment, _misplace_arms

    rng = np.random.default_rng(3)
    pts0 = rng.normal(300, 50, (600, 17, 2))
    present0 = np.ones((600, 17), bool)
    aug = Augment(arm_error_fraction=(0.3, 0.3), arm_error_seconds=(1.0, 1.0))
    out = []
    for _ in range(2):
        pts, present = pts0.copy(), present0.copy()
        _misplace_arms(np.random.default_rng(1), pts, present, aug, 30.0)
        out.append(pts)
    np.testing.assert_array_equal(out[0], out[1])  # seeded
    moved = np.abs(out[0] - pts0).max(axis=-1) > 1e-9  # (T, 17)
    assert set(np.flatnonzero(moved.any(axis=0))) <= {7, 8, 9, 10}  # elbows and wrists only
    frames = moved.any(axis=1)
    assert 0.1 < frames.mean() < 0.6
    starts = np.flatnonzero(np.diff(frames.astype(int)) == 1)
    assert frames.sum() / max(1, len(starts)) > 10  # runs of frames, not isolated ones
    # an elbow and its wrist move together
    for el, wr in ((7, 9), (8, 10)):
        assert (moved[:, el] == moved[:, wr]).mean() > 0.95
    # off by default: nothing changes
    pts = pts0.copy()
    _misplace_arms(np.random.default_rng(1), pts, present0.copy(), Augment(arm_error_fraction=(0.0, 0.0)), 30.0)
    np.testing.assert_array_equal(pts, pts0)
