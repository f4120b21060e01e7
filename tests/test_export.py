"""Exporters on a 3-camera result (fractional offsets, 29.97 / 25 / 60 fps), checked against each
format's rules: FCPXML 1.10 content models, xmeml 5 structure, OTIO round trip, CMX3600 columns."""

import csv
import json
import math
import re
import xml.etree.ElementTree as ET
from fractions import Fraction

import pytest

from videosync.cli import main
from videosync.errors import InvalidParameterError
from videosync.export import EXPORTERS, exporter_for, write_result
from videosync.export._timeline import rational_rate
from videosync.export.fcpxml import fcpx_time
from videosync.io import VideoInfo
from videosync.result import CameraResult, SyncResult

NTSC = Fraction(30000, 1001)
# the generated rig shared with test_framemap.py (rig_factory caches it by these arguments)
MIXED_RIG = dict(n_cameras=3, offsets_seconds=(0.0, 0.4123, -0.6789), fps=(30000 / 1001, 25.0, 60.0),
                 duration_seconds=3.0, seed=5)
# path, offset_seconds, exact fps, frames, audio, status, confidence
CAMERAS = [
    ("/shoot/cam0.mp4", 0.0, NTSC, 1800, True, "reference", 1.0),
    ("/shoot/cam1.mov", 1.2345678, Fraction(25), 1500, False, "synced", 0.9),
    ("/shoot/cam 2.mp4", -0.7654321, Fraction(60), 3000, True, "low_confidence", 0.2),
]


def video_info(path, fps, n, audio):
    return VideoInfo(path=path, width=1920, height=1080, codec="h264", num_frames_from_header=n,
                     num_frames_from_content=n, fps_from_header=fps, fps_from_content=fps,
                     duration_seconds=n / fps, start_pts_seconds=0.0, rotation_degrees=0,
                     is_variable_frame_rate=False, has_audio=audio,
                     audio_sample_rate_hz=48000 if audio else None, audio_channels=2 if audio else None)


def make_result(cameras=CAMERAS, reference_index=0):
    videos = tuple(
        CameraResult(p, o, o * float(f), float(f), c, s, residual_seconds=None if s == "reference" else 0.004,
                     info=video_info(p, float(f), n, a), drift_ppm=0.0 if s == "reference" else 3.5)
        for p, o, f, n, a, s, c in cameras
    )
    return SyncResult(videos, (), reference_index)


def expected_starts(cameras=CAMERAS, ref=0):
    """Start frame of each camera on the timeline grid (the reference's rate), computed independently:
    offset relative to the reference rounded to the nearest frame, then shifted so the earliest is 0."""
    rate = cameras[ref][2]
    rel = [round(-Fraction(str(c[1])) * rate) for c in cameras]
    return rate, [r - min(rel) for r in rel]


def parse_time(text):
    m = re.fullmatch(r"(-?\d+)(?:/(\d+))?s", text)
    assert m, f"not an FCPXML rational time: {text!r}"
    return Fraction(int(m.group(1)), int(m.group(2) or 1))


# ------------------------------------------------------------------------------------------- rates

@pytest.mark.parametrize("fps, exact", [
    (23.976, Fraction(24000, 1001)), (24.0, Fraction(24)), (25.0, Fraction(25)), (29.97, NTSC),
    (30000 / 1001, NTSC), (30.0, Fraction(30)), (50.0, Fraction(50)), (59.94, Fraction(60000, 1001)),
    (60.0, Fraction(60)), (12.5, Fraction(25, 2)), (29.83, Fraction(2983, 100)),
])
def test_rational_rates(fps, exact):
    assert rational_rate(fps) == exact


def test_rational_rate_rejects_nonsense():
    for bad in (0.0, -25.0, float("nan"), float("inf")):
        with pytest.raises(InvalidParameterError):
            rational_rate(bad)


def test_fcpx_time_is_exact():
    assert fcpx_time(Fraction(1001, 30000)) == "1001/30000s"
    assert fcpx_time(Fraction(0)) == "0s" and fcpx_time(Fraction(5)) == "5s"
    # 3 hours of 29.97 frames: no float drift
    assert parse_time(fcpx_time(323676 / NTSC)) == Fraction(323676 * 1001, 30000)


def test_exporters_chosen_by_suffix_and_name(tmp_path):
    pairs = {".fcpxml": "fcpxml", ".xml": "fcp7", ".otio": "otio", ".edl": "edl", ".csv": "csv", ".json": "json"}
    for suffix, name in pairs.items():
        assert exporter_for(tmp_path / f"a{suffix.upper()}").name == name
    assert set(pairs.values()) <= set(EXPORTERS.names())
    write_result(make_result(), tmp_path / "cams.txt", format="csv")
    assert (tmp_path / "cams.txt").read_text().startswith("name,path,offset_seconds")
    with pytest.raises(InvalidParameterError, match="available suffixes"):
        exporter_for(tmp_path / "a.mkv")


# --------------------------------------------------------------------------------------------- CSV

def test_csv_one_row_per_camera(tmp_path):
    write_result(make_result(), tmp_path / "cams.csv")
    rows = list(csv.DictReader((tmp_path / "cams.csv").open()))
    assert [r["name"] for r in rows] == ["cam0", "cam1", "cam 2"]
    assert list(rows[0])[:7] == ["name", "path", "offset_seconds", "offset_frames", "fps", "confidence", "status"]
    for r, (path, off, fps, _, _, status, conf) in zip(rows, CAMERAS):
        assert r["path"] == path and r["status"] == status
        assert float(r["offset_seconds"]) == off  # full precision, not rounded
        assert float(r["offset_frames"]) == pytest.approx(off * float(fps), abs=1e-9)
        assert float(r["fps"]) == float(fps) and float(r["confidence"]) == conf
    assert float(rows[1]["drift_ppm"]) == 3.5 and rows[0]["residual_seconds"] == ""


# -------------------------------------------------------------------------------------------- OTIO

def test_otio_round_trip(tmp_path):
    otio = pytest.importorskip("opentimelineio")
    write_result(make_result(), tmp_path / "shoot.otio")
    tl = otio.adapters.read_from_file(str(tmp_path / "shoot.otio"))
    assert tl.metadata["videosync"]["reference"] == "/shoot/cam0.mp4"
    tracks = list(tl.tracks)
    assert [t.name for t in tracks] == ["cam0", "cam1", "cam 2"]
    assert all(t.kind == otio.schema.TrackKind.Video for t in tracks)
    starts = []
    for t, (path, off, fps, n, _, status, conf) in zip(tracks, CAMERAS):
        clips = [c for c in t if isinstance(c, otio.schema.Clip)]
        gaps = [c for c in t if isinstance(c, otio.schema.Gap)]
        assert len(clips) == 1 and len(gaps) <= 1
        clip = clips[0]
        starts.append(gaps[0].duration().to_seconds() if gaps else 0.0)
        assert clip.source_range.duration.value == n and clip.source_range.duration.rate == pytest.approx(float(fps))
        assert clip.media_reference.target_url.startswith("file://")
        assert clip.media_reference.target_url.endswith(path.replace(" ", "%20"))
        md = clip.metadata["videosync"]
        assert md["offset_seconds"] == off and md["status"] == status and md["confidence"] == conf
        assert md["is_reference"] == (status == "reference")
        # clip placed at the range it covers on the timeline (exact, not on a frame grid)
        assert clip.range_in_parent().start_time.to_seconds() == pytest.approx(starts[-1], abs=1e-9)
    # gaps are exact: camera j starts at -offset_j relative to the reference, no grid rounding
    for s, cam in zip(starts, CAMERAS):
        assert s - starts[0] == pytest.approx(-cam[1], abs=1e-9)
    assert min(starts) == 0.0


# ------------------------------------------------------------------------------------------ FCPXML

# Content models of the FCPXML 1.10 DTD for the elements we write: required attributes and a
# regular expression over the space-joined child tags (in order).
CLIP_ITEM = r"(?:(?:audio|video|clip|title|mc-clip|ref-clip|sync-clip|asset-clip|audition|gap|transition) )*"
FCPXML_RULES = {
    "fcpxml": ({"version"}, r"(?:import-options )?(?:resources )?(?:library )?"),
    "resources": (set(), r"(?:(?:asset|effect|format|media|locator) )*"),
    "format": ({"id"}, r""),
    "asset": ({"id"}, r"(?:media-rep )+(?:metadata )?"),
    "media-rep": ({"src"}, r"(?:bookmark )?"),
    "metadata": (set(), r"(?:md )*"),
    "md": ({"key"}, r"(?:array )?"),
    "media": ({"id"}, r"(?:(?:multicam|sequence) )?"),
    "multicam": ({"format"}, r"(?:mc-angle )*(?:metadata )?"),
    "mc-angle": ({"angleID"}, CLIP_ITEM),
    "gap": ({"duration"}, r"(?:note )?.*"),
    "asset-clip": ({"ref"}, r"(?:note )?(?:conform-rate )?(?:timeMap )?.*"),
    "note": (set(), r""),
    "library": (set(), r"(?:(?:event|smart-collection) )*"),
    "event": (set(), r"(?:(?:clip|audition|mc-clip|ref-clip|sync-clip|asset-clip|collection-folder|"
                     r"keyword-collection|smart-collection|project) )*"),
    "project": (set(), r"sequence "),
    "sequence": ({"format"}, r"(?:note )?spine (?:metadata )?"),
    "spine": (set(), CLIP_ITEM),
    "mc-clip": ({"ref", "duration"}, r"(?:note )?(?:conform-rate )?(?:timeMap )?(?:adjust-volume )?"
                                     r"(?:adjust-panner )?(?:mc-source )*.*"),
    "mc-source": ({"angleID"}, r".*"),
}
TIME_ATTRIBUTES = {"offset", "start", "duration", "frameDuration", "tcStart"}


def check_fcpxml_rules(root):
    ids = [el.get("id") for el in root.iter() if el.get("id")]
    assert len(ids) == len(set(ids)), "ids must be unique"
    for el in root.iter():
        assert el.tag in FCPXML_RULES, f"unexpected element <{el.tag}>"
        required, model = FCPXML_RULES[el.tag]
        assert required <= set(el.attrib), f"<{el.tag}> lacks {required - set(el.attrib)}"
        children = "".join(c.tag + " " for c in el)
        assert re.fullmatch(model, children), f"<{el.tag}> children {children!r} break the DTD"
        for attr in ("ref", "format"):
            if el.get(attr) is not None and el.tag != "fcpxml":
                assert el.get(attr) in ids, f"<{el.tag} {attr}={el.get(attr)}> refers to nothing"
        for attr in TIME_ATTRIBUTES & set(el.attrib):
            parse_time(el.get(attr))


def test_fcpxml_multicam_structure_and_exact_times(tmp_path):
    write_result(make_result(), tmp_path / "shoot.fcpxml")
    text = (tmp_path / "shoot.fcpxml").read_text()
    assert text.startswith('<?xml version="1.0" encoding="UTF-8"?>\n<!DOCTYPE fcpxml>')
    root = ET.fromstring(text)
    assert root.tag == "fcpxml" and root.get("version") == "1.10"
    check_fcpxml_rules(root)
    by_id = {el.get("id"): el for el in root.iter() if el.get("id")}
    multicam = root.find("resources/media/multicam")
    timeline_rate = 1 / parse_time(by_id[multicam.get("format")].get("frameDuration"))
    assert timeline_rate == NTSC
    angles = multicam.findall("mc-angle")
    assert [a.get("name") for a in angles] == ["cam0", "cam1", "cam 2"]
    rate, starts = expected_starts()
    offsets = []
    for angle, start, (path, off, fps, n, audio, status, _) in zip(angles, starts, CAMERAS):
        clip = angle.find("asset-clip")
        gap = angle.find("gap")
        offset = parse_time(clip.get("offset"))
        offsets.append(offset)
        assert offset * rate == start and (offset * rate).denominator == 1  # on the multicam's frame grid
        assert (parse_time(gap.get("duration")) if gap is not None else 0) == offset
        asset = by_id[clip.get("ref")]
        assert parse_time(asset.get("duration")) == Fraction(n) / fps  # exact in the asset's own frames
        assert parse_time(by_id[asset.get("format")].get("frameDuration")) == 1 / fps
        assert asset.find("media-rep").get("src") == "file://" + path.replace(" ", "%20")
        assert (asset.get("hasAudio") == "1") == audio
        clip_frames = parse_time(clip.get("duration")) * rate
        assert clip_frames.denominator == 1 and clip_frames == math.floor(Fraction(n) / fps * rate)
        note = clip.find("note").text
        assert f"exact {Fraction(str(off))}" in note and status in note  # exact value kept beside the rounding
    for offset, cam in zip(offsets, CAMERAS):  # relative placement = offset rounded to the nearest frame
        assert abs((offset - offsets[0]) - (-Fraction(str(cam[1])))) <= 1 / (2 * rate)
    spine_clip = root.find("library/event/project/sequence/spine/mc-clip")
    assert by_id[spine_clip.get("ref")].tag == "media"
    assert spine_clip.find("mc-source").get("angleID") == angles[0].get("angleID")  # the reference is active
    end = max(parse_time(a.find("asset-clip").get("offset")) + parse_time(a.find("asset-clip").get("duration"))
              for a in angles)
    assert parse_time(spine_clip.get("duration")) == end


def test_fcpxml_reference_not_first(tmp_path):
    result = make_result(CAMERAS[::-1], reference_index=2)
    write_result(result, tmp_path / "shoot.fcpxml")
    root = ET.parse(tmp_path / "shoot.fcpxml").getroot()
    check_fcpxml_rules(root)
    rate, starts = expected_starts(CAMERAS[::-1], ref=2)
    got = [parse_time(a.find("asset-clip").get("offset")) * rate for a in root.iter("mc-angle")]
    assert got == starts and rate == NTSC


# ---------------------------------------------------------------------------------------- FCP7 XML

def frames(el, tag):
    return int(el.find(tag).text)


def test_fcp7_multiclip_and_tracks(tmp_path):
    write_result(make_result(), tmp_path / "shoot.xml")
    text = (tmp_path / "shoot.xml").read_text()
    assert "<!DOCTYPE xmeml>" in text
    root = ET.fromstring(text)
    assert root.tag == "xmeml" and root.get("version") == "5"
    multiclip_seq, tracks_seq = root.findall("project/children/sequence")
    rate, starts = expected_starts()
    for seq in (multiclip_seq, tracks_seq):
        for tag in ("name", "duration", "rate/timebase", "rate/ntsc", "media/video"):
            assert seq.find(tag) is not None, f"sequence lacks <{tag}>"
        assert (seq.find("rate/timebase").text, seq.find("rate/ntsc").text) == ("30", "TRUE")
    total = frames(tracks_seq, "duration")
    # every clip item: required sub-elements, a consistent length, and a file defined once then referenced
    defined = set()
    for item in root.iter("clipitem"):
        for tag in ("name", "duration", "rate", "start", "end", "in", "out"):
            assert item.find(tag) is not None, f"clipitem {item.get('id')} lacks <{tag}>"
        assert frames(item, "end") - frames(item, "start") == frames(item, "out") - frames(item, "in")
        f = item.find("file")
        if f is not None and len(f):
            assert f.get("id") not in defined
            defined.add(f.get("id"))
    assert defined == {"file-1", "file-2", "file-3"}
    # the multiclip: one angle per camera, each as long as the timeline, the reference active
    angles = multiclip_seq.findall("media/video/track/clipitem/multiclip/angle")
    assert len(angles) == 3
    assert [a.find("activevideoangle").text for a in angles] == ["TRUE", "FALSE", "FALSE"]
    for angle, start in zip(angles, starts):
        assert frames(angle.find("clip"), "duration") == total
        assert frames(angle.find("clip/media/video/track/clipitem"), "start") == start
    # the tracks sequence: one video track per camera at its place, audio tracks for cameras with audio
    video_items = tracks_seq.findall("media/video/track/clipitem")
    assert len(video_items) == 3 and len(tracks_seq.findall("media/audio/track")) == 2
    files = {f.get("id"): f for f in root.iter("file") if len(f)}
    for item, start, (path, off, fps, n, _, _, _) in zip(video_items, starts, CAMERAS):
        assert frames(item, "start") == start
        assert frames(item, "end") - start == math.floor(Fraction(n) / fps * rate)
        assert f"exact {Fraction(str(off))}" in item.find("comments/mastercomment1").text
        f = files[item.find("file").get("id")]
        assert f.find("pathurl").text == "file://" + path.replace(" ", "%20") and frames(f, "duration") == n
        timebase, ntsc = f.find("rate/timebase").text, f.find("rate/ntsc").text
        assert (int(timebase) * 1000 / 1001 if ntsc == "TRUE" else int(timebase)) == pytest.approx(float(fps))
    assert max(frames(i, "end") for i in video_items) == total


# --------------------------------------------------------------------------------------------- EDL

EVENT = re.compile(r"(\d{3})  ([A-Z0-9_]{1,8}) *(V|AA/V) +C +" + r" ".join([r"(\d\d:\d\d:\d\d:\d\d)"] * 4))


def tc_frames(tc, base):
    h, m, s, f = (int(x) for x in tc.split(":"))
    return ((h * 60 + m) * 60 + s) * base + f


@pytest.mark.parametrize("offset, rec_in", [(1.2345678, "00:59:58:23"), (-2.5, "01:00:02:15")])
def test_edl_places_one_camera_against_the_reference(tmp_path, offset, rec_in):
    cams = [CAMERAS[0], ("/shoot/cam1.mov", offset, Fraction(25), 1500, False, "synced", 0.9)]
    write_result(make_result(cams), tmp_path / "pair.edl")
    lines = (tmp_path / "pair.edl").read_text().splitlines()
    assert lines[0].startswith("TITLE: ") and lines[1] == "FCM: NON-DROP FRAME"
    events = [line for line in lines if EVENT.fullmatch(line)]
    assert len(events) == 1
    line = events[0]
    assert line[29:40] == "00:00:00:00" and line[53:64] == rec_in  # CMX3600 columns
    _, reel, channel, src_in, src_out, r_in, r_out = EVENT.fullmatch(line).groups()
    assert reel == "CAM1" and channel == "V"
    # 29.97 fps sequence: 30-frame timecode; the 60 s clip spans floor(60 × 29.97) frames on both sides
    assert tc_frames(src_out, 30) - tc_frames(src_in, 30) == tc_frames(r_out, 30) - tc_frames(r_in, 30) == 1798
    assert round(-offset * 30000 / 1001) == tc_frames(r_in, 30) - tc_frames("01:00:00:00", 30)
    assert all(line == "" or line.startswith(("TITLE:", "FCM:", "* ")) or EVENT.fullmatch(line) for line in lines)
    assert "* FROM CLIP NAME: cam1.mov" in lines
    assert any(f"exact {Fraction(str(offset))}" in line for line in lines)


def test_edl_single_camera_is_the_reference_at_record_start(tmp_path):
    write_result(make_result(CAMERAS[:1]), tmp_path / "one.edl")
    events = [m for m in map(EVENT.fullmatch, (tmp_path / "one.edl").read_text().splitlines()) if m]
    assert len(events) == 1
    assert events[0].groups()[2:] == ("AA/V", "00:00:00:00", "00:01:00:00", "01:00:00:00", "01:01:00:00")


def test_edl_refuses_three_cameras(tmp_path, capsys):
    with pytest.raises(InvalidParameterError, match="one track"):
        write_result(make_result(), tmp_path / "three.edl")
    assert not (tmp_path / "three.edl").exists()


# --------------------------------------------------------------------------------------------- CLI

@pytest.fixture
def rig_json(rig_factory, tmp_path):
    """A sync.json of a generated rig with its true offsets, written with paths relative to it."""
    rig = rig_factory(**MIXED_RIG)
    videos = tuple(CameraResult(p, o, o * f, f, 1.0 if i == 0 else 0.95, "reference" if i == 0 else "synced")
                   for i, (p, o, f) in enumerate(zip(rig.paths, rig.offsets_seconds, rig.fps)))
    path = tmp_path / "sync.json"
    path.write_text(SyncResult(videos, (), 0).to_json())
    return rig, path


def test_cli_export_every_format(rig_json, tmp_path, capsys):
    rig, sync_json = rig_json
    for name in ("shoot.fcpxml", "shoot.xml", "shoot.otio", "shoot.csv"):
        assert main(["export", str(sync_json), "-o", str(tmp_path / name)]) == 0
    root = ET.parse(tmp_path / "shoot.fcpxml").getroot()
    check_fcpxml_rules(root)
    n = [len(t) for t in rig.frame_times_seconds]  # probed frame counts reach the assets
    by_id = {el.get("id"): el for el in root.iter() if el.get("id")}
    got = [parse_time(by_id[c.get("ref")].get("duration")) for c in root.iter("asset-clip")]
    assert got == [Fraction(k) / rational_rate(f) for k, f in zip(n, rig.fps)]
    assert main(["export", str(sync_json), "-o", str(tmp_path / "cams.txt"), "--format", "csv"]) == 0
    assert (tmp_path / "cams.txt").read_text().count("\n") == 4
    capsys.readouterr()
    code = main(["export", str(sync_json), "-o", str(tmp_path / "three.edl")])
    err = capsys.readouterr().err
    assert code == 1 and err.count("\n") == 1 and "one track" in err


def test_cli_export_bad_input_is_one_line(tmp_path, capsys):
    (tmp_path / "bad.json").write_text('{"schema_version": 1')
    (tmp_path / "other.json").write_text(json.dumps({"schema_version": 1, "reference": "a"}))
    for src, msg in (("missing.json", "no such file"), ("bad.json", "not JSON"),
                     ("other.json", "not a videosync result")):
        code = main(["export", str(tmp_path / src), "-o", str(tmp_path / "out.csv")])
        err = capsys.readouterr().err
        assert code == 1 and err.count("\n") == 1 and msg in err, err
    assert not (tmp_path / "out.csv").exists()


def test_cli_export_resolves_paths_beside_the_json(rig_json, tmp_path, monkeypatch):
    import os

    rig, sync_json = rig_json
    d = json.loads(sync_json.read_text())
    folder = os.path.dirname(rig.paths[0])
    for v in d["videos"]:  # paths relative to the JSON's folder, run from elsewhere
        v["path"] = os.path.basename(v["path"])
    d["reference"] = d["videos"][0]["path"]
    (tmp_path / "elsewhere").mkdir()
    moved = os.path.join(folder, "sync-relative.json")
    with open(moved, "w") as f:
        json.dump(d, f)
    monkeypatch.chdir(tmp_path / "elsewhere")
    assert main(["export", moved, "-o", "shoot.otio"]) == 0
    assert (tmp_path / "elsewhere" / "shoot.otio").exists()
