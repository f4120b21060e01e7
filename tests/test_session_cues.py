"""Sessions with several cues: sound fused with the picture, sound-only recorders, --review."""

import json
import os

import pytest

import videosync
from videosync.cli import main
from videosync.errors import InvalidParameterError, VideoOpenError
from videosync.io import probe
from videosync.session import scan_shoot, sync_session
from videosync.testing.shoot import CameraSpec, ClipSpec, make_shoot


@pytest.fixture(scope="module")
def shoot(tmp_path_factory):
    """A: picture and sound. B: sound, but its picture is frozen and dark (useless). C: a sound
    recorder (.wav only). D: picture, no audio stream."""
    cams = [
        CameraSpec("A", (ClipSpec(0, 14), ClipSpec(18, 10)), fps=30, sound=True),
        CameraSpec("B", (ClipSpec(4, 12, "blind"), ClipSpec(19, 8, "blind")), fps=25, clock_offset_seconds=3.0,
                   sound=True),
        CameraSpec("C", (ClipSpec(2, 16), ClipSpec(21, 6)), clock_offset_seconds=-1.5, recorder=True),
        CameraSpec("D", (ClipSpec(6, 10),), fps=30, clock_offset_seconds=0.7),
    ]
    return make_shoot(tmp_path_factory.mktemp("shoot_cues"), cams, size=(64, 48), seed=4)


def _errors_ms(shoot, result):
    """|start − truth| per placed clip, after the one shift of session zero (reference clip)."""
    ref = result.provenance["reference_clip"]
    shift = shoot.clip(ref).start_seconds - result.clip(ref).start_seconds
    return {os.path.relpath(c.path, shoot.folder): abs(c.start_seconds + shift - shoot.clip(c.path).start_seconds) * 1e3
            for c in result.clips if c.start_seconds is not None}


def test_visual_alone_cannot_place_the_blind_camera(shoot):
    res = sync_session(shoot.folder)  # default cues: visual, metadata (as before)
    assert res.provenance["cues"] == ["visual", "metadata"]
    assert not any(c.path.endswith(".wav") for c in res.clips)  # sound files are clips only with audio
    for c in res.cameras[1].clips:  # at best a weak (wrong) match, flagged for review
        assert c.status != "synced", c


def test_sound_places_the_blind_camera_and_the_recorder(shoot):
    res = sync_session(shoot.folder, cues="visual,audio")
    assert all(c.status == "synced" for c in res.clips), [(c.path, c.status) for c in res.clips]
    assert len(res.clips) == len(shoot.clips)
    err = _errors_ms(shoot, res)
    for name, e in err.items():
        # Sound is sample-accurate after GCC-PHAT; D (no audio stream) is placed by its picture.
        assert e < (1000 / 30 if name.startswith("D") else 1.0), (name, e)
    recorder = res.cameras[2].clips
    assert all(c.details.get("sound_only") for c in recorder) and recorder[0].path.endswith(".wav")
    cues = {(os.path.basename(os.path.dirname(p["a"])) + os.path.basename(os.path.dirname(p["b"]))): p["cues"]
            for p in res.provenance["pairs"]}
    assert cues["AD"] == ["visual"]  # D has no sound
    assert cues["AC"] == ["audio"]  # C has no picture
    assert cues["CD"] == []  # nothing in common: no evidence, never a guess
    assert any(p["cues"] == ["visual", "audio"] for p in res.provenance["pairs"])


def test_sound_alone_leaves_the_silent_camera_unsynced(shoot):
    res = sync_session(shoot.folder, cues=("audio",))
    d = res.cameras[3].clips[0]
    assert d.status == "unsynced" and d.start_seconds is None
    assert all(c.status == "synced" for cam in res.cameras[:3] for c in cam.clips)
    assert max(_errors_ms(shoot, res).values()) < 1.0


def test_bad_cues():
    with pytest.raises(InvalidParameterError, match="unknown cue"):
        sync_session([("A", [])], cues="visual,smell")
    with pytest.raises(InvalidParameterError, match="visual or audio"):
        sync_session([("A", [])], cues="metadata")


def test_sync_a_camera_against_a_recorder(shoot, capsys):
    cam, rec = shoot.clips[0], shoot.clips[4]
    assert rec.path.endswith("take001.wav")
    with pytest.raises(VideoOpenError, match="no video stream"):
        probe(rec.path)  # sound-only files are refused unless asked for
    info = probe(rec.path, allow_audio_only=True)
    assert not info.has_video and info.duration_seconds == pytest.approx(16.0, abs=0.01)
    r = videosync.sync([cam.path, rec.path], cues="visual,audio")
    # The instant at the camera's time t is at t + (start_cam − start_rec) in the recording.
    assert r.offsets_seconds[1] == pytest.approx(cam.start_seconds - rec.start_seconds, abs=1e-3)
    assert r.videos[1].status == "synced"
    assert main(["sync", cam.path, rec.path, "--cues", "visual,audio", "-q"]) == 0
    assert json.loads(capsys.readouterr().out)["videos"][1]["offset_seconds"] == pytest.approx(
        cam.start_seconds - rec.start_seconds, abs=1e-3)


def test_scan_lists_sound_files_only_with_audio(shoot):
    assert [len(c) for _, c in scan_shoot(shoot.folder)] == [2, 2, 1]
    assert [len(c) for _, c in scan_shoot(shoot.folder, audio=True)] == [2, 2, 2, 1]


def test_cli_review_pages_for_low_confidence_clips(tmp_path, capsys):
    """Two clips placed only by creation_time are low_confidence: --review writes a page for
    each, against the clip it was matched to, and lists them."""
    cams = [CameraSpec("A", (ClipSpec(0, 12), ClipSpec(1000, 10)), creation_time=True),
            CameraSpec("B", (ClipSpec(1002, 6), ClipSpec(3, 8)), fps=25, creation_time=True)]
    sh = make_shoot(tmp_path / "shoot", cams, size=(64, 48), seed=5)
    out = tmp_path / "s.json"
    capsys.readouterr()
    assert main(["session", sh.folder, "-o", str(out), "--review", "-q"]) == 0
    err = capsys.readouterr().err
    pages = sorted((tmp_path / "s_review").iterdir())
    assert [p.name for p in pages] == ["A_clip002.html", "B_clip001.html"]
    assert "2 clip(s) need a human; 2 page(s)" in err
    html = pages[0].read_text()
    assert "clip002.mp4" in html and "clip001.mp4" in html
    d = json.loads(out.read_text())
    low = [c["path"] for cam in d["cameras"] for c in cam["clips"] if c["status"] == "low_confidence"]
    assert len(low) == 2 and all(os.path.basename(p) in err for p in low)
    # Nothing low_confidence: says so, writes nothing.
    assert main(["session", sh.folder, "-o", str(tmp_path / "t.json"), "--review", "-q", "--cues", "visual"]) == 0
    assert "no clip needs a human" in capsys.readouterr().err
    assert not (tmp_path / "t_review").exists()
    # Without the metadata cue the tags are ignored: file-name order, every pair measured.
    t = json.loads((tmp_path / "t.json").read_text())
    assert t["provenance"]["pairs_measured"] == t["provenance"]["pairs_possible"] == 4
    assert [os.path.basename(c["path"]) for c in t["cameras"][1]["clips"]] == ["clip001.mp4", "clip002.mp4"]
    assert not any("record_start" in c.get("details", {}) for cam in t["cameras"] for c in cam["clips"])


def test_drift_measured_on_the_sound(tmp_path):
    """B's picture is useless and its clock runs 400 ppm fast: only the sound's windows give the rate."""
    cams = [CameraSpec("A", (ClipSpec(0, 150),), fps=10, sound=True),
            CameraSpec("B", (ClipSpec(2, 150, "blind"),), fps=10, clock_offset_seconds=1.0, drift_ppm=400.0,
                       sound=True)]
    sh = make_shoot(tmp_path, cams, size=(40, 24), seed=9)
    a, b = sh.clips
    paths = [a.path, b.path]
    visual = videosync.sync(paths, drift=True)
    assert not visual.provenance["drift"]["rate_measured"][b.path]
    fused = videosync.sync(paths, cues="visual,audio", drift=True)
    assert fused.provenance["drift"]["rate_measured"][b.path]
    assert fused.videos[1].drift_ppm == pytest.approx(400.0, abs=25.0)
    # B's clock reads 1 + (1 + 400e-6)·w − 2 at world time w (A's time): offset −1 at A's 0.
    assert fused.offsets_seconds[1] == pytest.approx(-1.0, abs=0.005)
