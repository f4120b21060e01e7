import os

import numpy as np
import pytest

from media import write_audio_only, write_plain, write_with_audio
from videosync import VideoOpenError, open_video, probe
from videosync.testing.rig import frame_times, write_video


def test_probe_regular(tmp_path):
    p = tmp_path / "a.mp4"
    write_plain(p, n=25, fps=25.0)
    i = probe(p)
    assert i.num_frames_from_content == 25
    assert i.fps_from_header == pytest.approx(25.0)
    assert i.fps_from_content == pytest.approx(25.0)
    assert i.fps == pytest.approx(25.0)
    assert i.duration_seconds == pytest.approx(1.0)
    assert not i.is_variable_frame_rate and not i.has_audio
    assert (i.width, i.height) == (48, 32)


def test_frame_times_come_from_timestamps_vfr(tmp_path):
    times = frame_times(3.0, 20.0, vfr=True, rng=np.random.default_rng(3))
    p = tmp_path / "vfr.mp4"
    write_video(str(p), ([np.full((32, 48, 3), k % 255, np.uint8)] [0] for k in range(len(times))), times, 20.0)
    i = probe(p)
    assert i.is_variable_frame_rate
    with open_video(p) as r:
        got = np.array([t for t, _ in r.frames(max_side=32)])
    np.testing.assert_allclose(got, times - times[0], atol=2e-5)  # 1/90000 s pts


def test_timeline_starts_at_first_frame(tmp_path):
    p = tmp_path / "late.mp4"
    write_plain(p, n=10, fps=10.0, start=0.5)
    i = probe(p)
    assert i.start_pts_seconds == pytest.approx(0.5, abs=1e-4)
    with open_video(p) as r:
        got = [t for t, _ in r.frames()]
    assert got[0] == 0.0 and got[-1] == pytest.approx(0.9, abs=1e-4)


def test_frames_working_size_and_formats(tmp_path):
    p = tmp_path / "a.mp4"
    write_plain(p, n=4)
    with open_video(p) as r:
        _, g = next(iter(r.frames(max_side=24, pixel_format="gray")))
        _, c = next(iter(r.frames(max_side=24, pixel_format="rgb24")))
    assert g.shape == (16, 24) and g.dtype == np.uint8
    assert c.shape == (16, 24, 3)


def test_audio_presence(tmp_path):
    p = tmp_path / "av.mp4"
    write_with_audio(p)
    i = probe(p)
    assert i.has_audio and i.audio_sample_rate_hz == 16000


def test_rotation_metadata(tmp_path):
    import av

    p = tmp_path / "rot.mp4"
    with av.open(str(p), "w") as out:
        s = out.add_stream("libx264", rate=10)
        s.width, s.height, s.pix_fmt = 64, 32, "yuv420p"
        s.set_display_rotation(90)
        for k in range(3):
            f = av.VideoFrame.from_ndarray(np.zeros((32, 64, 3), np.uint8), format="rgb24")
            f.pts = k
            for pk in s.encode(f):
                out.mux(pk)
        for pk in s.encode():
            out.mux(pk)
    i = probe(p)
    assert i.rotation_degrees == 90 and (i.width, i.height) == (32, 64)
    with open_video(p) as r:
        _, img = next(iter(r.frames(max_side=None)))
    assert img.shape == (64, 32)


def _write_text(p):
    p.write_text("hello, not a video\n" * 50)
    return p


def _truncated_faststart(tmp_path):
    import av

    src = tmp_path / "fs.mp4"
    rng = np.random.default_rng(0)
    with av.open(str(src), "w", options={"movflags": "faststart"}) as out:
        s = out.add_stream("libx264", rate=10)
        s.width, s.height, s.pix_fmt = 64, 32, "yuv420p"
        for k in range(40):
            f = av.VideoFrame.from_ndarray(rng.integers(0, 255, (32, 64, 3), dtype=np.uint8), format="rgb24")
            f.pts = k
            for pk in s.encode(f):
                out.mux(pk)
        for pk in s.encode():
            out.mux(pk)
    data = src.read_bytes()
    p = tmp_path / "truncated_fs.mp4"
    p.write_bytes(data[: len(data) // 2])
    return p


def _truncated(tmp_path):
    src = tmp_path / "full.mp4"
    write_plain(src, n=30)
    data = src.read_bytes()
    p = tmp_path / "truncated.mp4"
    p.write_bytes(data[: len(data) // 3])
    return p


@pytest.mark.parametrize(
    "make, expect",
    [
        (lambda d: d / "missing.mp4", "no such file"),
        (lambda d: d, "is a directory"),
        (lambda d: (d / "empty.mp4").write_bytes(b"") or d / "empty.mp4", "empty"),
        (lambda d: _write_text(d / "text.mp4"), "not a video"),
        (lambda d: write_audio_only(d / "audio.m4a") or d / "audio.m4a", "no video stream"),
        (lambda d: write_plain(d / "one.mp4", n=1) is not None and d / "one.mp4", "1 video frame"),
        (_truncated, "invalid data"),
        (_truncated_faststart, "truncated"),
    ],
    ids=["missing", "directory", "zero-byte", "text", "audio-only", "one-frame", "truncated", "truncated-faststart"],
)
def test_bad_inputs_raise_video_open_error(tmp_path, make, expect):
    p = make(tmp_path)
    with pytest.raises(VideoOpenError) as info:
        probe(p)
    msg = str(info.value)
    assert msg.startswith(os.fspath(p)) and "\n" not in msg
    assert expect in msg
    assert isinstance(info.value, OSError)


def test_inputs_are_only_read(tmp_path):
    p = tmp_path / "a.mp4"
    write_plain(p, n=12)
    before = (p.read_bytes(), os.stat(p).st_mtime_ns)
    probe(p)
    with open_video(p) as r:
        list(r.frames())
    assert (p.read_bytes(), os.stat(p).st_mtime_ns) == before
