"""Candidate ``learned`` weights on the standard suite's own protocols, without the rest of the suite.

``videosync bench --suite standard --entry ...`` runs every embedder × predictor of an entry
(and always the shipped weights); this runs only ``learned:weights=PATH`` (and any other
embedder spec) with ``lag``, on exactly the pairs of these entries:

* ``caliscope``: 200 crop pairs of 5 s, ±12 frames, seed 0, leaky-crop and noise rows;
* ``no people``: objects, pendulums, pouring, flock (seed 0), 300 crop pairs of 6 s, ±30 frames
  (``one person``: human seeds 0–2, 300 pairs and leaky-crop rows; ``several people``: humans
  seeds 0–1, 200 pairs);
* ``visualsync``: every camera pair of visualsync-dev, whole clips.

::

    python -m videosync.learn.compare caliscope "learned:weights=new.npz" learned motion
"""

from __future__ import annotations

import os
import sys

SYNTHETIC = {  # entry: (kinds, seeds, pairs, leaky-crop rows), as in the suite
    "no people": (("objects", "pendulums", "pouring", "flock"), [0], 300, False),
    "one person": (("human",), [0, 1, 2], 300, True),
    "several people": (("humans",), [0, 1], 200, False),
}
ENTRIES = ("caliscope", "visualsync", *SYNTHETIC)


def run_entry(entry: str, embedders, *, data_root: str = "../shared/data",
              cache: str = os.path.join(os.path.expanduser("~"), ".cache", "videosync"), progress=None):
    """The :class:`~videosync.eval.benchmark.BenchReport` of ``embedders`` × ``lag`` on ``entry``."""
    from videosync.eval.benchmark import run_cropped, run_pairwise
    from videosync.eval.datasets import load_folder_scenes, load_synthetic

    if entry == "caliscope":
        scenes = load_folder_scenes(os.path.join(data_root, "caliscope"))
        return run_cropped(scenes, embedders, ["lag"], n_pairs=200, max_offset_frames=12, clip_seconds=5.0,
                           seed=0, leaky_crop=True, progress=progress)
    if entry == "visualsync":
        return run_pairwise(load_folder_scenes(os.path.join(data_root, "visualsync-dev")), embedders, ["lag"],
                            progress=progress)
    if entry in SYNTHETIC:  # as the suite's _synthetic(kinds, seeds, n_pairs=..., leaky=...)
        kinds, seeds, n_pairs, leaky = SYNTHETIC[entry]
        scenes = []
        for kind in kinds:
            scenes += load_synthetic(kind, cache, seeds=seeds, seconds=10.0, progress=progress)
        return run_cropped(scenes, embedders, ["lag"], n_pairs=n_pairs, max_offset_frames=30, clip_seconds=6.0,
                           seed=0, leaky_crop=leaky, progress=progress)
    raise ValueError(f"entry must be one of {', '.join(ENTRIES)}, not {entry!r}")


if __name__ == "__main__":  # python -m videosync.learn.compare ENTRY EMBEDDER...
    from videosync.eval.benchmark import markdown

    if len(sys.argv) < 3 or sys.argv[1] not in ENTRIES:
        sys.exit(f"usage: python -m videosync.learn.compare {{{'|'.join(ENTRIES)}}} EMBEDDER...")
    report = run_entry(sys.argv[1], sys.argv[2:])
    if isinstance(report, str):
        sys.exit(report)
    print(markdown(report, command="python -m videosync.learn.compare " + " ".join(sys.argv[1:]),
                   title=sys.argv[1], per_pair=False))
