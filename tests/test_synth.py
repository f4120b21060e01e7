"""videosync.synth: MuJoCo-rendered multi-camera worlds with exact timing truth.

Renders are tiny (≤ 4 s, ≤ 160 px) so the module runs in well under a minute. Everything
that renders skips, with the install line, where mujoco or a headless GL is missing.
"""

import json
import os
import sys

import numpy as np
import pytest

import videosync
from videosync.errors import InvalidParameterError, MissingDependencyError
from videosync.eval import load_scene_folder
from videosync.synth import SCENES, render_scene
from videosync.timebase import OFFSET_CONVENTION


@pytest.fixture(scope="module")
def gl():
    try:
        from videosync.synth import available
    except ImportError as exc:  # pragma: no cover
        pytest.skip(f"videosync.synth unavailable: {exc}")
    ok, why = available()
    if not ok:
        pytest.skip("MuJoCo/GL unavailable: pip install 'videosync[synth]' and "
                    f"apt-get install -y libosmesa6 libegl1 libgl1-mesa-dri libgles2 ({why})")
    return why


def _decode(path, rgb=False):
    fmt = "rgb24" if rgb else "gray"
    out = list(videosync.open_video(path).frames(max_side=None, pixel_format=fmt))
    return np.array([t for t, _ in out]), [img for _, img in out]


@pytest.fixture(scope="module")
def tiny(gl, tmp_path_factory):
    folder = tmp_path_factory.mktemp("synth") / "objects"
    return render_scene(folder, scene="objects", cameras=2, seconds=1.5, fps=(30, 25), size=(96, 72),
                        offsets_seconds=(0.0, 0.5), drop_frames=0.1, audio=True, seed=3, workers=1)


# ------------------------------------------------------------------------- no rendering


def test_parameter_errors():
    with pytest.raises(InvalidParameterError, match="reference"):
        render_scene("unused", offsets_seconds=(0.1, 0.2), cameras=2)
    with pytest.raises(InvalidParameterError, match="scene"):
        render_scene("unused", scene="dragons")
    with pytest.raises(InvalidParameterError, match="even"):
        render_scene("unused", size=(99, 64))
    with pytest.raises(InvalidParameterError, match="one per camera"):
        render_scene("unused", cameras=3, fps=(30, 25))
    with pytest.raises(InvalidParameterError, match="drift_ppm"):
        render_scene("unused", cameras=2, drift_ppm=(5.0, 0.0))


def test_missing_mujoco_names_the_extra(monkeypatch):
    from videosync.synth import _gl

    monkeypatch.setitem(sys.modules, "mujoco", None)  # import mujoco -> ImportError
    with pytest.raises(MissingDependencyError, match=r"videosync\[synth\]"):
        _gl._import_mujoco()
    err = _gl.RenderUnavailableError("EGL: no display")
    assert isinstance(err, MissingDependencyError) and err.extra == "synth"
    assert "libosmesa6" in str(err) and "libgl1-mesa-dri" in str(err)


def test_frame_plan_drift_and_drops():
    from videosync.synth.render import _resolve, frame_plan

    p = _resolve("human", 2, 2.0, (30, 60), (0.0, 0.25), (64, 48), 1, "different", False, 0, 0.5, 1.0, 0.0, 0.0,
                 0.2, (0.0, 2000.0), False, False, False, 20)
    plan = frame_plan(p)
    ref, cam = plan
    assert ref["tau"][0] == 0.0 and np.array_equal(ref["world"], ref["tau"])  # reference: world time = own time
    assert len(cam["tau"]) + len(cam["dropped"]) == 120 and len(cam["dropped"]) == round(0.2 * 119)
    assert cam["tau"][0] == 0.0  # the first frame is never dropped (a file's timeline starts there)
    np.testing.assert_allclose(cam["world"], (cam["tau"] - 0.25) / 1.002, rtol=0, atol=1e-12)
    assert np.array_equal(np.round(cam["tau"] * 90000) / 90000, cam["tau"])  # on the 1/90000 pts grid


# ------------------------------------------------------------------------- rendered


def test_files_truth_and_loader(tiny):
    assert all(os.path.isfile(p) for p in tiny.paths)
    t = json.load(open(tiny.truth_path))
    assert t == tiny.truth
    assert t["convention"] == OFFSET_CONVENTION and t["reference"] == "cam0" and t["synthetic"] is True
    assert t["dataset"] == "synthetic-objects" and t["scene"] == "objects-s3"
    assert t["offsets_seconds"] == {"cam0": 0.0, "cam1": 0.5}
    assert t["fps"] == {"cam0": 30.0, "cam1": 25.0} and t["drift_ppm"] == {"cam0": 0.0, "cam1": 0.0}
    assert t["clips"] == {"cam0": {"file": "cam0.mp4"}, "cam1": {"file": "cam1.mp4"}}
    assert t["generator"]["seed"] == 3 and t["generator"]["params_hash"] and t["licence"]
    scene = load_scene_folder(os.path.dirname(tiny.truth_path))
    assert scene.cameras == ("cam0", "cam1") and scene.offsets_seconds == (0.0, 0.5)
    assert scene.synthetic and scene.dataset == "synthetic-objects" and scene.fps == 30.0
    assert [os.path.basename(p) for p in scene.paths] == ["cam0.mp4", "cam1.mp4"]


def test_decoded_frame_times_equal_truth(tiny):
    for cam, path in zip(("cam0", "cam1"), tiny.paths):
        times, frames = _decode(path)
        truth = np.array(tiny.truth["frame_times_seconds"][cam])
        assert len(times) == len(truth) == len(tiny.truth["world_times_seconds"][cam])
        np.testing.assert_allclose(times, truth, rtol=0, atol=1e-9)
        assert frames[0].shape == (72, 96)
    # 10 % dropped: the missing times are exactly the listed ones
    full = np.round(np.arange(int(1.5 * 25)) / 25 * 90000) / 90000
    listed = np.sort(np.concatenate([tiny.truth["frame_times_seconds"]["cam1"],
                                     tiny.truth["dropped_frame_times_seconds"]["cam1"]]))
    np.testing.assert_allclose(listed, full, atol=1e-12)
    assert len(tiny.truth["dropped_frame_times_seconds"]["cam1"]) == round(0.1 * (len(full) - 1))


def test_world_times_follow_the_convention(tiny):
    t = tiny.truth
    tau0, w0 = np.array(t["frame_times_seconds"]["cam0"]), np.array(t["world_times_seconds"]["cam0"])
    tau1, w1 = np.array(t["frame_times_seconds"]["cam1"]), np.array(t["world_times_seconds"]["cam1"])
    np.testing.assert_array_equal(w0, tau0)
    # offset +0.5: the instant at reference time t appears at t + 0.5 in cam1 -> cam1 at tau shows tau - 0.5
    np.testing.assert_allclose(w1, tau1 - 0.5, atol=1e-12)
    assert t["mean_offsets_seconds"]["cam1"] == pytest.approx(0.5, abs=1e-12)


def test_same_instant_renders_the_same_picture(gl, tmp_path):
    # co-located identical cameras: cam1 (offset +0.5 s = 5 frames at 10 fps) frame n shows what cam0 frame
    # n-5 shows, and no other shift comes close
    s = render_scene(tmp_path / "same", scene="flock", cameras=2, seconds=4.0, fps=10, size=(96, 72),
                     offsets_seconds=(0.0, 0.5), views="same", color_jitter=0.0, sensor_noise=0.0,
                     optical_blur=0.0, crf=10, workers=1)
    _, a = _decode(s.paths[0])
    _, b = _decode(s.paths[1])
    a = [x.astype(float) for x in a]
    b = [x.astype(float) for x in b]
    shifts = list(range(1, 10))
    curve = [np.mean([np.abs(b[n] - a[n - k]).mean() for n in range(10, 40)]) for k in shifts]
    best = int(np.argmin(curve))
    assert shifts[best] == 5, curve
    assert curve[best] < 0.5 * min(curve[best - 1], curve[best + 1]), curve


def test_cache_by_parameters(tiny):
    folder = os.path.dirname(tiny.truth_path)
    mtimes = [os.path.getmtime(p) for p in tiny.paths]
    again = render_scene(folder, scene="objects", cameras=2, seconds=1.5, fps=(30, 25), size=(96, 72),
                         offsets_seconds=(0.0, 0.5), drop_frames=0.1, audio=True, seed=3, workers=1)
    assert again.cached and again.truth == tiny.truth and again.paths == tiny.paths
    assert [os.path.getmtime(p) for p in tiny.paths] == mtimes


def test_other_parameters_rerender(gl, tmp_path):
    a = render_scene(tmp_path / "s", scene="human", cameras=2, seconds=0.5, size=(48, 48), seed=1, workers=1)
    b = render_scene(tmp_path / "s", scene="human", cameras=2, seconds=0.5, size=(48, 48), seed=2, workers=1)
    assert not a.cached and not b.cached
    assert a.truth["generator"]["params_hash"] != b.truth["generator"]["params_hash"]
    assert b.truth["generator"]["seed"] == 2
    assert a.truth["offsets_seconds"] != b.truth["offsets_seconds"]  # default offsets come from the seed


def test_audio_clicks_on_each_cameras_clock(tiny):
    import av

    events = np.array(tiny.truth["audio"]["events_world_seconds"])
    assert len(events) > 0
    sr = 48000
    for cam, path in zip(("cam0", "cam1"), tiny.paths):
        with av.open(path) as c:
            assert c.streams.audio[0].rate == sr
            x = np.concatenate([f.to_ndarray()[0] for f in c.decode(audio=0)])
        onsets = tiny.truth["offsets_seconds"][cam] + events  # no drift, no sound delay here
        onsets = onsets[(onsets > 0.02) & (onsets < 1.45)]
        assert len(onsets)
        train = np.zeros(len(x))
        train[np.round(onsets * sr).astype(int)] = 1.0
        energy = np.abs(x) ** 2
        lags = np.arange(-480, 481)  # ±10 ms
        score = [np.dot(np.roll(train, k)[600:-600], energy[600:-600]) for k in lags]
        best = lags[int(np.argmax(score))]
        # energy peaks a quarter period of the click's tone after its onset (≤ 1 ms here), never before it
        assert 0 <= best <= 48, best


def test_render_suite_layout_loads_as_a_benchmark(gl, tmp_path):
    from videosync.eval import load_visualsync
    from videosync.synth import render_suite

    out = render_suite(tmp_path, scenes=("objects", "pendulums"), seeds=(0, 1), cameras=2, seconds=1.0, fps=10,
                       size=(48, 48), workers=1)
    assert len(out) == 4 and not any(s.cached for s in out)
    scenes = load_visualsync(str(tmp_path))
    assert sorted(s.name for s in scenes) == ["objects-s0", "objects-s1", "pendulums-s0", "pendulums-s1"]
    assert {s.dataset for s in scenes} == {"synthetic-objects", "synthetic-pendulums"}
    assert out[0].truth["offsets_seconds"] != out[2].truth["offsets_seconds"]  # offsets differ per scene


@pytest.mark.parametrize("scene", SCENES)
def test_every_scene_renders_motion(gl, tmp_path, scene):
    s = render_scene(tmp_path / scene, scene=scene, cameras=1, seconds=4.0, fps=3, size=(64, 48), workers=1,
                     sensor_noise=0.0)
    _, frames = _decode(s.paths[0])
    assert len(frames) == 12
    diffs = [np.abs(frames[i + 1].astype(int) - frames[i]).mean() for i in range(11)]
    assert max(diffs) > 0.05, diffs  # something moves


def test_worker_processes_render_identical_frames(gl):
    # noise is seeded per (camera, chunk): the frames do not depend on which process renders them
    from videosync.synth.render import CHUNK, _FrameRenderer, _resolve, _WorkerPool

    p = _resolve("flock", 2, 1.2, (20, 25), None, (64, 48), 0, "different", False, 0, 0.5, 1.0, 0.01, 0.5, 0.0,
                 None, False, False, False, 20)
    tasks = [(1, 0, CHUNK), (0, 0, CHUNK), (1, CHUNK, 30)]
    local = _FrameRenderer(p)
    try:
        here = [local.frames(*t) for t in tasks]
    finally:
        local.close()
    pool = _WorkerPool(p, 2)
    try:
        there = list(pool.map(tasks))
    finally:
        pool.close()
    assert [len(c) for c in here] == [len(c) for c in there] == [24, 24, 6]
    assert all(np.array_equal(x, y) for a, b in zip(here, there) for x, y in zip(a, b))


def test_two_workers_write_the_same_scene(gl, tmp_path):
    kw = dict(scene="pendulums", cameras=2, seconds=1.0, fps=(20, 25), size=(64, 48), sensor_noise=0.0)
    one = render_scene(tmp_path / "w1", workers=1, **kw)
    two = render_scene(tmp_path / "w2", workers=2, **kw)
    assert one.truth == two.truth
    for p, q in zip(one.paths, two.paths):
        a, b = _decode(p)[1], _decode(q)[1]
        assert len(a) == len(b)
        assert max(np.abs(x.astype(int) - y).mean() for x, y in zip(a, b)) < 1.0  # codec-level differences only


def test_default_sync_recovers_a_same_view_render(gl, tmp_path):
    # control case: co-located cameras (own colour response, noise, frame rate); 0.03-0.08 frames for seeds 0-3
    s = render_scene(tmp_path / "sv", scene="objects", cameras=2, seconds=4.0, fps=(30, 25), size=(160, 120),
                     offsets_seconds=(0.0, 0.7345), views="same", workers=1)
    res = videosync.sync(s.paths)
    err_frames = abs(res.videos[1].offset_seconds - 0.7345) * 25
    assert err_frames < 1.0, (res.videos[1].offset_seconds, res.videos[1].confidence)
    assert res.videos[1].status == "synced"


@pytest.mark.xfail(reason="cross-view objects, 4-s 2-camera renders: the default 'motion' sync lands within 1 "
                          "frame for about 2 of seeds 0-7, and for seed 0 only on some runs (x264 output varies "
                          "from run to run); otherwise low confidence. See docs/synth.md",
                   strict=False)
def test_default_sync_recovers_a_different_view_objects_render(gl, tmp_path):
    s = render_scene(tmp_path / "dv", scene="objects", cameras=2, seconds=4.0, fps=(30, 25), size=(160, 120),
                     offsets_seconds=(0.0, 0.7345), seed=0, workers=1)
    res = videosync.sync(s.paths)
    err_frames = abs(res.videos[1].offset_seconds - 0.7345) * 25
    assert err_frames < 1.0, (res.videos[1].offset_seconds, res.videos[1].confidence)


@pytest.mark.xfail(reason="the default 'motion' embedder does not match a walking human across different "
                          "viewpoints: 1 of seeds 0-3 within 1 frame, all with confidence < 0.3; see docs/synth.md",
                   strict=False)
def test_default_sync_recovers_a_different_view_human(gl, tmp_path):
    s = render_scene(tmp_path / "dvh", scene="human", cameras=2, seconds=4.0, fps=(30, 25), size=(160, 120),
                     offsets_seconds=(0.0, 0.7345), workers=1)
    res = videosync.sync(s.paths)
    assert abs(res.videos[1].offset_seconds - 0.7345) * 25 < 1.0
