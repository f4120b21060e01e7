"""``python -m videosync.weights.reproduce``: every shipped weights file has a recipe whose
steps the command line accepts; a dry run prints them and runs nothing."""

import shlex

import pytest

from videosync import weights
from videosync.weights import reproduce


def test_every_shipped_file_has_a_recipe_ending_at_out():
    assert set(weights.available()) <= set(reproduce.RECIPES)
    for name in reproduce.RECIPES:
        todo = reproduce.steps(name, "OUT.x", "W")
        assert "OUT.x" in todo[-1] and all("{" not in a for step in todo for a in step)
        assert all(a != "OUT.x" for step in todo[:-1] for a in step)  # only the last step writes --out


def test_dry_run_prints_the_steps_and_runs_nothing(tmp_path, capsys, monkeypatch):
    monkeypatch.setattr(reproduce.subprocess, "call", lambda *a, **k: pytest.fail("ran a step"))
    assert reproduce.main(["learned", "--dry-run", "--out", str(tmp_path / "l.npz"), "--work", str(tmp_path)]) == 0
    out = capsys.readouterr().out.splitlines()
    assert len(out) == 3 and out[0].startswith("step 1/3: videosync train learned")
    assert not (tmp_path / "l.npz").exists()


@pytest.mark.parametrize("name", sorted(reproduce.RECIPES))
def test_train_steps_parse_and_name_known_parameters(name, monkeypatch):
    from click.testing import CliRunner

    from videosync import train as train_mod
    from videosync.cli._app import cli

    seen = []
    monkeypatch.setattr(train_mod, "run_trainer", lambda model, request: seen.append((model, request.params)) or {})
    for step in reproduce.steps(name, "out.npz", "work"):
        if step[:2] != ["videosync", "train"]:
            assert step[:3] == ["python", "-m", "videosync.learn.real_clips"]
            continue
        res = CliRunner().invoke(cli, step[1:])
        assert res.exit_code == 0, (shlex.join(step), res.output)
    assert seen and all(model == name for model, _ in seen)
    known = {"sesyn": "videosync.embed.sesyn_train", "insyn": "videosync.predict.insyn_train"}
    if name in known:
        import importlib

        params = importlib.import_module(known[name]).PARAMS
        for _, p in seen:
            assert set(p) <= set(params), (name, p)
