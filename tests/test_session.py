"""Session model: shoot/<camera>/<clips...> → every clip on one session timeline."""

import json

import numpy as np
import pytest

from videosync.cli import main
from videosync.errors import InvalidParameterError
from videosync.session import (
    SessionClip,
    SessionResult,
    clip_metadata,
    parse_timecode,
    scan_shoot,
    sync_session,
)
from videosync.testing.shoot import CameraSpec, ClipSpec, make_shoot


@pytest.fixture(scope="module")
def shoot(tmp_path_factory):
    """3 cameras (30 / 25 / 29.97 fps), gaps between clips, an unrelated and a still clip."""
    cams = [
        CameraSpec("A", (ClipSpec(0, 24), ClipSpec(28, 18)), fps=30),
        CameraSpec("B", (ClipSpec(5, 16), ClipSpec(24, 14), ClipSpec(42, 8, "unrelated")), fps=25,
                   clock_offset_seconds=3.0),
        CameraSpec("C", (ClipSpec(10, 30), ClipSpec(42, 6, "still")), fps=29.97, clock_offset_seconds=-2.0),
    ]
    return make_shoot(tmp_path_factory.mktemp("shoot"), cams, size=(64, 48))


@pytest.fixture(scope="module")
def result(shoot):
    return sync_session(shoot.folder)


def test_every_clip_kept_with_a_status(shoot, result):
    assert sorted(c.path for c in result.clips) == sorted(c.path for c in shoot.clips)
    assert [cam.name for cam in result.cameras] == ["A", "B", "C"]
    for c in result.clips:
        assert c.status in ("synced", "low_confidence", "unsynced")
        assert (c.start_seconds is None) == (c.status == "unsynced")


def test_unrelated_and_still_clips_are_unsynced_not_dropped(shoot, result):
    for truth in shoot.clips:
        got = result.clip(truth.path)
        if truth.kind != "event":
            assert got.status == "unsynced", (truth.kind, got)
            assert got.start_seconds is None
            assert got.details.get("reason")


def test_placement_matches_truth(shoot, result):
    synced = [c for c in result.clips if c.status == "synced"]
    assert len(synced) == sum(c.kind == "event" for c in shoot.clips)
    # Session zero is the earliest synced clip.
    assert min(c.start_seconds for c in synced) == 0.0
    first = min(shoot.clip(c.path).start_seconds for c in synced)
    for c in synced:
        truth = shoot.clip(c.path)
        assert c.start_seconds == pytest.approx(truth.start_seconds - first, abs=1.0 / truth.fps), c.path


def test_same_camera_clips_never_matched_nor_overlapping(shoot, result):
    cam_of = {c.path: c.camera for c in shoot.clips}
    for p in result.provenance["pairs"]:
        assert cam_of[p["a"]] != cam_of[p["b"]]
    for cam in result.cameras:
        spans = sorted((c.start_seconds, c.end_seconds) for c in cam.clips if c.start_seconds is not None)
        for (_, end), (start, _) in zip(spans, spans[1:]):
            assert end <= start + 0.5


def test_json_schema_and_round_trip(result, tmp_path):
    d = json.loads(result.to_json())
    assert d["schema_version"] == 1
    for cam in d["cameras"]:
        assert set(cam) == {"name", "clips"}
        for c in cam["clips"]:
            assert {"path", "start_seconds", "rate", "drift_ppm", "confidence", "status"} <= set(c)
            assert c["rate"] == pytest.approx(1 + c["drift_ppm"] * 1e-6)
    again = SessionResult.from_dict(d)
    assert again.to_dict() == d
    with pytest.raises(InvalidParameterError, match="schema_version"):
        SessionResult.from_dict({**d, "schema_version": 2})


def test_clip_invariants():
    with pytest.raises(InvalidParameterError):
        SessionClip("x.mp4", 1.0, 1.0, 0.0, 0.5, "unsynced")
    with pytest.raises(InvalidParameterError):
        SessionClip("x.mp4", None, 1.0, 0.0, 0.5, "synced")
    c = SessionClip("x.mp4", 2.0, 1.0 + 100e-6, 100.0, 0.9, "synced", duration_seconds=10.0)
    assert c.session_time(5.0) == pytest.approx(2.0 + 5.0 * (1 + 100e-6))


def test_negative_pair_is_unsynced(tmp_path):
    """Two cameras that never saw the same event: nothing may be called synced."""
    sh = make_shoot(tmp_path, [CameraSpec("A", (ClipSpec(0, 15),)),
                               CameraSpec("B", (ClipSpec(0, 15, "unrelated"),), fps=25)], size=(64, 48), seed=3)
    res = sync_session(sh.folder)
    assert all(c.status == "unsynced" for c in res.clips), res.clips


def test_metadata_orders_clips_and_prunes_pairs(tmp_path):
    """creation_time tags: record order beats file names; far-apart pairs are not measured; a group
    linked to the rest only by record starts is placed by them, as low_confidence."""
    cams = [
        CameraSpec("A", (ClipSpec(0, 12), ClipSpec(1000, 10)), creation_time=True),
        # B's files are named against recording order (clip001 was recorded last).
        CameraSpec("B", (ClipSpec(1002, 6), ClipSpec(3, 8)), fps=25, creation_time=True),
    ]
    sh = make_shoot(tmp_path, cams, size=(64, 48), seed=5)
    meta = clip_metadata(sh.clips[2].path)
    assert meta.source == "creation_time" and meta.creation_time_seconds is not None
    res = sync_session(sh.folder)
    b = [c.path for c in res.cameras[1].clips]
    assert b == [sh.clips[3].path, sh.clips[2].path]
    assert res.provenance["pairs_measured"] < res.provenance["pairs_possible"]
    a1, a2 = res.cameras[0].clips
    b_late, b_early = res.cameras[1].clips[1], res.cameras[1].clips[0]
    assert a1.status == b_early.status == "synced"
    # The late pair matches each other but reaches the early group only through creation_time
    # (1 s resolution): placed, for review, and still exact relative to each other.
    assert a2.status == b_late.status == "low_confidence"
    assert a2.details["reason"] == "placed by file metadata only"
    assert a2.start_seconds == pytest.approx(1000.0, abs=1.0)
    assert b_late.start_seconds - a2.start_seconds == pytest.approx(2.0, abs=1 / 25)


def test_timecode_places_a_clip_that_overlaps_nothing(tmp_path):
    """Time code tracks (frame-accurate record starts): A's second clip overlaps no other camera,
    so only its camera's time code places it (low_confidence, within a frame or two)."""
    cams = [CameraSpec("A", (ClipSpec(0, 14), ClipSpec(100, 8)), timecode=True),
            CameraSpec("B", (ClipSpec(3, 9),), fps=25, clock_offset_seconds=1.0, timecode=True)]
    sh = make_shoot(tmp_path, cams, size=(64, 48), seed=8)
    assert clip_metadata(sh.clips[1].path).source == "timecode"
    res = sync_session(sh.folder)
    a1, a2 = res.cameras[0].clips
    (b1,) = res.cameras[1].clips
    assert a1.status == b1.status == "synced"
    assert a2.status == "low_confidence" and a2.details["record_start"] == "timecode"
    assert a2.start_seconds - a1.start_seconds == pytest.approx(100.0, abs=0.1)


def test_parse_timecode():
    assert parse_timecode("01:00:00:00", 25.0) == pytest.approx(3600.0)
    assert parse_timecode("00:00:01:12", 24.0) == pytest.approx(1.5)
    # 29.97 drop-frame: 01:00:00;00 is frame 107892, i.e. 3599.9964 s of real time.
    assert parse_timecode("01:00:00;00", 30000 / 1001) == pytest.approx(107892 * 1001 / 30000)
    assert parse_timecode("garbage", 25.0) is None


def test_scan_shoot_errors(tmp_path):
    with pytest.raises(InvalidParameterError, match="no camera folder"):
        scan_shoot(tmp_path)
    with pytest.raises(InvalidParameterError, match="not a folder"):
        scan_shoot(tmp_path / "missing")


def test_cli_session(shoot, tmp_path, capsys):
    out = tmp_path / "session.json"
    assert main(["session", shoot.folder, "-o", str(out), "-q"]) == 0
    d = json.loads(out.read_text())
    assert d["schema_version"] == 1 and len(d["cameras"]) == 3
    empty = tmp_path / "empty"
    empty.mkdir()
    capsys.readouterr()
    assert main(["session", str(empty)]) == 1
    err = capsys.readouterr().err
    assert "no camera folder" in err and len(err.strip().splitlines()) == 1


def test_session_forest_keeps_the_order_that_explains_most_evidence():
    """A scene that repeats: pairs of far-apart clips agree on the repetition. The session's
    spanning forest tries each order and keeps the placement that explains the most evidence."""
    from test_solve import _repeating_scene

    from videosync.multiview.solve import consistent_forest
    from videosync.session.run import _Clip, _consistent_forest

    truth, pairs = _repeating_scene()
    clips = [_Clip(camera=i, path=f"c{i}.mp4", duration=30.0) for i in range(20)]
    led, _ = consistent_forest(20, pairs, floor=0.25, cycle_tolerance=0.3, order="support")
    assert np.max(np.abs((led - led[0]) - truth)) > 10  # the order used alone before follows the repetition
    x, group = _consistent_forest(clips, pairs, 0.25)
    assert len(set(group)) == 1
    assert np.max(np.abs((x - x[0]) - truth)) < 0.05
