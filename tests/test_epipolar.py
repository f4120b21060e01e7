"""Epipolar predictor on a synthetic two-camera rig with known geometry and offset (no MediaPipe)."""

import numpy as np
import pytest

from videosync.embed import Embedding
from videosync.embed.landmarks import mirror_permutation, pack_landmarks, unpack_landmarks
from videosync.predict import PREDICTORS, SearchRange
from videosync.predict.epipolar import alignment_error, fit_fundamental, sampson_distance
from videosync.similarity import SimilarityMatrix

FPS = 10.0


def _trajectories(rng, k=20):
    """k 3-D points moving smoothly (sums of sinusoids) around the origin: w -> (k, 3)."""
    amp = rng.uniform(0.2, 0.8, (k, 3, 3))
    freq = rng.uniform(0.15, 0.9, (k, 3, 3))
    phase = rng.uniform(0, 2 * np.pi, (k, 3, 3))
    centre = rng.normal(0, 0.5, (k, 3))

    def at(w):
        w = np.atleast_1d(w)[:, None, None, None]
        return centre + (amp * np.sin(2 * np.pi * freq * w + phase)).sum(axis=-1)

    return at


def _look_at(eye, target=np.zeros(3)):
    z = target - eye
    z = z / np.linalg.norm(z)
    x = np.cross(z, [0.0, 0.0, 1.0])
    x = x / np.linalg.norm(x)
    y = np.cross(z, x)
    R = np.stack([x, y, z])
    return R, -R @ eye


def _project(X, R, t, f=0.8):
    """Pinhole projection into image coordinates in [0, 1] (principal point at the centre)."""
    c = X @ R.T + t
    return f * c[..., :2] / c[..., 2:3] + 0.5


def _eye(azimuth_deg, w=0.0, moving=False):
    az = np.radians(azimuth_deg + (30 * np.sin(0.25 * w) if moving else 0.0))
    el = 0.3 + (0.15 * np.sin(0.2 * w) if moving else 0.0)
    return 8.0 * np.array([np.cos(az) * np.cos(el), np.sin(az) * np.cos(el), np.sin(el)])


def _rig(offset_seconds, *, seconds=12.0, seed=0, outliers=0.0, persistent=True, noise=0.0005, moving=False,
         fps_b=FPS, n_points=20):
    """Embeddings of cameras a (reference) and b; the instant at t in a appears at t + offset in b.

    ``outliers``: share of b's points replaced by wrong ones; ``persistent``: a wrong point stays
    wrong (and still) for about a second, as a mis-assigned landmark does, else every frame
    draws new outliers independently."""
    rng = np.random.default_rng(seed)
    traj = _trajectories(rng, n_points)
    ta = np.arange(int(seconds * FPS)) / FPS
    tb = np.arange(int(seconds * fps_b)) / fps_b

    def view(times, world, azimuth):
        pts = []
        for tau, w in zip(times, world):
            R, t = _look_at(_eye(azimuth, w, moving))
            pts.append(_project(traj(w)[0], R, t))
        p = np.array(pts) + rng.normal(0, noise, (len(times), n_points, 2))
        if outliers and azimuth != 20.0:  # the share of wrong correspondences is `outliers`
            if persistent:
                hold = int(FPS)
                blocks = -(-len(times) // hold)
                bad = np.repeat(rng.random((blocks, p.shape[1])) < outliers, hold, axis=0)[: len(times)]
                spot = np.repeat(rng.uniform(0.1, 0.9, (blocks, p.shape[1], 2)), hold, axis=0)[: len(times)]
                p[bad] = spot[bad]
            else:
                bad = rng.random(p.shape[:2]) < outliers
                p[bad] = rng.uniform(0.1, 0.9, (int(bad.sum()), 2))
        p[rng.random(p.shape[:2]) < 0.05] = np.nan  # some points missing
        return Embedding(times, pack_landmarks(p), valid=np.isfinite(p).all(axis=2).any(axis=1))

    a = view(ta, ta, 20.0)
    b = view(tb, tb - offset_seconds, 95.0)
    return a, b


def test_pack_unpack_round_trip(rng):
    p = rng.uniform(0, 1, (5, 4, 2))
    p[1, 2] = np.nan
    rows = pack_landmarks(p)
    assert rows.shape == (5, 12) and np.isfinite(rows).all()
    np.testing.assert_allclose(unpack_landmarks(rows), p)
    # with two person slots' colours after the points: read back through the layout
    from videosync.embed.landmarks import landmarks_layout

    colours = rng.uniform(0, 1, (5, 2, 6))
    colours[3, 1] = np.nan
    rows = pack_landmarks(p, colours)
    assert rows.shape == (5, 12 + 2 * 6 * 2)
    np.testing.assert_allclose(unpack_landmarks(rows, layout=landmarks_layout(2, 2, 6)), p)


def test_mirror_permutation_swaps_sides():
    perm = mirror_permutation(tuple(range(33)))
    assert perm[11] == 12 and perm[12] == 11 and perm[0] == 0
    assert sorted(perm) == list(range(33))


def test_sampson_zero_for_exact_correspondences():
    rng = np.random.default_rng(1)
    X = rng.normal(0, 1, (60, 3))
    Ra, ta = _look_at(_eye(0.0))
    Rb, tb = _look_at(_eye(70.0))
    pa, pb = _project(X, Ra, ta), _project(X, Rb, tb)
    F = fit_fundamental(pa, pb)
    assert F is not None
    assert np.median(sampson_distance(F, pa, pb)) < 1e-6
    assert np.median(sampson_distance(F, pa, pb[::-1])) > 1e-3


@pytest.mark.parametrize("offset_frames", [-23.0, 7.3, 15.6])
def test_optimum_at_true_lag_with_subframe(offset_frames):
    a, b = _rig(offset_frames / FPS, seed=2)
    est = PREDICTORS.create("epipolar").predict(SimilarityMatrix(a, b), SearchRange(min_overlap_seconds=3.0))
    assert abs(est.offset_seconds * FPS - offset_frames) < 0.2
    assert est.confidence > 0.5
    # The integer profile peaks at the nearest whole frame.
    k = int(np.nanargmax(est.scores))
    assert abs(est.lags_seconds[k] * FPS - offset_frames) <= 0.5 + 1e-9


def test_sign_convention_b_starts_later():
    # b started 2 s after the reference: the reference instant t shows at t - 2 in b.
    a, b = _rig(-2.0, seed=3)
    est = PREDICTORS.create("epipolar", subframe_step=0.0).predict(SimilarityMatrix(a, b))
    assert est.offset_seconds == pytest.approx(-2.0, abs=0.05)


def test_different_frame_rates():
    a, b = _rig(1.234, seed=4, fps_b=25.0)
    est = PREDICTORS.create("epipolar").predict(SimilarityMatrix(a, b), SearchRange(max_offset_seconds=3.0))
    assert est.offset_seconds == pytest.approx(1.234, abs=0.02)


@pytest.mark.parametrize("outliers", [0.2, 0.3])
def test_robust_to_outlier_correspondences(outliers):
    a, b = _rig(0.84, seed=5, outliers=outliers)
    est = PREDICTORS.create("epipolar").predict(SimilarityMatrix(a, b), SearchRange(max_offset_seconds=4.0))
    assert abs(est.offset_seconds * FPS - 8.4) < 0.25
    assert est.confidence > 0.3


@pytest.mark.parametrize("outliers", [0.2, 0.3])
def test_robust_to_independent_outliers_per_frame(outliers):
    # Fresh outliers in every frame: the whole frame is still right, but time interpolation
    # mixes an outlier into both neighbours' interpolated points, which biases the fine
    # search towards whole frames, so only within-a-frame accuracy is asked here.
    a, b = _rig(0.84, seed=5, outliers=outliers, persistent=False)
    est = PREDICTORS.create("epipolar").predict(SimilarityMatrix(a, b), SearchRange(max_offset_seconds=4.0))
    assert abs(est.offset_seconds * FPS - 8.4) < 0.7  # one of the two neighbouring whole frames
    assert est.confidence > 0.3


def test_moving_cameras_need_windows():
    a, b = _rig(-0.57, seed=6, moving=True, seconds=14.0)
    sim = SimilarityMatrix(a, b)
    search = SearchRange(max_offset_seconds=4.0)
    windowed = PREDICTORS.create("epipolar", window_seconds=1.0).predict(sim, search)
    assert abs(windowed.offset_seconds * FPS + 5.7) < 0.25
    assert windowed.confidence > 0.5
    # One F for the whole clip cannot explain cameras that move: at the answer its error is
    # several times the windowed one.
    whole = PREDICTORS.create("epipolar").predict(sim, search)
    assert whole.details["error_at_answer"] > 2 * windowed.details["error_at_answer"]


def test_alignment_error_grows_off_the_true_lag():
    a, b = _rig(0.0, seed=7)
    A, B = unpack_landmarks(a.features), unpack_landmarks(b.features)
    e0, n0 = alignment_error(A, B)
    e3, _ = alignment_error(A[:-3], B[3:])
    assert n0 > 100 and e3 > 5 * e0


def test_not_landmarks_gives_zero_confidence(rng):
    t = np.arange(80) / 10
    a = Embedding(t, rng.normal(size=(80, 4)))
    est = PREDICTORS.create("epipolar").predict(SimilarityMatrix(a, a))
    assert est.confidence == 0.0 and "landmarks" in est.details["reason"]


def test_several_people_paired_per_frame():
    # Two people of 13 points each; camera b lists them in the other order, and its two
    # trackers swap people halfway through: the pairing is found per frame.
    a, b = _rig(0.93, seed=8, n_points=26)
    fb = b.features.reshape(b.num_frames, 2, 39).copy()
    fb[: b.num_frames // 2] = fb[: b.num_frames // 2, ::-1]
    b = Embedding(b.times_seconds, fb.reshape(b.num_frames, -1), valid=b.valid)
    est = PREDICTORS.create("epipolar").predict(SimilarityMatrix(a, b), SearchRange(max_offset_seconds=4.0))
    assert abs(est.offset_seconds * FPS - 9.3) < 0.25
    assert est.confidence > 0.3


def _with_colours(emb, colours, rng, *, people, swap=None, cast=(0.0, 1.0), noise=0.008):
    """``emb`` (a ``_rig`` view of ``people`` × 13 points) with each person's clothes colour
    ((people, 6) CIELAB values, seen through a camera colour ``cast`` (offset, gain) with
    ``noise``) packed after the points, as the landmarks embedder does. ``swap`` (T, people):
    per frame, which person each slot shows (a tracker following someone else)."""
    from videosync.embed.landmarks import landmarks_layout

    n = emb.num_frames
    pts = unpack_landmarks(emb.features).reshape(n, people, 13, 2)
    order = np.tile(np.arange(people), (n, 1)) if swap is None else swap
    pts = np.take_along_axis(pts, order[:, :, None, None], axis=1)
    app = cast[0] + cast[1] * colours[order] + rng.normal(0, noise, (n, people, 6))
    app[rng.random((n, people)) < 0.1] = np.nan  # a part not visible now and then
    rows = pack_landmarks(pts.reshape(n, -1, 2), app)
    return Embedding(emb.times_seconds, rows, valid=emb.valid,
                     details={"layout": landmarks_layout(people, 13, 6)})


def test_appearance_pairs_by_colour():
    from videosync.predict.epipolar import appearance_pairs

    a = np.array([[[0.0, 0.0], [2.0, 2.0], [np.nan, np.nan]]])  # one row, three people in a
    b = np.array([[[2.1, 1.9], [5.0, 5.0], [0.1, np.nan]]])  # b: a's 2nd, a stranger, a's 1st (half seen)
    pairs = appearance_pairs(a, b, max_distance=0.5)
    assert pairs.shape == (1, 3, 3)
    assert pairs[0, 0, 2] and pairs[0, 1, 0]
    assert pairs.sum() == 2  # the stranger and the unseen person are paired with nobody
    assert appearance_pairs(a, b, max_distance=0.01).sum() == 0


def test_people_paired_by_appearance():
    # Three people; camera b's trackers show them in a different order on every frame and its
    # colours have a cast of their own. Pairing by colour (default) finds the offset; pairing
    # by geometry alone (appearance=False) is less sure (here it fails: confidence 0).
    rng = np.random.default_rng(3)
    a, b = _rig(0.93, seed=8, n_points=39, noise=0.002)
    colours = rng.uniform(0.25, 0.8, (3, 6))
    swap = np.array([rng.permutation(3) for _ in range(b.num_frames)])
    a = _with_colours(a, colours, rng, people=3)
    b = _with_colours(b, colours, rng, people=3, swap=swap, cast=(-0.06, 0.8))
    search = SearchRange(max_offset_seconds=4.0)
    est = PREDICTORS.create("epipolar").predict(SimilarityMatrix(a, b), search)
    assert est.details["appearance"] is True
    assert abs(est.offset_seconds * FPS - 9.3) < 0.3
    off = PREDICTORS.create("epipolar", appearance=False).predict(SimilarityMatrix(a, b), search)
    assert off.details["appearance"] is False
    assert est.confidence > off.confidence


def test_part_colours_read_torso_and_thighs():
    # A person drawn as a red torso over blue trousers: the landmarks embedder's colour of
    # each part is that part's colour (CIELAB), and a part whose corners are hidden is NaN.
    import cv2

    from videosync.embed.landmarks import _part_colours

    img = np.zeros((200, 100, 3), np.uint8)
    img[40:110] = (200, 30, 30)  # torso rows
    img[110:180] = (30, 30, 200)  # thighs rows
    lab = cv2.cvtColor(img, cv2.COLOR_RGB2LAB)
    pts = {11: (30, 40), 12: (70, 40), 23: (32, 110), 24: (68, 110), 25: (34, 180), 26: (66, 180)}

    class P:
        def __init__(self, x, y, vis):
            self.x, self.y, self.visibility = x / 100, y / 200, vis

    def result(hidden=()):
        lm = [P(*pts.get(i, (0, 0)), 0.0 if i in hidden else 0.9) for i in range(33)]
        return type("Result", (), {"pose_landmarks": type("L", (), {"landmark": lm})()})()

    c = _part_colours(lab, result(), 0.5)
    red = cv2.cvtColor(np.array([[[200, 30, 30]]], np.uint8), cv2.COLOR_RGB2LAB)[0, 0] / 255.0
    blue = cv2.cvtColor(np.array([[[30, 30, 200]]], np.uint8), cv2.COLOR_RGB2LAB)[0, 0] / 255.0
    np.testing.assert_allclose(c[:3], red, atol=0.005)
    np.testing.assert_allclose(c[3:], blue, atol=0.005)
    c = _part_colours(lab, result(hidden=(26,)), 0.5)
    assert np.isfinite(c[:3]).all() and np.isnan(c[3:]).all()


def test_layout_survives_the_long_video_path():
    # Long pairs are matched on box-averaged and re-timed copies (videosync.longmatch); the
    # colour columns must still be read as colours there, not as more points.
    from videosync.longmatch import _retimed, box_average

    rng = np.random.default_rng(4)
    a, b = _rig(0.93, seed=8, n_points=39, noise=0.002)
    colours = rng.uniform(0.25, 0.8, (3, 6))
    a = _with_colours(a, colours, rng, people=3)
    b = _with_colours(b, colours, rng, people=3, swap=np.array([rng.permutation(3) for _ in range(b.num_frames)]))
    for e in (box_average(a, 1 / FPS), _retimed(a, 0.0, 12.0, 0.0)):
        assert e.details == a.details
    est = PREDICTORS.create("epipolar").predict(SimilarityMatrix(box_average(a, 1 / FPS), b),
                                                SearchRange(max_offset_seconds=4.0))
    assert est.details["appearance"] is True
