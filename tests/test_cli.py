"""CLI level: JSON schema and sign, the other commands, and one-line errors with exit 1."""

import json
import os
import subprocess
import sys

import pytest

from media import write_audio_only, write_plain
from videosync.cli import main


def run(argv, capsys):
    code = main(argv)
    out, err = capsys.readouterr()
    return code, out, err


def test_sync_writes_json_with_schema_and_sign(rig_factory, tmp_path, capsys):
    rig = rig_factory(n_cameras=3, offsets_seconds=(0.0, -1.0, 1.0), fps=30.0, duration_seconds=5.0,
                      views="same", seed=3)
    out = tmp_path / "sync.json"
    code, stdout, err = run(["sync", *rig.paths, "-o", str(out)], capsys)
    assert code == 0, err
    d = json.loads(out.read_text())
    assert d["schema_version"] == 1 and d["reference"] == rig.paths[0]
    by_path = {v["path"]: v for v in d["videos"]}
    assert by_path[rig.paths[0]]["offset_seconds"] == 0.0 and by_path[rig.paths[0]]["status"] == "reference"
    assert by_path[rig.paths[1]]["offset_seconds"] == pytest.approx(-1.0, abs=0.02)  # started 1 s later
    assert by_path[rig.paths[2]]["offset_seconds"] == pytest.approx(1.0, abs=0.02)  # started 1 s earlier
    assert by_path[rig.paths[2]]["offset_frames"] == pytest.approx(30.0, abs=0.6)
    for v in d["videos"]:
        assert set(v) >= {"path", "offset_seconds", "offset_frames", "fps", "confidence", "status"}
    assert {"videosync_version", "embedder", "predictor", "elapsed_seconds"} <= set(d["provenance"])
    assert "offsets relative to the reference" in err  # the table goes to stderr
    assert not [f for f in os.listdir(tmp_path) if f.startswith(".videosync-")]  # no temp file left


def test_sync_prints_json_to_stdout_without_output(rig_factory, capsys):
    rig = rig_factory(n_cameras=2, offsets_seconds=(0.0, -1.0), fps=30.0, duration_seconds=5.0,
                      views="same", seed=3)
    code, stdout, _ = run(["sync", *rig.paths, "--embedder", "appearance", "--predictor", "argmax", "--reference", rig.paths[1], "-q"], capsys)
    assert code == 0
    d = json.loads(stdout)
    assert d["reference"] == rig.paths[1]
    assert d["videos"][0]["offset_seconds"] == pytest.approx(1.0, abs=0.04)


def test_plugin_args_and_choices(rig_factory, capsys):
    rig = rig_factory(n_cameras=2, offsets_seconds=(0.0, -1.0), fps=30.0, duration_seconds=5.0,
                      views="same", seed=3)
    code, stdout, _ = run(["sync", *rig.paths, "--embedder", "motion", "--embed-arg", "grid=2", "-q"], capsys)
    assert code == 0 and json.loads(stdout)["provenance"]["embedder"]["params"]["grid"] == 2
    code, _, err = run(["sync", *rig.paths, "--embed-arg", "gird=2"], capsys)
    assert code == 1 and "unknown parameter 'gird'" in err
    code, _, err = run(["sync", *rig.paths, "--predictor", "nope"], capsys)
    assert code == 2 and "nope" in err
    # on/off parameters read as words: "false" is False (bool("false") would be True)
    code, stdout, err = run(["sync", *rig.paths, "--predict-arg", "rhythm=false", "--embed-arg", "multiscale=off",
                             "-q"], capsys)
    assert code == 0, err
    prov = json.loads(stdout)["provenance"]
    assert prov["predictor"]["params"]["rhythm"] is False and prov["embedder"]["params"]["multiscale"] is False
    code, _, err = run(["sync", *rig.paths, "--predict-arg", "rhythm=maybe"], capsys)
    assert code == 1 and "'rhythm' parameter of LagPredictor must be true or false" in err
    assert len(err.strip().splitlines()) == 1


def test_info_and_plugins(tmp_path, capsys):
    p = tmp_path / "a.mp4"
    write_plain(p, n=10, fps=10.0)
    code, out, _ = run(["info", str(p), "--json"], capsys)
    assert code == 0
    d = json.loads(out)
    assert d["fps_from_header"] == 10.0 and d["num_frames_from_content"] == 10 and d["has_audio"] is False
    code, out, _ = run(["info", str(p)], capsys)
    assert code == 0 and "fps (measured)" in out
    sound = tmp_path / "recorder.m4a"  # a sound recorder's file: described, not refused
    write_audio_only(sound, seconds=1.0)
    code, out, _ = run(["info", str(sound)], capsys)
    assert code == 0 and "sound only" in out and "16000 Hz" in out
    code, out, _ = run(["info", str(sound), "--json"], capsys)
    assert code == 0 and json.loads(out)["has_video"] is False
    code, out, _ = run(["plugins"], capsys)
    assert code == 0
    for name in ("motion", "appearance", "pose", "lag", "argmax", "dtw", "naive", "json"):
        assert name in out
    code, out, _ = run(["plugins", "--params"], capsys)  # what --embed-arg / --predict-arg take
    assert code == 0
    assert "grid=4" in out and "compensate='auto'" in out and "exclusion_seconds=0.2" in out


def _bad_inputs(tmp_path):
    good = tmp_path / "good.mp4"
    write_plain(good, n=30)
    empty = tmp_path / "empty.mp4"
    empty.write_bytes(b"")
    text = tmp_path / "notes.mp4"
    text.write_text("not a video\n" * 100)
    one = tmp_path / "one.mp4"
    write_plain(one, n=1)
    audio = tmp_path / "audio.m4a"
    write_audio_only(audio)
    trunc = tmp_path / "trunc.mp4"
    trunc.write_bytes(good.read_bytes()[:300])
    return good, {
        "missing": tmp_path / "missing.mp4",
        "directory": tmp_path,
        "zero-byte": empty,
        "text": text,
        "one-frame": one,
        "audio-only": audio,
        "truncated": trunc,
    }


def test_bad_inputs_one_line_exit_1(tmp_path, capsys):
    good, bad = _bad_inputs(tmp_path)
    for name, path in bad.items():
        code, out, err = run(["sync", str(good), str(path)], capsys)
        assert code == 1, name
        lines = err.strip().splitlines()
        assert len(lines) == 1, (name, err)
        assert str(path) in lines[0] and "Traceback" not in err, name
        if name == "audio-only":  # sync without --cues audio refuses it; info describes it (test above)
            continue
        code, _, err = run(["info", str(path)], capsys)
        assert code == 1 and len(err.strip().splitlines()) == 1, name


def test_no_traceback_as_a_real_process_and_debug_variable(tmp_path):
    env = {k: v for k, v in os.environ.items() if k != "VIDEOSYNC_DEBUG"}
    cmd = [sys.executable, "-m", "videosync", "info", str(tmp_path / "missing.mp4")]
    p = subprocess.run(cmd, capture_output=True, text=True, env=env)
    assert p.returncode == 1 and "Traceback" not in p.stderr
    assert p.stderr.strip() == f"videosync: error: {tmp_path / 'missing.mp4'}: no such file"
    p = subprocess.run(cmd, capture_output=True, text=True, env={**env, "VIDEOSYNC_DEBUG": "1"})
    assert "Traceback" in p.stderr


def test_demo_runs(tmp_path, capsys):
    code, _, err = run(["demo", "--cameras", "3", "--out", str(tmp_path / "rig")], capsys)
    assert code == 0, err
    assert "truth s" in err and "largest error" in err
    assert (tmp_path / "rig" / "truth.json").exists()


def test_train_rejects_unknown_trainer_params_in_one_line(tmp_path, capsys):
    code, _, err = run(["train", "logreg", "--arg", "bogus=1", "--out", str(tmp_path / "w.npz")], capsys)
    assert code == 1 and len(err.strip().splitlines()) == 1
    assert "bogus" in err and "max_offset_frames" in err
    assert not (tmp_path / "w.npz").exists()


def test_train_logs_progress_when_not_on_a_terminal(tmp_path, capsys):
    """A training run's progress goes to stderr as plain lines (a log file of a long run)."""
    for k in range(2):
        code, _, err = run(["demo", "--cameras", "3", "--out", str(tmp_path / "data" / f"rig{k}")], capsys)
        assert code == 0, err
    out = tmp_path / "w.npz"
    code, stdout, err = run(["train", "logreg", "--dataset", "folder", "--data", str(tmp_path / "data"),
                             "--pairs", "20", "--max-offset-frames", "5", "--clip-seconds", "2", "--out", str(out)],
                            capsys)
    assert code == 0, err
    assert "embed motion" in err and "rig1" in err
    assert out.exists() and json.loads(stdout)["model"] == "logreg"


def test_shipped_weights_resolution(tmp_path):
    from videosync import weights

    assert weights.resolve("logreg", "npz", tmp_path / "mine.npz") == str(tmp_path / "mine.npz")
    assert weights.shipped("no-such-model", "npz") is None
    assert weights.resolve("no-such-model", "npz", None) is None
    for name in weights.available():  # every shipped weight file has its run card and a command
        card = weights.run_card(name)
        assert card["command"].startswith("videosync train"), name


def test_bench_takes_user_weights_by_spec(tmp_path, capsys):
    """`--predictor NAME:weights=PATH` runs a learned plug-in with the user's weights; a bad
    path is a one-line error, not a skipped row."""
    import shutil

    from videosync.testing.rig import make_rig
    from videosync.weights import shipped

    src = shipped("profile", "npz")
    if src is None:
        pytest.skip("this checkout ships no profile weights")
    for i in range(2):
        make_rig(tmp_path / "data" / f"s{i}", seed=i, fps=30.0, duration_seconds=8.0)
    mine = tmp_path / "mine.npz"
    shutil.copy(src, mine)
    args = ["bench", "--dataset", "folder", "--data", str(tmp_path / "data"), "--embedder", "motion",
            "--protocol", "whole"]
    code, out, err = run(args + ["--predictor", f"lag,profile:weights={mine}"], capsys)
    assert code == 0, err
    assert f"| profile:weights={mine} |" in out and "| lag |" in out
    code, _, err = run(args + ["--predictor", f"profile:weights={tmp_path / 'nope.npz'}"], capsys)
    assert code == 1 and len(err.strip().splitlines()) == 1 and "nope.npz" in err
