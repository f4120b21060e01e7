"""Synced copies checked frame by frame against the truth of a time-code rig.

Every frame of a time-code rig shows its world instant as a binary code
(videosync.testing.timecode), so each decoded output frame says which instant it shows.
"""

from __future__ import annotations

import json
import os

import av
import numpy as np
import pytest

from videosync.apply import apply_sync
from videosync.cli import main
from videosync.result import CameraResult, SyncResult
from videosync.testing.timecode import decode_time, make_timecode_rig

# cam1 starts 1 s before the reference, cam2 0.51 s after it at 25 fps (12.75 frames: sub-frame)
OFFSETS = (0.0, 1.0, -0.51)
FPS = (30.0, 30.0, 25.0)


@pytest.fixture(scope="module")
def rig(tmp_path_factory):
    # cam0: a key frame every 15 frames, so the overlap cut at its frame 15 can be copied
    return make_timecode_rig(tmp_path_factory.mktemp("tc"), offsets_seconds=OFFSETS, fps=FPS,
                             duration_seconds=4.0, gop_size=[15, None, 10])


def _result(rig, offsets=None) -> SyncResult:
    offsets = rig.offsets_seconds if offsets is None else offsets
    cams = tuple(
        CameraResult(p, o, o * f, f, 1.0, "reference" if i == 0 else "synced")
        for i, (p, o, f) in enumerate(zip(rig.paths, offsets, rig.fps))
    )
    return SyncResult(cams, (), 0)


def _decoded(path):
    """(output time in seconds, world instant or None for black) of every frame."""
    with av.open(path) as c:
        return [(float(f.pts * f.time_base), decode_time(f.to_ndarray(format="rgb24"))) for f in c.decode(video=0)]


def _digest(path):
    with open(path, "rb") as f:
        return hash(f.read())


def test_union_frames_every_frame_shows_its_timeline_instant(rig, tmp_path):
    before = [_digest(p) for p in rig.paths]
    done = apply_sync(_result(rig), tmp_path / "out", preset="ultrafast")
    assert done.timeline_zero_seconds == pytest.approx(-1.0)  # cam1 starts first, 1 s before the reference
    by = {os.path.basename(o.source): o for o in done.outputs}
    assert by["cam1.mp4"].method == "copy" and by["cam1.mp4"].pad_frames == 0
    assert by["cam0.mp4"].method == "reencode" and by["cam0.mp4"].pad_frames == 30
    # cam2 starts 1.51 s into the timeline = 37.75 of its frames: 38 black frames, and the
    # quarter frame left over is reported, not hidden
    assert by["cam2.mp4"].pad_frames == 38
    assert by["cam2.mp4"].residual_frames == pytest.approx(-0.25, abs=1e-3)
    per_cam = {}
    for o in done.outputs:
        frames = _decoded(o.output)
        assert frames[0][0] == 0.0  # every output starts with a frame at 0
        assert all(w is None for _, w in frames[: o.pad_frames])
        real = frames[o.pad_frames:]
        assert len(real) == o.n_frames and all(w is not None for _, w in real)
        # the instant shown = timeline zero + output time + the reported residual (time code: 0.1 ms)
        err = [w - (done.timeline_zero_seconds + t) - o.residual_seconds for t, w in real]
        assert max(map(abs, err)) < 2e-4
        assert abs(o.residual_seconds) <= 0.5 / o.fps + 1e-9
        per_cam[os.path.basename(o.source)] = dict(frames)
    # frame k of the two 30 fps outputs shows the same world instant (within one frame)
    k_times = sorted(set(per_cam["cam0.mp4"]) & set(per_cam["cam1.mp4"]))
    both = [(per_cam["cam0.mp4"][t], per_cam["cam1.mp4"][t]) for t in k_times]
    both = [(a, b) for a, b in both if a is not None and b is not None]
    assert len(both) > 60 and max(abs(a - b) for a, b in both) < 1 / 30
    assert [_digest(p) for p in rig.paths] == before  # inputs untouched
    assert not [f for f in os.listdir(tmp_path / "out") if f.startswith(".videosync-")]


def test_overlap_frames_equal_counts_and_copy_on_key_frame(rig, tmp_path):
    done = apply_sync(_result(rig), tmp_path / "out", span="overlap", preset="ultrafast")
    assert done.timeline_zero_seconds == pytest.approx(0.51)  # cam2 starts last
    assert done.duration_seconds == pytest.approx(2.49)  # the reference ends first, at 4.0
    by = {os.path.basename(o.source): o for o in done.outputs}
    # cam0: timeline zero = its 0.51 s = frame 15.3 -> frame 15, a key frame: lossless copy
    assert by["cam0.mp4"].method == "copy" and by["cam0.mp4"].first_frame_index == 15
    assert by["cam0.mp4"].residual_frames == pytest.approx(-0.3, abs=1e-3)
    assert by["cam1.mp4"].method == "reencode" and "not a key frame" in by["cam1.mp4"].reason
    assert by["cam0.mp4"].n_frames == by["cam1.mp4"].n_frames == 75  # 2.49 s at 30 fps
    for o in done.outputs:
        frames = _decoded(o.output)
        assert len(frames) == o.n_frames and frames[0][0] == 0.0
        err = [w - (done.timeline_zero_seconds + t) - o.residual_seconds for t, w in frames]
        assert max(map(abs, err)) < 2e-4
        last = done.timeline_zero_seconds + frames[-1][0]
        assert last < done.timeline_zero_seconds + done.duration_seconds


def test_exact_timing_copies_late_cameras_with_a_start_offset(rig, tmp_path):
    done = apply_sync(_result(rig), tmp_path / "out", timing="exact", preset="ultrafast")
    assert [o.method for o in done.outputs] == ["copy", "copy", "copy"]  # nothing re-encoded
    for o in done.outputs:
        frames = _decoded(o.output)
        assert frames[0][0] == pytest.approx(o.start_seconds, abs=2e-5)
        err = [w - (done.timeline_zero_seconds + t) for t, w in frames]
        assert max(map(abs, err)) < 2e-4  # exact: no residual beyond the time code's resolution
    assert done.outputs[2].start_seconds == pytest.approx(1.51, abs=2e-5)


def test_wrong_offset_is_caught_by_the_check(rig, tmp_path):
    """The frame-by-frame check can fail: a result one frame off gives frames one frame off."""
    bad = list(rig.offsets_seconds)
    bad[1] += 1 / 30
    done = apply_sync(_result(rig, bad), tmp_path / "out", preset="ultrafast")
    o = done.outputs[1]
    frames = [(t, w) for t, w in _decoded(o.output) if w is not None]
    err = [w - (done.timeline_zero_seconds + t) - o.residual_seconds for t, w in frames]
    assert max(map(abs, err)) == pytest.approx(1 / 30, abs=2e-4)


def test_cli_apply_with_corrections_and_errors(rig, tmp_path, capsys):
    sync_json = tmp_path / "sync.json"
    bad = list(rig.offsets_seconds)
    bad[1] += 2 / 30  # two frames off; the corrections file takes them back
    sync_json.write_text(_result(rig, bad).to_json())
    corr = tmp_path / "corr.json"
    corr.write_text(json.dumps({"schema_version": 1, "kind": "videosync-corrections", "reference": rig.paths[0],
                                "corrections_frames": {"cam1.mp4": -2}}))
    code = main(["apply", str(sync_json), "--out", str(tmp_path / "o"), "--corrections", str(corr),
                 "--span", "overlap", "--preset", "ultrafast", "--json"])
    out, err = capsys.readouterr()
    assert code == 0, err
    d = json.loads(out)
    assert d["outputs"][1]["offset_seconds"] == pytest.approx(rig.offsets_seconds[1])
    assert {"copy", "reencode"} == {o["method"] for o in d["outputs"]}
    assert "residual frames" in err and "timeline zero" in err
    frames = _decoded(d["outputs"][1]["output"])
    errs = [w - (d["timeline_zero_seconds"] + t) - d["outputs"][1]["residual_seconds"] for t, w in frames]
    assert max(map(abs, errs)) < 2e-4
    # malformed input: one line, exit 1
    corr.write_text("{not json")
    assert main(["apply", str(sync_json), "--out", str(tmp_path / "o2"), "--corrections", str(corr)]) == 1
    assert capsys.readouterr().err.count("\n") == 1
    corr.write_text(json.dumps({"schema_version": 1, "kind": "videosync-corrections", "reference": rig.paths[0],
                                "corrections_frames": {"nope.mp4": 1}}))
    assert main(["apply", str(sync_json), "--out", str(tmp_path / "o3"), "--corrections", str(corr)]) == 1
    assert "nope.mp4" in capsys.readouterr().err
    # the output folder may not be the inputs' folder
    assert main(["apply", str(sync_json), "--out", os.path.dirname(rig.paths[0])]) == 1
    assert "never modified" in capsys.readouterr().err


def test_overlap_needs_a_common_instant(tmp_path, rig):
    from videosync.errors import InvalidParameterError

    with pytest.raises(InvalidParameterError, match="share no instant"):
        apply_sync(_result(rig, (0.0, 10.0, -0.5)), tmp_path / "o", span="overlap")
    with pytest.raises(InvalidParameterError, match="span"):
        apply_sync(_result(rig), tmp_path / "o", span="middle")


def test_residual_never_exceeds_half_a_frame(rig):
    """Nearest-frame cuts for many offsets: the residual is what is left, never more than ½ frame."""
    from videosync.apply import _plan, _scan

    sc = _scan(rig.paths[2])
    for cut in np.linspace(-1.3, 2.7, 57):
        p = _plan(sc, float(cut), None, "frames")
        assert abs(p.residual_seconds) <= 0.5 / 25 + 1e-9
        shown = sc.times_seconds()[np.argsort(sc.pts)][p.first_frame_index] - cut
        assert shown - p.pad_frames / 25 == pytest.approx(p.residual_seconds, abs=1e-9)


def test_drift_is_said_not_hidden(rig, tmp_path):
    import dataclasses

    r = _result(rig)
    r = dataclasses.replace(r, videos=(r.videos[0], dataclasses.replace(r.videos[1], drift_ppm=120.0), r.videos[2]))
    done = apply_sync(r, tmp_path / "o", timing="exact")
    assert "drift +120.0 ppm not corrected" in done.outputs[1].reason
    assert "drift" not in done.outputs[0].reason
