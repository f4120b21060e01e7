import json

import numpy as np
import pytest

from media import write_plain
from videosync.errors import DatasetError
from videosync.eval import load_folder_scenes, load_scene_folder, load_timestamp_csv_scene, write_truth


def test_rig_truth_round_trip(rig_factory):
    rig = rig_factory(n_cameras=3, offsets_seconds=(0.0, 1.2345, -0.5), fps=(30.0, 25.0, 30.0), duration_seconds=2.0,
                      seed=7)
    folder = rig.truth_path.rsplit("/", 1)[0]
    scene = load_scene_folder(folder)
    assert scene.cameras == ("cam0", "cam1", "cam2") and scene.reference == "cam0"
    assert scene.offsets_seconds == pytest.approx((0.0, 1.2345, -0.5))
    assert scene.relative_offset(1, 2) == pytest.approx(-1.7345)
    assert scene.synthetic


def test_write_truth_round_trip(tmp_path, rig_factory):
    rig = rig_factory(n_cameras=3, offsets_seconds=(0.0, 1.2345, -0.5), fps=(30.0, 25.0, 30.0), duration_seconds=2.0,
                      seed=7)
    scene = load_scene_folder(rig.truth_path.rsplit("/", 1)[0])
    folder = tmp_path / "copy"
    folder.mkdir()
    for c, p in zip(scene.cameras, scene.paths):
        (folder / f"{c}.mp4").write_bytes(open(p, "rb").read())
    from dataclasses import replace

    moved = replace(scene, paths=tuple(str(folder / f"{c}.mp4") for c in scene.cameras))
    write_truth(moved, str(folder))
    back = load_scene_folder(str(folder))
    assert back.offsets_seconds == pytest.approx(scene.offsets_seconds) and back.cameras == scene.cameras
    assert load_folder_scenes(str(tmp_path))[0].name == back.name


def test_timestamp_csv_reader(tmp_path):
    # cam_1 started 0.25 s after cam_0 -> offset -0.25; cam_2 started 0.1 s before -> +0.1
    starts = {0: 100.0, 1: 100.25, 2: 99.9}
    rows = ["sync_index,cam_id,frame_time"]
    for cam, t0 in starts.items():
        write_plain(tmp_path / f"cam_{cam}.mp4", n=10, fps=10.0)
        rows += [f"{k},{cam},{t0 + k / 10 + 0.001 * np.sin(k)}" for k in range(10)]
    (tmp_path / "timestamps.csv").write_text("\n".join(rows) + "\n")
    scene = load_timestamp_csv_scene(str(tmp_path))
    assert scene.cameras == ("cam_0", "cam_1", "cam_2")
    assert scene.offsets_seconds == pytest.approx((0.0, -0.25, 0.1), abs=1e-9)
    assert scene.fps == pytest.approx(10.0)


def test_malformed_truth_is_dataset_error(tmp_path):
    (tmp_path / "truth.json").write_text(json.dumps({"no": "offsets"}))
    with pytest.raises(DatasetError):
        load_scene_folder(str(tmp_path))
    with pytest.raises(DatasetError):
        load_folder_scenes(str(tmp_path / "nothing"))
