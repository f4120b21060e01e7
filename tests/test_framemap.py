"""Frame map against the truth of a generated rig, and a drift case computed by hand."""

import csv

import numpy as np
import pytest

import videosync
from videosync.cli import main
from videosync.errors import InvalidParameterError
from videosync.framemap import frame_map, write_frame_map_csv
from videosync.result import CameraResult, SyncResult

# the generated rig shared with test_export.py (rig_factory caches it by these arguments)
MIXED_RIG = dict(n_cameras=3, offsets_seconds=(0.0, 0.4123, -0.6789), fps=(30000 / 1001, 25.0, 60.0),
                 duration_seconds=3.0, seed=5)


def truth_result(rig, drift_ppm=(0.0, 0.0, 0.0)):
    videos = tuple(CameraResult(p, o, o * f, f, 1.0, "reference" if i == 0 else "synced", drift_ppm=d)
                   for i, (p, o, f, d) in enumerate(zip(rig.paths, rig.offsets_seconds, rig.fps, drift_ppm)))
    return SyncResult(videos, (), 0)


def truth_map(rig):
    """Brute force from the rig's own frame times: for each reference frame (world time w), the camera
    frame whose world time t_n − offset is nearest, if it is within half a frame interval."""
    ref_times = rig.frame_times_seconds[0]
    index = np.full((ref_times.size, len(rig.paths)), -1)
    fraction = np.full(index.shape, np.nan)
    for j, (t, off, fps) in enumerate(zip(rig.frame_times_seconds, rig.offsets_seconds, rig.fps)):
        for k, w in enumerate(ref_times):
            d = (w + off) - t  # the instant w on camera j's clock, minus each frame's time
            n = int(np.argmin(np.abs(d)))
            if abs(d[n]) <= 0.5 / fps:
                index[k, j], fraction[k, j] = n, d[n] * fps
    return index, fraction


def test_frame_map_matches_rig_truth(rig_factory):
    rig = rig_factory(**MIXED_RIG)
    fm = frame_map(truth_result(rig))  # frame counts probed from the files
    index, fraction = truth_map(rig)
    assert fm.frame_index.shape == (len(rig.frame_times_seconds[0]), 3)
    np.testing.assert_array_equal(fm.frame_index, index)
    np.testing.assert_allclose(fm.fraction_frames, fraction, atol=1e-6)
    np.testing.assert_array_equal(fm.frame_index[:, 0], np.arange(fm.n_reference_frames))  # identity
    # cam2 (offset −0.6789 s) started 0.68 s after the reference: its first rows are empty;
    # cam1 (+0.4123 s) stops 0.41 s before the reference does: its last rows are empty
    first_cam2 = int(np.argmax(fm.valid[:, 2]))
    assert first_cam2 == int(np.ceil((0.6789 - 0.5 / 60) * 30000 / 1001)) and not fm.valid[:first_cam2, 2].any()
    assert fm.valid[:, 1].sum() < fm.n_reference_frames and fm.frame_index[fm.valid[:, 1], 1].max() == 74
    assert np.all(np.abs(fm.fraction_frames[fm.valid]) <= 0.5)
    assert np.isnan(fm.fraction_frames[~fm.valid]).all()


def test_frame_map_from_a_sync_run(rig_factory):
    rig = rig_factory(**MIXED_RIG)
    result = videosync.sync(list(rig.paths))
    fm = frame_map(result)
    index, fraction = truth_map(rig)
    both = fm.valid & (index >= 0)
    assert both.sum() > 0.95 * (index >= 0).sum()
    assert np.abs(fm.frame_index[both] - index[both]).max() <= 1
    # the continuous position (frame + fraction) is off by exactly the sync error, in each camera's frames
    error_frames = np.abs(result.offsets_seconds - np.array(rig.offsets_seconds)) * np.array(rig.fps)
    assert error_frames.max() < 1.0  # the sync itself is within a frame on this small rig
    position_error = np.abs((fm.frame_index + fm.fraction_frames) - (index + fraction))
    assert np.all(position_error[both] <= np.broadcast_to(error_frames, index.shape)[both] + 1e-6)


def test_drift_by_hand():
    # reference 30 fps; camera 25 fps, +0.5 s, running 100 ppm fast: τ = 0.5 + 1.0001·t_ref
    ref = CameraResult("ref.mp4", 0.0, 0.0, 30.0, 1.0, "reference")
    cam = CameraResult("cam.mp4", 0.5, 12.5, 25.0, 0.9, "synced", drift_ppm=100.0)
    result = SyncResult((ref, cam), (), 0)
    fm = frame_map(result, n_frames=[30000, 20000])
    # t_ref = 300 s (frame 9000): τ = 0.5 + 300.03 = 300.53 s → 7513.25 frames
    assert fm.frame_index[9000, 1] == 7513 and fm.fraction_frames[9000, 1] == pytest.approx(0.25, abs=1e-6)
    # t_ref = 600 s: τ = 600.56 s → 15014.0 frames (without drift: 600.5 s → 15012.5)
    assert fm.frame_index[18000, 1] == 15014 and fm.fraction_frames[18000, 1] == pytest.approx(0.0, abs=1e-6)
    # the camera's last frame (19999 at 799.96 s) covers τ < 799.98 s, i.e. t_ref < 799.48 / 1.0001 s
    last = int(np.floor(799.48 / 1.0001 * 30))
    assert last == 23982 and fm.frame_index[last, 1] == 19999 and fm.frame_index[last + 1, 1] == -1
    assert not fm.valid[last + 1:, 1].any()
    # drift survives the JSON round trip (schema_version 1, field defaults to 0 when absent)
    again = SyncResult.from_dict(result.to_dict())
    assert again.videos[1].drift_ppm == 100.0
    np.testing.assert_array_equal(frame_map(again, n_frames=[30000, 20000]).frame_index, fm.frame_index)
    no_drift = frame_map(SyncResult((ref, CameraResult("cam.mp4", 0.5, 12.5, 25.0, 0.9, "synced")), (), 0),
                         n_frames=[30000, 20000])
    assert no_drift.frame_index[18000, 1] == 15013  # tie at 15012.5 goes to the later frame


def test_variable_frame_times_and_bad_arguments():
    ref = CameraResult("ref.mp4", 0.0, 0.0, 10.0, 1.0, "reference")
    cam = CameraResult("cam.mp4", 0.05, 0.5, 10.0, 0.9, "synced")
    result = SyncResult((ref, cam), (), 0)
    fm = frame_map(result, frame_times_seconds=[np.arange(5) / 10, np.array([0.0, 0.12, 0.3, 0.31, 0.5])])
    # τ = t_ref + 0.05 = 0.05, 0.15, 0.25, 0.35, 0.45 → nearest of 0, 0.12, 0.3, 0.31, 0.5
    assert fm.frame_index[:, 1].tolist() == [0, 1, 2, 3, 4]
    assert fm.fraction_frames[1, 1] == pytest.approx((0.15 - 0.12) * 10)
    with pytest.raises(InvalidParameterError, match="one entry per camera"):
        frame_map(result, n_frames=[10])
    with pytest.raises(ValueError, match="increasing"):
        frame_map(result, frame_times_seconds=[None, np.array([0.0, 0.0])], n_frames=[5, None])


def test_cli_framemap_csv(rig_factory, tmp_path, capsys):
    rig = rig_factory(**MIXED_RIG)
    sync_json = tmp_path / "sync.json"
    sync_json.write_text(truth_result(rig).to_json())
    assert main(["framemap", str(sync_json), "-o", str(tmp_path / "frames.csv")]) == 0
    rows = list(csv.reader((tmp_path / "frames.csv").open()))
    assert rows[0] == ["reference_frame", "reference_time_seconds", "cam0_frame", "cam0_fraction",
                       "cam1_frame", "cam1_fraction", "cam2_frame", "cam2_fraction"]
    index, _ = truth_map(rig)
    assert len(rows) - 1 == index.shape[0]
    for k, row in enumerate(rows[1:]):
        assert int(row[0]) == k
        assert [int(c) if c else -1 for c in row[2::2]] == index[k].tolist()
        assert all((a == "") == (b == "") for a, b in zip(row[2::2], row[3::2]))
    assert main(["framemap", str(tmp_path / "nope.json"), "-o", str(tmp_path / "f.csv")]) == 1
    assert "no such file" in capsys.readouterr().err


def test_write_frame_map_csv_is_atomic(tmp_path):
    ref = CameraResult("a/ref.mp4", 0.0, 0.0, 10.0, 1.0, "reference")
    cam = CameraResult("b/cam.mp4", -0.2, -2.0, 10.0, 0.9, "synced")
    fm = frame_map(SyncResult((ref, cam), (), 0), n_frames=[4, 4])
    write_frame_map_csv(fm, tmp_path / "f.csv")
    assert (tmp_path / "f.csv").read_text().splitlines()[1:] == [
        "0,0.000000,0,+0.0000,,", "1,0.100000,1,+0.0000,,", "2,0.200000,2,+0.0000,0,+0.0000",
        "3,0.300000,3,+0.0000,1,+0.0000",
    ]
    assert [p.name for p in tmp_path.iterdir()] == ["f.csv"]
