"""Camera-motion compensation in the ``motion`` embedder (hand-held / head-worn cameras)."""

import numpy as np
import pytest

from videosync.embed.motion import MotionEmbedder, camera_homography, camera_moves
from videosync.errors import InvalidParameterError
from videosync.predict import PREDICTORS, SearchRange
from videosync.similarity import SimilarityMatrix

OFFSETS = (0.0, 1.0, -0.6)


@pytest.fixture(scope="module")
def handheld_rig(tmp_path_factory):
    """Camera 0 on a tripod, cameras 1 and 2 hand-held (panning and shaking)."""
    from videosync.testing import make_rig

    return make_rig(tmp_path_factory.mktemp("handheld"), n_cameras=3, offsets_seconds=OFFSETS, fps=(30, 25, 30),
                    duration_seconds=6.0, size=(128, 96), seed=0, handheld=(False, True, True))


def _errors_frames(rig, compensate):
    emb = MotionEmbedder(compensate=compensate)
    E = [emb.embed_video(p) for p in rig.paths]
    out = {}
    for i, j in [(0, 1), (0, 2), (1, 2)]:
        est = PREDICTORS.create("lag").predict(SimilarityMatrix(E[i], E[j]), SearchRange())
        out[(i, j)] = abs(est.offset_seconds - (OFFSETS[j] - OFFSETS[i])) * 30.0
    return out


def test_auto_compensates_handheld_cameras_only(handheld_rig):
    auto, on, off = (MotionEmbedder(compensate=c) for c in ("auto", "on", "off"))
    static, *handheld = handheld_rig.paths
    # the tripod camera keeps the plain frame difference, bit for bit
    assert np.array_equal(auto.embed_video(static).features, off.embed_video(static).features)
    for p in handheld:  # decided online: compensated on (nearly) every frame pair
        fa = auto.embed_video(p).features
        same_as_on = np.all(fa == on.embed_video(p).features, axis=1)
        assert same_as_on.mean() >= 0.9, same_as_on.mean()
        assert not np.all(fa == off.embed_video(p).features, axis=1).any()


def test_compensation_syncs_handheld_cameras(handheld_rig):
    with_comp = _errors_frames(handheld_rig, "auto")
    without = _errors_frames(handheld_rig, "off")
    assert all(e <= 1.0 for e in with_comp.values()), with_comp
    # without it the two hand-held cameras match their own motion, not the scene
    assert without[(1, 2)] > 5.0, without


def test_camera_homography_recovers_a_shift(rng):
    import cv2

    img = cv2.resize((rng.random((12, 16)) * 255).astype(np.uint8), (128, 96), interpolation=cv2.INTER_CUBIC)
    M = np.float32([[1, 0, 3.0], [0, 1, -2.0]])
    moved = cv2.warpAffine(img, M, (128, 96), borderMode=cv2.BORDER_REFLECT)
    H = camera_homography(img, moved)
    assert H is not None
    assert H[0, 2] / H[2, 2] == pytest.approx(3.0, abs=0.3)
    assert H[1, 2] / H[2, 2] == pytest.approx(-2.0, abs=0.3)
    flat = np.full((96, 128), 128, np.uint8)
    assert camera_homography(flat, flat) is None  # nothing to track: no estimate


def test_camera_moves_reads_the_median_ratio():
    assert camera_moves([0.4, 0.5, 0.6, 1.2])
    assert not camera_moves([1.1, 1.3, 0.5, 1.0])
    assert not camera_moves([0.3])  # too little to decide
    assert camera_moves([0.85, 0.9, 0.95], moving_ratio=0.9)


def test_switch_follows_a_camera_that_starts_moving():
    """Still for 10 s, then hand-held: plain rows first, compensated ones from shortly after
    the change; a still camera is checked only every 2 s."""
    from videosync.embed.motion import _MotionSwitch

    sw = _MotionSwitch("auto", 0.8)
    rows, checked = [], []
    for i in range(400):  # 20 s at 20 pairs per second
        t = i / 20
        ratio = 1.2 if t < 10 else 0.4
        if sw.wants_check(i, t):
            checked.append(i)
            sw.update(i, t, ratio, np.array([1.0]))
        rows.append(sw.row(i, np.array([0.0])))
    rows = np.array(sw.finish(rows))[:, 0]
    assert rows[:200].sum() == 0  # plain while still (warm-up included)
    first = int(np.argmax(rows == 1.0))
    assert 200 <= first <= 200 + 40 + 15  # the next 2-s check, then within the 15-check window
    assert rows[first:].all()
    # while still: every 0.25 s at first, then every 5 % of the time elapsed (≈ 0.5 s at 10 s)
    assert len([i for i in checked if 10 <= i < 200]) <= 40


def _schedule(ratio_at, n=400, rate=20):
    from videosync.embed.motion import _MotionSwitch

    sw = _MotionSwitch("auto", 0.8)
    rows = []
    for i in range(n):
        if sw.wants_check(i, i / rate):
            sw.update(i, i / rate, ratio_at(i), np.array([1.0]))
        rows.append(sw.row(i, np.array([0.0])))
    return np.array(sw.finish(rows))[:, 0]


def test_switch_ignores_a_stray_check_and_holds_through_a_slow_phase():
    # a still camera whose checks now and then look moving stays still
    assert _schedule(lambda i: 0.5 if i % 40 == 30 else 1.2).sum() == 0
    # a moving camera whose warp removes less for a while (ratio 0.9, a pan turning) stays moving
    rows = _schedule(lambda i: 0.9 if 150 <= i < 250 else 0.4)
    assert rows.all()
    # ... and becomes still when the warp stops helping (ratio above 1)
    rows = _schedule(lambda i: 1.3 if i >= 200 else 0.4)
    assert rows[:200].all() and not rows[230:].any()


def test_switch_checks_a_long_still_video_every_2_s():
    from videosync.embed.motion import _MotionSwitch

    sw = _MotionSwitch("auto", 0.8)
    checked = []
    for i in range(30 * 600):  # 10 min at 30 pairs per second
        t = i / 30
        if sw.wants_check(i, t):
            checked.append(t)
            sw.update(i, t, 1.2, np.array([1.0]))
    late = np.diff([t for t in checked if t >= 60])
    # warm-up 10, 0.25 s to 5 s: 20, 5 % of elapsed to 40 s: ~42, then every 2 s: 280
    assert late.min() >= 2.0 - 1e-9 and len(checked) <= 10 + 20 + 45 + 281


def test_switch_warm_up_settles_a_moving_start():
    from videosync.embed.motion import _MotionSwitch

    sw = _MotionSwitch("auto", 0.8)
    rows = []
    for i in range(30):
        if sw.wants_check(i, i / 10):
            sw.update(i, i / 10, 0.5, np.array([1.0]))
        rows.append(sw.row(i, np.array([0.0])))
    assert np.array(sw.finish(rows))[:, 0].all()  # the warm-up rows too


def test_compensate_parameter_is_checked():
    with pytest.raises(InvalidParameterError):
        MotionEmbedder(compensate="sometimes")
    with pytest.raises(InvalidParameterError):
        MotionEmbedder(moving_ratio=-1)


def test_sync_reports_which_cameras_were_compensated(handheld_rig):
    import videosync
    from videosync.cli._render import camera_notes

    result = videosync.sync(list(handheld_rig.paths))
    shares = {p: d["camera_motion"]["compensated_share"] for p, d in result.provenance["embeddings"].items()}
    static, *handheld = handheld_rig.paths
    assert shares[static] == 0.0
    assert all(shares[p] >= 0.9 for p in handheld), shares
    notes = camera_notes(result)
    assert len(notes) == 2 and all("moving camera" in n for n in notes)
    # the details survive cropping (as the benches crop embeddings)
    emb = MotionEmbedder().embed_video(handheld[0])
    assert emb.crop(1.0, 3.0).details == emb.details


def test_frames_that_are_not_8_bit_are_accepted(rng):
    frames = [(k / 30, rng.random((60, 80)) * 255) for k in range(20)]  # float64 grey frames
    for mode in ("on", "auto", "off"):
        assert MotionEmbedder(compensate=mode).embed_frames(frames, None).features.shape == (19, 21)
