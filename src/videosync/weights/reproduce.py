"""Remake a shipped weights file with one command: ``python -m videosync.weights.reproduce NAME``.

Some shipped weights took more than one step (a network, then a calibration fitted for it;
synthetic pre-training, then fine-tuning on real clips fetched from the package
registries). :data:`RECIPES` holds each file's steps as the run cards record them; this
command runs them in order, intermediate files under ``--work``, the result at ``--out``
(default: ``NAME.<ext>`` in the current folder, never the package's own file).

``--dry-run`` prints the steps without running them. Runs limited by wall time (``insyn``'s
``minutes``) reproduce up to the machine's speed; ``sesyn`` repeats its shipped run's schedule
(``stop_step``: the steps the time limit allowed it, one torch thread). Bit-identical weights
are not checked by the tests (that takes the full runs); the run cards hold each run's
validation numbers to compare with. Checked by hand on this 2-core machine: ``sesyn`` gave the
shipped file bit for bit (all 129 arrays) in 11 min, ``learned`` too (19 arrays; 8 + 4 min plus
the clip download); ``profile`` did not (network validation AUROC 0.792 vs the shipped 0.782,
stacked 0.880 vs 0.881; cause not pinned down — its worlds were rendered again, and x264 output
varies between renders, docs/synth.md).
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys

RECIPES: dict[str, dict] = {
    "sesyn": {"ext": "npz", "steps": [
        "videosync train sesyn --out {out} --arg steps=1500 --arg stop_step=1422 --seed 0",
    ]},
    "insyn": {"ext": "pt", "steps": [
        "videosync train insyn --out {out} --arg train_seeds=200-211 --arg pairs=800 --arg lr=0.002 "
        "--arg minutes=35 --arg eval_every=400",
    ]},
    "profile": {"ext": "npz", "steps": [
        "videosync train profile --arg train_seeds=30,32 --arg val_seeds=31,33 --arg epochs=20 "
        "--arg n_pairs=1200 --out {work}/profile-net.npz",
        "videosync train profile --arg init={work}/profile-net.npz --out {out}",
    ]},
    "learned": {"ext": "npz", "steps": [
        "videosync train learned --out {work}/learned-synthetic.npz --arg steps=1200 --arg length=40 "
        "--arg eval_every=400 --arg temperature=0.2",
        "python -m videosync.learn.real_clips {work}/real",
        "videosync train learned --out {out} --arg real={work}/real --arg init={work}/learned-synthetic.npz "
        "--arg real_ratio=0.5 --arg steps=400 --arg lr=0.001 --arg eval_every=400 --arg select=last",
    ]},
}
"""Per shipped file: its extension and the commands that made it, in order."""


def steps(name: str, out: str, work: str) -> list[list[str]]:
    """The argument lists of ``name``'s recipe with ``{out}`` and ``{work}`` filled in."""
    recipe = RECIPES[name]
    return [[a.format(out=out, work=work) for a in cmd.split()] for cmd in recipe["steps"]]


def _argv(step: list[str]) -> list[str]:
    if step[0] == "videosync":
        return [sys.executable, "-m", "videosync", *step[1:]]
    if step[0] == "python":
        return [sys.executable, *step[1:]]
    raise ValueError(f"unknown step {step[0]!r}")


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("name", choices=sorted(RECIPES))
    ap.add_argument("--out", help="where the weights go (default: NAME.EXT here)")
    ap.add_argument("--work", default="videosync-reproduce", help="folder for intermediate files")
    ap.add_argument("--dry-run", action="store_true", help="print the steps only")
    args = ap.parse_args(argv)
    out = args.out or f"{args.name}.{RECIPES[args.name]['ext']}"
    todo = steps(args.name, out, args.work.rstrip("/"))
    for k, step in enumerate(todo, 1):
        print(f"step {k}/{len(todo)}: {' '.join(step)}", flush=True)
        if args.dry_run:
            continue
        os.makedirs(args.work, exist_ok=True)
        env = dict(os.environ, OMP_NUM_THREADS=os.environ.get("OMP_NUM_THREADS", "1"))
        code = subprocess.call(_argv(step), env=env)
        if code != 0:
            print(f"step {k} failed (exit {code})", file=sys.stderr)
            return code
    return 0


if __name__ == "__main__":
    sys.exit(main())
